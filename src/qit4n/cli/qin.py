"""``qit4n qin``: repeater chains (physical or abstract model) and quantum-network scenarios."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from qit4n.cli.options import parse_duration_s, parse_settings
from qit4n.cli.render import quantities_table, rich_table, tracked

__all__ = ["register"]

qin_app = typer.Typer(
    help="Quantum information networks: repeater chains and entanglement-distribution scenarios.", no_args_is_help=True
)


@qin_app.command("chain")
def chain(
    segments: Annotated[int, typer.Option(help="number of segments (repeaters + 1)")] = 4,
    length_km: Annotated[float | None, typer.Option(help="end-to-end fibre length (physical chain)")] = None,
    link_success_probability: Annotated[
        float | None, typer.Option(help="abstract model: per-attempt link success p")
    ] = None,
    swap_success_probability: Annotated[
        float | None, typer.Option(help="swap success a (abstract model default 1)")
    ] = None,
    memory_t2_s: Annotated[float | None, typer.Option(help="memory coherence time T2, s (default 1)")] = None,
    target_fidelity: Annotated[
        float | None, typer.Option(help="choose the fastest policy reaching this mean fidelity")
    ] = None,
    policy: Annotated[str | None, typer.Option(help="swap-asap or doubling")] = None,
    samples: Annotated[int, typer.Option(help="Monte Carlo samples")] = 100_000,
    seed: Annotated[int, typer.Option(help="random seed")] = 1,
    engine: Annotated[str, typer.Option(help="mc (vectorised Monte Carlo) or des (event-driven)")] = "mc",
    duration: Annotated[str, typer.Option(help="simulated time for --engine des, e.g. 10s")] = "10s",
    notify_end_nodes: Annotated[
        bool, typer.Option(help="--engine des: deliveries count when swap outcomes reach the end nodes")
    ] = False,
    formalism: Annotated[str, typer.Option(help="--engine des: bell-diagonal or density-matrix")] = "bell-diagonal",
    pumping_rounds: Annotated[
        int, typer.Option(help="--engine des: DEJMPS pumping rounds on each elementary pair")
    ] = 0,
    scheme: Annotated[
        str | None, typer.Option(help="heralding: barrett-kok (default), single-click or midpoint-source")
    ] = None,
    bright_state_population: Annotated[
        float | None, typer.Option(help="single-click emission probability alpha")
    ] = None,
    source_mean_pairs: Annotated[
        float | None, typer.Option(help="midpoint-source brightness, mean pairs per attempt")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
) -> None:
    """Rate, fidelity and waiting time of a repeater chain."""
    from qit4n.qin.report import chain_quantities
    from qit4n.qin.run import ChainRequest, run_chain

    request = ChainRequest(
        segments=segments,
        length_km=length_km,
        link_success_probability=link_success_probability,
        swap_success_probability=swap_success_probability,
        memory_t2_s=memory_t2_s,
        target_fidelity=target_fidelity,
        policy=policy,
        samples=samples,
        seed=seed,
        engine=engine,
        duration_s=parse_duration_s("--duration", duration),
        notify_end_nodes=notify_end_nodes,
        formalism=formalism,
        pumping_rounds=pumping_rounds,
        scheme=scheme,
        bright_state_population=bright_state_population,
        source_mean_pairs=source_mean_pairs,
    )
    what = f"repeater chain, {engine} engine" + (f", {request.duration_s:g} s simulated" if engine == "des" else "")
    with tracked(what, quiet=as_json, counts=False) as shown:
        report = run_chain(request, on_progress=shown)
    if as_json:
        typer.echo(json.dumps(report.to_json(), indent=2))
        return
    Console().print(quantities_table("qit4n qin chain", chain_quantities(report), number_format=".6g"))


@qin_app.command("run")
def run(
    scenario: Annotated[str, typer.Argument(help="scenario file or built-in name, e.g. qin-metro-2qc")],
    duration: Annotated[str, typer.Option(help="simulated time, e.g. 1s or 500ms")] = "1s",
    seed: Annotated[int, typer.Option(help="random seed")] = 1,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
    out: Annotated[Path | None, typer.Option(help="folder for figures, results JSON and an HTML report")] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option(
            "--set", help="override a quantum_hardware field: NAME=VALUE, e.g. eta_detector=0.8, memory.t2_s=0.5"
        ),
    ] = None,
) -> None:
    """Simulate a quantum-network scenario: delivered pairs, fidelities, rates per request, memory use."""
    from qit4n.qin.report import memory_table, requests_table, write_network_report
    from qit4n.qin.run import run_network

    duration_s = parse_duration_s("--duration", duration)
    with tracked(f"simulating {duration_s:g} s of {scenario}", quiet=as_json, counts=False) as shown:
        report = run_network(
            scenario, duration_s=duration_s, seed=seed, overrides=parse_settings("--set", set_ or []), on_progress=shown
        )
    figures = write_network_report(report, out) if out is not None else None
    if as_json:
        typer.echo(json.dumps(report.to_json(figures), indent=2))
        return
    console = Console()
    console.print(rich_table(requests_table(report), justify="left"))
    console.print(rich_table(memory_table(report), number_format=".3g", justify="left"))


def register(app: typer.Typer) -> None:
    """Add ``qit4n qin`` to the main app."""
    app.add_typer(qin_app, name="qin")
