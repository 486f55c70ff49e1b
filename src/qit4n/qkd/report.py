"""Report parts of the QKD layer: the key-rate-versus-distance figure and the scenario's links section."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from qit4n.qkd.compare import ComparisonResult
from qit4n.qkd.evaluate import key_rate_at_distance
from qit4n.qkd.registry import get_protocol, make_parameters
from qit4n.report import REPORT_SECTIONS, Curve, Figure, Section, Table, plot_key_rate_vs_distance
from qit4n.scenario import Scenario

__all__ = [
    "ScenarioLinkRate",
    "links_section",
    "links_table",
    "plot_comparison",
    "scenario_link_rates",
]

#: Protocols drawn in the demo's key-rate figure.
FIGURE_PROTOCOLS = ("bb84-decoy", "bb84-decoy-finite", "mdi", "tf", "cv-gg02", "plob")
_LINK_COLUMNS = ("link", "km", "protocol", "loss dB", "QBER", "key bit/s")


@dataclass(frozen=True)
class ScenarioLinkRate:
    """One link of a scenario with its modelled loss, QBER and key rate."""

    link_id: str
    length_km: float | None
    protocol: str
    loss_db: float | None
    qber: float | None
    key_rate_bps: float


def scenario_link_rates(scenario: Scenario) -> tuple[ScenarioLinkRate, ...]:
    """Every link of ``scenario`` with its key rate (fibre length, protocol and device parameters)."""
    from qit4n.qkd.link import link_key_rate

    rates = []
    for index, link in enumerate(scenario.links):
        rate = link_key_rate(scenario, index)
        rates.append(
            ScenarioLinkRate(
                scenario.link_id(index), link.length_km, link.protocol, rate.loss_db, rate.qber, rate.key_rate_bps
            )
        )
    return tuple(rates)


def links_table(scenario: Scenario, rates: tuple[ScenarioLinkRate, ...]) -> Table:
    """The links of ``scenario`` with their key rates, as a report table."""
    rows = [(r.link_id, r.length_km, r.protocol, r.loss_db, r.qber, r.key_rate_bps) for r in rates]
    return Table(_LINK_COLUMNS, rows, caption=f"Links of {scenario.name}")


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


def _default_devices_figure(path: Path) -> Path:
    distance_km = np.linspace(0.0, 400.0, 161)
    curves = []
    for name in FIGURE_PROTOCOLS:
        result = key_rate_at_distance(get_protocol(name), make_parameters(name), distance_km)
        curves.append(Curve(name, distance_km, result.key_rate_per_pulse))
    return plot_key_rate_vs_distance(curves, path, title="Protocols at qit4n's default device parameters")


def links_section(scenario: Scenario, out_dir: Path) -> Section:
    """Links of the scenario with their key rates, and the key-rate-versus-distance comparison."""
    _default_devices_figure(out_dir / "key-rate-vs-distance.png")
    return Section(
        "QKD links",
        paragraphs=[
            f"{scenario.description.strip()}",
            "Each link's secret key rate is computed from its fibre length, protocol and device parameters "
            "(qit4n defaults unless the scenario names a preset).",
        ],
        tables=[links_table(scenario, scenario_link_rates(scenario))],
        figures=[
            Figure(
                "key-rate-vs-distance.png",
                "Secret key rate per pulse versus fibre distance at qit4n's default devices: decoy BB84 (asymptotic "
                "and finite-key), MDI-QKD, sending-or-not-sending twin-field, GG02 CV-QKD, and the PLOB repeaterless "
                "bound.",
            )
        ],
    )


REPORT_SECTIONS.register("links", links_section)
