"""Entanglement distribution in a network: path selection, memory reservation, competing requests.

Each request of a scenario (``requests``: two endpoints, a target fidelity, a wanted pair rate)
is routed over nodes that hold quantum memories. Candidate paths are the shortest simple paths by
fibre length; each is scored by a quick Monte Carlo of a chain of its length (conservatively with
all segments as long as its longest one), discounted by the share of memories it would get on
nodes already used by the requests routed before it, and the fastest path whose estimated
fidelity meets the target is chosen (otherwise the one of highest fidelity). Every request then runs as an
event-driven chain (:class:`~qit4n.qin.des_chain.ChainSimulation`) on one shared kernel. Before
each round a request reserves memories along its path (two per repeater, one per end node); a
request that finds a node full waits, and released memories go to waiting requests in order, so
requests that share nodes take turns. A delivery counts when the end nodes have received every
swap outcome over the fibre (classical message delay).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

import numpy as np

from qit4n.des import PS_PER_S, Kernel
from qit4n.errors import ParameterError
from qit4n.qin.chain import ChainParameters, simulate_chain_mc
from qit4n.qin.des_chain import ChainSimulation
from qit4n.scenario import Scenario
from qit4n.schema import validate_parameters
from qit4n.workload import ProgressCallback, run_within_budget

__all__ = [
    "NetworkRun",
    "RequestOutcome",
    "RequestPlan",
    "plan_requests",
    "quantum_graph",
    "simulate_quantum_network",
]


@dataclass(frozen=True)
class RequestPlan:
    """The path chosen for one request and the estimate that chose it (``path`` empty when unroutable)."""

    index: int
    name: str
    endpoints: tuple[str, str]
    target_fidelity: float
    pairs_per_s: float
    path: tuple[str, ...]
    segment_lengths_km: tuple[float, ...]
    estimated_rate_pairs_per_s: float
    estimated_fidelity: float


def _link_length_km(link, loss_db_per_km: float) -> float:
    if link.length_km is not None:
        return float(link.length_km)
    if link.loss_db is not None:
        return float(link.loss_db) / loss_db_per_km
    raise ParameterError(f"link {link.id or link.endpoints}: needs length_km or loss_db for entanglement distribution")


def quantum_graph(scenario: Scenario, hardware: ChainParameters):
    """Graph of the nodes with memories and the fibre links between them (edge weight ``length_km``)."""
    import networkx as nx

    graph = nx.Graph()
    for node in scenario.nodes:
        if node.memories > 0:
            graph.add_node(node.id, memories=node.memories)
    for link in scenario.links:
        first, second = link.endpoints
        if first in graph and second in graph and link.channel.value == "fibre":
            length = _link_length_km(link, hardware.loss_db_per_km)
            if not graph.has_edge(first, second) or graph[first][second]["length_km"] > length:
                graph.add_edge(first, second, length_km=length)
    return graph


def _candidate_paths(graph, source: str, target: str, count: int) -> list[list[str]]:
    import networkx as nx

    if source not in graph or target not in graph:
        return []
    usable = graph.subgraph([n for n in graph if n in (source, target) or graph.nodes[n]["memories"] >= 2])
    try:
        return list(islice(nx.shortest_simple_paths(usable, source, target, weight="length_km"), count))
    except nx.NetworkXNoPath:
        return []


def _estimate(
    hardware: ChainParameters, lengths: tuple[float, ...], samples: int, rng: np.random.Generator
) -> dict[str, float]:
    segments = len(lengths)
    return simulate_chain_mc(
        hardware.model_copy(update={"segments": segments, "length_km": max(lengths) * segments}), samples, rng
    ).summary()


def plan_requests(
    scenario: Scenario,
    hardware: ChainParameters,
    rng: np.random.Generator,
    *,
    candidate_paths: int = 3,
    estimate_samples: int = 4000,
) -> list[RequestPlan]:
    """Route every request (see the module docstring).

    Two passes: the first routes requests in order, each seeing the memories taken by those before
    it; the second re-routes each request seeing the memories taken by all the others.
    """
    graph = quantum_graph(scenario, hardware)
    options = []
    for request in scenario.requests:
        paths = _candidate_paths(graph, request.endpoints[0], request.endpoints[1], candidate_paths)
        lengths = [tuple(graph[a][b]["length_km"] for a, b in zip(path, path[1:])) for path in paths]
        options.append(
            [(path, length, _estimate(hardware, length, estimate_samples, rng)) for path, length in zip(paths, lengths)]
        )
    chosen: list[int | None] = [None] * len(options)

    def usage(skip: int) -> dict[str, int]:
        use: dict[str, int] = {}
        for index, choice in enumerate(chosen):
            if choice is not None and index != skip:
                path = options[index][choice][0]
                for node in path:
                    use[node] = use.get(node, 0) + _need(path, node)
        return use

    def effective_rate(path: list[str], estimate: dict[str, float], use: dict[str, int]) -> float:
        share = min(1.0, *(graph.nodes[n]["memories"] / (use.get(n, 0) + _need(path, n)) for n in path))
        return estimate["rate_pairs_per_s"] * share

    for _ in range(2):
        for index, request in enumerate(scenario.requests):
            use = usage(index)
            keys = []
            for path, _, estimate in options[index]:
                meets = estimate["fidelity_mean"] >= request.target_fidelity
                keys.append((meets, effective_rate(path, estimate, use) if meets else estimate["fidelity_mean"]))
            chosen[index] = max(range(len(keys)), key=keys.__getitem__) if keys else None
    plans = []
    for index, request in enumerate(scenario.requests):
        name = request.name or f"{request.endpoints[0]}-{request.endpoints[1]}#{index}"
        choice = chosen[index]
        if choice is None:
            plans.append(
                RequestPlan(
                    index, name, request.endpoints, request.target_fidelity, request.pairs_per_s, (), (), 0.0, 0.0
                )
            )
            continue
        path, segment_lengths_km, estimate = options[index][choice]
        plans.append(
            RequestPlan(
                index,
                name,
                request.endpoints,
                request.target_fidelity,
                request.pairs_per_s,
                tuple(path),
                segment_lengths_km,
                effective_rate(path, estimate, usage(index)),
                estimate["fidelity_mean"],
            )
        )
    return plans


def _need(path: list[str], node: str) -> int:
    return 1 if node in (path[0], path[-1]) else 2


@dataclass
class _Reservations:
    """Free memories per node and the time integral of reserved memories."""

    kernel: Kernel
    free: dict[str, int]
    capacity: dict[str, int]
    reserved_ps: dict[str, int] = field(default_factory=dict)
    since_ps: dict[str, int] = field(default_factory=dict)

    def _account(self, node: str) -> None:
        now = self.kernel.now_ps
        used = self.capacity[node] - self.free[node]
        self.reserved_ps[node] = self.reserved_ps.get(node, 0) + used * (now - self.since_ps.get(node, 0))
        self.since_ps[node] = now

    def try_acquire(self, needs: dict[str, int]) -> bool:
        if any(self.free[node] < count for node, count in needs.items()):
            return False
        for node, count in needs.items():
            self._account(node)
            self.free[node] -= count
        return True

    def release(self, needs: dict[str, int]) -> None:
        for node, count in needs.items():
            self._account(node)
            self.free[node] += count


@dataclass(frozen=True)
class RequestOutcome:
    """What one request got: delivered pairs, rate and fidelity against its targets (``None`` without deliveries)."""

    name: str
    endpoints: tuple[str, str]
    path: tuple[str, ...]
    length_km: float
    target_fidelity: float
    requested_pairs_per_s: float
    delivered_pairs: int
    rate_pairs_per_s: float
    fidelity_mean: float | None
    fraction_above_target: float | None
    waiting_time_mean_s: float | None
    satisfied: bool
    estimated_rate_pairs_per_s: float
    estimated_fidelity: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (non-finite numbers as ``None``)."""
        values = {
            "name": self.name,
            "endpoints": list(self.endpoints),
            "path": list(self.path),
            "length_km": self.length_km,
            "target_fidelity": self.target_fidelity,
            "requested_pairs_per_s": self.requested_pairs_per_s,
            "delivered_pairs": self.delivered_pairs,
            "rate_pairs_per_s": self.rate_pairs_per_s,
            "fidelity_mean": self.fidelity_mean,
            "fraction_above_target": self.fraction_above_target,
            "waiting_time_mean_s": self.waiting_time_mean_s,
            "satisfied": self.satisfied,
            "estimated_rate_pairs_per_s": self.estimated_rate_pairs_per_s,
            "estimated_fidelity": self.estimated_fidelity,
        }
        return {
            key: None if isinstance(value, float) and not math.isfinite(value) else value
            for key, value in values.items()
        }


@dataclass(frozen=True)
class NetworkRun:
    """Per-request deliveries and per-node memory use of a network run."""

    plans: list[RequestPlan]
    waiting_time_s: list[np.ndarray]
    fidelity: list[np.ndarray]
    memory_use: dict[str, dict[str, float]]
    simulated_s: float
    events: int

    def request_outcomes(self) -> list[RequestOutcome]:
        """One outcome per request, in the scenario's order."""
        outcomes = []
        for plan, waits, fidelities in zip(self.plans, self.waiting_time_s, self.fidelity):
            count = int(waits.size)
            rate = count / self.simulated_s
            mean_fidelity = float(fidelities.mean()) if count else None
            satisfied = mean_fidelity is not None and rate >= plan.pairs_per_s and mean_fidelity >= plan.target_fidelity
            outcomes.append(
                RequestOutcome(
                    name=plan.name,
                    endpoints=plan.endpoints,
                    path=plan.path,
                    length_km=float(sum(plan.segment_lengths_km)),
                    target_fidelity=plan.target_fidelity,
                    requested_pairs_per_s=plan.pairs_per_s,
                    delivered_pairs=count,
                    rate_pairs_per_s=rate,
                    fidelity_mean=mean_fidelity,
                    fraction_above_target=float(np.mean(fidelities >= plan.target_fidelity)) if count else None,
                    waiting_time_mean_s=float(waits.mean()) if count else None,
                    satisfied=bool(satisfied),
                    estimated_rate_pairs_per_s=plan.estimated_rate_pairs_per_s,
                    estimated_fidelity=plan.estimated_fidelity,
                )
            )
        return outcomes


def _needs(plan: RequestPlan, per_side: int) -> dict[str, int]:
    needs = dict.fromkeys(plan.path[1:-1], 2 * per_side)
    needs[plan.path[0]] = per_side
    needs[plan.path[-1]] = per_side
    return needs


def simulate_quantum_network(
    scenario: Scenario,
    *,
    duration_s: float,
    seed: int,
    hardware: ChainParameters | None = None,
    on_progress: ProgressCallback | None = None,
    memories_per_side: int = 1,
) -> NetworkRun:
    """Route the scenario's requests and run them together for ``duration_s`` simulated seconds, on
    ``hardware`` (default: the scenario's ``quantum_hardware`` block, defaults where omitted).

    >>> from qit4n.scenario import load_scenario
    >>> run = simulate_quantum_network(load_scenario("qin-metro-2qc"), duration_s=0.2, seed=1)
    >>> [outcome.delivered_pairs > 0 for outcome in run.request_outcomes()]
    [True, True, True]
    """
    if duration_s <= 0:
        raise ParameterError(f"duration_s = {duration_s:g}: must be > 0")
    if not scenario.requests:
        raise ParameterError(f"scenario {scenario.name!r}: has no requests to simulate")
    hardware = hardware or validate_parameters(ChainParameters, scenario.quantum_hardware, "quantum_hardware")
    rng = np.random.default_rng(seed)
    plans = plan_requests(scenario, hardware, rng)
    kernel = Kernel()
    capacity = {node.id: node.memories for node in scenario.nodes}
    reservations = _Reservations(kernel, dict(capacity), capacity)
    chains: dict[int, ChainSimulation] = {}
    waiting: list[int] = []
    needs = {plan.index: _needs(plan, memories_per_side) for plan in plans if plan.path}

    def serve_waiting() -> None:
        for index in list(waiting):
            if reservations.try_acquire(needs[index]):
                waiting.remove(index)
                chains[index].start()

    def delivered(chain: ChainSimulation) -> None:
        reservations.release(needs[chain_index[id(chain)]])
        waiting.append(chain_index[id(chain)])
        serve_waiting()

    chain_index: dict[int, int] = {}
    for plan in plans:
        if not plan.path:
            continue
        params = hardware.model_copy(
            update={
                "segments": len(plan.segment_lengths_km),
                "length_km": sum(plan.segment_lengths_km),
                "memories_per_node": memories_per_side,
            }
        )
        chain = ChainSimulation(
            params,
            kernel,
            np.random.default_rng([seed, plan.index]),
            segment_lengths_km=list(plan.segment_lengths_km),
            notify_end_nodes=True,
            on_delivery=delivered,
        )
        chains[plan.index] = chain
        chain_index[id(chain)] = plan.index
        waiting.append(plan.index)
    serve_waiting()
    run_within_budget(kernel, until_ps=round(duration_s * PS_PER_S), field="duration_s", on_progress=on_progress)
    for node in capacity:
        reservations._account(node)
    memory_use = {
        node: {
            "memories": capacity[node],
            "mean_reserved": reservations.reserved_ps.get(node, 0) / PS_PER_S / duration_s,
            "utilisation": reservations.reserved_ps.get(node, 0) / PS_PER_S / duration_s / capacity[node]
            if capacity[node]
            else 0.0,
        }
        for node in capacity
        if capacity[node] > 0
    }
    empty = np.zeros(0)
    return NetworkRun(
        plans=plans,
        waiting_time_s=[np.array(chains[p.index].waits_ps, dtype=float) / PS_PER_S if p.path else empty for p in plans],
        fidelity=[chains[p.index].fidelities() if p.path else empty for p in plans],
        memory_use=memory_use,
        simulated_s=duration_s,
        events=kernel.events_fired,
    )
