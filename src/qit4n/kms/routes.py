"""Relay routes and link key rates of a scenario's KMEs, from one key network built once.

Every KME of a key management network is a trusted node, so user sites relay too (as in SECOQC):
the network is built with ``users_relay=True``. A route is the fewest QKD links with key between
two nodes, as :func:`qit4n.net.shortest_path` by hop count finds them, found for every target of a
source by one breadth-first search (:func:`fewest_hop_paths`; a 200-node, 600-link network is
routed in a fraction of a second instead of minutes). The physics of every link (its key rate) is
computed once per plan, in :func:`kme_network`, whatever the number of KMEs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Collection, Mapping

    from qit4n.kms.config import KMEConfig
    from qit4n.net import KeyNetwork
    from qit4n.scenario import Scenario

__all__ = ["KMENetwork", "fewest_hop_paths", "install_routes", "kme_network", "link_adjacency", "relay_route"]


@dataclass(frozen=True)
class KMENetwork:
    """The links and routes the KMEs of one scenario use.

    ``rates_bps[i]`` is the key rate of ``scenario.links[i]`` (all its systems together, while it
    produces key); ``routes[node][target]`` the next nodes from ``node`` to ``target``, ending at
    ``target``, for every target reachable with key.
    """

    rates_bps: tuple[float, ...]
    routes: dict[str, dict[str, list[str]]]


def _key_network(scenario: Scenario) -> KeyNetwork:
    """The key network of the KMEs: the one place the links' physics is evaluated."""
    from qit4n.net import build_network

    return build_network(scenario, users_relay=True)


def link_adjacency(
    network: KeyNetwork, *, failed_links: Collection[str] = (), failed_nodes: Collection[str] = ()
) -> dict[str, list[str]]:
    """Node -> neighbours over the links with key, less failed links and nodes (link order, parallel links once)."""
    dead_links, dead_nodes = set(failed_links), set(failed_nodes)
    adjacency: dict[str, list[str]] = {node: [] for node in network.node_ids if node not in dead_nodes}
    for link in network.links:
        u, v = link.endpoints
        if link.id in dead_links or u in dead_nodes or v in dead_nodes or link.average_rate_bps <= 0 or u == v:
            continue
        if v not in adjacency[u]:
            adjacency[u].append(v)
            adjacency[v].append(u)
    return adjacency


def fewest_hop_paths(network: KeyNetwork, adjacency: Mapping[str, list[str]], source: str) -> dict[str, list[str]]:
    """Target -> a fewest-hop path from ``source`` (both ends included), breadth first over ``adjacency``.

    Only nodes allowed to relay (``network.relays``) are passed through; others end a path.

    >>> from qit4n.scenario import scenario_from_dict
    >>> s = scenario_from_dict({"name": "chain", "nodes": [{"id": "A"}, {"id": "B"}, {"id": "C"}],
    ...     "links": [{"endpoints": ["A", "B"], "key_rate_bps": 1e3}, {"endpoints": ["B", "C"], "key_rate_bps": 1e3}]})
    >>> network = _key_network(s)
    >>> fewest_hop_paths(network, link_adjacency(network), "A")
    {'B': ['A', 'B'], 'C': ['A', 'B', 'C']}
    """
    previous = {source: source}
    frontier = [source]
    while frontier:
        following = []
        for node in frontier:
            if node != source and node not in network.relays:
                continue
            for neighbour in adjacency.get(node, ()):
                if neighbour not in previous:
                    previous[neighbour] = node
                    following.append(neighbour)
        frontier = following
    paths = {}
    for target in previous:
        if target != source:
            path = [target]
            while path[-1] != source:
                path.append(previous[path[-1]])
            paths[target] = path[::-1]
    return paths


def _routes_from(network: KeyNetwork, adjacency: Mapping[str, list[str]], source: str) -> dict[str, list[str]]:
    paths = fewest_hop_paths(network, adjacency, source)
    return {target: paths[target][1:] for target in network.node_ids if target in paths}


def kme_network(scenario: Scenario) -> KMENetwork:
    """Link rates and every node's relay routes, from one evaluation of the scenario's links."""
    network = _key_network(scenario)
    adjacency = link_adjacency(network)
    return KMENetwork(
        rates_bps=tuple(link.key_rate_bps for link in network.links),
        routes={node: _routes_from(network, adjacency, node) for node in network.node_ids},
    )


def relay_route(scenario: Scenario, source: str, target: str) -> list[str]:
    """Nodes from ``source`` to ``target`` along the fewest QKD links (both ends included).

    >>> from qit4n.scenario import scenario_from_dict
    >>> s = scenario_from_dict({"name": "chain", "nodes": [{"id": "A"}, {"id": "B"}, {"id": "C"}],
    ...     "links": [{"endpoints": ["A", "B"], "key_rate_bps": 1e3}, {"endpoints": ["B", "C"], "key_rate_bps": 1e3}]})
    >>> relay_route(s, "A", "C")
    ['A', 'B', 'C']
    """
    from qit4n.net import shortest_path

    return shortest_path(_key_network(scenario), source, target, weight="hops")


def install_routes(config: KMEConfig, routes: Mapping[str, list[str]]) -> None:
    """Replace a running KME's relay routes (a QKDN controller's push) in place.

    The relay engine and the ETSI 014 service read ``config.routes`` on every request, so the new
    routes apply to the next request; a target missing from ``routes`` has no route (ETSI 503).
    ValueError when a route does not start on a QKD link of this KME or does not end at its target.
    """
    for target, hops in routes.items():
        if not hops or hops[-1] != target or target == config.kme_id:
            raise ValueError(f"routes[{target!r}] = {hops}: must be the next KMEs ending at {target!r}")
        if config.link_to(hops[0]) is None:
            raise ValueError(f"routes[{target!r}]: {config.kme_id} has no QKD link to {hops[0]!r}")
    config.routes.clear()
    config.routes.update({target: list(hops) for target, hops in routes.items()})
