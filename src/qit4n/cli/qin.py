"""``qit4n qin``: repeater chains (physical or abstract model) and quantum-network scenarios."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table as RichTable

from qit4n.cli.options import parse_duration_s, parse_settings
from qit4n.errors import ParameterError

__all__ = ["DEMO_ENDPOINTS", "chain_report", "demo_section", "register", "run_report"]

qin_app = typer.Typer(
    help="Quantum information networks: repeater chains and entanglement-distribution scenarios.", no_args_is_help=True
)


def _clean(values: dict[str, Any]) -> dict[str, Any]:
    return {
        key: (None if isinstance(value, float) and not math.isfinite(value) else value) for key, value in values.items()
    }


def chain_report(
    *,
    segments: int,
    length_km: float | None,
    link_success_probability: float | None,
    swap_success_probability: float | None,
    memory_t2_s: float | None,
    target_fidelity: float | None,
    policy: str | None,
    samples: int,
    seed: int,
    engine: str,
    duration_s: float,
    notify_end_nodes: bool = False,
    formalism: str = "bell-diagonal",
    pumping_rounds: int = 0,
    scheme: str | None = None,
    bright_state_population: float | None = None,
    source_mean_pairs: float | None = None,
) -> dict[str, Any]:
    """The result object of ``qit4n qin chain`` (the ``--json`` contract)."""
    import numpy as np

    from qit4n.qin.abstract import abstract_waiting_time
    from qit4n.qin.chain import ChainParameters, simulate_chain_mc
    from qit4n.qin.des_chain import simulate_chain_des
    from qit4n.qin.planner import plan_chain
    from qit4n.schema import validate_parameters

    if samples < 1:
        raise ParameterError(f"--samples = {samples}: must be >= 1")
    rng = np.random.default_rng(seed)
    if link_success_probability is not None:
        if length_km is not None:
            raise ParameterError(
                "--length-km and --link-success-probability: give one (physical or abstract model), not both"
            )
        return abstract_waiting_time(
            segments=segments,
            link_success_probability=link_success_probability,
            swap_success_probability=1.0 if swap_success_probability is None else swap_success_probability,
            policy=policy or "doubling",
            samples=samples,
            rng=rng,
        )
    if length_km is None:
        raise ParameterError("--length-km (physical chain) or --link-success-probability (abstract model) is required")
    values: dict[str, Any] = {"segments": segments, "length_km": length_km}
    if memory_t2_s is not None:
        values["memory"] = {"t2_s": memory_t2_s, "t1_s": max(10.0, memory_t2_s)}
    if swap_success_probability is not None:
        values["swap_success_probability"] = swap_success_probability
    if policy is not None:
        values["policy"] = policy
    if scheme is not None:
        values["scheme"] = scheme
    if bright_state_population is not None:
        values["bright_state_population"] = bright_state_population
    if source_mean_pairs is not None:
        values["source_mean_pairs"] = source_mean_pairs
    params = validate_parameters(ChainParameters, values)
    report: dict[str, Any] = {"segments": segments, "length_km": length_km, "engine": engine}
    if target_fidelity is not None:
        if not 0.25 < target_fidelity <= 1.0:
            raise ParameterError(f"--target-fidelity = {target_fidelity:g}: must be in (0.25, 1]")
        best, candidates = plan_chain(params, target_fidelity=target_fidelity, samples=samples, rng=rng, seed=seed)
        params = best.params
        if best.pumping_rounds:
            pumping_rounds, engine = best.pumping_rounds, "des"
            report["engine"] = engine
        report["target_fidelity"] = target_fidelity
        report["candidates"] = [
            {
                "policy": c.params.policy.value,
                "pumping_rounds": c.pumping_rounds,
                "rate_pairs_per_s": c.rate_pairs_per_s,
                "fidelity_mean": c.fidelity_mean,
            }
            for c in candidates
        ]
    report["policy"] = params.policy.value
    if notify_end_nodes and engine != "des":
        raise ParameterError("--notify-end-nodes: needs --engine des (the Monte Carlo has no classical messages)")
    if pumping_rounds and engine != "des":
        raise ParameterError(f"--pumping-rounds = {pumping_rounds}: needs --engine des")
    if formalism != "bell-diagonal" and engine != "des":
        raise ParameterError(f"--formalism = {formalism!r}: needs --engine des (the Monte Carlo is Bell-diagonal)")
    if engine == "des":
        report["notify_end_nodes"] = notify_end_nodes
        report["formalism"] = formalism
        report["pumping_rounds"] = pumping_rounds
        run = simulate_chain_des(
            params,
            duration_s=duration_s,
            seed=seed,
            notify_end_nodes=notify_end_nodes,
            formalism=formalism,
            pumping_rounds=pumping_rounds,
        )
        report.update(run.summary())
    elif engine == "mc":
        report.update(simulate_chain_mc(params, samples, rng).summary())
    else:
        raise ParameterError(f"--engine = {engine!r}: must be one of mc, des")
    return _clean(report)


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
    report = chain_report(
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
    if as_json:
        typer.echo(json.dumps(report, indent=2))
        return
    table = RichTable(title="qit4n qin chain")
    table.add_column("quantity")
    table.add_column("value", justify="right")
    for key, value in report.items():
        if key != "candidates":
            table.add_row(key, f"{value:.6g}" if isinstance(value, float) else str(value))
    Console().print(table)


def _hardware_values(scenario_hardware: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """The scenario's ``quantum_hardware`` with ``--set`` values on top (``memory.t2_s`` reaches into ``memory``)."""
    values = {key: dict(value) if isinstance(value, dict) else value for key, value in scenario_hardware.items()}
    for name, value in overrides.items():
        parent, dot, child = name.partition(".")
        if dot:
            values.setdefault(parent, {})[child] = value
        else:
            values[name] = value
    return values


def run_report(
    scenario_source: str, *, duration_s: float, seed: int, out_dir: Path | None, overrides: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The result object of ``qit4n qin run`` (the ``--json`` contract); writes figures when ``out_dir``.

    ``overrides`` (``--set``) change fields of the scenario's ``quantum_hardware``.
    """
    from qit4n.qin.chain import ChainParameters
    from qit4n.qin.network import simulate_network
    from qit4n.scenario import load_scenario
    from qit4n.schema import validate_parameters

    scenario = load_scenario(scenario_source)
    hardware = validate_parameters(
        ChainParameters, _hardware_values(scenario.quantum_hardware, overrides or {}), "--set"
    )
    run = simulate_network(scenario, duration_s=duration_s, seed=seed, hardware=hardware)
    report: dict[str, Any] = {
        "scenario": scenario.name,
        "duration_s": duration_s,
        "seed": seed,
        "events": run.events,
        "requests": [_clean(row) for row in run.request_rows()],
        "memory_use": run.memory_use,
    }
    if out_dir is not None:
        from qit4n.qin.figures import plot_network_run
        from qit4n.report import Figure, Section, Table, write_report

        figures = plot_network_run(run, out_dir)
        report["figures"] = [name for name, _ in figures]
        (out_dir / "qin_run.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
        columns = ["request", "path", "pairs/s", "requested", "fidelity", "target", "satisfied"]
        rows = [
            [
                r["name"],
                " - ".join(r["path"]),
                r["rate_pairs_per_s"],
                r["requested_pairs_per_s"],
                r["fidelity_mean"],
                r["target_fidelity"],
                r["satisfied"],
            ]
            for r in report["requests"]
        ]
        section = Section(
            f"Quantum network run: {scenario.name}",
            paragraphs=[f"{duration_s:g} s simulated, seed {seed}, {run.events} events."],
            tables=[Table(columns, rows)],
            figures=[Figure(name, caption) for name, caption in figures],
        )
        write_report(out_dir, f"qit4n qin run {scenario.name}", [section])
    return report


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
    report = run_report(
        scenario,
        duration_s=parse_duration_s("--duration", duration),
        seed=seed,
        out_dir=out,
        overrides=parse_settings("--set", set_ or []),
    )
    if as_json:
        typer.echo(json.dumps(report, indent=2))
        return
    table = RichTable(title=f"qit4n qin run {report['scenario']} ({report['duration_s']:g} s)")
    for column in ("request", "path", "pairs", "pairs/s", "requested", "fidelity", "target", "ok"):
        table.add_column(column)
    for row in report["requests"]:
        fidelity = "-" if row["fidelity_mean"] is None else f"{row['fidelity_mean']:.4f}"
        table.add_row(
            row["name"],
            " - ".join(row["path"]) or "(no path)",
            str(row["delivered_pairs"]),
            f"{row['rate_pairs_per_s']:.4g}",
            f"{row['requested_pairs_per_s']:.4g}",
            fidelity,
            f"{row['target_fidelity']:.3g}",
            "yes" if row["satisfied"] else "no",
        )
    console = Console()
    console.print(table)
    memory = RichTable(title="memory use")
    for column in ("node", "memories", "mean reserved", "utilisation"):
        memory.add_column(column)
    for node, use in report["memory_use"].items():
        memory.add_row(node, str(use["memories"]), f"{use['mean_reserved']:.3g}", f"{use['utilisation']:.1%}")
    console.print(memory)


#: The two sites of the default scenario joined by the demo's repeater chain (its longest route).
DEMO_ENDPOINTS = ("SIE", "STP")


def demo_section(scenario, out_dir: Path):
    """Repeater chain between two sites of ``scenario``: rate and fidelity versus repeaters, against PLOB."""
    import numpy as np

    from qit4n.qin.demo import chain_versus_repeaters, demo_endpoints, route_length_km
    from qit4n.qin.figures import plot_chain_versus_repeaters
    from qit4n.report import Figure, Section, Table

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
            f"Quantum computers are assumed at {source} and {target}, joined by a repeater chain along the shortest fibre route "
            f"({length_km:g} km). Barrett-Kok heralding with midpoint stations, memories with T2 = 1 s, swap as soon as possible; "
            "vectorised Monte Carlo, 20,000 deliveries per point. Per channel use means end-to-end pairs per attempt per memory; "
            "the repeaterless bound is PLOB, -log2(1 - eta), for a direct fibre of the same length.",
        ],
        tables=[
            Table(
                ["repeaters", "pairs/s", "mean fidelity", "ebits per use", "PLOB per use"],
                [
                    [
                        r["repeaters"],
                        r["rate_pairs_per_s"],
                        r["fidelity_mean"],
                        r["pairs_per_channel_use"],
                        r["repeaterless_bound_per_use"],
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


def register(app: typer.Typer) -> None:
    """Add ``qit4n qin`` to the main app."""
    app.add_typer(qin_app, name="qin")
