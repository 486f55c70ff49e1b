"""Quantum risk along network paths of a scenario: the weakest hop decides.

Each demand of the scenario is routed over the shortest path (by link length; hop count where
lengths are missing). A hop's exposure is the largest exposure of the inventory assets placed on
that link; a node's exposure is the largest of the assets placed at that node. The path's exposure
is the largest over its hops and nodes. Trusted relays hold the key in the clear, so every trusted
relay on a path is listed as an exposure point whatever the cryptography.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import networkx as nx

from qit4n.errors import NoKeyRouteError
from qit4n.scenario.model import NodeRole, Scenario
from qit4n.threat.assess import AssetRisk

__all__ = ["PathRisk", "link_length_km", "path_risks"]


@dataclass(frozen=True)
class PathRisk:
    """Exposure of one demand's path and where it comes from."""

    demand: str
    endpoints: tuple[str, str]
    route: tuple[str, ...]
    hops: tuple[str, ...]
    exposure_probability: float
    weakest: str
    trusted_relays: tuple[str, ...]


def link_length_km(scenario: Scenario, link_id: str) -> float | None:
    """Length of the scenario link called ``link_id`` (``None`` if it has none or does not exist)."""
    for index, link in enumerate(scenario.links):
        if scenario.link_id(index) == link_id:
            return link.length_km
    return None


def _graph(scenario: Scenario) -> nx.Graph:
    graph = nx.Graph()
    graph.add_nodes_from(node.id for node in scenario.nodes)
    for index, link in enumerate(scenario.links):
        a, b = link.endpoints
        length = link.length_km if link.length_km is not None else 1.0
        if not graph.has_edge(a, b) or graph[a][b]["length_km"] > length:
            graph.add_edge(a, b, length_km=length, link_id=scenario.link_id(index))
    return graph


def path_risks(scenario: Scenario, risks: Sequence[AssetRisk]) -> list[PathRisk]:
    """One :class:`PathRisk` per demand of ``scenario``.

    Raises
    ------
    NoKeyRouteError
        When a demand's endpoints are not connected.
    """
    graph = _graph(scenario)
    by_link: dict[str, list[AssetRisk]] = {}
    by_node: dict[str, list[AssetRisk]] = {}
    for risk in risks:
        location = risk.asset.location
        if location.link is not None:
            by_link.setdefault(location.link, []).append(risk)
        if location.node is not None:
            by_node.setdefault(location.node, []).append(risk)
    results = []
    for index, demand in enumerate(scenario.demands):
        source, target = demand.endpoints
        try:
            route = nx.shortest_path(graph, source, target, weight="length_km")
        except nx.NetworkXNoPath:
            raise NoKeyRouteError(
                f"demands[{index}] {source} -> {target}: no path in scenario {scenario.name}"
            ) from None
        hops = [graph[a][b]["link_id"] for a, b in zip(route, route[1:])]
        candidates = [("none", 0.0)]
        candidates += [
            (f"link {hop}: {r.asset.name}", r.exposure_probability) for hop in hops for r in by_link.get(hop, [])
        ]
        candidates += [
            (f"node {node}: {r.asset.name}", r.exposure_probability) for node in route for r in by_node.get(node, [])
        ]
        weakest, exposure = max(candidates, key=lambda item: item[1])
        relays = tuple(node for node in route[1:-1] if scenario.node(node).role is NodeRole.TRUSTED_RELAY)
        results.append(
            PathRisk(
                demand.name or f"{source}-{target}",
                (source, target),
                tuple(route),
                tuple(hops),
                exposure,
                weakest,
                relays,
            )
        )
    return results
