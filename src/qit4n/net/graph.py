"""The key network of a scenario: links with their secret key rates, pools, and who may relay.

Trusted-relay rule (ITU-T Y.3800 trusted nodes): key may be relayed only through nodes whose
role is ``trusted-relay``, ``ground-station`` or ``satellite`` (a trusted satellite such as
Micius). ``user`` nodes are end points: they relay only when the caller allows it
(``users_relay=True``, e.g. for networks like SECOQC where every site was a trusted node).
``repeater`` and ``quantum-computer`` nodes belong to quantum networks and never relay QKD key.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import networkx as nx
import numpy as np

from qit4n.errors import ParameterError
from qit4n.links import LinkBudget, PeriodicPasses, link_budgets
from qit4n.scenario.model import ChannelKind, NodeRole, Scenario

__all__ = ["RELAY_ROLES", "KeyNetwork", "NetLink", "build_network", "great_circle_km"]

#: Node roles that relay key hop by hop.
RELAY_ROLES = frozenset({NodeRole.TRUSTED_RELAY, NodeRole.GROUND_STATION, NodeRole.SATELLITE})

_EARTH_RADIUS_KM = 6371.0


@dataclass(frozen=True)
class NetLink:
    """One QKD link of the network (``index`` is its position in ``scenario.links``).

    ``key_rate_bps`` is the rate while the link produces key (for a satellite link: during a pass);
    ``duty_cycle`` the fraction of time it does, so ``average_rate_bps`` is what planning uses.
    """

    index: int
    id: str
    endpoints: tuple[str, str]
    key_rate_bps: float
    duty_cycle: float
    pool_capacity_bits: float
    length_km: float
    satellite: bool

    @property
    def average_rate_bps(self) -> float:
        """Long-run key rate: ``key_rate_bps * duty_cycle``."""
        return self.key_rate_bps * self.duty_cycle


@dataclass
class KeyNetwork:
    """Links, nodes and relay permissions of one scenario (see the module docstring for the rule).

    ``budgets`` are the scenario's link budgets (:func:`qit4n.links.link_budgets`), in scenario
    order, that the links' rates come from.
    """

    scenario: Scenario
    links: list[NetLink]
    relays: frozenset[str]
    positions: dict[str, tuple[float, float]] = field(default_factory=dict)
    pass_model: PeriodicPasses = field(default_factory=PeriodicPasses)
    budgets: tuple[LinkBudget, ...] = ()

    @property
    def node_ids(self) -> list[str]:
        """Node ids in scenario order."""
        return [node.id for node in self.scenario.nodes]

    def link(self, link_id: str) -> NetLink:
        """The link called ``link_id``; :class:`ParameterError` lists the ids when it is unknown."""
        for link in self.links:
            if link.id == link_id:
                return link
        raise ParameterError(f"link = {link_id!r}: no such link (links: {', '.join(item.id for item in self.links)})")

    def check_node(self, node_id: str, what: str = "node") -> str:
        """``node_id`` if the network has it, else :class:`ParameterError`."""
        if node_id not in set(self.node_ids):
            raise ParameterError(f"{what} = {node_id!r}: no such node (nodes: {', '.join(self.node_ids)})")
        return node_id

    def may_carry(self, node_id: str, endpoints: Sequence[str]) -> bool:
        """Whether key for a demand between ``endpoints`` may pass through ``node_id``."""
        return node_id in endpoints or node_id in self.relays

    def multigraph(self, *, failed_links: Sequence[str] = (), failed_nodes: Sequence[str] = ()) -> nx.MultiGraph:
        """All working links as a multigraph (edge key = link id, attributes from :class:`NetLink`)."""
        graph = nx.MultiGraph()
        dead_nodes = set(failed_nodes)
        graph.add_nodes_from(node for node in self.node_ids if node not in dead_nodes)
        dead_links = set(failed_links)
        for link in self.links:
            if link.id in dead_links or link.endpoints[0] in dead_nodes or link.endpoints[1] in dead_nodes:
                continue
            graph.add_edge(
                *link.endpoints,
                key=link.id,
                rate_bps=link.average_rate_bps,
                length_km=link.length_km,
                index=link.index,
            )
        return graph

    def simple_graph(
        self,
        endpoints: Sequence[str] = (),
        *,
        failed_links: Sequence[str] = (),
        failed_nodes: Sequence[str] = (),
        rate_of: Callable[[NetLink], float] | None = None,
    ) -> nx.Graph:
        """Parallel links merged (``rate_bps`` summed, ``length_km`` the shortest), relay rule applied.

        Nodes that may not carry key for a demand between ``endpoints`` are left out; with no
        endpoints given, every node that cannot relay is left out except as an edge end.
        ``rate_of`` replaces the long-run rate (e.g. by the current pool level).
        """
        graph = nx.Graph()
        dead_nodes = set(failed_nodes)
        allowed = {
            node
            for node in self.node_ids
            if node not in dead_nodes and (not endpoints or self.may_carry(node, endpoints))
        }
        graph.add_nodes_from(allowed)
        dead_links = set(failed_links)
        for link in self.links:
            u, v = link.endpoints
            if link.id in dead_links or u not in allowed or v not in allowed:
                continue
            rate = link.average_rate_bps if rate_of is None else rate_of(link)
            if graph.has_edge(u, v):
                data = graph[u][v]
                data["rate_bps"] += rate
                data["length_km"] = min(data["length_km"], link.length_km)
                data["links"].append(link.id)
            else:
                graph.add_edge(u, v, rate_bps=rate, length_km=link.length_km, links=[link.id])
        return graph


def great_circle_km(lat1_deg: float, lon1_deg: float, lat2_deg: float, lon2_deg: float) -> float:
    """Great-circle distance between two points on a spherical Earth (haversine), km.

    >>> round(great_circle_km(0.0, 0.0, 0.0, 1.0), 2)
    111.19
    """
    phi1, phi2 = np.radians(lat1_deg), np.radians(lat2_deg)
    dphi, dlam = phi2 - phi1, np.radians(lon2_deg - lon1_deg)
    h = np.sin(dphi / 2) ** 2 + np.cos(phi1) * np.cos(phi2) * np.sin(dlam / 2) ** 2
    return float(2 * _EARTH_RADIUS_KM * np.arcsin(np.sqrt(h)))


def _length_km(scenario: Scenario, index: int) -> float:
    link = scenario.links[index]
    if link.length_km is not None:
        return link.length_km
    a, b = (scenario.node(end) for end in link.endpoints)
    if a.latitude_deg is None or a.longitude_deg is None or b.latitude_deg is None or b.longitude_deg is None:
        return 0.0
    return great_circle_km(a.latitude_deg, a.longitude_deg, b.latitude_deg, b.longitude_deg)


def build_network(
    scenario: Scenario,
    *,
    users_relay: bool = False,
    pass_model: PeriodicPasses | None = None,
    budgets: Sequence[LinkBudget] | None = None,
) -> KeyNetwork:
    """The key network of ``scenario``, with each link's key rate and duty cycle from its :class:`LinkBudget`.

    ``budgets`` are the scenario's link budgets when the caller already computed them
    (:func:`qit4n.links.link_budgets` with the same ``pass_model``); otherwise they are computed
    here: a given ``key_rate_bps``, or the rate from the link's channel, protocol, preset, devices
    and co-propagating classical channels, times ``systems``. Satellite links produce key only
    during passes (:mod:`qit4n.links.passes`).

    >>> from qit4n.scenario import scenario_from_dict
    >>> net = build_network(scenario_from_dict({"name": "pair", "nodes": [{"id": "A"}, {"id": "B"}],
    ...     "links": [{"endpoints": ["A", "B"], "key_rate_bps": 1000, "systems": 2}]}))
    >>> net.links[0].id, net.links[0].average_rate_bps
    ('A-B#0', 2000.0)
    """
    model = pass_model or PeriodicPasses()
    resolved = tuple(budgets) if budgets is not None else link_budgets(scenario, passes=model)
    if len(resolved) != len(scenario.links):
        raise ParameterError(f"budgets: {len(resolved)} given for the {len(scenario.links)} links of {scenario.name}")
    links = [
        NetLink(
            index=budget.index,
            id=budget.id,
            endpoints=budget.endpoints,
            key_rate_bps=float(budget.key_rate_bps),
            duty_cycle=float(budget.duty_cycle),
            pool_capacity_bits=scenario.links[budget.index].pool_capacity_bits,
            length_km=_length_km(scenario, budget.index),
            satellite=budget.channel is ChannelKind.SATELLITE,
        )
        for budget in resolved
    ]
    roles = set(RELAY_ROLES) | ({NodeRole.USER} if users_relay else set())
    relays = frozenset(node.id for node in scenario.nodes if node.role in roles)
    positions = {
        node.id: (node.longitude_deg, node.latitude_deg)
        for node in scenario.nodes
        if node.latitude_deg is not None and node.longitude_deg is not None
    }
    return KeyNetwork(
        scenario=scenario, links=links, relays=relays, positions=positions, pass_model=model, budgets=resolved
    )
