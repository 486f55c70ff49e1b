"""Key routing: shortest, widest (maximum bottleneck key rate), key-aware and disjoint paths.

A route is a list of node ids from one end of a demand to the other; only nodes allowed to relay
(:mod:`qit4n.net.graph`) appear inside it. Parallel links between two nodes act as one hop whose
rate is their sum.
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping, Sequence
from typing import Literal

import networkx as nx

from qit4n.errors import NoKeyRouteError, ParameterError
from qit4n.net.graph import KeyNetwork

__all__ = ["disjoint_paths", "key_aware_path", "path_bottleneck_bps", "shortest_path", "widest_path"]


def _graph(
    network: KeyNetwork,
    source: str,
    target: str,
    failed_links: Sequence[str],
    failed_nodes: Sequence[str],
    rate_of=None,
) -> nx.Graph:
    network.check_node(source, "source")
    network.check_node(target, "target")
    if source == target:
        raise ParameterError(f"target = {target!r}: must differ from source")
    graph = network.simple_graph(
        (source, target), failed_links=failed_links, failed_nodes=failed_nodes, rate_of=rate_of
    )
    keyless = [(u, v) for u, v, rate in graph.edges(data="rate_bps") if rate <= 0]
    graph.remove_edges_from(keyless)
    return graph


def _no_route(source: str, target: str) -> NoKeyRouteError:
    return NoKeyRouteError(f"no route with key between {source!r} and {target!r} through nodes allowed to relay")


def shortest_path(
    network: KeyNetwork,
    source: str,
    target: str,
    *,
    weight: Literal["length_km", "hops"] = "length_km",
    failed_links: Sequence[str] = (),
    failed_nodes: Sequence[str] = (),
) -> list[str]:
    """Shortest route by fibre length (``weight="length_km"``) or by hop count (``"hops"``)."""
    if weight not in ("length_km", "hops"):
        raise ParameterError(f"weight = {weight!r}: must be 'length_km' or 'hops'")
    graph = _graph(network, source, target, failed_links, failed_nodes)
    try:
        return nx.shortest_path(graph, source, target, weight=None if weight == "hops" else "length_km")
    except (nx.NetworkXNoPath, nx.NodeNotFound):
        raise _no_route(source, target) from None


def _widest(graph: nx.Graph, source: str, target: str) -> tuple[list[str], float]:
    """Maximum-bottleneck path (ties: fewer hops) by a Dijkstra variant."""
    best = {source: (float("inf"), 0)}
    previous: dict[str, str] = {}
    heap = [(-float("inf"), 0, source)]
    done = set()
    while heap:
        negative_width, hops, node = heapq.heappop(heap)
        if node in done:
            continue
        done.add(node)
        if node == target:
            break
        for neighbour, data in graph[node].items():
            width = min(-negative_width, data["rate_bps"])
            candidate = (width, hops + 1)
            known = best.get(neighbour)
            if neighbour not in done and (
                known is None or width > known[0] or (width == known[0] and hops + 1 < known[1])
            ):
                best[neighbour] = candidate
                previous[neighbour] = node
                heapq.heappush(heap, (-width, hops + 1, neighbour))
    if target not in done:
        raise _no_route(source, target)
    path = [target]
    while path[-1] != source:
        path.append(previous[path[-1]])
    return path[::-1], best[target][0]


def widest_path(
    network: KeyNetwork, source: str, target: str, *, failed_links: Sequence[str] = (), failed_nodes: Sequence[str] = ()
) -> tuple[list[str], float]:
    """Route with the largest bottleneck key rate, and that rate (bit/s); ties go to fewer hops.

    >>> from qit4n.scenario import scenario_from_dict
    >>> from qit4n.net import build_network
    >>> net = build_network(scenario_from_dict({"name": "square",
    ...     "nodes": [{"id": "A"}, {"id": "B"},
    ...               {"id": "R1", "role": "trusted-relay"}, {"id": "R2", "role": "trusted-relay"}],
    ...     "links": [{"endpoints": ["A", "R1"], "key_rate_bps": 10}, {"endpoints": ["R1", "B"], "key_rate_bps": 10},
    ...               {"endpoints": ["A", "R2"], "key_rate_bps": 50}, {"endpoints": ["R2", "B"], "key_rate_bps": 40}]}))
    >>> widest_path(net, "A", "B")
    (['A', 'R2', 'B'], 40.0)
    """
    return _widest(_graph(network, source, target, failed_links, failed_nodes), source, target)


def key_aware_path(
    network: KeyNetwork,
    source: str,
    target: str,
    levels_bits: Mapping[str, float],
    *,
    failed_links: Sequence[str] = (),
    failed_nodes: Sequence[str] = (),
) -> tuple[list[str], float]:
    """Route with the most key in its emptiest hop given current pool levels (bits per link id).

    Returns the route and the bits its bottleneck hop holds; a route through empty pools is never
    chosen (:class:`NoKeyRouteError` when every route has an empty hop).
    """
    graph = _graph(
        network, source, target, failed_links, failed_nodes, rate_of=lambda link: float(levels_bits.get(link.id, 0.0))
    )
    return _widest(graph, source, target)


def path_bottleneck_bps(network: KeyNetwork, path: Sequence[str]) -> float:
    """Smallest summed long-run key rate among the hops of ``path`` (bit/s)."""
    graph = network.simple_graph(path)
    rates = []
    for u, v in zip(path[:-1], path[1:]):
        if not graph.has_edge(u, v):
            raise ParameterError(f"path {list(path)}: no link between {u!r} and {v!r}")
        rates.append(graph[u][v]["rate_bps"])
    return min(rates)


def disjoint_paths(
    network: KeyNetwork,
    source: str,
    target: str,
    k: int,
    *,
    disjoint: Literal["link", "node"] = "link",
    failed_links: Sequence[str] = (),
    failed_nodes: Sequence[str] = (),
) -> list[list[str]]:
    """Up to ``k`` link- or node-disjoint routes, shortest (by fibre length) first.

    Fewer than ``k`` come back when the network has fewer; :class:`NoKeyRouteError` when it has none.
    """
    if k < 1:
        raise ParameterError(f"k = {k}: must be >= 1")
    if disjoint not in ("link", "node"):
        raise ParameterError(f"disjoint = {disjoint!r}: must be 'link' or 'node'")
    graph = _graph(network, source, target, failed_links, failed_nodes)
    if source not in graph or target not in graph or not nx.has_path(graph, source, target):
        raise _no_route(source, target)
    finder = nx.edge_disjoint_paths if disjoint == "link" else nx.node_disjoint_paths
    paths = [list(path) for path in finder(graph, source, target)]

    def length(path: list[str]) -> tuple[float, int]:
        return sum(graph[u][v]["length_km"] for u, v in zip(path[:-1], path[1:])), len(path)

    return sorted(paths, key=length)[:k]
