"""Figures and HTML report sections of a threat assessment (the CRQC timeline, the migration schedule)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from qit4n.report import Figure, Section, Table, write_report
from qit4n.threat.assessment import ThreatAssessment
from qit4n.threat.catalog import TimelineScenario
from qit4n.threat.timeline import crqc_probability

__all__ = ["assessment_sections", "plot_schedule", "plot_timeline", "write_assessment_report"]


def plot_timeline(
    scenarios: list[TimelineScenario], years: np.ndarray, path: Path, *, now_year: float | None = None
) -> Path:
    """P(CRQC by year), one line per scenario with its cited anchors marked; written as PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(7.0, 4.4), dpi=110)
    for scenario in scenarios:
        line = axes.plot(years, crqc_probability(scenario, years), label=scenario.id, linewidth=1.8)[0]
        axes.plot(
            [a.year for a in scenario.anchors], [a.probability for a in scenario.anchors], "o", color=line.get_color()
        )
    if now_year is not None:
        axes.axvline(now_year, color="grey", linestyle=":", label="now")
    axes.set_xlabel("year")
    axes.set_ylabel("P(cryptographically relevant quantum computer by year)")
    axes.set_ylim(0.0, 1.0)
    axes.grid(True, alpha=0.3)
    axes.legend()
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
    return path


def plot_schedule(assessment: ThreatAssessment, path: Path) -> Path:
    """Gantt chart of the migration schedule with each asset's deadline marked; written as PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    items = list(assessment.schedule)
    figure, axes = plt.subplots(figsize=(7.0, 0.6 + 0.45 * max(1, len(items))), dpi=110)
    for row, item in enumerate(items):
        late = item.meets_deadline is False
        axes.barh(row, item.finish_year - item.start_year, left=item.start_year, color="#c0392b" if late else "#2a6f97")
        if item.deadline is not None:
            axes.plot([item.deadline], [row], marker="|", markersize=16, color="black")
    axes.set_yticks(range(len(items)), [item.asset for item in items])
    axes.invert_yaxis()
    axes.set_xlabel("year (bars: migration; |: earliest policy deadline; red: late)")
    axes.grid(True, axis="x", alpha=0.3)
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
    return path


def assessment_sections(
    assessment: ThreatAssessment, scenarios: list[TimelineScenario], out_dir: Path
) -> list[Section]:
    """Report sections: timeline, per-asset risk and recommendation, schedule, network paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    years = np.arange(np.floor(assessment.now_year) - 2, np.floor(assessment.now_year) + 21)
    plot_timeline(scenarios, years, out_dir / "threat-timeline.png", now_year=assessment.now_year)
    plot_schedule(assessment, out_dir / "threat-schedule.png")
    summary = assessment.to_dict()
    rows = [
        (
            entry["name"],
            "yes" if entry["vulnerable"] else "no",
            entry["hndl_probability"],
            entry["forgery_probability"],
            entry["exposure_probability"],
            entry["deadline"],
            entry["recommendation"],
            "; ".join(entry["reasons"]),
        )
        for entry in summary["assets"]
    ]
    timeline = Section(
        "Quantum threat timeline",
        [
            f"Timeline scenario {assessment.timeline.id}: {assessment.timeline.source}. Catalog version {assessment.catalog_version}."
        ],
        figures=[Figure("threat-timeline.png", "P(CRQC by year) per catalog scenario; dots are the cited anchors")],
    )
    risk = Section(
        "Assets: exposure and recommendation",
        [
            "Exposure is Mosca's inequality with the timeline as the distribution of z: harvest-now-decrypt-later "
            "P(CRQC before now + x + y) and forgery P(CRQC before now + max(y, t)), integrated over the quantiles of x and y.",
            f"Policies: {', '.join(assessment.policy_ids) or 'none'}.",
        ],
        [
            Table(
                ("asset", "vulnerable", "P(HNDL)", "P(forgery)", "P(exposed)", "deadline", "recommendation", "reasons"),
                rows,
            )
        ],
    )
    schedule = Section(
        "Migration schedule",
        [
            "Order: Smith's backward rule: every deadline met where one team can, then the most exposure per migration-year first."
        ],
        [
            Table(
                ("order", "asset", "start", "finish", "deadline", "meets deadline", "exposure after plan"),
                [
                    (
                        s.order,
                        s.asset,
                        s.start_year,
                        s.finish_year,
                        s.deadline,
                        s.meets_deadline,
                        s.planned_exposure_probability,
                    )
                    for s in assessment.schedule
                ],
            )
        ],
        [Figure("threat-schedule.png", "Migration schedule and deadlines")],
    )
    sections = [timeline, risk, schedule]
    if assessment.paths:
        sections.append(
            Section(
                "Network paths",
                [
                    "The weakest hop decides a path's exposure; trusted relays hold keys in the clear and are listed as exposure points."
                ],
                [
                    Table(
                        ("demand", "route", "P(exposed)", "weakest", "trusted relays"),
                        [
                            (
                                p.demand,
                                " – ".join(p.route),
                                p.exposure_probability,
                                p.weakest,
                                ", ".join(p.trusted_relays) or "–",
                            )
                            for p in assessment.paths
                        ],
                    )
                ],
            )
        )
    return sections


def write_assessment_report(assessment: ThreatAssessment, scenarios: list[TimelineScenario], out_dir: Path) -> Path:
    """Write ``index.html`` with the timeline, the assets and the migration schedule into ``out_dir``."""
    sections = assessment_sections(assessment, scenarios, out_dir)
    return write_report(out_dir, f"Quantum threat assessment: {assessment.inventory.name}", sections)
