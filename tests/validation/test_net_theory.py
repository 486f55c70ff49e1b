"""Network capacity against theory: max-flow min-cut, relay chains, and brute-force survivability.

References: L. R. Ford and D. R. Fulkerson, Maximal flow through a network, Can. J. Math. 8, 399 (1956),
doi:10.4153/CJM-1956-045-5 (max-flow = min-cut); ITU-T Y.3803 (2020) trusted-node key relay, in which
an end-to-end key crossing n links consumes that many bits on each link, so a chain delivers at most
its slowest link's rate.
"""

from __future__ import annotations

import sys
from pathlib import Path

import networkx as nx
import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "net"))
from netfixtures import chain_scenario, random_scenario

from qit4n.net import build_network, max_key_rate_bps, min_cut
from qit4n.net.flows import compile_network
from qit4n.net.plan import plan_network


def _networkx_max_flow(network, source, target, failed_links=(), failed_nodes=()) -> float:
    """Reference maximum flow with NetworkX's preflow-push on the relay-restricted graph."""
    graph = network.simple_graph((source, target), failed_links=failed_links, failed_nodes=failed_nodes)
    if source not in graph or target not in graph:
        return 0.0
    directed = nx.DiGraph()
    for u, v, rate in graph.edges(data="rate_bps"):
        directed.add_edge(u, v, capacity=rate)
        directed.add_edge(v, u, capacity=rate)
    if source not in directed or target not in directed:
        return 0.0
    return nx.maximum_flow_value(directed, source, target)


@pytest.mark.parametrize("seed", range(12))
def test_max_flow_equals_min_cut_and_networkx(seed):
    """Max flow = min cut (Ford-Fulkerson 1956) on random networks; tolerance 1e-6 relative (quantisation ~1e-9)."""
    network = build_network(random_scenario(seed, n_nodes=9, n_links=16))
    for source, target in (("N0", "N1"), ("N1", "N2"), ("N0", "N5")):
        value = max_key_rate_bps(network, source, target)
        cut = min_cut(network, source, target)
        assert value == pytest.approx(cut.value_bps, rel=1e-6, abs=1e-6)
        assert value == pytest.approx(_networkx_max_flow(network, source, target), rel=1e-6, abs=1e-6)
        cut_rate = sum(network.link(link_id).average_rate_bps for link_id in cut.links)
        assert cut_rate == pytest.approx(cut.value_bps, rel=1e-9)
        if value > 0:
            assert max_key_rate_bps(network, source, target, failed_links=cut.links) == 0.0


@pytest.mark.parametrize("rates", [[5000.0, 3000.0, 4000.0], [1e6, 2.5e5, 7e5, 9e5, 2.5e5], [12.5]])
def test_chain_delivers_at_most_its_slowest_link(rates):
    """A chain of n trusted relays delivers exactly min(link rates) (Y.3803 hop-by-hop OTP relay); rel. 1e-6."""
    network = build_network(chain_scenario(rates))
    assert max_key_rate_bps(network, "A", "B") == pytest.approx(min(rates), rel=1e-6)


@pytest.mark.parametrize("seed", range(6))
def test_survivability_matches_brute_force(seed):
    """Every single link and node failure recomputed by brute force (NetworkX max flow after removal); rel. 1e-6.

    Remaining rate = min(allocation, max flow after the failure); lost iff below the allocation;
    capacity lost = sum of allocation minus remaining.
    """
    scenario = random_scenario(100 + seed, n_nodes=8, n_links=14)
    plan = plan_network(scenario)
    network = plan.network
    compiled = compile_network(network)
    assert len(plan.survivability) == len(network.links) + len(network.node_ids)
    for impact in plan.survivability:
        lost_total = 0.0
        for demand in plan.demands:
            spec, planned = demand.allocation.demand, demand.allocation.allocated_bps
            after = min(
                planned,
                _networkx_max_flow(network, spec.source, spec.target, impact.failure.links, impact.failure.nodes),
            )
            reported = impact.remaining_bps.get(spec.name, planned)
            assert reported == pytest.approx(after, rel=1e-6, abs=1e-6)
            lost_total += planned - after
            assert (spec.name in impact.demands_lost) == (after < planned * (1 - 1e-6))
            for route in impact.reroutes.get(spec.name, ()):
                assert not set(route.path) & set(impact.failure.nodes)
        assert impact.capacity_lost_bps == pytest.approx(lost_total, rel=1e-6, abs=1e-6)
    assert compiled.quantum_bps < 1e-3


def test_joint_allocation_respects_link_rates():
    """The multi-commodity allocation never uses more key on a link than it makes (LP tolerance 1e-6 relative)."""
    for seed in range(5):
        plan = plan_network(random_scenario(200 + seed, n_nodes=9, n_links=15), survivability=False)
        graph = plan.network.simple_graph()
        used: dict[frozenset, float] = {}
        for demand in plan.demands:
            total = sum(route.rate_bps for route in demand.allocation.routes)
            assert total == pytest.approx(demand.allocation.allocated_bps, rel=1e-5, abs=1e-3)
            assert demand.allocation.allocated_bps <= demand.max_key_rate_bps * (1 + 1e-6) + 1e-6
            for route in demand.allocation.routes:
                for u, v in zip(route.path[:-1], route.path[1:]):
                    used[frozenset((u, v))] = used.get(frozenset((u, v)), 0.0) + route.rate_bps
        for pair, amount in used.items():
            u, v = tuple(pair)
            assert amount <= graph[u][v]["rate_bps"] * (1 + 1e-6) + 1e-6
        assert np.isfinite([d.allocation.allocated_bps for d in plan.demands]).all()


@pytest.mark.parametrize("seed", range(6))
def test_path_form_and_edge_form_allocations_agree(seed):
    """The max-min fair allocation is unique, so the column-generation (path) LP and the edge LP must agree (1e-5)."""
    from qit4n.net import allocate, demand_specs

    scenario = random_scenario(300 + seed, n_nodes=10, n_links=18)
    compiled = compile_network(build_network(scenario))
    specs = demand_specs(scenario)
    edges = allocate(compiled, specs, method="edges")
    paths = allocate(compiled, specs, method="paths")
    for by_edges, by_paths in zip(edges, paths):
        assert by_paths.allocated_bps == pytest.approx(by_edges.allocated_bps, rel=1e-5, abs=1e-6)
        assert sum(route.rate_bps for route in by_paths.routes) == pytest.approx(
            by_paths.allocated_bps, rel=1e-5, abs=1e-6
        )
