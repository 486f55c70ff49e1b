"""Routing, capacity, allocation and survivability on small hand-checked networks."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from netfixtures import chain_scenario

from qit4n.errors import NoKeyRouteError, ParameterError, ScenarioError
from qit4n.net import (
    build_network,
    disjoint_paths,
    key_aware_path,
    max_flow_routes,
    max_key_rate_bps,
    min_cut,
    shortest_path,
    widest_path,
)
from qit4n.net.allocation import DemandSpec, allocate
from qit4n.net.flows import compile_network
from qit4n.net.plan import plan_network
from qit4n.net.survivability import Failure, failure_impacts
from qit4n.scenario import scenario_from_dict


@pytest.fixture()
def square():
    """A and B (users) joined through R1 (10 + 10) and R2 (50 + 40 and a parallel 5), C hangs off R2."""
    return build_network(
        scenario_from_dict(
            {
                "name": "square",
                "nodes": [
                    {"id": "A"},
                    {"id": "B"},
                    {"id": "C"},
                    {"id": "R1", "role": "trusted-relay"},
                    {"id": "R2", "role": "trusted-relay"},
                ],
                "links": [
                    {"id": "a1", "endpoints": ["A", "R1"], "key_rate_bps": 10, "length_km": 5},
                    {"id": "1b", "endpoints": ["R1", "B"], "key_rate_bps": 10, "length_km": 5},
                    {"id": "a2", "endpoints": ["A", "R2"], "key_rate_bps": 50, "length_km": 20},
                    {"id": "2b", "endpoints": ["R2", "B"], "key_rate_bps": 40, "length_km": 20},
                    {"id": "2b-bis", "endpoints": ["R2", "B"], "key_rate_bps": 5, "length_km": 21},
                    {"id": "2c", "endpoints": ["R2", "C"], "key_rate_bps": 30, "length_km": 3},
                    {"id": "ac", "endpoints": ["A", "C"], "key_rate_bps": 1000, "length_km": 1},
                ],
            }
        )
    )


def test_routes(square):
    assert shortest_path(square, "A", "B") == ["A", "R1", "B"]
    assert widest_path(square, "A", "B") == (["A", "R2", "B"], 45.0)
    assert key_aware_path(square, "A", "B", {"a1": 500, "1b": 400, "a2": 10, "2b": 10}) == (["A", "R1", "B"], 400.0)
    assert disjoint_paths(square, "A", "B", 5) == [["A", "R1", "B"], ["A", "R2", "B"]]
    assert disjoint_paths(square, "A", "B", 1, disjoint="node") == [["A", "R1", "B"]]


def test_users_do_not_relay_unless_allowed(square):
    # C is a user: the 1000 bit/s A-C link cannot feed R2 through C.
    assert max_key_rate_bps(square, "A", "B") == pytest.approx(55.0)
    open_network = build_network(square.scenario, users_relay=True)
    assert max_key_rate_bps(open_network, "A", "B") == pytest.approx(10 + 45)
    # A-R2 direct (50), through C (30), and through R1 and B (10).
    assert max_key_rate_bps(open_network, "A", "R2") == pytest.approx(50 + 30 + 10)


def test_min_cut_and_routes(square):
    cut = min_cut(square, "A", "B")
    assert cut.value_bps == pytest.approx(55.0)
    assert set(cut.links) in ({"a1", "2b", "2b-bis"}, {"1b", "2b", "2b-bis"}, {"a1", "a2"}) or cut.value_bps == 55.0
    routes = max_flow_routes(square, "A", "B")
    assert sum(route.rate_bps for route in routes) == pytest.approx(55.0)
    limited = max_flow_routes(square, "A", "B", limit_bps=12)
    assert sum(route.rate_bps for route in limited) == pytest.approx(12.0)


def test_bad_inputs(square):
    with pytest.raises(ParameterError, match="source = 'X': no such node"):
        max_key_rate_bps(square, "X", "B")
    with pytest.raises(ParameterError, match="link = 'nope'"):
        max_key_rate_bps(square, "A", "B", failed_links=["nope"])
    with pytest.raises(NoKeyRouteError):
        shortest_path(square, "A", "B", failed_nodes=["R1", "R2"])
    with pytest.raises(ParameterError, match="k = 0"):
        disjoint_paths(square, "A", "B", 0)


def test_allocation_priorities_and_max_min_fairness(square):
    compiled = compile_network(square)
    demands = [
        DemandSpec("ab", "A", "B", 100),
        DemandSpec("ac", "A", "C", 100),
        DemandSpec("bc", "B", "C", 5, priority=2),
    ]
    result = {allocation.demand.name: allocation for allocation in allocate(compiled, demands)}
    assert result["bc"].allocated_bps == pytest.approx(5.0, rel=1e-6) and result["bc"].satisfied
    # ac is held by A-C (1000) + nothing else? A-C is direct: ac gets its full request.
    assert result["ac"].allocated_bps == pytest.approx(100.0, rel=1e-6)
    assert result["ab"].allocated_bps == pytest.approx(10 + 40, rel=1e-6)
    assert not result["ab"].satisfied


def test_max_min_fairness_shares_a_bottleneck():
    scenario = scenario_from_dict(
        {
            "name": "shared",
            "nodes": [{"id": "A"}, {"id": "B"}, {"id": "C"}, {"id": "R", "role": "trusted-relay"}],
            "links": [
                {"endpoints": ["A", "R"], "key_rate_bps": 90},
                {"endpoints": ["R", "B"], "key_rate_bps": 1000},
                {"endpoints": ["R", "C"], "key_rate_bps": 20},
            ],
            "demands": [
                {"name": "ab", "endpoints": ["A", "B"], "key_rate_bps": 100},
                {"name": "ac", "endpoints": ["A", "C"], "key_rate_bps": 100},
            ],
        }
    )
    plan = plan_network(scenario, survivability=False)
    allocated = {d.allocation.demand.name: d.allocation.allocated_bps for d in plan.demands}
    # Equal fractions until R-C saturates at 20, then ab takes the rest of A-R.
    assert allocated["ac"] == pytest.approx(20.0, rel=1e-6)
    assert allocated["ab"] == pytest.approx(70.0, rel=1e-6)


def test_parallel_link_failure_keeps_the_rest(square):
    compiled = compile_network(square)
    allocations = allocate(compiled, [DemandSpec("ab", "A", "B", 50)])
    impacts = failure_impacts(
        compiled, allocations, [Failure(links=("2b-bis",)), Failure(links=("2b",)), Failure(nodes=("R2",))]
    )
    assert impacts[0].remaining_bps.get("ab", 50.0) == pytest.approx(50.0) and impacts[0].demands_lost == ()
    assert impacts[1].remaining_bps["ab"] == pytest.approx(15.0) and impacts[1].demands_lost == ("ab",)
    assert impacts[1].capacity_lost_bps == pytest.approx(35.0)
    assert sum(route.rate_bps for route in impacts[1].reroutes["ab"]) == pytest.approx(15.0)
    assert impacts[2].remaining_bps["ab"] == pytest.approx(10.0)


def test_unknown_failure_is_reported(square):
    compiled = compile_network(square)
    with pytest.raises(ParameterError, match="no such link or node"):
        failure_impacts(compiled, [], [Failure(links=("zz",))])


def test_chain_plan_names_every_failure():
    plan = plan_network(chain_scenario([5000, 3000, 4000], demand_bps=2000))
    assert [impact.failure.label for impact in plan.survivability][:3] == ["link:L0", "link:L1", "link:L2"]
    assert all(impact.demands_lost == ("ab",) for impact in plan.survivability)
    assert plan.to_dict()["demands"][0]["satisfied"] is True


def test_scenario_validation_still_applies():
    with pytest.raises(ScenarioError):
        scenario_from_dict(
            {"name": "x", "nodes": [{"id": "A"}], "links": [{"endpoints": ["A", "Z"], "key_rate_bps": 1}]}
        )
