"""``qit4n plan``, ``qit4n simulate`` and ``qit4n scenario generate|show``: network planning and key-pool simulation."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal, cast

import typer
from rich.console import Console
from rich.table import Table as RichTable

from qit4n.cli.options import check_figure_path, check_scheduler_address, parse_duration_s
from qit4n.cli.render import rich_table, tracked
from qit4n.errors import ParameterError
from qit4n.report import Provenance, write_report
from qit4n.scenario import Scenario, builtin_names, load_scenario, scenario_digest

if TYPE_CHECKING:
    from qit4n.net.simulate import FailureEvent
    from qit4n.net.survivability import Failure

__all__ = ["parse_failure_set", "parse_failure_spec", "register"]


def parse_failure_spec(spec: str) -> FailureEvent:
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


def parse_failure_set(spec: str) -> Failure:
    """Parse a failure set ``link:ID,node:ID,...`` analysed as one failure.

    >>> parse_failure_set("link:A-B,node:R1")
    Failure(links=('A-B',), nodes=('R1',))
    """
    from qit4n.net.survivability import Failure

    links: list[str] = []
    nodes: list[str] = []
    for item in (part.strip() for part in spec.split(",")):
        kind, colon, element = item.partition(":")
        if not colon or not element or kind not in ("link", "node"):
            raise ParameterError(
                f"--failure-set {spec!r}: must be a comma list of link:ID and node:ID, e.g. link:A-B,node:R1"
            )
        (links if kind == "link" else nodes).append(element)
    return Failure(links=tuple(links), nodes=tuple(nodes))


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
    survivability: Annotated[
        bool,
        typer.Option(
            "--survivability/--no-survivability", help="analyse every single failure (--no-survivability: skip it)"
        ),
    ] = True,
    failure_set: Annotated[
        list[str] | None, typer.Option(help="also analyse this set failing together: link:ID,node:ID,... (repeatable)")
    ] = None,
    scheduler: Annotated[
        str | None, typer.Option(help="run the failure analysis on a Dask scheduler, e.g. tcp://127.0.0.1:8786")
    ] = None,
) -> None:
    """Plan key delivery: link rates, per-demand capacity, joint allocation, routes and single-failure survivability."""
    from qit4n.net.plan import PlanReport, plan_network
    from qit4n.net.report import demands_table, design_table, failures_table, links_table, plan_sections

    for option, cost in (("--cost-per-km", cost_per_km), ("--cost-per-link", cost_per_link)):
        if cost < 0:
            raise ParameterError(f"{option} = {cost:g}: must be >= 0")
    if not survivability and (failure_set or scheduler is not None):
        option = "--failure-set" if failure_set else "--scheduler"
        raise ParameterError(f"{option}: used by the failure analysis, which --no-survivability skips")
    loaded = _loaded(scenario, quiet=json_output)
    extra = [parse_failure_set(spec) for spec in failure_set or []]
    mapper = None
    if scheduler is not None:
        from qit4n.sweep import dask_batch_mapper

        mapper = dask_batch_mapper(check_scheduler_address("--scheduler", scheduler))
    with tracked(f"planning {loaded.name}: failures analysed", quiet=json_output) as shown:
        plan = plan_network(
            loaded,
            users_relay=users_relay,
            survivability=survivability,
            extra_failures=extra,
            mapper=mapper,
            on_progress=shown,
        )
    chosen = None
    if design is not None:
        from qit4n.net.design import design_network

        chosen = design_network(
            loaded, load_scenario(design), cost_per_km=cost_per_km, cost_per_link=cost_per_link, users_relay=users_relay
        )
    result = PlanReport(plan, chosen)
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        write_report(
            out,
            f"qit4n plan: {loaded.name}",
            plan_sections(result.plan, out, result.design),
            intro=loaded.description.strip(),
            provenance=Provenance.collect(scenario=scenario_digest(loaded)),
        )
    if json_output:
        typer.echo(json.dumps(result.to_dict(), indent=2))
        return
    console = Console()
    console.print(rich_table(links_table(result.plan)))
    console.print(rich_table(demands_table(result.plan), headers=_DEMAND_HEADERS))
    failures = failures_table(result.plan)
    if failures.rows:
        title = f"Survivability (worst {len(failures.rows)} of {len(result.plan.survivability)} failures)"
        console.print(rich_table(failures, title=title))
    if result.design is not None:
        console.print(
            rich_table(design_table(result.design), title=f"Design: total cost {result.design.total_cost:.4g}")
        )
    if out is not None:
        console.print(f"report written to {out / 'index.html'}")


#: The most requests per demand a ``simulate`` run may ask for (duration / period).
MAX_REQUESTS_PER_DEMAND = 10_000_000


def _check_request_count(duration_s: float, period_s: float) -> None:
    """Refuse a run that makes no request at all, or so many that it would run for hours."""
    if duration_s < period_s:
        raise ParameterError(f"--duration {duration_s:g} s is shorter than --period {period_s:g} s: no request is made")
    requests = duration_s / period_s
    if requests > MAX_REQUESTS_PER_DEMAND:
        raise ParameterError(
            f"--duration / --period asks for {requests:.3g} requests per demand; at most {MAX_REQUESTS_PER_DEMAND:.0e}"
        )


#: Traffic models that draw nothing at random: ``--seed`` changes nothing for them.
_DETERMINISTIC_TRAFFIC = ("constant", "rekey")

#: Console names of the plan's demand columns, short enough for an 80-column terminal.
_DEMAND_HEADERS = {
    "requested (bit/s)": "asked (bit/s)",
    "max key rate (bit/s)": "max (bit/s)",
    "allocated (bit/s)": "given (bit/s)",
    "priority": "prio.",
    "satisfied": "met",
}

#: Console names of the QoS columns, short enough for an 80-column terminal.
_QOS_HEADERS = {
    "throughput (bit/s)": "bit/s",
    "delay median (s)": "delay p50 (s)",
    "loss ratio": "loss",
    "availability": "avail.",
    "restoration (s)": "restore (s)",
}


def simulate(
    scenario: Annotated[str, typer.Argument(help="scenario file or built-in name")],
    duration: Annotated[str, typer.Option(help="simulated time, e.g. 24h")] = "24h",
    seed: Annotated[
        int | None,
        typer.Option(help="seed of the random generator (poisson and sessions traffic; constant and rekey are exact)"),
    ] = None,
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
    from qit4n.net.report import conservation_table, qos_table, simulation_sections
    from qit4n.net.simulate import SimulationConfig, simulate_network
    from qit4n.schema import validate_parameters

    loaded = _loaded(scenario, quiet=json_output)
    if seed is not None and traffic in _DETERMINISTIC_TRAFFIC:
        typer.echo(f"note: --seed has no effect with --traffic {traffic}, which draws nothing at random", err=True)
    config = validate_parameters(
        SimulationConfig,
        {
            "duration_s": parse_duration_s("--duration", duration),
            "seed": seed or 0,
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
    if not loaded.links:
        raise ParameterError(f"scenario {loaded.name!r}: has no links, so no key to simulate")
    _check_request_count(config.duration_s, config.traffic.period_s)
    for spec, event in zip(fail or [], config.failures, strict=True):
        if event.time_s >= config.duration_s:
            raise ParameterError(
                f"--fail {spec!r}: at {event.time_s:g} s, not before the end ({config.duration_s:g} s)"
            )
    with tracked(f"simulating {config.duration_s:g} s of {loaded.name}", quiet=json_output, counts=False) as shown:
        network = build_network(loaded, users_relay=users_relay, pass_model=config.passes)
        result = simulate_network(network, config, on_progress=shown)
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        write_report(
            out,
            f"qit4n simulate: {loaded.name}",
            simulation_sections(result, out),
            intro=loaded.description.strip(),
            provenance=Provenance.collect(scenario=scenario_digest(loaded), seed=str(config.seed)),
        )
    if json_output:
        typer.echo(json.dumps(result.to_dict(), indent=2))
        return
    console = Console()
    title = f"QoS over {result.duration_s / 3600:.4g} h ({result.events_fired} events)"
    console.print(rich_table(qos_table(result, restoration_format=".3g"), title=title, headers=_QOS_HEADERS))
    console.print(rich_table(conservation_table(result, columns=("term", "bits")), title="Conservation (bits)"))
    if out is not None:
        console.print(f"report written to {out / 'index.html'}")


def _loaded(scenario: str, *, quiet: bool = False) -> Scenario:
    """The scenario, loaded under a status line (a large file takes a while)."""
    with tracked(f"loading {scenario}", quiet=quiet):
        return load_scenario(scenario)


def generate(
    nodes: Annotated[int, typer.Option(help="number of nodes")] = 20,
    links: Annotated[int | None, typer.Option(help="number of links (default 3 per node)")] = None,
    demands: Annotated[int, typer.Option(help="number of demands")] = 5,
    model: Annotated[str, typer.Option(help="waxman or geometric")] = "waxman",
    seed: Annotated[int, typer.Option(help="seed of the random generator")] = 0,
    output_format: Annotated[
        str, typer.Option("--format", help="yaml, or json (loads ~60x faster: use it for large networks)")
    ] = "yaml",
) -> None:
    """Print a synthetic network scenario with demands: ``qit4n scenario generate --nodes 50 > net.yaml``."""
    from qit4n.net.generate import generate_scenario
    from qit4n.scenario import scenario_to_json, scenario_to_yaml

    writers = {"yaml": scenario_to_yaml, "json": scenario_to_json}
    if output_format not in writers:
        raise ParameterError(f"--format = {output_format!r}: must be yaml or json")
    # generate_scenario checks the model name and says which ones exist.
    model_name = cast(Literal["waxman", "geometric"], model)
    with tracked(f"generating {nodes:,} nodes and writing them as {output_format}"):
        scenario = generate_scenario(nodes, links=links, demands=demands, model=model_name, seed=seed)
        text = writers[output_format](scenario)
    typer.echo(text, nl=False)


def show(
    scenario: Annotated[str, typer.Argument(help="scenario file or built-in name")],
    plot: Annotated[
        Path | None,
        typer.Option(
            "--plot",
            "--out",
            help="also draw the network (nodes at their coordinates, links coloured by key rate) to this "
            ".png, .svg or .pdf file; nothing is written without it",
        ),
    ] = None,
    users_relay: Annotated[bool, typer.Option("--users-relay", help="let user nodes relay key too")] = False,
) -> None:
    """List a scenario's links with their key rates; with --plot, also draw its network to a file."""
    from qit4n.net.graph import build_network
    from qit4n.net.report import network_links_table

    if plot is not None:
        check_figure_path("--plot", plot)
    loaded = _loaded(scenario)
    with tracked(f"link key rates of {loaded.name}" + (f", drawing {plot}" if plot is not None else "")):
        network = build_network(loaded, users_relay=users_relay)
        if plot is not None:
            from qit4n.net.figures import plot_network

            plot_network(network, plot)
        console = Console()
        title = f"{loaded.name}: {len(loaded.nodes)} nodes, {len(loaded.links)} links, {len(loaded.demands)} demands"
        with console.capture() as captured:
            console.print(rich_table(network_links_table(network), title=title))
    typer.echo(captured.get(), nl=False)
    if plot is not None:
        console.print(f"drawing written to {plot}")


def list_scenarios(as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False) -> None:
    """List the built-in scenarios: name, nodes, links, demands and title."""
    rows = []
    for name in builtin_names():
        loaded = load_scenario(name)
        rows.append(
            {
                "name": name,
                "nodes": len(loaded.nodes),
                "links": len(loaded.links),
                "demands": len(loaded.demands),
                "description": " ".join((loaded.description or "").split()),
            }
        )
    if as_json:
        typer.echo(json.dumps(rows))
        return
    table = RichTable(title="built-in scenarios (use the name wherever a scenario is asked for)")
    for column in rows[0] if rows else ():
        table.add_column(
            column, justify="left" if column in ("name", "description") else "right", no_wrap=column == "name"
        )
    for row in rows:
        first_sentence = str(row["description"]).split(". ")[0].rstrip(".")
        table.add_row(*[str(value) for value in row.values()][:-1], first_sentence)
    Console().print(table)


def schema() -> None:
    """Print the JSON Schema of the scenario format (field by field: docs/scenario-format.md)."""
    from qit4n.scenario import Scenario

    typer.echo(json.dumps(Scenario.model_json_schema(), indent=2))


def register(app: typer.Typer) -> None:
    """Add ``plan``, ``simulate`` and ``scenario generate|show`` to the CLI."""
    app.command("plan")(plan)
    app.command("simulate")(simulate)
    scenario_app = typer.Typer(help="Synthetic scenarios and network drawings.", no_args_is_help=True)
    scenario_app.command("generate")(generate)
    scenario_app.command("show")(show)
    scenario_app.command("list")(list_scenarios)
    scenario_app.command("schema")(schema)
    app.add_typer(scenario_app, name="scenario")
