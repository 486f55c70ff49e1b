"""Survivable network design (MILP) against brute-force enumeration of every subset of candidate links.

Reference: the design problem as stated in W. D. Grover, Mesh-Based Survivable Networks (2004), ch. 5:
cheapest link set whose multi-commodity flow meets every demand in the intact network and after any
single link failure. Checked exactly (costs equal to 1e-9 relative) on small random instances.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from qit4n.errors import InfeasibleError, ParameterError
from qit4n.net.design import design_network
from qit4n.net.plan import plan_network
from qit4n.net.survivability import Failure
from qit4n.scenario import scenario_from_dict


def _instance(seed: int, priced: bool = False):
    rng = np.random.default_rng(seed)
    names = ["A", "B", "C", "R1", "R2"]
    nodes = [
        {
            "id": name,
            "role": "user" if name in "ABC" else "trusted-relay",
            "latitude_deg": float(rng.uniform(0, 1)),
            "longitude_deg": float(rng.uniform(0, 1)),
        }
        for name in names
    ]
    pairs = [("A", "R1"), ("A", "R2"), ("B", "R1"), ("B", "R2"), ("C", "R1"), ("C", "R2"), ("A", "B")]
    links = [{"id": f"{a}{b}", "endpoints": [a, b], "key_rate_bps": float(rng.integers(2, 10)) * 100} for a, b in pairs]
    if priced:
        for link in links[::2]:
            link["cost"] = float(rng.uniform(0.0, 12.0))
    demands = [
        {"name": "ab", "endpoints": ["A", "B"], "key_rate_bps": 200.0},
        {"name": "ac", "endpoints": ["A", "C"], "key_rate_bps": 150.0},
    ]
    base = scenario_from_dict({"name": "base", "nodes": nodes, "demands": demands})
    candidates = scenario_from_dict({"name": "cand", "nodes": nodes, "links": links})
    return base, candidates


def _feasible(base, candidates, chosen: tuple[int, ...], survive: bool) -> bool:
    if not chosen:
        return False
    data = base.model_dump(mode="json", exclude_defaults=True)
    data["links"] = [candidates.links[i].model_dump(mode="json", exclude_defaults=True) for i in chosen]
    scenario = scenario_from_dict(data)
    plan = plan_network(scenario, survivability=False)
    if not all(demand.allocation.satisfied for demand in plan.demands):
        return False
    if not survive:
        return True
    for link in scenario.links:
        damaged = scenario.model_copy(update={"links": [other for other in scenario.links if other.id != link.id]})
        if not damaged.links or not all(
            d.allocation.satisfied for d in plan_network(damaged, survivability=False).demands
        ):
            return False
    return True


@pytest.mark.parametrize("seed", range(2))
@pytest.mark.parametrize("survive", [False, True])
@pytest.mark.parametrize("priced", [False, True])
def test_design_matches_brute_force(seed, survive, priced):
    """Brute force over all 2^7 subsets: the MILP's cost equals the cheapest feasible subset's,
    with every candidate at 5 + length, or (priced) every other one at its own given ``cost``."""
    base, candidates = _instance(seed, priced)
    best = None
    for size in range(1, len(candidates.links) + 1):
        for chosen in itertools.combinations(range(len(candidates.links)), size):
            total = sum(_cost(base, candidates.links[i]) for i in chosen)
            if (best is None or total < best - 1e-9) and _feasible(base, candidates, chosen, survive):
                best = total
    try:
        result = design_network(base, candidates, cost_per_km=1.0, cost_per_link=5.0, survive_link_failures=survive)
    except InfeasibleError:
        assert best is None
        return
    assert best is not None
    assert result.total_cost == pytest.approx(best, rel=1e-9)


def _cost(base, link) -> float:
    return link.cost if link.cost is not None else 5.0 + _length(base, link)


def _length(base, link) -> float:
    from qit4n.net.graph import great_circle_km

    a, b = (base.node(end) for end in link.endpoints)
    return great_circle_km(a.latitude_deg, a.longitude_deg, b.latitude_deg, b.longitude_deg)


def test_design_rejects_unknown_endpoints_and_negative_costs():
    base, candidates = _instance(0)
    stranger = scenario_from_dict(
        {"name": "x", "nodes": [{"id": "A"}, {"id": "Z"}], "links": [{"endpoints": ["A", "Z"], "key_rate_bps": 1}]}
    )
    with pytest.raises(ParameterError, match="'Z' is not a node"):
        design_network(base, stranger)
    with pytest.raises(ParameterError, match="cost_per_km"):
        design_network(base, candidates, cost_per_km=-1)


def test_survivable_design_survives_every_single_failure():
    base, candidates = _instance(1)
    result = design_network(base, candidates, cost_per_link=5.0)
    data = base.model_dump(mode="json", exclude_defaults=True)
    chosen = {item["id"] for item in result.chosen}
    data["links"] = [
        link.model_dump(mode="json", exclude_defaults=True) for link in candidates.links if link.id in chosen
    ]
    plan = plan_network(scenario_from_dict(data), failures=[Failure(links=(link_id,)) for link_id in chosen])
    assert all(d.allocation.satisfied for d in plan.demands)
    assert all(impact.demands_lost == () for impact in plan.survivability)
