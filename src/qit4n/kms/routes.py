"""Relay routes and link key rates of a scenario's KMEs, from one key network built once.

Every KME of a key management network is a trusted node, so user sites relay too (as in SECOQC):
the network is built with ``users_relay=True``. A route is the fewest QKD links with key between
two nodes (:func:`qit4n.net.shortest_path` by hop count). The physics of every link (its key
rate) is computed once per plan, in :func:`kme_network`, whatever the number of KMEs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from qit4n.errors import NoKeyRouteError

if TYPE_CHECKING:
    from collections.abc import Mapping

    from qit4n.kms.config import KMEConfig
    from qit4n.net import KeyNetwork
    from qit4n.scenario import Scenario

__all__ = ["KMENetwork", "install_routes", "kme_network", "relay_route"]


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


def _routes_from(network: KeyNetwork, source: str) -> dict[str, list[str]]:
    from qit4n.net import shortest_path

    routes = {}
    for target in network.node_ids:
        if target == source:
            continue
        try:
            routes[target] = shortest_path(network, source, target, weight="hops")[1:]
        except NoKeyRouteError:
            continue
    return routes


def kme_network(scenario: Scenario) -> KMENetwork:
    """Link rates and every node's relay routes, from one evaluation of the scenario's links."""
    network = _key_network(scenario)
    return KMENetwork(
        rates_bps=tuple(link.key_rate_bps for link in network.links),
        routes={node: _routes_from(network, node) for node in network.node_ids},
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
