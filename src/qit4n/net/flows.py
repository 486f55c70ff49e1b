"""Maximum key flow between two nodes through trusted relays, on compiled arrays.

The network is compiled once into node pairs (parallel links merged, their long-run rates summed);
each maximum flow then runs SciPy's Dinic implementation on an integer copy of the capacities.
Capacities are quantised to ``quantum_bps``, the power of two just above (largest total rate of the
links at one node) / 2**30, so that every capacity and every flow value (at most what its source's
links carry) fits the 32-bit range SciPy uses; a flow value is therefore exact to within ``cut size x
quantum``, about 1e-9 of the busiest node's rate. Nodes that may not relay for a demand get no incoming
capacity, so no key passes through them.

References
----------
E. A. Dinitz, Algorithm for solution of a problem of maximum flow in networks with power estimation,
Soviet Math. Doklady 11, 1277 (1970). L. R. Ford and D. R. Fulkerson, Maximal flow through a network,
Can. J. Math. 8, 399 (1956), doi:10.4153/CJM-1956-045-5 (max-flow min-cut theorem).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.sparse import csr_array
from scipy.sparse.csgraph import maximum_flow

from qit4n.net.graph import KeyNetwork

__all__ = ["CompiledNetwork", "FlowSolution", "compile_network"]

_INT_RANGE = 2**30


@dataclass(frozen=True)
class FlowSolution:
    """A maximum flow: its value (bit/s), the net flow on every pair (bit/s, + means ``u -> v``)."""

    value_bps: float
    pair_flow_bps: np.ndarray
    _pair_flow_units: np.ndarray
    _source: int
    _target: int


class CompiledNetwork:
    """Node pairs, their summed long-run rates, and the links behind each pair, as numpy arrays."""

    def __init__(self, network: KeyNetwork) -> None:
        self.network = network
        self.nodes = network.node_ids
        self.index = {node: position for position, node in enumerate(self.nodes)}
        pair_of: dict[tuple[int, int], int] = {}
        link_pair = []
        for link in network.links:
            u, v = sorted((self.index[link.endpoints[0]], self.index[link.endpoints[1]]))
            link_pair.append(pair_of.setdefault((u, v), len(pair_of)))
        self.pair_u = np.array([u for u, _ in pair_of], dtype=np.int64)
        self.pair_v = np.array([v for _, v in pair_of], dtype=np.int64)
        self.link_pair = np.array(link_pair, dtype=np.int64)
        self.link_rate_bps = np.array([link.average_rate_bps for link in network.links], dtype=float)
        self.pair_rate_bps = (
            np.bincount(self.link_pair, weights=self.link_rate_bps, minlength=len(pair_of)) if pair_of else np.zeros(0)
        )
        self.pair_links: list[list[int]] = [[] for _ in pair_of]
        for position, pair in enumerate(self.link_pair):
            self.pair_links[pair].append(position)
        self.relay_mask = np.array([node in network.relays for node in self.nodes], dtype=bool)
        through = np.bincount(self.pair_u, weights=self.pair_rate_bps, minlength=len(self.nodes)) + np.bincount(
            self.pair_v, weights=self.pair_rate_bps, minlength=len(self.nodes)
        )
        busiest = float(through.max(initial=0.0))
        self.quantum_bps = 2.0 ** int(np.ceil(np.log2(busiest / _INT_RANGE))) if busiest > 0 else 1.0
        self._n_pairs = n_pairs = len(pair_of)
        n = len(self.nodes)
        # One CSR structure for every flow: both directions of each pair, plus an arc from a super
        # source (node n) to every node, used to cap a flow at a given rate. Only data changes.
        rows = np.concatenate([self.pair_u, self.pair_v, np.full(n, n)])
        cols = np.concatenate([self.pair_v, self.pair_u, np.arange(n)])
        order = np.lexsort((cols, rows))
        self._indices = cols[order].astype(np.int32)
        self._indptr = np.searchsorted(rows[order], np.arange(n + 2)).astype(np.int32)
        arc_at = np.empty(len(order), dtype=np.int64)
        arc_at[order] = np.arange(len(order))
        self._forward_at = arc_at[:n_pairs]
        self._backward_at = arc_at[n_pairs : 2 * n_pairs]
        self._super_at = arc_at[2 * n_pairs :]
        self.link_ids = [link.id for link in network.links]
        self.link_position = {link_id: position for position, link_id in enumerate(self.link_ids)}

    @property
    def num_nodes(self) -> int:
        """Number of nodes."""
        return len(self.nodes)

    def pair_capacity(self, failed_links: Sequence[int] = ()) -> np.ndarray:
        """Pair rates (bit/s) with the links at positions ``failed_links`` removed."""
        capacity = self.pair_rate_bps.copy()
        for position in failed_links:
            capacity[self.link_pair[position]] -= self.link_rate_bps[position]
        return np.maximum(capacity, 0.0)

    def blocked_nodes(self, source: int, target: int, failed_nodes: Sequence[int] = ()) -> np.ndarray:
        """Boolean mask of nodes key may not enter for a demand ``source -> target``."""
        blocked = ~self.relay_mask.copy()
        blocked[[source, target]] = False
        blocked[list(failed_nodes)] = True
        return blocked

    def max_flow(
        self,
        source: int,
        target: int,
        pair_capacity_bps: np.ndarray,
        blocked: np.ndarray,
        limit_bps: float | None = None,
        *,
        flows: bool = True,
    ) -> FlowSolution:
        """Maximum flow ``source -> target`` (at most ``limit_bps`` when given); pair flows only if ``flows``."""
        zero = np.zeros(self._n_pairs, dtype=np.int64)
        if blocked[source] or blocked[target]:
            return FlowSolution(0.0, zero.astype(float), zero, source, target)
        units = np.floor(pair_capacity_bps / self.quantum_bps).astype(np.int32)
        data = np.zeros(len(self._indices), dtype=np.int32)
        data[self._forward_at] = np.where(blocked[self.pair_v], 0, units)
        data[self._backward_at] = np.where(blocked[self.pair_u], 0, units)
        start = source
        if limit_bps is not None:
            data[self._super_at[source]] = min(int(np.floor(limit_bps / self.quantum_bps)), _INT_RANGE)
            start = self.num_nodes
        size = self.num_nodes + 1
        graph = csr_array((data, self._indices, self._indptr), shape=(size, size))
        result = maximum_flow(graph, start, target, method="dinic")
        if not flows or self._n_pairs == 0:
            return FlowSolution(float(result.flow_value) * self.quantum_bps, zero.astype(float), zero, source, target)
        pair_units = np.asarray(result.flow[self.pair_u, self.pair_v]).astype(np.int64).ravel()
        return FlowSolution(
            float(result.flow_value) * self.quantum_bps, pair_units * self.quantum_bps, pair_units, source, target
        )

    def source_side(self, solution: FlowSolution, pair_capacity_bps: np.ndarray, blocked: np.ndarray) -> np.ndarray:
        """Nodes reachable from the source in the residual network (the source side of a minimum cut)."""
        units = np.floor(pair_capacity_bps / self.quantum_bps).astype(np.int64)
        flow = solution._pair_flow_units
        forward_residual = np.where(blocked[self.pair_v], 0, units - flow)
        backward_residual = np.where(blocked[self.pair_u], 0, units + flow)
        adjacency: list[list[int]] = [[] for _ in range(self.num_nodes)]
        for pair in np.flatnonzero(forward_residual > 0):
            adjacency[self.pair_u[pair]].append(int(self.pair_v[pair]))
        for pair in np.flatnonzero(backward_residual > 0):
            adjacency[self.pair_v[pair]].append(int(self.pair_u[pair]))
        seen = np.zeros(self.num_nodes, dtype=bool)
        seen[solution._source] = True
        stack = [solution._source]
        while stack:
            for neighbour in adjacency[stack.pop()]:
                if not seen[neighbour]:
                    seen[neighbour] = True
                    stack.append(neighbour)
        return seen

    def decompose(self, solution: FlowSolution) -> list[tuple[list[str], float]]:
        """Split a flow into routes ``(node path, rate_bps)``, largest first; flow cycles are dropped."""
        remaining: dict[int, dict[int, int]] = {}
        for pair in np.flatnonzero(solution._pair_flow_units):
            amount = int(solution._pair_flow_units[pair])
            u, v = int(self.pair_u[pair]), int(self.pair_v[pair])
            if amount < 0:
                u, v, amount = v, u, -amount
            remaining.setdefault(u, {})[v] = amount
        routes = []
        source, target = solution._source, solution._target
        while True:
            path = self._find_path(remaining, source, target)
            if path is None:
                break
            amount = min(remaining[a][b] for a, b in zip(path[:-1], path[1:]))
            for a, b in zip(path[:-1], path[1:]):
                remaining[a][b] -= amount
                if remaining[a][b] == 0:
                    del remaining[a][b]
            routes.append(([self.nodes[node] for node in path], amount * self.quantum_bps))
        return sorted(routes, key=lambda route: -route[1])

    @staticmethod
    def _find_path(remaining: dict[int, dict[int, int]], source: int, target: int) -> list[int] | None:
        previous = {source: source}
        stack = [source]
        while stack:
            node = stack.pop()
            if node == target:
                path = [target]
                while path[-1] != source:
                    path.append(previous[path[-1]])
                return path[::-1]
            for neighbour in remaining.get(node, {}):
                if neighbour not in previous:
                    previous[neighbour] = node
                    stack.append(neighbour)
        return None


def compile_network(network: KeyNetwork) -> CompiledNetwork:
    """Compile ``network`` for repeated maximum-flow computations."""
    return CompiledNetwork(network)
