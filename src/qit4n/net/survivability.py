"""Survivability: what each single link or node failure (or a given failure set) does to the demands.

For every failure, each demand is rerouted on the damaged network: its *remaining* rate is the
largest flow, up to its planned allocation, that the damaged network can carry for it (each demand
on its own, as a key manager restoring one service at a time would). A demand *loses service* when
that falls below its allocation; the *capacity lost* is the sum over demands of allocation minus
remaining rate; the *rerouting* of each demand whose planned routes crossed the failure is the
routes of that flow.

A failure that removes none of a feasible flow of the allocated rate leaves the demand served
(the same flow still works), so only demands whose reference flow crosses the failure are
recomputed; this is exact and makes full single-failure analysis of large networks fast.

Every failure is analysed on its own, so the analysis spreads over many machines: a
:data:`FailureMapper` (for instance :func:`qit4n.sweep.dask_batch_mapper`) receives the shared
:class:`FailureContext` once and batches of failures as tasks.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from qit4n.errors import ParameterError
from qit4n.net.allocation import DemandAllocation
from qit4n.net.capacity import Route
from qit4n.net.flows import CompiledNetwork, FlowSolution
from qit4n.workload import ProgressCallback

__all__ = [
    "BATCH_FAILURES",
    "Failure",
    "FailureContext",
    "FailureImpact",
    "FailureMapper",
    "failure_context",
    "failure_impacts",
    "impacts_of",
    "single_failures",
    "touches_flow",
]

_RELATIVE = 1e-6


@dataclass(frozen=True)
class Failure:
    """A set of failed links and nodes (ids), analysed together."""

    links: tuple[str, ...] = ()
    nodes: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        """``link:A-B, node:R`` style name."""
        return ", ".join([f"link:{link}" for link in self.links] + [f"node:{node}" for node in self.nodes])


@dataclass(frozen=True)
class FailureImpact:
    """Effect of one failure: lost demands, capacity lost (bit/s), remaining rate and reroutes per affected demand.

    ``remaining_bps`` lists only the demands whose reference flow the failure touched; every other
    demand keeps its full allocation.
    """

    failure: Failure
    demands_lost: tuple[str, ...]
    capacity_lost_bps: float
    remaining_bps: dict[str, float] = field(default_factory=dict)
    reroutes: dict[str, tuple[Route, ...]] = field(default_factory=dict)

    def to_dict(self) -> dict:
        """JSON-ready form."""
        return {
            "failed": self.failure.label,
            "failed_links": list(self.failure.links),
            "failed_nodes": list(self.failure.nodes),
            "demands_lost": list(self.demands_lost),
            "capacity_lost_bps": self.capacity_lost_bps,
            "remaining_bps": self.remaining_bps,
            "reroutes": {name: [route.to_dict() for route in routes] for name, routes in self.reroutes.items()},
        }


def single_failures(compiled: CompiledNetwork) -> list[Failure]:
    """Every single link failure, then every single node failure."""
    return [Failure(links=(link_id,)) for link_id in compiled.link_ids] + [
        Failure(nodes=(node,)) for node in compiled.nodes
    ]


def _crosses(
    compiled: CompiledNetwork, flow: FlowSolution, capacity: np.ndarray, dead_pairs: np.ndarray, dead_nodes: list[int]
) -> bool:
    carried = np.abs(flow._pair_flow_units) * compiled.quantum_bps
    if np.any(carried[dead_pairs] > capacity[dead_pairs] + compiled.quantum_bps):
        return True
    if dead_nodes:
        touching = np.isin(compiled.pair_u, dead_nodes) | np.isin(compiled.pair_v, dead_nodes)
        return bool(np.any(flow._pair_flow_units[touching] != 0))
    return False


def _route_hits(route: Route, links: set[tuple[str, str]], nodes: set[str]) -> bool:
    if nodes.intersection(route.path):
        return True
    return any((u, v) in links or (v, u) in links for u, v in zip(route.path[:-1], route.path[1:]))


@dataclass(frozen=True)
class FailureContext:
    """What every failure's analysis reads: the network, the allocations, each carrying demand's
    reference flow (by allocation number: source, target, blocked nodes, flow) and, per node pair
    and per node, the demands whose reference flow uses it. Built once; shipped once to each
    worker of a cluster."""

    compiled: CompiledNetwork
    allocations: tuple[DemandAllocation, ...]
    references: dict[int, tuple[int, int, np.ndarray, FlowSolution]]
    pair_users: dict[int, list[int]]
    node_users: dict[int, list[int]]


#: ``mapper(function, context, batches)`` returns ``[function(context, batch) for batch in batches]``,
#: in order, wherever it runs them (:func:`qit4n.sweep.dask_batch_mapper` runs them on a Dask cluster).
FailureMapper = Callable[
    [Callable[[FailureContext, list[Failure]], list[FailureImpact]], FailureContext, list[list[Failure]]],
    list[list[FailureImpact]],
]

#: Failures per task when a mapper spreads the analysis.
BATCH_FAILURES = 32


def failure_context(compiled: CompiledNetwork, allocations: Sequence[DemandAllocation]) -> FailureContext:
    """The reference flows of the demands that carry key, and who uses each pair and node."""
    baseline_capacity = compiled.pair_capacity()
    references: dict[int, tuple[int, int, np.ndarray, FlowSolution]] = {}
    for number, allocation in enumerate(allocations):
        s, t = compiled.index[allocation.demand.source], compiled.index[allocation.demand.target]
        blocked = compiled.blocked_nodes(s, t)
        planned = allocation.allocated_bps
        if planned > 0:
            references[number] = (s, t, blocked, compiled.max_flow(s, t, baseline_capacity, blocked, limit_bps=planned))
    pair_users: dict[int, list[int]] = {}
    node_users: dict[int, list[int]] = {}
    for number, (s, t, _, reference) in references.items():
        touched = {s, t}
        for pair in np.flatnonzero(reference._pair_flow_units).tolist():
            pair_users.setdefault(pair, []).append(number)
            touched.update((int(compiled.pair_u[pair]), int(compiled.pair_v[pair])))
        for node in touched:
            node_users.setdefault(node, []).append(number)
    return FailureContext(compiled, tuple(allocations), references, pair_users, node_users)


def _located(context: FailureContext, failure: Failure) -> tuple[list[int], list[int], np.ndarray, list[int]]:
    """Link positions, node indices, node pairs and candidate demands (allocation numbers) of ``failure``."""
    compiled = context.compiled
    try:
        positions = [compiled.link_position[link_id] for link_id in failure.links]
        dead_nodes = [compiled.index[node] for node in failure.nodes]
    except KeyError as error:
        raise ParameterError(f"failure {failure.label!r}: no such link or node {error.args[0]!r}") from None
    dead_pairs = compiled.link_pair[positions] if positions else np.zeros(0, dtype=np.int64)
    candidates = sorted(
        {number for pair in dead_pairs.tolist() for number in context.pair_users.get(pair, ())}
        | {number for node in dead_nodes for number in context.node_users.get(node, ())}
    )
    return positions, dead_nodes, dead_pairs, candidates


def touches_flow(context: FailureContext, failure: Failure) -> bool:
    """Whether ``failure`` touches some demand's reference flow (only those need a max-flow);
    :class:`ParameterError` if it names an unknown link or node."""
    return bool(_located(context, failure)[3])


def impacts_of(context: FailureContext, failures: Sequence[Failure]) -> list[FailureImpact]:
    """Impact of each failure of ``failures`` (one task of the analysis)."""
    compiled, allocations = context.compiled, context.allocations
    impacts = []
    for failure in failures:
        positions, dead_nodes, dead_pairs, candidates = _located(context, failure)
        lost, remaining, reroutes, capacity_lost = [], {}, {}, 0.0
        if not candidates:
            # Most single failures touch no reference flow: skip the O(links) capacity copy for them.
            impacts.append(FailureImpact(failure, (), 0.0, {}, {}))
            continue
        capacity = compiled.pair_capacity(positions)
        link_ends = {compiled.network.links[position].endpoints for position in positions}
        node_set = set(failure.nodes)
        for number in candidates:
            allocation = allocations[number]
            s, t, blocked, reference = context.references[number]
            name, planned = allocation.demand.name, allocation.allocated_bps
            if s in dead_nodes or t in dead_nodes:
                after, solution = 0.0, None
            elif _crosses(compiled, reference, capacity, dead_pairs, dead_nodes):
                damaged = blocked.copy()
                damaged[dead_nodes] = True
                solution = compiled.max_flow(s, t, capacity, damaged, limit_bps=planned)
                after = solution.value_bps
            else:
                continue
            remaining[name] = after
            capacity_lost += max(planned - after, 0.0)
            if after < planned * (1 - _RELATIVE):
                lost.append(name)
            if (
                solution is not None
                and after > 0
                and any(_route_hits(route, link_ends, node_set) for route in allocation.routes)
            ):
                reroutes[name] = tuple(Route(tuple(path), rate) for path, rate in compiled.decompose(solution))
        impacts.append(FailureImpact(failure, tuple(lost), capacity_lost, remaining, reroutes))
    return impacts


def failure_impacts(
    compiled: CompiledNetwork,
    allocations: Sequence[DemandAllocation],
    failures: Sequence[Failure] | None = None,
    *,
    mapper: FailureMapper | None = None,
    on_progress: ProgressCallback | None = None,
) -> list[FailureImpact]:
    """Impact of each failure in ``failures`` (default: every single link and node) on the planned demands.

    Each failure is independent. With ``mapper`` the failures that touch some reference flow (the
    only ones that need a max-flow) go out in batches of :data:`BATCH_FAILURES`, the others are
    answered here; the result is the same list as without it. ``on_progress(failures_done, failures)``
    is called at the start and after each batch (at the end only, with ``mapper``).
    """
    failures = single_failures(compiled) if failures is None else list(failures)
    context = failure_context(compiled, allocations)
    if on_progress is not None:
        on_progress(0, len(failures))
    if mapper is None:
        done: list[FailureImpact] = []
        for start in range(0, len(failures), BATCH_FAILURES):
            done.extend(impacts_of(context, failures[start : start + BATCH_FAILURES]))
            if on_progress is not None:
                on_progress(len(done), len(failures))
        return done
    work = [index for index, failure in enumerate(failures) if touches_flow(context, failure)]
    impacts: list[FailureImpact | None] = [None] * len(failures)
    for index in sorted(set(range(len(failures))) - set(work)):
        impacts[index] = FailureImpact(failures[index], (), 0.0, {}, {})
    batches = [work[start : start + BATCH_FAILURES] for start in range(0, len(work), BATCH_FAILURES)]
    answers = mapper(impacts_of, context, [[failures[index] for index in batch] for batch in batches])
    for batch, answer in zip(batches, answers, strict=True):
        for index, impact in zip(batch, answer, strict=True):
            impacts[index] = impact
    if on_progress is not None:
        on_progress(len(failures), len(failures))
    return [impact for impact in impacts if impact is not None]
