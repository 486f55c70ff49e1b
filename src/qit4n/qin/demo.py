"""Repeater chain between two sites of a scenario: rate and fidelity versus the number of repeaters.

The chain follows the shortest fibre route between the two sites (its total length); repeaters
split it into equal segments. The rate is compared per channel use (end-to-end pairs per attempt
per multiplexed memory) with the repeaterless PLOB bound ``-log2(1 - eta)`` of a direct fibre of
the same length (Pirandola, Laurenza, Ottaviani, Banchi, Nat. Commun. 8, 15043 (2017)).
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx
import numpy as np

from qit4n.errors import ScenarioError
from qit4n.physics.fibre import fibre_transmittance
from qit4n.qin.chain import ChainParameters, simulate_chain_mc
from qit4n.scenario import Scenario

__all__ = ["RepeaterPoint", "chain_versus_repeaters", "demo_endpoints", "route_length_km"]


@dataclass(frozen=True)
class RepeaterPoint:
    """A chain with ``repeaters`` repeaters: its rate, mean fidelity, and pairs per channel use against PLOB."""

    repeaters: int
    rate_pairs_per_s: float
    fidelity_mean: float
    pairs_per_channel_use: float
    repeaterless_bound_per_use: float


def _fibre_graph(scenario: Scenario) -> nx.Graph:
    """The scenario's nodes joined by its links that have a fibre length, weighted by ``length_km``."""
    graph = nx.Graph()
    for link in scenario.links:
        if link.length_km is not None:
            graph.add_edge(*link.endpoints, length_km=link.length_km)
    return graph


def _joined(graph: nx.Graph, source: str, target: str) -> bool:
    return source != target and source in graph and target in graph and nx.has_path(graph, source, target)


def demo_endpoints(scenario: Scenario, preferred: tuple[str, str]) -> tuple[str, str]:
    """Two quantum computers of ``scenario`` if it has two joined by fibre, else ``preferred`` if joined, else the
    first node with a fibre link and the node farthest from it along fibre."""
    graph = _fibre_graph(scenario)
    computers = [node.id for node in scenario.nodes if node.role.value == "quantum-computer"]
    if len(computers) >= 2 and _joined(graph, computers[0], computers[1]):
        return computers[0], computers[1]
    if _joined(graph, *preferred):
        return preferred
    for node in scenario.nodes:
        if node.id in graph:
            lengths = nx.single_source_dijkstra_path_length(graph, node.id, weight="length_km")
            farthest = max(lengths, key=lambda other: lengths[other])
            if farthest != node.id:
                return node.id, farthest
    raise ScenarioError(scenario.name, ["links: no two nodes are joined by links with length_km (fibre)"])


def route_length_km(scenario: Scenario, source: str, target: str) -> float:
    """Fibre length of the shortest route between two nodes of ``scenario`` (any role)."""
    graph = _fibre_graph(scenario)
    if not _joined(graph, source, target):
        raise ScenarioError(
            scenario.name, [f"links: no fibre route (links with length_km) joins {source} and {target}"]
        )
    return float(nx.shortest_path_length(graph, source, target, weight="length_km"))


def _repeaterless_bound(eta: float) -> float:
    from qit4n.qkd import get_protocol, make_parameters

    spec = get_protocol("plob")
    return float(spec.evaluate(np.array([eta]), make_parameters("plob")).key_rate_per_pulse[0])


def chain_versus_repeaters(
    length_km: float,
    *,
    max_repeaters: int,
    samples: int,
    rng: np.random.Generator,
    hardware: ChainParameters | None = None,
) -> list[RepeaterPoint]:
    """One row per number of repeaters (0 .. ``max_repeaters``) with rate, fidelity and the bound.

    >>> rows = chain_versus_repeaters(100.0, max_repeaters=1, samples=2000, rng=np.random.default_rng(0))
    >>> [row.repeaters for row in rows]
    [0, 1]
    """
    hardware = hardware or ChainParameters()
    eta = float(fibre_transmittance(length_km, hardware.loss_db_per_km))
    bound = _repeaterless_bound(eta)
    rows = []
    for repeaters in range(max_repeaters + 1):
        params = hardware.model_copy(update={"segments": repeaters + 1, "length_km": length_km})
        result = simulate_chain_mc(params, samples, rng)
        summary = result.summary()
        rows.append(
            RepeaterPoint(
                repeaters=repeaters,
                rate_pairs_per_s=summary["rate_pairs_per_s"],
                fidelity_mean=summary["fidelity_mean"],
                pairs_per_channel_use=summary["rate_pairs_per_s"]
                * summary["attempt_time_s"]
                / params.memories_per_node,
                repeaterless_bound_per_use=bound,
            )
        )
    return rows
