"""``qit4n qin``: repeater chains (physical or abstract model) and quantum-network scenarios."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table as RichTable

from qit4n.cli.options import parse_duration_s
from qit4n.errors import ParameterError

__all__ = ["register", "chain_report", "demo_section"]

qin_app = typer.Typer(help="Quantum information networks: repeater chains and entanglement-distribution scenarios.", no_args_is_help=True)


def _clean(values: dict[str, Any]) -> dict[str, Any]:
    return {key: (None if isinstance(value, float) and not math.isfinite(value) else value) for key, value in values.items()}


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
            raise ParameterError("--length-km and --link-success-probability: give one (physical or abstract model), not both")
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
    params = validate_parameters(ChainParameters, values)
    report: dict[str, Any] = {"segments": segments, "length_km": length_km, "engine": engine}
    if target_fidelity is not None:
        if not 0.25 < target_fidelity <= 1.0:
            raise ParameterError(f"--target-fidelity = {target_fidelity:g}: must be in (0.25, 1]")
        best, candidates = plan_chain(params, target_fidelity=target_fidelity, samples=samples, rng=rng)
        params = best.params
        report["target_fidelity"] = target_fidelity
        report["candidates"] = [
            {"policy": c.params.policy.value, "rate_pairs_per_s": c.rate_pairs_per_s, "fidelity_mean": c.fidelity_mean} for c in candidates
        ]
    report["policy"] = params.policy.value
    if engine == "des":
        report.update(simulate_chain_des(params, duration_s=duration_s, seed=seed).summary())
    elif engine == "mc":
        report.update(simulate_chain_mc(params, samples, rng).summary())
    else:
        raise ParameterError(f"--engine = {engine!r}: must be one of mc, des")
    return _clean(report)


@qin_app.command("chain")
def chain(
    segments: Annotated[int, typer.Option(help="number of segments (repeaters + 1)")] = 4,
    length_km: Annotated[float | None, typer.Option(help="end-to-end fibre length (physical chain)")] = None,
    link_success_probability: Annotated[float | None, typer.Option(help="abstract model: per-attempt link success p")] = None,
    swap_success_probability: Annotated[float | None, typer.Option(help="swap success a (abstract model default 1)")] = None,
    memory_t2_s: Annotated[float | None, typer.Option(help="memory coherence time T2, s (default 1)")] = None,
    target_fidelity: Annotated[float | None, typer.Option(help="choose the fastest policy reaching this mean fidelity")] = None,
    policy: Annotated[str | None, typer.Option(help="swap-asap or doubling")] = None,
    samples: Annotated[int, typer.Option(help="Monte Carlo samples")] = 100_000,
    seed: Annotated[int, typer.Option(help="random seed")] = 1,
    engine: Annotated[str, typer.Option(help="mc (vectorised Monte Carlo) or des (event-driven)")] = "mc",
    duration: Annotated[str, typer.Option(help="simulated time for --engine des, e.g. 10s")] = "10s",
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


def register(app: typer.Typer) -> None:
    """Add ``qit4n qin`` to the main app."""
    app.add_typer(qin_app, name="qin")
