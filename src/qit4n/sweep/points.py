"""Ready-made point functions for sweeps of the key-rate models."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

__all__ = ["key_rate_point"]


def _finite_or_none(value: np.ndarray) -> float | None:
    number = float(value)
    return number if np.isfinite(number) else None


def key_rate_point(point: Mapping[str, Any]) -> dict[str, float | None]:
    """Key rate at one point: ``protocol`` and ``distance_km`` (required), ``preset``, and parameter overrides.

    Values that are not finite (a bound at zero loss) come back as ``None``, as in JSON output.

    >>> key_rate_point({"protocol": "plob", "distance_km": 50.0})["key_rate_per_pulse"] > 0
    True
    """
    from qit4n.qkd import get_protocol, make_parameters
    from qit4n.qkd.evaluate import key_rate_at_distance

    overrides = {name: value for name, value in point.items() if name not in ("protocol", "preset", "distance_km")}
    params = make_parameters(point["protocol"], point.get("preset"), overrides)
    result = key_rate_at_distance(get_protocol(point["protocol"]), params, np.asarray(float(point["distance_km"])))
    return {
        "key_rate_per_pulse": _finite_or_none(result.key_rate_per_pulse),
        "key_rate_bps": _finite_or_none(result.key_rate_bps),
        "qber": None if result.qber is None else _finite_or_none(result.qber),
    }
