"""Report parts of the QKD layer: key-rate-versus-distance figures of protocols."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from qit4n.qkd.compare import ComparisonResult
from qit4n.qkd.evaluate import key_rate_at_distance
from qit4n.qkd.registry import get_protocol, make_parameters
from qit4n.report import Curve, plot_key_rate_vs_distance

__all__ = ["FIGURE_PROTOCOLS", "plot_comparison", "plot_default_devices"]

#: Protocols drawn in the demo's key-rate figure.
FIGURE_PROTOCOLS = ("bb84-decoy", "bb84-decoy-finite", "mdi", "tf", "cv-gg02", "plob")


def plot_comparison(result: ComparisonResult, path: Path, *, title: str = "") -> Path:
    """Key rate per pulse versus distance, one line per protocol of ``result``; written as PNG."""
    curves = []
    for protocol in result.protocols:
        mine = [point for point in result.points if point.protocol == protocol]
        curves.append(
            Curve(
                protocol,
                np.array([point.distance_km for point in mine]),
                np.array([point.key_rate_per_pulse or 0.0 for point in mine]),
            )
        )
    return plot_key_rate_vs_distance(curves, path, title=title)


def plot_default_devices(path: Path) -> Path:
    """Key rate per pulse versus distance of the demo's protocols at qit4n's default devices; written as PNG."""
    distance_km = np.linspace(0.0, 400.0, 161)
    curves = []
    for name in FIGURE_PROTOCOLS:
        result = key_rate_at_distance(get_protocol(name), make_parameters(name), distance_km)
        curves.append(Curve(name, distance_km, result.key_rate_per_pulse))
    return plot_key_rate_vs_distance(curves, path, title="Protocols at qit4n's default device parameters")
