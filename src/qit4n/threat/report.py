"""Figures and HTML report sections of a threat assessment (the CRQC timeline, the migration schedule)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from qit4n.errors import ParameterError
from qit4n.report import REPORT_SECTIONS, Figure, Section, Table, write_report
from qit4n.scenario import Scenario
from qit4n.threat.assessment import ThreatAssessment, assess_inventory
from qit4n.threat.catalog import Catalog, CatalogChange, TimelineScenario, load_catalog
from qit4n.threat.inventory import inventory_from_dict
from qit4n.threat.timeline import crqc_probability, crqc_table

__all__ = [
    "AssetRow",
    "CrqcTimelineTable",
    "assessment_sections",
    "asset_rows",
    "catalog_diff_json",
    "crqc_timeline_table",
    "demo_inventory",
    "plot_schedule",
    "plot_timeline",
    "shared_reasons",
    "threat_section",
    "write_assessment_report",
]


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


def shared_reasons(reasons_by_asset: Sequence[Sequence[str]]) -> tuple[list[str], list[str]]:
    """Each asset's reasons as one cell, a reason given for several assets cited as ``R1``, ``R2``...,
    and the numbered notes ``R1 (n assets): text`` that the cells cite (in order of first use).

    >>> shared_reasons([["a", "b", "x"], ["a", "b", "y"], ["c"]])
    (['R1, R2; x', 'R1, R2; y', 'c'], ['R1 (2 assets): a', 'R2 (2 assets): b'])
    >>> shared_reasons([["a", "b", "c", "d"], ["a", "b", "c", "d"]])[0]
    ['R1–R4', 'R1–R4']
    """
    counts = Counter(reason for reasons in reasons_by_asset for reason in dict.fromkeys(reasons))
    shared = [reason for reason in counts if counts[reason] > 1]
    label = {reason: f"R{index}" for index, reason in enumerate(shared, start=1)}
    cells = []
    for reasons in reasons_by_asset:
        cited = [int(label[reason][1:]) for reason in dict.fromkeys(reasons) if reason in label]
        own = [reason for reason in reasons if reason not in label]
        cells.append("; ".join(part for part in (_number_runs(cited), "; ".join(own)) if part))
    return cells, [f"{label[reason]} ({counts[reason]} assets): {reason}" for reason in shared]


def _number_runs(numbers: Sequence[int]) -> str:
    """``R1–R9, R12`` for [1, ..., 9, 12]: runs of three or more consecutive numbers as a range."""
    runs: list[list[int]] = []
    for number in sorted(numbers):
        if runs and number == runs[-1][-1] + 1:
            runs[-1].append(number)
        else:
            runs.append([number])
    return ", ".join(
        f"R{run[0]}–R{run[-1]}" if len(run) > 2 else ", ".join(f"R{number}" for number in run) for run in runs
    )


def _estimates_table(texts: Sequence[str], catalog: Catalog) -> list[Table]:
    """The catalog's resource estimates named in ``texts``, with their sources (none: no table)."""
    cited = [estimate for estimate in catalog.estimates if any(estimate.id in text for text in texts)]
    if not cited:
        return []
    return [
        Table(
            ("resource estimate", "breaks", "source"),
            [(estimate.id, estimate.target, estimate.source) for estimate in cited],
            caption="Quantum resource estimates cited above",
        )
    ]


def assessment_sections(
    assessment: ThreatAssessment,
    scenarios: list[TimelineScenario],
    out_dir: Path,
    *,
    catalog: Catalog | None = None,
) -> list[Section]:
    """Report sections: timeline, per-asset risk and recommendation, schedule, network paths (``catalog``:
    where the cited resource estimates are looked up; default the shipped catalog)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    years = np.arange(np.floor(assessment.now_year) - 2, np.floor(assessment.now_year) + 21)
    plot_timeline(scenarios, years, out_dir / "threat-timeline.png", now_year=assessment.now_year)
    plot_schedule(assessment, out_dir / "threat-schedule.png")
    cells, shared = shared_reasons(
        [
            [*risk.reasons, *recommendation.reasons]
            for risk, recommendation in zip(assessment.risks, assessment.recommendations)
        ]
    )
    rows = [
        (
            risk.asset.name,
            "yes" if risk.vulnerable else "no",
            risk.hndl_probability,
            risk.forgery_probability,
            risk.exposure_probability,
            risk.deadline,
            recommendation.action,
            cell,
        )
        for risk, recommendation, cell in zip(assessment.risks, assessment.recommendations, cells, strict=True)
    ]
    timeline = Section(
        "Quantum threat timeline",
        [
            f"Timeline scenario {assessment.timeline.id}: {assessment.timeline.source}. "
            f"Catalog version {assessment.catalog_version}."
        ],
        figures=[Figure("threat-timeline.png", "P(CRQC by year) per catalog scenario; dots are the cited anchors")],
    )
    risk = Section(
        "Assets: exposure and recommendation",
        [
            "Exposure is Mosca's inequality with the timeline as the distribution of z: harvest-now-decrypt-later "
            "P(CRQC before now + x + y) and forgery P(CRQC before now + max(y, t)), integrated over the quantiles of "
            "x and y.",
            f"Policies: {', '.join(assessment.policy_ids) or 'none'}.",
            *(
                ["Reasons given for several assets are numbered once here and cited by number in the table."]
                if shared
                else []
            ),
            *shared,
        ],
        [
            Table(
                ("asset", "vulnerable", "P(HNDL)", "P(forgery)", "P(exposed)", "deadline", "recommendation", "reasons"),
                rows,
            ),
            *_estimates_table(cells + shared, catalog or load_catalog()),
        ],
    )
    schedule = Section(
        "Migration schedule",
        [
            "Order: Smith's backward rule: every deadline met where one team can, then the most exposure per "
            "migration-year first."
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
                    "The weakest hop decides a path's exposure; trusted relays hold keys in the clear and are listed "
                    "as exposure points."
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


@dataclass(frozen=True)
class CrqcTimelineTable:
    """P(CRQC by year) of each timeline scenario of a catalog version, over consecutive years."""

    catalog_version: str
    scenarios: tuple[TimelineScenario, ...]
    years: tuple[int, ...]
    probability_by_scenario: Mapping[str, Sequence[float]]

    def to_json(self) -> dict[str, Any]:
        """The ``--json`` object of ``qit4n threat timeline``."""
        scenarios = [
            {
                "id": s.id,
                "title": s.title,
                "source": s.source,
                "probability_by_year": dict(zip(self.years, self.probability_by_scenario[s.id])),
            }
            for s in self.scenarios
        ]
        return {"catalog_version": self.catalog_version, "scenarios": scenarios}


def crqc_timeline_table(catalog: Catalog, first_year: int, last_year: int) -> CrqcTimelineTable:
    """The catalog's CRQC timelines from ``first_year`` to ``last_year`` (both included)."""
    if last_year < first_year:
        raise ParameterError(f"--to = {last_year}: must be >= --from = {first_year}")
    years = np.arange(first_year, last_year + 1)
    table = crqc_table(catalog.timelines, years)
    return CrqcTimelineTable(catalog.version, tuple(catalog.timelines), tuple(years.tolist()), table)


def catalog_diff_json(old: Catalog, new: Catalog, changes: Sequence[CatalogChange]) -> dict[str, Any]:
    """The ``--json`` object of ``qit4n threat catalog --diff``."""
    return {
        "old_version": old.version,
        "new_version": new.version,
        "changes": [
            {
                "table": c.table,
                "id": c.entry_id,
                "change": c.change,
                "fields": [{"field": f, "old": o, "new": n} for f, o, n in c.fields],
            }
            for c in changes
        ],
    }


@dataclass(frozen=True)
class AssetRow:
    """One asset of an assessment as a summary shows it: risk, recommendation, schedule and reasons."""

    name: str
    vulnerable: bool
    exposure_probability: float
    deadline: int | None
    recommendation: str
    start_year: float | None
    finish_year: float | None
    reasons: tuple[str, ...]


def asset_rows(assessment: ThreatAssessment) -> list[AssetRow]:
    """The assets in inventory order, each with its risk, recommendation and scheduled migration."""
    by_asset = {item.asset: item for item in assessment.schedule}
    rows = []
    for risk, recommendation in zip(assessment.risks, assessment.recommendations):
        scheduled = by_asset.get(risk.asset.name)
        rows.append(
            AssetRow(
                name=risk.asset.name,
                vulnerable=risk.vulnerable,
                exposure_probability=risk.exposure_probability,
                deadline=risk.deadline,
                recommendation=recommendation.action,
                start_year=None if scheduled is None else scheduled.start_year,
                finish_year=None if scheduled is None else scheduled.finish_year,
                reasons=(*risk.reasons, *recommendation.reasons),
            )
        )
    return rows


def demo_inventory(scenario: Scenario) -> dict[str, Any]:
    """An illustrative inventory for ``scenario``: a classical VPN on every link and a PKI root.

    Each VPN uses ECDH P-256 with RSA-2048 signatures and AES-256, protects data for 5 to 20
    years (triangular, mode 10) and needs 1 to 4 years to migrate (mode 2); its key demand is
    the largest demand of the scenario.
    """
    demand_bps = max((demand.key_rate_bps for demand in scenario.demands), default=1000.0)
    assets: list[dict[str, Any]] = [
        {
            "name": f"vpn {scenario.link_id(index)}",
            "category": "vpn",
            "algorithms": [
                {"name": "ecdh-p256", "use": "key-exchange"},
                {"name": "rsa-2048", "use": "signature"},
                "aes-256",
            ],
            "secrecy_lifetime_years": {"low": 5, "mode": 10, "high": 20},
            "migration_time_years": {"low": 1, "mode": 2, "high": 4},
            "risk": "high",
            "location": {"link": scenario.link_id(index)},
            "handshakes_per_s": 0.1,
            "key_demand_bps": demand_bps,
        }
        for index in range(len(scenario.links))
    ]
    assets.append(
        {
            "name": "network PKI root",
            "category": "pki-root",
            "algorithms": [{"name": "rsa-3072", "use": "signature"}],
            "migration_time_years": 3,
            "trust_lifetime_years": 15,
            "risk": "high",
            "location": {"node": scenario.nodes[0].id},
        }
    )
    return {"name": f"{scenario.name} demo inventory", "assets": assets}


def threat_section(scenario: Scenario, out_dir: Path) -> Section:
    """Quantum threat to the scenario's classical cryptography: timeline, per-link plan, paths."""
    catalog = load_catalog()
    inventory = inventory_from_dict(demo_inventory(scenario), "demo inventory")
    result = assess_inventory(
        inventory,
        now_year=float(datetime.now(UTC).year),
        catalog=catalog,
        network=scenario,
        policy_ids=("nist-ir-8547", "eu-roadmap"),
    )
    parts = assessment_sections(result, catalog.timelines, out_dir, catalog=catalog)
    section = Section(
        "Quantum threat",
        [
            "An illustrative inventory (a classical ECDH/RSA VPN on every link, one RSA PKI root) assessed with "
            f"Mosca's inequality under {result.timeline.id}; QKD is proposed only where the link's own key-rate model "
            "meets the largest demand of the scenario.",
        ],
    )
    for part in parts:
        section.paragraphs.extend([f"{part.title}: {text}" for text in part.paragraphs])
        section.tables.extend(part.tables)
        section.figures.extend(part.figures)
    return section


REPORT_SECTIONS.register("threat", threat_section)
