"""Quantum risk along network paths of a scenario: the weakest hop decides.

Each demand of the scenario is routed over the shortest path of the key network's links
(:meth:`qit4n.net.KeyNetwork.multigraph`, every node and link) by link length, a link without a
length in the scenario counting 1 km (so hop count decides where lengths are missing). A hop's
exposure is the largest exposure of the inventory assets placed on that link; a node's exposure is
the largest of the assets placed at that node. The path's exposure is the largest over its hops and
nodes. Trusted relays hold the key in the clear, so every trusted relay on a path is listed as an
exposure point whatever the cryptography.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import networkx as nx

from qit4n.errors import NoKeyRouteError
from qit4n.net import KeyNetwork
from qit4n.scenario.model import NodeRole
from qit4n.threat.assess import AssetRisk

__all__ = ["PathRisk", "path_risks"]

#: Length (km) a link counts when the scenario gives none.
_UNKNOWN_LENGTH_KM = 1.0


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


def path_risks(network: KeyNetwork, risks: Sequence[AssetRisk]) -> list[PathRisk]:
    """One :class:`PathRisk` per demand of ``network.scenario``.

    Raises
    ------
    NoKeyRouteError
        When a demand's endpoints are not connected.
    """
    scenario = network.scenario
    graph = network.multigraph()
    lengths_km = {
        budget.id: _UNKNOWN_LENGTH_KM if budget.length_km is None else budget.length_km for budget in network.budgets
    }

    def shortest_link(u: str, v: str) -> str:
        return min(graph[u][v], key=lengths_km.__getitem__)

    def hop_length_km(u: str, v: str, edges: Mapping[str, Any]) -> float:
        return min(lengths_km[link_id] for link_id in edges)

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
            route = nx.shortest_path(graph, source, target, weight=hop_length_km)
        except nx.NetworkXNoPath:
            raise NoKeyRouteError(
                f"demands[{index}] {source} -> {target}: no path in scenario {scenario.name}"
            ) from None
        hops = [shortest_link(a, b) for a, b in zip(route, route[1:])]
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
