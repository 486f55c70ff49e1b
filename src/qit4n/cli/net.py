"""``qit4n plan``, ``qit4n simulate`` and ``qit4n scenario generate|show``: QKD network planning and key-pool simulation."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table as RichTable

from qit4n.cli.options import parse_duration_s
from qit4n.errors import ParameterError
from qit4n.report import Figure, Section, Table, write_report
from qit4n.scenario import Scenario, load_scenario

__all__ = [
    "demo_section",
    "parse_failure_set",
    "parse_failure_spec",
    "plan_sections",
    "register",
    "simulation_sections",
]

_SURVIVABILITY_ROWS = 40


def parse_failure_spec(spec: str):
    """Parse ``link:ID@TIME[+REPAIR]`` or ``node:ID@TIME[+REPAIR]`` (times with units, e.g. ``2h+30min``).

    >>> parse_failure_spec("link:A-B@2h+30min").model_dump()
    {'time_s': 7200.0, 'links': ['A-B'], 'nodes': [], 'repair_s': 1800.0}
    """
    from qit4n.net.simulate import FailureEvent

    usage = f"--fail {spec!r}: must look like link:ID@TIME[+REPAIR] or node:ID@TIME[+REPAIR], e.g. link:A-B@2h+30min"
    kind, colon, rest = spec.partition(":")
    element, at, timing = rest.rpartition("@")
    if not colon or not at or kind not in ("link", "node") or not element:
        raise ParameterError(usage)
    when, plus, repair = timing.partition("+")
    time_s = 0.0 if when.strip() in ("0", "0s") else parse_duration_s("--fail", when)
    repair_s = parse_duration_s("--fail", repair) if plus else None
    return FailureEvent(
        time_s=time_s,
        links=[element] if kind == "link" else [],
        nodes=[element] if kind == "node" else [],
        repair_s=repair_s,
    )


def parse_failure_set(spec: str):
    """Parse a failure set ``link:ID,node:ID,...`` analysed as one failure.

    >>> parse_failure_set("link:A-B,node:R1")
    Failure(links=('A-B',), nodes=('R1',))
    """
    from qit4n.net.survivability import Failure

    links, nodes = [], []
    for item in (part.strip() for part in spec.split(",")):
        kind, colon, element = item.partition(":")
        if not colon or not element or kind not in ("link", "node"):
            raise ParameterError(
                f"--failure-set {spec!r}: must be a comma list of link:ID and node:ID, e.g. link:A-B,node:R1"
            )
        (links if kind == "link" else nodes).append(element)
    return Failure(links=tuple(links), nodes=tuple(nodes))


def _rich_table(title: str, columns: list[str], rows: list[list]) -> RichTable:
    table = RichTable(title=title)
    for column in columns:
        table.add_column(column, justify="right")
    for row in rows:
        table.add_row(
            *("–" if cell is None else f"{cell:.4g}" if isinstance(cell, float) else str(cell) for cell in row)
        )
    return table


def _route_text(routes: list[dict]) -> str:
    if not routes:
        return "–"
    hops = sorted({len(route["path"]) - 1 for route in routes})
    shown = "; ".join(
        f"{'>'.join(route['path'])} ({route['rate_bps']:.4g})" for route in routes[:2] if len(route["path"]) <= 6
    )
    return shown or f"{len(routes)} route(s), {'/'.join(map(str, hops))} hops"


def _plan_tables(result: dict) -> tuple[list, list, list]:
    links = [
        [link["id"], " – ".join(link["endpoints"]), link["key_rate_bps"], link["duty_cycle"], link["average_rate_bps"]]
        for link in result["links"]
    ]
    demands = [
        [
            d["name"],
            " – ".join(d["endpoints"]),
            d["key_rate_bps"],
            d["priority"],
            d["max_key_rate_bps"],
            d["allocated_bps"],
            "yes" if d["satisfied"] else "NO",
            _route_text(d["routes"]),
        ]
        for d in result["demands"]
    ]
    impacts = sorted(result["survivability"], key=lambda item: (-len(item["demands_lost"]), -item["capacity_lost_bps"]))
    failures = [
        [item["failed"], ", ".join(item["demands_lost"]) or "–", item["capacity_lost_bps"]]
        for item in impacts[:_SURVIVABILITY_ROWS]
    ]
    return links, demands, failures


_LINK_COLUMNS = ["link", "endpoints", "key rate (bit/s)", "duty cycle", "mean rate (bit/s)"]
_DEMAND_COLUMNS = [
    "demand",
    "endpoints",
    "requested (bit/s)",
    "priority",
    "max key rate (bit/s)",
    "allocated (bit/s)",
    "satisfied",
    "routes (bit/s)",
]
_FAILURE_COLUMNS = ["failure", "demands lost", "capacity lost (bit/s)"]


def plan_sections(plan, out_dir: Path, design=None) -> list[Section]:
    """Report sections for a plan: the network map, links, demands and the worst failures."""
    from qit4n.net.figures import plot_network

    result = plan.to_dict()
    links, demands, failures = _plan_tables(result)
    plot_network(plan.network, out_dir / "net-network.png")
    lost_any = sum(1 for item in result["survivability"] if item["demands_lost"])
    sections = [
        Section(
            "QKD network plan",
            paragraphs=[
                "Key is relayed hop by hop through trusted nodes (ITU-T Y.3800 series): an end-to-end key consumes the same "
                "number of bits on every link it crosses. Each demand's maximum key rate is a maximum flow through nodes "
                "allowed to relay; the allocation shares link key among all demands (priority first, then max-min fair).",
                f"{len(result['survivability'])} failures analysed; {lost_any} of them leave some demand below its allocation.",
            ],
            tables=[Table(_LINK_COLUMNS, links, caption="Links"), Table(_DEMAND_COLUMNS, demands, caption="Demands")],
            figures=[
                Figure(
                    "net-network.png",
                    "The network: nodes at their coordinates, links coloured by key rate (dashed: satellite).",
                )
            ],
        ),
        Section(
            "Survivability",
            tables=[
                Table(_FAILURE_COLUMNS, failures, caption=f"Single failures, worst first (up to {_SURVIVABILITY_ROWS})")
            ],
        ),
    ]
    if design is not None:
        rows = [[link["id"], " – ".join(link["endpoints"]), link["cost"]] for link in design["chosen_links"]]
        sections.append(
            Section(
                "Design",
                paragraphs=[f"Total cost {design['total_cost']:.4g}."],
                tables=[Table(["link", "endpoints", "cost"], rows, caption="Chosen candidate links")],
            )
        )
    return sections


def simulation_sections(result, out_dir: Path, network) -> list[Section]:
    """Report sections for a simulation: QoS table, conservation totals, pool levels and delivered key."""
    from qit4n.net.figures import plot_delivered, plot_pool_levels

    data = result.to_dict()
    plot_pool_levels(
        result.sample_times_s, result.pool_levels_bits, result.pair_labels, out_dir / "net-pool-levels.png"
    )
    names = [qos.name for qos in result.qos]
    plot_delivered(result.sample_times_s, result.delivered_bits, names, out_dir / "net-delivered.png")
    rows = [
        [
            d["name"],
            d["throughput_bps"],
            d["delay_median_s"],
            d["delay_p99_s"],
            d["loss_ratio"],
            d["availability"],
            ", ".join(f"{t:.4g}" if t is not None else "never" for t in d["restoration_times_s"]) or "–",
        ]
        for d in data["demands"]
    ]
    totals = [[name, value] for name, value in data["conservation"].items()]
    return [
        Section(
            "Key-pool simulation",
            paragraphs=[
                f"{result.duration_s / 3600:.4g} h simulated, {result.events_fired} events. QoS parameters after ITU-T Y.3807."
            ],
            tables=[
                Table(
                    [
                        "demand",
                        "throughput (bit/s)",
                        "delay median (s)",
                        "delay p99 (s)",
                        "loss ratio",
                        "availability",
                        "restoration (s)",
                    ],
                    rows,
                    caption="QoS per demand",
                ),
                Table(
                    ["bits", "value"],
                    totals,
                    caption="Conservation: initial + generated = delivered + relay + in pools + discarded",
                ),
            ],
            figures=[
                Figure("net-pool-levels.png", "Key pool levels over time."),
                Figure("net-delivered.png", "End-to-end key delivered over time."),
            ],
        )
    ]


def plan(
    scenario: Annotated[str, typer.Argument(help="scenario file or built-in name")],
    json_output: Annotated[bool, typer.Option("--json", help="print the result as JSON")] = False,
    out: Annotated[Path | None, typer.Option(help="folder for an HTML report")] = None,
    design: Annotated[
        str | None, typer.Option("--design", help="scenario file whose links are candidate links")
    ] = None,
    cost_per_km: Annotated[float, typer.Option(help="design: cost per km of candidate link")] = 1.0,
    cost_per_link: Annotated[float, typer.Option(help="design: fixed cost per candidate link")] = 0.0,
    users_relay: Annotated[bool, typer.Option("--users-relay", help="let user nodes relay key too")] = False,
    survivability: Annotated[bool, typer.Option(" /--no-survivability", help="skip the failure analysis")] = True,
    failure_set: Annotated[
        list[str] | None, typer.Option(help="also analyse this set failing together: link:ID,node:ID,... (repeatable)")
    ] = None,
) -> None:
    """Plan key delivery: link rates, per-demand capacity, joint allocation, routes and single-failure survivability."""
    from qit4n.net.plan import plan_network

    loaded = load_scenario(scenario)
    extra = [parse_failure_set(spec) for spec in failure_set or []]
    result = plan_network(loaded, users_relay=users_relay, survivability=survivability, extra_failures=extra)
    design_result = None
    if design is not None:
        from qit4n.net.design import design_network

        design_result = design_network(
            loaded, load_scenario(design), cost_per_km=cost_per_km, cost_per_link=cost_per_link, users_relay=users_relay
        ).to_dict()
    output = result.to_dict()
    if design_result is not None:
        output["design"] = design_result
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        write_report(
            out,
            f"qit4n plan: {loaded.name}",
            plan_sections(result, out, design_result),
            intro=loaded.description.strip(),
        )
    if json_output:
        typer.echo(json.dumps(output, indent=2))
        return
    console = Console()
    links, demands, failures = _plan_tables(output)
    console.print(_rich_table("Links", _LINK_COLUMNS, links))
    console.print(_rich_table("Demands", _DEMAND_COLUMNS, demands))
    if failures:
        console.print(
            _rich_table(
                f"Survivability (worst {len(failures)} of {len(output['survivability'])} failures)",
                _FAILURE_COLUMNS,
                failures,
            )
        )
    if design_result is not None:
        console.print(
            _rich_table(
                f"Design: total cost {design_result['total_cost']:.4g}",
                ["link", "endpoints", "cost"],
                [[link["id"], " – ".join(link["endpoints"]), link["cost"]] for link in design_result["chosen_links"]],
            )
        )
    if out is not None:
        console.print(f"report written to {out / 'index.html'}")


def simulate(
    scenario: Annotated[str, typer.Argument(help="scenario file or built-in name")],
    duration: Annotated[str, typer.Option(help="simulated time, e.g. 24h")] = "24h",
    seed: Annotated[int, typer.Option(help="seed of the random generator")] = 0,
    traffic: Annotated[str, typer.Option(help="constant, poisson, rekey or sessions")] = "constant",
    period: Annotated[
        str, typer.Option(help="request period (constant, rekey) or mean interval (poisson requests, session starts)")
    ] = "1s",
    session: Annotated[str, typer.Option(help="sessions: mean session duration")] = "60s",
    key_bits: Annotated[
        float | None, typer.Option(help="bits per request (rekey default 256; else rate x period)")
    ] = None,
    max_wait: Annotated[str, typer.Option(help="a request waiting longer is lost")] = "10s",
    fail: Annotated[
        list[str] | None, typer.Option(help="link:ID@TIME[+REPAIR] or node:ID@TIME[+REPAIR], repeatable")
    ] = None,
    json_output: Annotated[bool, typer.Option("--json", help="print the result as JSON")] = False,
    out: Annotated[Path | None, typer.Option(help="folder for an HTML report with figures")] = None,
    users_relay: Annotated[bool, typer.Option("--users-relay", help="let user nodes relay key too")] = False,
) -> None:
    """Simulate key generation, relay and consumption; report Y.3807 QoS per demand and the bit totals."""
    from qit4n.net.graph import build_network
    from qit4n.net.simulate import SimulationConfig, simulate_network
    from qit4n.schema import validate_parameters

    loaded = load_scenario(scenario)
    config = validate_parameters(
        SimulationConfig,
        {
            "duration_s": parse_duration_s("--duration", duration),
            "seed": seed,
            "traffic": {
                "kind": traffic,
                "period_s": parse_duration_s("--period", period),
                "key_bits": key_bits,
                "session_s": parse_duration_s("--session", session),
            },
            "max_wait_s": parse_duration_s("--max-wait", max_wait),
            "failures": [parse_failure_spec(spec) for spec in fail or []],
        },
        context="simulate",
    )
    network = build_network(loaded, users_relay=users_relay, pass_model=config.passes)
    result = simulate_network(network, config)
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        write_report(
            out,
            f"qit4n simulate: {loaded.name}",
            simulation_sections(result, out, network),
            intro=loaded.description.strip(),
        )
    if json_output:
        typer.echo(json.dumps(result.to_dict(), indent=2))
        return
    console = Console()
    rows = [
        [
            q.name,
            q.throughput_bps,
            q.delay_median_s,
            q.delay_p99_s,
            q.loss_ratio,
            q.availability,
            ", ".join("never" if t is None else f"{t:.3g}" for t in q.restoration_times_s) or "–",
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
    console.print(
        _rich_table(f"QoS over {result.duration_s / 3600:.4g} h ({result.events_fired} events)", columns, rows)
    )
    console.print(
        _rich_table(
            "Conservation (bits)", ["term", "bits"], [[name, value] for name, value in result.totals_bits.items()]
        )
    )
    if out is not None:
        console.print(f"report written to {out / 'index.html'}")


def generate(
    nodes: Annotated[int, typer.Option(help="number of nodes")] = 20,
    links: Annotated[int | None, typer.Option(help="number of links (default 3 per node)")] = None,
    demands: Annotated[int, typer.Option(help="number of demands")] = 5,
    model: Annotated[str, typer.Option(help="waxman or geometric")] = "waxman",
    seed: Annotated[int, typer.Option(help="seed of the random generator")] = 0,
) -> None:
    """Print a synthetic network scenario (YAML) with demands: ``qit4n scenario generate --nodes 50 > net.yaml``."""
    from qit4n.net.generate import generate_scenario
    from qit4n.scenario import scenario_to_yaml

    typer.echo(
        scenario_to_yaml(generate_scenario(nodes, links=links, demands=demands, model=model, seed=seed)), nl=False
    )


def show(
    scenario: Annotated[str, typer.Argument(help="scenario file or built-in name")],
    out: Annotated[Path, typer.Option(help="PNG file for the drawing")] = Path("network.png"),
    users_relay: Annotated[bool, typer.Option("--users-relay", help="let user nodes relay key too")] = False,
) -> None:
    """Draw a scenario's network (nodes at their coordinates, links coloured by key rate) and list its links."""
    from qit4n.net.figures import plot_network
    from qit4n.net.graph import build_network

    loaded = load_scenario(scenario)
    network = build_network(loaded, users_relay=users_relay)
    plot_network(network, out)
    console = Console()
    rows = [
        [link.id, " – ".join(link.endpoints), link.length_km, link.key_rate_bps, link.duty_cycle]
        for link in network.links
    ]
    console.print(
        _rich_table(
            f"{loaded.name}: {len(loaded.nodes)} nodes, {len(loaded.links)} links, {len(loaded.demands)} demands",
            ["link", "endpoints", "length (km)", "key rate (bit/s)", "duty cycle"],
            rows,
        )
    )
    console.print(f"drawing written to {out}")


def demo_section(scenario: Scenario, out_dir: Path) -> Section:
    """Plan the scenario's demands and simulate its key pools for one hour; figures go to ``out_dir``."""
    from qit4n.net.plan import plan_network
    from qit4n.net.simulate import SimulationConfig, simulate_network

    result = plan_network(scenario)
    sections = plan_sections(result, out_dir)
    simulation = simulate_network(result.network, SimulationConfig(duration_s=3600.0, samples=120))
    sections += simulation_sections(simulation, out_dir, result.network)
    return Section(
        "QKD network: planning and key-pool simulation",
        paragraphs=[paragraph for section in sections for paragraph in section.paragraphs],
        tables=[table for section in sections for table in section.tables],
        figures=[figure for section in sections for figure in section.figures],
    )


def register(app: typer.Typer) -> None:
    """Add ``plan``, ``simulate`` and ``scenario generate|show`` to the CLI."""
    app.command("plan")(plan)
    app.command("simulate")(simulate)
    scenario_app = typer.Typer(help="Synthetic scenarios and network drawings.", no_args_is_help=True)
    scenario_app.command("generate")(generate)
    scenario_app.command("show")(show)
    app.add_typer(scenario_app, name="scenario")
