"""Typed entry points of ``qit4n qin``: a repeater chain (:func:`run_chain`), a network scenario (:func:`run_network`).

>>> report = run_chain(ChainRequest(segments=2, link_success_probability=0.5, samples=1000))
>>> report.summary["method"], round(report.summary["waiting_time_mean_attempts"], 4)
('closed-form', 2.6667)
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, cast

import numpy as np

from qit4n.errors import ParameterError
from qit4n.qin.abstract import abstract_waiting_time
from qit4n.qin.chain import ChainParameters, simulate_chain_mc
from qit4n.qin.des_chain import simulate_chain_des
from qit4n.qin.network import NetworkRun, RequestOutcome, simulate_quantum_network
from qit4n.qin.planner import plan_chain
from qit4n.scenario import Scenario, load_scenario
from qit4n.schema import validate_parameters
from qit4n.workload import ProgressCallback

__all__ = [
    "ChainCandidate",
    "ChainReport",
    "ChainRequest",
    "DesSettings",
    "NetworkRunReport",
    "run_chain",
    "run_network",
]


def _finite_or_none(values: Mapping[str, Any]) -> dict[str, Any]:
    return {
        key: (None if isinstance(value, float) and not math.isfinite(value) else value) for key, value in values.items()
    }


@dataclass(frozen=True)
class ChainRequest:
    """What ``qit4n qin chain`` asks for (option names without ``--``; ``None``: the model's default).

    ``link_success_probability`` selects the abstract model (attempts, no hardware), ``length_km``
    the physical chain; ``target_fidelity`` lets the planner choose the policy (and pumping).
    """

    segments: int = 4
    length_km: float | None = None
    link_success_probability: float | None = None
    swap_success_probability: float | None = None
    memory_t2_s: float | None = None
    target_fidelity: float | None = None
    policy: str | None = None
    samples: int = 100_000
    seed: int = 1
    engine: str = "mc"
    duration_s: float = 10.0
    notify_end_nodes: bool = False
    formalism: str = "bell-diagonal"
    pumping_rounds: int = 0
    scheme: str | None = None
    bright_state_population: float | None = None
    source_mean_pairs: float | None = None


@dataclass(frozen=True)
class ChainCandidate:
    """A configuration the planner evaluated."""

    policy: str
    pumping_rounds: int
    rate_pairs_per_s: float
    fidelity_mean: float

    def to_json(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "policy": self.policy,
            "pumping_rounds": self.pumping_rounds,
            "rate_pairs_per_s": self.rate_pairs_per_s,
            "fidelity_mean": self.fidelity_mean,
        }


@dataclass(frozen=True)
class DesSettings:
    """The event-driven engine's options that a report repeats."""

    notify_end_nodes: bool
    formalism: str
    pumping_rounds: int


@dataclass(frozen=True)
class ChainReport:
    """The result of ``qit4n qin chain``.

    ``summary`` holds the model's outputs in the model's order: rate, fidelity and waiting-time
    statistics of the physical chain, or the abstract model's waiting time in attempts (which
    repeats ``segments``, the probabilities and the policy). ``length_km`` is ``None`` for the
    abstract model, which has no engine.
    """

    segments: int
    policy: str
    summary: Mapping[str, Any]
    length_km: float | None = None
    engine: str | None = None
    target_fidelity: float | None = None
    candidates: tuple[ChainCandidate, ...] | None = None
    des: DesSettings | None = None

    def to_json(self) -> dict[str, Any]:
        """The ``--json`` object (non-finite numbers as ``null``)."""
        if self.length_km is None:
            return _finite_or_none(self.summary)
        report: dict[str, Any] = {"segments": self.segments, "length_km": self.length_km, "engine": self.engine}
        if self.target_fidelity is not None:
            report["target_fidelity"] = self.target_fidelity
            report["candidates"] = [candidate.to_json() for candidate in self.candidates or ()]
        report["policy"] = self.policy
        if self.des is not None:
            report["notify_end_nodes"] = self.des.notify_end_nodes
            report["formalism"] = self.des.formalism
            report["pumping_rounds"] = self.des.pumping_rounds
        report.update(self.summary)
        return _finite_or_none(report)


def _abstract_chain(request: ChainRequest, link_success_probability: float, rng: np.random.Generator) -> ChainReport:
    if request.length_km is not None:
        raise ParameterError(
            "--length-km and --link-success-probability: give one (physical or abstract model), not both"
        )
    summary = abstract_waiting_time(
        segments=request.segments,
        link_success_probability=link_success_probability,
        swap_success_probability=1.0 if request.swap_success_probability is None else request.swap_success_probability,
        policy=request.policy or "doubling",
        samples=request.samples,
        rng=rng,
    )
    return ChainReport(segments=request.segments, policy=str(summary["policy"]), summary=summary)


def _chain_parameters(request: ChainRequest, length_km: float) -> ChainParameters:
    values: dict[str, Any] = {"segments": request.segments, "length_km": length_km}
    if request.memory_t2_s is not None:
        values["memory"] = {"t2_s": request.memory_t2_s, "t1_s": max(10.0, request.memory_t2_s)}
    optional = {
        "swap_success_probability": request.swap_success_probability,
        "policy": request.policy,
        "scheme": request.scheme,
        "bright_state_population": request.bright_state_population,
        "source_mean_pairs": request.source_mean_pairs,
    }
    values.update({name: value for name, value in optional.items() if value is not None})
    return validate_parameters(ChainParameters, values)


def run_chain(request: ChainRequest, *, on_progress: ProgressCallback | None = None) -> ChainReport:
    """Rate, fidelity and waiting time of a repeater chain (physical or abstract model).

    Raises :class:`ParameterError` for inconsistent options (both models, an engine option
    without ``engine="des"``, an unknown engine) and :class:`~qit4n.errors.InfeasibleError` when
    no configuration reaches ``target_fidelity``. ``on_progress(done_ps, total_ps)`` follows the
    event-driven engine's simulated time.
    """
    if request.samples < 1:
        raise ParameterError(f"--samples = {request.samples}: must be >= 1")
    rng = np.random.default_rng(request.seed)
    if request.link_success_probability is not None:
        return _abstract_chain(request, request.link_success_probability, rng)
    if request.length_km is None:
        raise ParameterError("--length-km (physical chain) or --link-success-probability (abstract model) is required")
    params = _chain_parameters(request, request.length_km)
    engine, pumping_rounds = request.engine, request.pumping_rounds
    candidates = None
    if request.target_fidelity is not None:
        if not 0.25 < request.target_fidelity <= 1.0:
            raise ParameterError(f"--target-fidelity = {request.target_fidelity:g}: must be in (0.25, 1]")
        best, evaluated = plan_chain(
            params, target_fidelity=request.target_fidelity, samples=request.samples, rng=rng, seed=request.seed
        )
        params = best.params
        if best.pumping_rounds:
            pumping_rounds, engine = best.pumping_rounds, "des"
        candidates = tuple(
            ChainCandidate(c.params.policy.value, c.pumping_rounds, c.rate_pairs_per_s, c.fidelity_mean)
            for c in evaluated
        )
    if request.notify_end_nodes and engine != "des":
        raise ParameterError("--notify-end-nodes: needs --engine des (the Monte Carlo has no classical messages)")
    if pumping_rounds and engine != "des":
        raise ParameterError(f"--pumping-rounds = {pumping_rounds}: needs --engine des")
    if request.formalism != "bell-diagonal" and engine != "des":
        raise ParameterError(
            f"--formalism = {request.formalism!r}: needs --engine des (the Monte Carlo is Bell-diagonal)"
        )
    des = None
    if engine == "des":
        des = DesSettings(request.notify_end_nodes, request.formalism, pumping_rounds)
        run = simulate_chain_des(
            params,
            duration_s=request.duration_s,
            seed=request.seed,
            notify_end_nodes=request.notify_end_nodes,
            # simulate_chain_des checks the formalism name and lists the valid ones.
            formalism=cast(Literal["bell-diagonal", "density-matrix"], request.formalism),
            pumping_rounds=pumping_rounds,
            on_progress=on_progress,
        )
        summary: Mapping[str, Any] = run.summary()
    elif engine == "mc":
        summary = simulate_chain_mc(params, request.samples, rng).summary()
    else:
        raise ParameterError(f"--engine = {engine!r}: must be one of mc, des")
    return ChainReport(
        segments=request.segments,
        policy=params.policy.value,
        summary=summary,
        length_km=request.length_km,
        engine=engine,
        target_fidelity=request.target_fidelity,
        candidates=candidates,
        des=des,
    )


@dataclass(frozen=True)
class NetworkRunReport:
    """The result of ``qit4n qin run``: the scenario's requests served over ``duration_s`` simulated seconds."""

    scenario: Scenario
    duration_s: float
    seed: int
    run: NetworkRun
    requests: tuple[RequestOutcome, ...]

    def to_json(self, figures: list[str] | None = None) -> dict[str, Any]:
        """The ``--json`` object (``figures``: the file names written beside an HTML report)."""
        report: dict[str, Any] = {
            "scenario": self.scenario.name,
            "duration_s": self.duration_s,
            "seed": self.seed,
            "events": self.run.events,
            "requests": [outcome.to_dict() for outcome in self.requests],
            "memory_use": self.run.memory_use,
        }
        if figures is not None:
            report["figures"] = figures
        return report


def _hardware_values(scenario_hardware: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """The scenario's ``quantum_hardware`` with overrides on top (``memory.t2_s`` reaches into ``memory``)."""
    values = {key: dict(value) if isinstance(value, dict) else value for key, value in scenario_hardware.items()}
    for name, value in overrides.items():
        parent, dot, child = name.partition(".")
        if dot:
            group = values.setdefault(parent, {})
            if not isinstance(group, dict):
                raise ParameterError(f"--set {name}: {parent} is a single value, not a group with fields")
            group[child] = value
        else:
            values[name] = value
    return values


def run_network(
    scenario: str | Path | Scenario,
    *,
    duration_s: float,
    seed: int,
    overrides: Mapping[str, Any] | None = None,
    on_progress: ProgressCallback | None = None,
) -> NetworkRunReport:
    """Simulate a quantum-network scenario; ``overrides`` (``--set``) change fields of its ``quantum_hardware``;
    ``on_progress(done_ps, total_ps)`` follows the simulated time."""
    loaded = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    hardware = validate_parameters(ChainParameters, _hardware_values(loaded.quantum_hardware, overrides or {}), "--set")
    run = simulate_quantum_network(loaded, duration_s=duration_s, seed=seed, hardware=hardware, on_progress=on_progress)
    return NetworkRunReport(loaded, duration_s, seed, run, tuple(run.request_outcomes()))
