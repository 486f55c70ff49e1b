"""Capacity of a QKD network for one demand: maximum key rate, minimum cut, and the routes of a maximum flow.

In the trusted-relay model every hop consumes as much key as the end-to-end key it relays, so the
largest end-to-end key rate between two users is a maximum flow whose arc capacities are the link
key rates, through nodes allowed to relay; by the max-flow min-cut theorem it equals the smallest
total rate of links whose removal separates the users.

References
----------
ITU-T Y.3803, Quantum key distribution networks – Key management (2020), trusted-node key relay.
L. R. Ford and D. R. Fulkerson, Can. J. Math. 8, 399 (1956), doi:10.4153/CJM-1956-045-5.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from qit4n.net.flows import CompiledNetwork, compile_network
from qit4n.net.graph import KeyNetwork

__all__ = ["MinCut", "Route", "max_flow_routes", "max_key_rate_bps", "min_cut"]


@dataclass(frozen=True)
class Route:
    """A relay path (node ids, end to end) and the key rate it carries (bit/s)."""

    path: tuple[str, ...]
    rate_bps: float

    @property
    def hops(self) -> int:
        """Number of links crossed."""
        return len(self.path) - 1

    def to_dict(self) -> dict:
        """JSON-ready form."""
        return {"path": list(self.path), "rate_bps": self.rate_bps}


@dataclass(frozen=True)
class MinCut:
    """A minimum cut: its total rate (bit/s), the nodes on the source side, and the links it cuts."""

    value_bps: float
    source_side: frozenset[str]
    links: tuple[str, ...]


def _setup(
    network: KeyNetwork | CompiledNetwork,
    source: str,
    target: str,
    failed_links: Sequence[str],
    failed_nodes: Sequence[str],
):
    compiled = network if isinstance(network, CompiledNetwork) else compile_network(network)
    compiled.network.check_node(source, "source")
    compiled.network.check_node(target, "target")
    for link_id in failed_links:
        compiled.network.link(link_id)
    s, t = compiled.index[source], compiled.index[target]
    capacity = compiled.pair_capacity([compiled.link_position[link_id] for link_id in failed_links])
    dead = [compiled.index[compiled.network.check_node(node, "failed node")] for node in failed_nodes]
    blocked = compiled.blocked_nodes(s, t, dead)
    return compiled, s, t, capacity, blocked


def max_key_rate_bps(
    network: KeyNetwork | CompiledNetwork,
    source: str,
    target: str,
    *,
    failed_links: Sequence[str] = (),
    failed_nodes: Sequence[str] = (),
) -> float:
    """Largest end-to-end key rate between ``source`` and ``target`` (bit/s), all routes together.

    >>> from qit4n.scenario import scenario_from_dict
    >>> from qit4n.net import build_network
    >>> chain = build_network(scenario_from_dict({"name": "chain",
    ...     "nodes": [{"id": "A"}, {"id": "R", "role": "trusted-relay"}, {"id": "B"}],
    ...     "links": [{"endpoints": ["A", "R"], "key_rate_bps": 5000},
    ...               {"endpoints": ["R", "B"], "key_rate_bps": 3000}]}))
    >>> round(max_key_rate_bps(chain, "A", "B"))
    3000
    """
    compiled, s, t, capacity, blocked = _setup(network, source, target, failed_links, failed_nodes)
    return compiled.max_flow(s, t, capacity, blocked).value_bps


def min_cut(
    network: KeyNetwork | CompiledNetwork,
    source: str,
    target: str,
    *,
    failed_links: Sequence[str] = (),
    failed_nodes: Sequence[str] = (),
) -> MinCut:
    """A minimum set of links separating ``source`` from ``target``; its rate equals the maximum key rate.

    Only pairs whose far end may carry key count (a link into a node that cannot relay is no path).
    """
    compiled, s, t, capacity, blocked = _setup(network, source, target, failed_links, failed_nodes)
    solution = compiled.max_flow(s, t, capacity, blocked)
    side = compiled.source_side(solution, capacity, blocked)
    dead = set(failed_links)
    links: list[str] = []
    value = 0.0
    for pair, (u, v) in enumerate(zip(compiled.pair_u, compiled.pair_v)):
        crossing = (side[u] and not side[v] and not blocked[v]) or (side[v] and not side[u] and not blocked[u])
        if crossing and capacity[pair] > 0:
            value += float(capacity[pair])
            links.extend(
                compiled.link_ids[position]
                for position in compiled.pair_links[pair]
                if compiled.link_ids[position] not in dead
            )
    nodes = frozenset(compiled.nodes[index] for index in range(compiled.num_nodes) if side[index])
    return MinCut(value, nodes, tuple(links))


def max_flow_routes(
    network: KeyNetwork | CompiledNetwork,
    source: str,
    target: str,
    *,
    limit_bps: float | None = None,
    failed_links: Sequence[str] = (),
    failed_nodes: Sequence[str] = (),
) -> list[Route]:
    """Routes of a maximum flow (at most ``limit_bps`` in total when given), largest rate first."""
    compiled, s, t, capacity, blocked = _setup(network, source, target, failed_links, failed_nodes)
    solution = compiled.max_flow(s, t, capacity, blocked, limit_bps)
    return [Route(tuple(path), rate) for path, rate in compiled.decompose(solution)]
