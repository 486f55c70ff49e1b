"""Report parts of the network layer, built from typed results: the scenario's links, plan, design and simulation.

The links section opens the demo report (the first package above the link layer reads every link
of a scenario here); the network section plans the demands and simulates the key pools.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from qit4n.links import link_budgets
from qit4n.net.capacity import Route
from qit4n.net.graph import KeyNetwork
from qit4n.net.plan import Plan, plan_network
from qit4n.net.simulate import SimulationConfig, SimulationResult, simulate_network
from qit4n.qkd.registry import get_protocol
from qit4n.qkd.report import plot_default_devices
from qit4n.report import REPORT_SECTIONS, Figure, Section, Table
from qit4n.scenario import Scenario

if TYPE_CHECKING:
    from qit4n.net.design import DesignResult

__all__ = [
    "SURVIVABILITY_ROWS",
    "ScenarioLinkRate",
    "conservation_table",
    "demands_table",
    "design_table",
    "failures_table",
    "links_section",
    "links_table",
    "network_links_table",
    "network_section",
    "plan_sections",
    "qos_table",
    "scenario_link_rates",
    "scenario_links_table",
    "simulation_sections",
]

#: Failures listed in a plan's survivability table (the worst first).
SURVIVABILITY_ROWS = 40


@dataclass(frozen=True)
class ScenarioLinkRate:
    """One link of a scenario with its modelled loss, QBER and key rate."""

    link_id: str
    length_km: float | None
    protocol: str
    loss_db: float | None
    qber: float | None
    key_rate_bps: float
    #: ``given`` (the scenario's ``key_rate_bps``), else the protocol's kind: ``asymptotic``, ``finite-key``, ``bound``.
    kind: str = "asymptotic"


def scenario_link_rates(scenario: Scenario) -> tuple[ScenarioLinkRate, ...]:
    """Every link of ``scenario`` with its key rate (fibre length, protocol and device parameters)."""
    rates = []
    for index, (link, rate) in enumerate(zip(scenario.links, link_budgets(scenario))):
        rates.append(
            ScenarioLinkRate(
                scenario.link_id(index),
                link.length_km,
                link.protocol,
                rate.loss_db,
                rate.qber,
                rate.key_rate_bps,
                "given" if link.key_rate_bps is not None else get_protocol(link.protocol).key_kind,
            )
        )
    return tuple(rates)


def scenario_links_table(scenario: Scenario, rates: Sequence[ScenarioLinkRate]) -> Table:
    """The links of ``scenario`` with their key rates."""
    rows = [(r.link_id, r.length_km, r.protocol, r.loss_db, r.qber, r.key_rate_bps, r.kind) for r in rates]
    return Table(
        ("link", "km", "protocol", "loss dB", "QBER", "key bit/s", "rate kind"),
        rows,
        caption=f"Links of {scenario.name} (rate kind: asymptotic key rates unless stated; the post-processing "
        "section compares one link's measured and finite-key rates)",
    )


def links_section(scenario: Scenario, out_dir: Path) -> Section:
    """Links of the scenario with their key rates, and the key-rate-versus-distance comparison."""
    plot_default_devices(out_dir / "key-rate-vs-distance.png")
    return Section(
        "QKD links",
        paragraphs=[
            f"{scenario.description.strip()}",
            "Each link's secret key rate is computed from its fibre length, protocol and device parameters "
            "(qit4n defaults unless the scenario names a preset).",
        ],
        tables=[scenario_links_table(scenario, scenario_link_rates(scenario))],
        figures=[
            Figure(
                "key-rate-vs-distance.png",
                "Secret key rate per pulse versus fibre distance at qit4n's default devices: decoy BB84 (asymptotic "
                "and finite-key), MDI-QKD, sending-or-not-sending twin-field, GG02 CV-QKD, and the PLOB repeaterless "
                "bound.",
            )
        ],
    )


def _route_text(routes: Sequence[Route]) -> str:
    if not routes:
        return "–"
    hops = sorted({route.hops for route in routes})
    shown = "; ".join(f"{'>'.join(route.path)} ({route.rate_bps:.4g})" for route in routes[:2] if len(route.path) <= 6)
    return shown or f"{len(routes)} route(s), {'/'.join(map(str, hops))} hops"


def network_links_table(network: KeyNetwork) -> Table:
    """Each link's length, key rate and duty cycle."""
    rows = [
        [link.id, " – ".join(link.endpoints), link.length_km, link.key_rate_bps, link.duty_cycle]
        for link in network.links
    ]
    return Table(["link", "endpoints", "length (km)", "key rate (bit/s)", "duty cycle"], rows, caption="Links")


def links_table(plan: Plan) -> Table:
    """Each link's key rate, duty cycle and mean rate."""
    rows = [
        [link.id, " – ".join(link.endpoints), link.key_rate_bps, link.duty_cycle, link.average_rate_bps]
        for link in plan.network.links
    ]
    return Table(["link", "endpoints", "key rate (bit/s)", "duty cycle", "mean rate (bit/s)"], rows, caption="Links")


def demands_table(plan: Plan) -> Table:
    """Each demand's request, maximum key rate, allocation and routes."""
    rows = []
    for item in plan.demands:
        demand = item.allocation.demand
        rows.append(
            [
                demand.name,
                f"{demand.source} – {demand.target}",
                demand.rate_bps,
                demand.priority,
                item.max_key_rate_bps,
                item.allocation.allocated_bps,
                "yes" if item.allocation.satisfied else "NO",
                _route_text(item.allocation.routes),
            ]
        )
    columns = [
        "demand",
        "endpoints",
        "requested (bit/s)",
        "priority",
        "max key rate (bit/s)",
        "allocated (bit/s)",
        "satisfied",
        "routes (bit/s)",
    ]
    return Table(columns, rows, caption="Demands")


def failures_table(plan: Plan) -> Table:
    """The worst :data:`SURVIVABILITY_ROWS` failures: most demands lost, then most capacity lost."""
    impacts = sorted(plan.survivability, key=lambda item: (-len(item.demands_lost), -item.capacity_lost_bps))
    rows = [
        [item.failure.label, ", ".join(item.demands_lost) or "–", item.capacity_lost_bps]
        for item in impacts[:SURVIVABILITY_ROWS]
    ]
    return Table(
        ["failure", "demands lost", "capacity lost (bit/s)"],
        rows,
        caption=f"Single failures, worst first (up to {SURVIVABILITY_ROWS})",
    )


def design_table(design: DesignResult) -> Table:
    """The candidate links a design chose, with their costs."""
    rows = [[link["id"], " – ".join(link["endpoints"]), link["cost"]] for link in design.chosen]
    return Table(["link", "endpoints", "cost"], rows, caption="Chosen candidate links")


def plan_sections(plan: Plan, out_dir: Path, design: DesignResult | None = None) -> list[Section]:
    """Report sections for a plan: the network map, links, demands and the worst failures."""
    from qit4n.net.figures import plot_network

    plot_network(plan.network, out_dir / "net-network.png")
    lost_any = sum(1 for item in plan.survivability if item.demands_lost)
    sections = [
        Section(
            "QKD network plan",
            paragraphs=[
                "Key is relayed hop by hop through trusted nodes (ITU-T Y.3800 series): an end-to-end key consumes "
                "the same number of bits on every link it crosses. Each demand's maximum key rate is a maximum flow "
                "through nodes allowed to relay; the allocation shares link key among all demands (priority first, "
                "then max-min fair).",
                f"{len(plan.survivability)} failures analysed; "
                f"{lost_any} of them leave some demand below its allocation.",
            ],
            tables=[links_table(plan), demands_table(plan)],
            figures=[
                Figure(
                    "net-network.png",
                    "The network: nodes at their coordinates, links coloured by key rate (dashed: satellite).",
                )
            ],
        ),
        Section("Survivability", tables=[failures_table(plan)]),
    ]
    if design is not None:
        sections.append(
            Section("Design", paragraphs=[f"Total cost {design.total_cost:.4g}."], tables=[design_table(design)])
        )
    return sections


def _restoration_text(times_s: Sequence[float | None], number_format: str) -> str:
    return ", ".join("never" if t is None else format(t, number_format) for t in times_s) or "–"


def qos_table(result: SimulationResult, *, restoration_format: str = ".4g") -> Table:
    """Y.3807 QoS per demand (restoration times written with ``restoration_format``)."""
    rows = [
        [
            q.name,
            q.throughput_bps,
            q.delay_median_s,
            q.delay_p99_s,
            q.loss_ratio,
            q.availability,
            _restoration_text(q.restoration_times_s, restoration_format),
        ]
        for q in result.qos
    ]
    columns = [
        "demand",
        "throughput (bit/s)",
        "delay median (s)",
        "delay p99 (s)",
        "loss ratio",
        "availability",
        "restoration (s)",
    ]
    return Table(columns, rows, caption="QoS per demand")


def conservation_table(result: SimulationResult, *, columns: Sequence[str] = ("bits", "value")) -> Table:
    """The bit totals of a simulation, which balance (``columns`` name the term and the count)."""
    return Table(
        columns,
        [[name, value] for name, value in result.totals_bits.items()],
        caption="Conservation: initial + generated = delivered + relay + in pools + discarded",
    )


def simulation_sections(result: SimulationResult, out_dir: Path) -> list[Section]:
    """Report sections for a simulation: QoS table, conservation totals, pool levels and delivered key."""
    from qit4n.net.figures import plot_delivered, plot_pool_levels

    plot_pool_levels(
        result.sample_times_s, result.pool_levels_bits, result.pair_labels, out_dir / "net-pool-levels.png"
    )
    names = [qos.name for qos in result.qos]
    plot_delivered(result.sample_times_s, result.delivered_bits, names, out_dir / "net-delivered.png")
    return [
        Section(
            "Key-pool simulation",
            paragraphs=[
                f"{result.duration_s / 3600:.4g} h simulated, {result.events_fired} events. "
                "QoS parameters after ITU-T Y.3807."
            ],
            tables=[qos_table(result), conservation_table(result)],
            figures=[
                Figure("net-pool-levels.png", "Key pool levels over time."),
                Figure("net-delivered.png", "End-to-end key delivered over time."),
            ],
        )
    ]


def network_section(scenario: Scenario, out_dir: Path) -> Section:
    """Plan the scenario's demands and simulate its key pools for one hour; figures go to ``out_dir``."""
    plan = plan_network(scenario)
    sections = plan_sections(plan, out_dir)
    simulation = simulate_network(plan.network, SimulationConfig(duration_s=3600.0, samples=120))
    sections += simulation_sections(simulation, out_dir)
    return Section(
        "QKD network: planning and key-pool simulation",
        paragraphs=[paragraph for section in sections for paragraph in section.paragraphs],
        tables=[table for section in sections for table in section.tables],
        figures=[figure for section in sections for figure in section.figures],
    )


REPORT_SECTIONS.register("links", links_section)
REPORT_SECTIONS.register("net", network_section)
