"""Key rate versus distance for one protocol or a comparison: the typed results of ``qit4n rate``.

In a comparison a preset applies to the protocols it fits and is left out for the others, and a
``--set`` parameter applies to the protocols that have it (one that none has is an error).

>>> import numpy as np
>>> result = compare_protocols(["bb84-decoy", "plob"], np.array([0.0, 50.0]))
>>> [(point.protocol, point.distance_km) for point in result.points]
[('bb84-decoy', 0.0), ('bb84-decoy', 50.0), ('plob', 0.0), ('plob', 50.0)]
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from qit4n.errors import ParameterError
from qit4n.physics.fibre import fibre_loss_db
from qit4n.qkd.distance import max_distance_km
from qit4n.qkd.evaluate import key_rate_at_distance
from qit4n.qkd.presets import get_preset
from qit4n.qkd.registry import get_protocol, make_parameters

__all__ = [
    "ComparisonResult",
    "MaxDistance",
    "RatePoint",
    "compare_max_distances",
    "compare_protocols",
    "max_distance",
    "protocol_rate_points",
    "rate_curve",
]


def _json_number(value: Any) -> float | None:
    number = float(value)
    return number if math.isfinite(number) else None


@dataclass(frozen=True)
class RatePoint:
    """One protocol at one distance; non-finite numbers are ``None``; ``details`` are the model's extra outputs."""

    protocol: str
    distance_km: float
    loss_db: float
    key_rate_per_pulse: float | None
    key_rate_bps: float | None
    qber: float | None
    details: Mapping[str, float | None] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The ``--json`` object of one point (details flattened after the fixed fields)."""
        return {
            "protocol": self.protocol,
            "distance_km": self.distance_km,
            "loss_db": self.loss_db,
            "key_rate_per_pulse": self.key_rate_per_pulse,
            "key_rate_bps": self.key_rate_bps,
            "qber": self.qber,
            **self.details,
        }


@dataclass(frozen=True)
class ComparisonResult:
    """Rate points of one or more protocols, protocol by protocol and distance by distance."""

    points: tuple[RatePoint, ...]

    @property
    def protocols(self) -> list[str]:
        """The protocols, in the order they were compared."""
        return list(dict.fromkeys(point.protocol for point in self.points))

    def to_json(self) -> list[dict[str, Any]]:
        """The ``--json`` list of ``qit4n rate``."""
        return [point.to_json() for point in self.points]

    def to_csv(self) -> str:
        """The ``--csv`` text of ``qit4n rate``: the ``--json`` objects as rows, one column per key."""
        rows = self.to_json()
        buffer = io.StringIO()
        writer = csv.DictWriter(
            buffer, fieldnames=list(dict.fromkeys(key for row in rows for key in row)), lineterminator="\n"
        )
        writer.writeheader()
        writer.writerows(rows)
        return buffer.getvalue()


@dataclass(frozen=True)
class MaxDistance:
    """The largest distance with positive key; ``status`` says why ``max_distance_km`` is ``None``."""

    protocol: str
    max_distance_km: float | None
    status: Literal["finite", "unbounded", "no-key"]

    def to_json(self) -> dict[str, Any]:
        """The ``--json`` object of ``qit4n rate --max-distance``."""
        return {"protocol": self.protocol, "max_distance_km": self.max_distance_km, "status": self.status}


def protocol_rate_points(
    protocol: str, distance_km: np.ndarray, preset: str | None = None, settings: Mapping[str, Any] | None = None
) -> tuple[RatePoint, ...]:
    """One protocol's key rate at each distance (``settings`` override the preset, as ``--set``)."""
    spec = get_protocol(protocol)
    params = make_parameters(protocol, preset, dict(settings or {}), context="--set")
    result = key_rate_at_distance(spec, params, distance_km)
    loss_db = fibre_loss_db(distance_km, params.loss_db_per_km)
    details = {name: np.broadcast_to(values, distance_km.shape) for name, values in result.details.items()}
    return tuple(
        RatePoint(
            protocol=protocol,
            distance_km=float(distance),
            loss_db=float(loss_db[index]),
            key_rate_per_pulse=_json_number(result.key_rate_per_pulse[index]),
            key_rate_bps=_json_number(result.key_rate_bps[index]),
            qber=None if result.qber is None else _json_number(result.qber[index]),
            details={name: _json_number(values[index]) for name, values in details.items()},
        )
        for index, distance in enumerate(distance_km)
    )


def _settings_for(protocol: str, settings: Mapping[str, Any], protocols: Sequence[str]) -> dict[str, Any]:
    fields = {name: set(get_protocol(name).parameters.model_fields) for name in protocols}
    unknown = [key for key in settings if not any(key in names for names in fields.values())]
    if unknown:
        raise ParameterError(f"--set {unknown[0]}: no compared protocol has this parameter ({', '.join(protocols)})")
    return {key: value for key, value in settings.items() if key in fields[protocol]}


def _preset_for(protocol: str, preset: str | None) -> str | None:
    if preset is None:
        return None
    return preset if protocol in get_preset(preset).protocols else None


def _comparison_inputs(
    protocols: Sequence[str], preset: str | None, settings: Mapping[str, Any] | None
) -> list[tuple[str, str | None, dict[str, Any]]]:
    """Each compared protocol with the preset and settings the comparison rules give it."""
    if not protocols:
        raise ParameterError("PROTOCOL: give a protocol, or --compare with a comma list of protocols")
    given = dict(settings or {})
    return [(name, _preset_for(name, preset), _settings_for(name, given, protocols)) for name in protocols]


def rate_curve(
    protocol: str, distance_km: np.ndarray, preset: str | None = None, settings: Mapping[str, Any] | None = None
) -> ComparisonResult:
    """Key rate versus distance of one protocol (the preset and settings must fit it)."""
    return ComparisonResult(protocol_rate_points(protocol, distance_km, preset, settings))


def compare_protocols(
    protocols: Sequence[str],
    distance_km: np.ndarray,
    preset: str | None = None,
    settings: Mapping[str, Any] | None = None,
) -> ComparisonResult:
    """Key rate versus distance of each protocol, with the comparison rules of the module docstring."""
    return ComparisonResult(
        tuple(
            point
            for name, name_preset, name_settings in _comparison_inputs(protocols, preset, settings)
            for point in protocol_rate_points(name, distance_km, name_preset, name_settings)
        )
    )


def max_distance(protocol: str, preset: str | None = None, settings: Mapping[str, Any] | None = None) -> MaxDistance:
    """The largest distance with positive key of one protocol."""
    params = make_parameters(protocol, preset, dict(settings or {}), context="--set")
    distance = max_distance_km(get_protocol(protocol), params)
    if distance is None:
        return MaxDistance(protocol, None, "no-key")
    if not math.isfinite(distance):
        return MaxDistance(protocol, None, "unbounded")
    return MaxDistance(protocol, float(distance), "finite")


def compare_max_distances(
    protocols: Sequence[str], preset: str | None = None, settings: Mapping[str, Any] | None = None
) -> tuple[MaxDistance, ...]:
    """The largest distance with positive key of each protocol, with the comparison rules."""
    return tuple(max_distance(*inputs) for inputs in _comparison_inputs(protocols, preset, settings))
