"""Joint allocation by column generation: the path form of the multi-commodity flow LP, for large networks.

Same problem and same answer as the edge form of :mod:`qit4n.net.allocation` (the max-min fair
allocation vector is unique), but each demand's flow is a combination of explicit paths and paths
are added only when they can improve the LP: a path of demand ``k`` enters when its length under
the capacity duals is below the demand's dual threshold (its reduced cost is negative), found by
one Dijkstra per demand through nodes allowed to relay. The first columns are the routes of each
demand's maximum flow capped at its request. LP optimality with no improving column is the
optimality of the full LP. The last step, which picks routes that spend the least relay key for
the allocation found, uses the generated paths only (no pricing): the allocation is exact, the
routes are the cheapest among those paths.

References
----------
L. R. Ford and D. R. Fulkerson, A suggested computation for maximal multi-commodity network flows,
Management Sci. 5, 97 (1958), doi:10.1287/mnsc.5.1.97 (column generation for multi-commodity flows).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.optimize import linprog
from scipy.sparse import csr_array
from scipy.sparse.csgraph import dijkstra

from qit4n.errors import InfeasibleError
from qit4n.net.flows import CompiledNetwork

__all__ = ["PathProgram"]

_TOLERANCE = 1e-7
_MAX_ROUNDS = 500


class PathProgram:
    """Restricted master LP over path columns, with pricing by Dijkstra (rates scaled to order one)."""

    def __init__(
        self, compiled: CompiledNetwork, demands: Sequence, failed_links: Sequence[int], failed_nodes: Sequence[int]
    ) -> None:
        self.compiled = compiled
        self.demands = list(demands)
        capacity = compiled.pair_capacity(failed_links)
        self.scale = max(float(capacity.max(initial=0.0)), max(d.rate_bps for d in demands), 1e-300)
        self.capacity = capacity / self.scale
        self.request = np.array([d.rate_bps for d in demands]) / self.scale
        self.lengths = self._pair_lengths()
        self.failed_nodes = list(failed_nodes)
        n_pairs = len(compiled.pair_u)
        self.arc_tail = np.concatenate([compiled.pair_u, compiled.pair_v])
        self.arc_head = np.concatenate([compiled.pair_v, compiled.pair_u])
        self.arc_pair = np.concatenate([np.arange(n_pairs), np.arange(n_pairs)])
        order = np.lexsort((self.arc_head, self.arc_tail))
        self.arc_tail, self.arc_head, self.arc_pair = self.arc_tail[order], self.arc_head[order], self.arc_pair[order]
        self.indptr = np.searchsorted(self.arc_tail, np.arange(compiled.num_nodes + 1)).astype(np.int32)
        self.indices = self.arc_head.astype(np.int32)
        self.pair_index = {(int(u), int(v)): p for p, (u, v) in enumerate(zip(compiled.pair_u, compiled.pair_v))}
        self.columns: list[tuple[int, np.ndarray, list[int]]] = []
        self.known: set[tuple[int, tuple[int, ...]]] = set()
        self.endpoints = [(compiled.index[d.source], compiled.index[d.target]) for d in demands]
        for k, (s, t) in enumerate(self.endpoints):
            blocked = compiled.blocked_nodes(s, t, failed_nodes)
            solution = compiled.max_flow(s, t, capacity, blocked, limit_bps=demands[k].rate_bps)
            for path, _ in compiled.decompose(solution):
                self._add(k, [compiled.index[node] for node in path])

    def _pair_lengths(self) -> np.ndarray:
        lengths = np.full(len(self.compiled.pair_u), np.inf)
        for position, pair in enumerate(self.compiled.link_pair):
            lengths[pair] = min(lengths[pair], self.compiled.network.links[position].length_km)
        lengths[~np.isfinite(lengths)] = 1.0
        return np.maximum(lengths, 1e-3) / max(float(lengths.max(initial=1.0)), 1e-3)

    def _add(self, k: int, nodes: list[int]) -> bool:
        pairs = tuple(sorted(self.pair_index[(min(a, b), max(a, b))] for a, b in zip(nodes[:-1], nodes[1:])))
        if (k, pairs) in self.known:
            return False
        self.known.add((k, pairs))
        self.columns.append((k, np.array(pairs, dtype=np.int64), nodes))
        return True

    def _solve(self, cost: np.ndarray, lower: np.ndarray, upper: np.ndarray, fair: list[int], with_level: bool):
        n_cols = len(self.columns)
        n_pairs, n_dem = len(self.capacity), len(self.demands)
        rows, cols = [], []
        owner = np.array([k for k, _, _ in self.columns], dtype=np.int64)
        for j, (_, pairs, _) in enumerate(self.columns):
            rows.append(pairs)
            cols.append(np.full(len(pairs), j))
        n_vars = n_cols + 1
        t_col = n_cols
        fair_pos = {k: i for i, k in enumerate(fair)}
        r = [np.concatenate(rows) if rows else np.zeros(0, int)]
        c = [np.concatenate(cols) if cols else np.zeros(0, int)]
        v = [np.ones(len(r[0]))]
        base = n_pairs
        in_fair = np.array([k in fair_pos for k in owner], dtype=bool)
        fair_rows = np.array([fair_pos.get(k, 0) for k in owner], dtype=np.int64)
        r.append(base + fair_rows[in_fair])
        c.append(np.flatnonzero(in_fair))
        v.append(-np.ones(int(in_fair.sum())))
        r.append(base + np.arange(len(fair)))
        c.append(np.full(len(fair), t_col))
        v.append(self.request[fair] if fair else np.zeros(0))
        base += len(fair)
        r += [base + owner, base + n_dem + owner]
        c += [np.arange(n_cols), np.arange(n_cols)]
        v += [np.ones(n_cols), -np.ones(n_cols)]
        n_rows = base + 2 * n_dem
        a_ub = csr_array((np.concatenate(v), (np.concatenate(r), np.concatenate(c))), shape=(n_rows, n_vars))
        b_ub = np.concatenate([self.capacity, np.zeros(len(fair)), upper, -lower])
        objective = np.concatenate([cost, [-1.0 if with_level else 0.0]])
        bounds = [(0, None)] * n_cols + [(0.0, 1.0 if with_level else 0.0)]
        result = linprog(objective, A_ub=a_ub, b_ub=b_ub, bounds=bounds, method="highs")
        if result.status != 0:
            raise InfeasibleError(f"allocation LP failed: {result.message}")
        duals = result.ineqlin.marginals
        weights = np.maximum(-duals[:n_pairs], 0.0)
        fair_duals = np.zeros(n_dem)
        fair_duals[fair] = duals[n_pairs : n_pairs + len(fair)]
        upper_duals = duals[base : base + n_dem]
        lower_duals = duals[base + n_dem :]
        return result, weights, fair_duals, upper_duals, lower_duals

    def _price(self, weights: np.ndarray, thresholds: np.ndarray, per_length: float) -> int:
        """Add every path whose reduced cost is negative; returns how many were added."""
        arc_weight = weights[self.arc_pair] + per_length * self.lengths[self.arc_pair] + 1e-12
        usable = self.capacity[self.arc_pair] > 0
        relay = self.compiled.relay_mask
        added = 0
        for k, (s, t) in enumerate(self.endpoints):
            if thresholds[k] <= _TOLERANCE:
                continue
            allowed_tail = relay[self.arc_tail] | (self.arc_tail == s)
            allowed_head = relay[self.arc_head] | (self.arc_head == t)
            ok = usable & allowed_tail & allowed_head
            if self.failed_nodes:
                dead = np.isin(self.arc_tail, self.failed_nodes) | np.isin(self.arc_head, self.failed_nodes)
                ok &= ~dead
            data = np.where(ok, arc_weight, np.inf)
            graph = csr_array((data, self.indices, self.indptr), shape=(self.compiled.num_nodes,) * 2)
            distance, previous = dijkstra(graph, indices=s, return_predecessors=True)
            if not np.isfinite(distance[t]) or distance[t] >= thresholds[k] - _TOLERANCE:
                continue
            path = [t]
            while path[-1] != s:
                path.append(int(previous[path[-1]]))
            added += self._add(k, path[::-1])
        return added

    def solve(self, lower: np.ndarray, upper: np.ndarray, fair: list[int], *, level: bool, price: bool = True):
        """Optimal master after column generation: max level (``level``) or min relay cost.

        With ``price=False`` only the paths generated so far are used (the restricted master).
        """
        for _ in range(_MAX_ROUNDS):
            cost = (
                np.zeros(len(self.columns))
                if level
                else np.array([self.lengths[pairs].sum() for _, pairs, _ in self.columns])
            )
            result, weights, fair_d, upper_d, lower_d = self._solve(cost, lower, upper, fair, level)
            thresholds = upper_d - fair_d - lower_d
            if not price or not self._price(weights, thresholds, 0.0 if level else 1.0):
                return result, fair_d
        raise InfeasibleError(f"allocation: column generation did not converge in {_MAX_ROUNDS} rounds")

    def served(self, x: np.ndarray) -> np.ndarray:
        """Rate served to each demand (scaled) by the column values ``x``."""
        served = np.zeros(len(self.demands))
        for (k, _, _), value in zip(self.columns, x):
            served[k] += value
        return served
