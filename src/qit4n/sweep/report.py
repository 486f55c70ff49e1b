"""Report parts of sweeps: each point's axes, status, values and error as one flat row (the ``--json`` objects)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from qit4n.sweep.runner import PointResult

__all__ = ["point_rows"]


def point_rows(results: Sequence[PointResult]) -> list[dict[str, Any]]:
    """One row per point: its coordinates, ``status``, the values it computed and ``error`` (``None`` when ok).

    >>> point_rows([PointResult(0, {"x": 1.0}, "ok", {"y": 2.0})])
    [{'x': 1.0, 'status': 'ok', 'y': 2.0, 'error': None}]
    """
    return [
        {**result.point, "status": result.status, **(result.value or {}), "error": result.error} for result in results
    ]
