"""Joint key-rate allocation for all demands: a multi-commodity flow linear program (HiGHS).

Each demand is a commodity with a flow variable on every directed pair it may use (into nodes
allowed to relay for it); the flows of all demands in both directions of a pair share the pair's
key rate, because trusted-relay delivery consumes one bit of link key per end-to-end bit per hop.
Demands are served by priority (higher first); within a priority class the allocation is weighted
max-min fair on the served fraction ``allocated / requested``: the common fraction is raised until
some demands are blocked (their lower-bound constraints have non-zero dual values, so by
complementary slackness no optimal solution serves them more), those are fixed, and the rest go on
(progressive filling). A last LP keeps every allocation and minimises the total key consumed by
relaying, which gives the routes.

References
----------
D. Bertsekas and R. Gallager, Data Networks, 2nd ed., Sec. 6.5.2 (max-min fairness, 1992).
B. Radunović and J.-Y. Le Boudec, A unified framework for max-min and min-max fairness with applications,
IEEE/ACM Trans. Netw. 15, 1073 (2007), doi:10.1109/TNET.2007.896231.
ITU-T Y.3803 (2020): key relay through trusted nodes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy.optimize import linprog
from scipy.sparse import coo_array, csr_array, vstack

from qit4n.errors import InfeasibleError, ParameterError
from qit4n.net.capacity import Route
from qit4n.net.flows import CompiledNetwork, FlowSolution

__all__ = ["DemandAllocation", "DemandSpec", "allocate"]

_TOLERANCE = 1e-7


@dataclass(frozen=True)
class DemandSpec:
    """A demand as the allocator sees it: end points, requested rate (bit/s), priority (higher first)."""

    name: str
    source: str
    target: str
    rate_bps: float
    priority: int = 1


@dataclass(frozen=True)
class DemandAllocation:
    """What one demand gets: its allocated rate (bit/s) and the routes that carry it."""

    demand: DemandSpec
    allocated_bps: float
    routes: tuple[Route, ...]

    @property
    def satisfied(self) -> bool:
        """Whether the whole request is served (to a relative 1e-6)."""
        return self.allocated_bps >= self.demand.rate_bps * (1 - 1e-6)


class _Program:
    """The multi-commodity flow constraints, built once (rates scaled to order one)."""

    def __init__(
        self,
        compiled: CompiledNetwork,
        demands: Sequence[DemandSpec],
        failed_links: Sequence[int],
        failed_nodes: Sequence[int],
    ):
        self.compiled = compiled
        self.demands = list(demands)
        capacity = compiled.pair_capacity(failed_links)
        self.scale = max(float(capacity.max(initial=0.0)), max(d.rate_bps for d in demands), 1e-300)
        self.capacity = capacity / self.scale
        self.request = np.array([d.rate_bps for d in demands]) / self.scale
        n_pairs = len(compiled.pair_u)
        tails, heads, pairs, owners, rows_eq, cols_eq, vals_eq = [], [], [], [], [], [], []
        offset = 0
        self.arc_slices = []
        for k, demand in enumerate(self.demands):
            s, t = compiled.index[demand.source], compiled.index[demand.target]
            blocked = compiled.blocked_nodes(s, t, failed_nodes)
            usable = capacity > 0
            fwd = np.flatnonzero(usable & ~blocked[compiled.pair_v] & ~blocked[compiled.pair_u])
            fwd_s = np.flatnonzero(usable & (compiled.pair_u == s) & ~blocked[compiled.pair_v])
            bwd_s = np.flatnonzero(usable & (compiled.pair_v == s) & ~blocked[compiled.pair_u])
            forward_pairs = np.union1d(fwd, fwd_s)
            backward_pairs = np.union1d(fwd, bwd_s)
            tail = np.concatenate([compiled.pair_u[forward_pairs], compiled.pair_v[backward_pairs]])
            head = np.concatenate([compiled.pair_v[forward_pairs], compiled.pair_u[backward_pairs]])
            keep = (head != s) & (tail != t)
            tail, head = tail[keep], head[keep]
            pair = np.concatenate([forward_pairs, backward_pairs])[keep]
            count = len(tail)
            variables = np.arange(offset, offset + count)
            self.arc_slices.append((offset, count))
            tails.append(tail)
            heads.append(head)
            pairs.append(pair)
            owners.append(np.full(count, k))
            base_row = k * compiled.num_nodes
            rows_eq += [base_row + tail, base_row + head]
            cols_eq += [variables, variables]
            vals_eq += [np.ones(count), -np.ones(count)]
            offset += count
        self.n_flow = offset
        self.n_vars = offset + len(self.demands) + 1
        self.tail, self.head = np.concatenate(tails), np.concatenate(heads)
        self.pair = np.concatenate(pairs)
        x_columns = self.n_flow + np.arange(len(self.demands))
        sources = np.array([compiled.index[d.source] for d in self.demands])
        targets = np.array([compiled.index[d.target] for d in self.demands])
        k_index = np.arange(len(self.demands))
        rows_eq += [k_index * compiled.num_nodes + sources, k_index * compiled.num_nodes + targets]
        cols_eq += [x_columns, x_columns]
        vals_eq += [-np.ones(len(self.demands)), np.ones(len(self.demands))]
        equality = coo_array(
            (np.concatenate(vals_eq), (np.concatenate(rows_eq), np.concatenate(cols_eq))),
            shape=(len(self.demands) * compiled.num_nodes, self.n_vars),
        ).tocsr()
        used_rows = np.flatnonzero(np.diff(equality.indptr))
        self.a_eq = equality[used_rows]
        self.b_eq = np.zeros(len(used_rows))
        self.a_cap = csr_array(
            (np.ones(self.n_flow), (self.pair, np.arange(self.n_flow))), shape=(n_pairs, self.n_vars)
        )
        self.x_columns = x_columns
        self.t_column = self.n_vars - 1
        self.lengths = np.array([max(length, 1e-3) for length in self._pair_lengths()])

    def _pair_lengths(self) -> list[float]:
        lengths = [np.inf] * len(self.compiled.pair_u)
        for position, pair in enumerate(self.compiled.link_pair):
            lengths[pair] = min(lengths[pair], self.compiled.network.links[position].length_km)
        return [1.0 if not np.isfinite(length) else length for length in lengths]

    def solve(self, objective: np.ndarray, lower: np.ndarray, upper: np.ndarray, fair: Sequence[int]):
        fairness = csr_array(
            (
                np.concatenate([self.request[list(fair)], -np.ones(len(fair))]),
                (
                    np.concatenate([np.arange(len(fair))] * 2),
                    np.concatenate([np.full(len(fair), self.t_column), self.x_columns[list(fair)]]),
                ),
            ),
            shape=(len(fair), self.n_vars),
        )
        a_ub = vstack([self.a_cap, fairness]).tocsr()
        b_ub = np.concatenate([self.capacity, np.zeros(len(fair))])
        bounds = np.zeros((self.n_vars, 2))
        bounds[:, 1] = np.inf
        bounds[self.x_columns, 0] = lower
        bounds[self.x_columns, 1] = upper
        bounds[self.t_column] = (0.0, 1.0)
        result = linprog(objective, A_ub=a_ub, b_ub=b_ub, A_eq=self.a_eq, b_eq=self.b_eq, bounds=bounds, method="highs")
        if result.status != 0:
            raise InfeasibleError(f"allocation LP failed: {result.message}")
        return result


def _freeze_blocked_demands(
    active: list[int], blocked: list[int], level: float, request: np.ndarray, lower: np.ndarray, upper: np.ndarray
) -> list[int]:
    """One step of progressive filling: fix the demands that cannot grow at ``level``; return the rest.

    When every demand is served in full (``level`` reaches 1) or no dual names a bottleneck, all
    active demands are fixed. Fixed demands keep ``min(level, 1)`` times their request.
    """
    if level >= 1 - _TOLERANCE or not blocked:
        blocked = list(active)
    for k in blocked:
        value = min(level * request[k], request[k])
        lower[k] = value * (1 - _TOLERANCE)
        upper[k] = value
    return [k for k in active if k not in blocked]


def _fill(program: _Program, lower: np.ndarray, upper: np.ndarray, active: list[int]) -> None:
    """Progressive filling of the demands ``active`` (fixes their entries of ``lower``/``upper``)."""
    objective = np.zeros(program.n_vars)
    objective[program.t_column] = -1.0
    while active:
        result = program.solve(objective, lower, upper, active)
        level = float(result.x[program.t_column])
        marginals = result.ineqlin.marginals[len(program.capacity) :]
        blocked = [k for k, dual in zip(active, marginals) if dual < -_TOLERANCE]
        active = _freeze_blocked_demands(active, blocked, level, program.request, lower, upper)


#: Above this many edge-form flow variables, ``method="auto"`` uses column generation.
EDGE_FORM_LIMIT = 200_000


def allocate(
    compiled: CompiledNetwork,
    demands: Sequence[DemandSpec],
    *,
    failed_links: Sequence[int] = (),
    failed_nodes: Sequence[int] = (),
    method: Literal["auto", "edges", "paths"] = "auto",
) -> list[DemandAllocation]:
    """Allocate key rate to all ``demands`` at once (priorities, then weighted max-min fairness).

    ``failed_links``/``failed_nodes`` are positions in ``compiled.link_ids``/``compiled.nodes``.
    ``method`` picks the edge form of the LP (one flow variable per demand and directed pair) or
    its path form solved by column generation (:mod:`qit4n.net.columns`); both give the same
    allocation, ``auto`` takes the path form when the edge form would exceed
    :data:`EDGE_FORM_LIMIT` variables. Returns one :class:`DemandAllocation` per demand, in order.
    """
    if not demands:
        return []
    if method not in ("auto", "edges", "paths"):
        raise ParameterError(f"method = {method!r}: must be 'auto', 'edges' or 'paths'")
    if method == "paths" or (method == "auto" and 2 * len(demands) * len(compiled.pair_u) > EDGE_FORM_LIMIT):
        return _allocate_paths(compiled, demands, failed_links, failed_nodes)
    program = _Program(compiled, demands, failed_links, failed_nodes)
    lower = np.zeros(len(demands))
    upper = program.request.copy()
    for priority in sorted({d.priority for d in demands}, reverse=True):
        _fill(program, lower, upper, [k for k, d in enumerate(demands) if d.priority == priority])
    cost = np.zeros(program.n_vars)
    cost[: program.n_flow] = program.lengths[program.pair]
    result = program.solve(cost, lower, upper, [])
    flows = result.x[: program.n_flow] * program.scale
    allocations = []
    for k, demand in enumerate(demands):
        offset, count = program.arc_slices[k]
        arcs = slice(offset, offset + count)
        net = np.zeros(len(compiled.pair_u))
        forward = compiled.pair_u[program.pair[arcs]] == program.tail[arcs]
        np.add.at(net, program.pair[arcs], np.where(forward, flows[arcs], -flows[arcs]))
        units = np.round(net / compiled.quantum_bps).astype(np.int64)
        solution = FlowSolution(0.0, net, units, compiled.index[demand.source], compiled.index[demand.target])
        routes = tuple(
            Route(tuple(path), rate)
            for path, rate in compiled.decompose(solution)
            if rate > _TOLERANCE * demand.rate_bps
        )
        allocations.append(DemandAllocation(demand, max(0.0, float(upper[k] * program.scale)), routes))
    return allocations


def _allocate_paths(
    compiled: CompiledNetwork, demands: Sequence[DemandSpec], failed_links: Sequence[int], failed_nodes: Sequence[int]
) -> list[DemandAllocation]:
    from qit4n.net.columns import PathProgram

    program = PathProgram(compiled, demands, failed_links, failed_nodes)
    lower = np.zeros(len(demands))
    upper = program.request.copy()
    for priority in sorted({d.priority for d in demands}, reverse=True):
        active = [k for k, d in enumerate(demands) if d.priority == priority]
        while active:
            result, fair_duals = program.solve(lower, upper, active, level=True)
            level = float(result.x[-1])
            blocked = [k for k in active if fair_duals[k] < -_TOLERANCE]
            active = _freeze_blocked_demands(active, blocked, level, program.request, lower, upper)
    result, _ = program.solve(lower, upper, [], level=False, price=False)
    values = result.x[:-1] * program.scale
    routes: list[list[Route]] = [[] for _ in demands]
    for (k, _, nodes), value in zip(program.columns, values):
        if value > _TOLERANCE * demands[k].rate_bps:
            routes[k].append(Route(tuple(compiled.nodes[node] for node in nodes), float(value)))
    return [
        DemandAllocation(
            demand,
            max(0.0, float(upper[k] * program.scale)),
            tuple(sorted(routes[k], key=lambda route: -route.rate_bps)),
        )
        for k, demand in enumerate(demands)
    ]
