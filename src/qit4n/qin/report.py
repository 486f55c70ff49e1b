"""Report parts of quantum networks, built from typed results: chain quantities, network runs, the demo section."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from qit4n.qin.demo import chain_versus_repeaters, demo_endpoints, route_length_km
from qit4n.qin.figures import plot_chain_versus_repeaters, plot_network_run
from qit4n.qin.run import ChainReport, NetworkRunReport
from qit4n.report import REPORT_SECTIONS, Figure, Provenance, Section, Table, write_report
from qit4n.scenario import Scenario, scenario_digest

__all__ = [
    "DEMO_ENDPOINTS",
    "chain_quantities",
    "memory_table",
    "repeater_chain_section",
    "requests_table",
    "write_network_report",
]

#: The two sites of the default scenario joined by the demo's repeater chain (its longest route).
DEMO_ENDPOINTS = ("SIE", "STP")


def chain_quantities(report: ChainReport) -> list[tuple[str, Any]]:
    """Every reported quantity of a chain except the planner's candidates, as (name, value)."""
    return [(key, value) for key, value in report.to_json().items() if key != "candidates"]


def requests_table(report: NetworkRunReport) -> Table:
    """Per request: path, delivered pairs, rate and fidelity against the targets."""
    rows = [
        [
            outcome.name,
            " - ".join(outcome.path) or "(no path)",
            outcome.delivered_pairs,
            outcome.rate_pairs_per_s,
            outcome.requested_pairs_per_s,
            outcome.fidelity_mean,
            outcome.target_fidelity,
            "yes" if outcome.satisfied else "no",
        ]
        for outcome in report.requests
    ]
    columns = ["request", "path", "pairs", "pairs/s", "requested", "fidelity", "target", "ok"]
    return Table(columns, rows, caption=f"qit4n qin run {report.scenario.name} ({report.duration_s:g} s)")


def memory_table(report: NetworkRunReport) -> Table:
    """Per node: memories, mean number reserved and utilisation."""
    rows = [
        [node, use["memories"], use["mean_reserved"], f"{use['utilisation']:.1%}"]
        for node, use in report.run.memory_use.items()
    ]
    return Table(["node", "memories", "mean reserved", "utilisation"], rows, caption="memory use")


def write_network_report(report: NetworkRunReport, out_dir: Path) -> list[str]:
    """Write figures, ``qin_run.json`` and an HTML report of a network run into ``out_dir``; returns figure names."""
    figures = plot_network_run(report.run, out_dir)
    names = [name for name, _ in figures]
    (out_dir / "qin_run.json").write_text(json.dumps(report.to_json(names), indent=2), encoding="utf-8")
    rows = [
        [
            outcome.name,
            " - ".join(outcome.path),
            outcome.rate_pairs_per_s,
            outcome.requested_pairs_per_s,
            outcome.fidelity_mean,
            outcome.target_fidelity,
            outcome.satisfied,
        ]
        for outcome in report.requests
    ]
    section = Section(
        f"Quantum network run: {report.scenario.name}",
        paragraphs=[f"{report.duration_s:g} s simulated, seed {report.seed}, {report.run.events} events."],
        tables=[Table(["request", "path", "pairs/s", "requested", "fidelity", "target", "satisfied"], rows)],
        figures=[Figure(name, caption) for name, caption in figures],
    )
    write_report(
        out_dir,
        f"qit4n qin run {report.scenario.name}",
        [section],
        provenance=Provenance.collect(scenario=scenario_digest(report.scenario), seed=str(report.seed)),
    )
    return names


def repeater_chain_section(scenario: Scenario, out_dir: Path) -> Section:
    """Repeater chain between two sites of ``scenario``: rate and fidelity versus repeaters, against PLOB."""
    source, target = demo_endpoints(scenario, DEMO_ENDPOINTS)
    length_km = route_length_km(scenario, source, target)
    rows = chain_versus_repeaters(length_km, max_repeaters=7, samples=20_000, rng=np.random.default_rng(2008))
    out_dir.mkdir(parents=True, exist_ok=True)
    plot_chain_versus_repeaters(
        rows, out_dir / "qin_chain_repeaters.png", f"{source} - {target}, {length_km:g} km of fibre"
    )
    return Section(
        "Quantum repeater chain",
        paragraphs=[
            f"Quantum computers are assumed at {source} and {target}, joined by a repeater chain along the shortest "
            f"fibre route ({length_km:g} km). Barrett-Kok heralding with midpoint stations, memories with T2 = 1 s, "
            "swap as soon as possible; vectorised Monte Carlo, 20,000 deliveries per point. Per channel use means "
            "end-to-end pairs per attempt per memory; the repeaterless bound is PLOB, -log2(1 - eta), for a direct "
            "fibre of the same length.",
        ],
        tables=[
            Table(
                ["repeaters", "pairs/s", "mean fidelity", "ebits per use", "PLOB per use"],
                [
                    [
                        r.repeaters,
                        r.rate_pairs_per_s,
                        r.fidelity_mean,
                        r.pairs_per_channel_use,
                        r.repeaterless_bound_per_use,
                    ]
                    for r in rows
                ],
            )
        ],
        figures=[
            Figure(
                "qin_chain_repeaters.png", "Repeater chain versus number of repeaters, against the repeaterless bound."
            )
        ],
    )


REPORT_SECTIONS.register("qin", repeater_chain_section)
