"""Built-in network scenarios checked against their sources and against flow theory.

Sources: Y.-A. Chen et al., Nature 589, 214 (2021), doi:10.1038/s41586-020-03093-8 (Beijing-Shanghai
backbone: 32 trusted relays, about 2,000 km of fibre; satellite key 47.8 kbit/s on average during a
typical pass); M. Sasaki et al., Opt. Express 19, 10387 (2011) (Tokyo QKD Network: parallel systems
between Koganei and Otemachi); J. F. Dynes et al., npj Quantum Inf. 5, 101 (2019) (Cambridge: link
redundancy keeps the network up when a link is cut). Flow theory: trusted-relay delivery over a chain
is bounded by its slowest link; parallel links add (ITU-T Y.3803 hop-by-hop relay).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "net"))
from netfixtures import chain_scenario

from qit4n.net import max_key_rate_bps
from qit4n.net.plan import plan_network
from qit4n.net.simulate import SimulationConfig, simulate_network
from qit4n.scenario import load_scenario

MICIUS_RATE_BPS = 47.8e3  # Chen et al. 2021, mean secret key rate during a typical pass


@pytest.fixture(scope="module")
def backbone():
    return plan_network(load_scenario("beijing-shanghai-backbone"))


def test_backbone_has_32_relays_over_2000_km(backbone):
    """Chen et al. 2021: 32 trusted relays, >2,000 km; our trunk is built to 2,000 km (tolerance 0.5 km of rounding)."""
    demand = next(d for d in backbone.demands if d.allocation.demand.name == "beijing-shanghai")
    (route,) = demand.allocation.routes
    relays = list(route.path[1:-1])
    assert len(relays) == 32
    lengths = {frozenset(link.endpoints): link.length_km for link in backbone.network.links}
    trunk = sum(lengths[frozenset(pair)] for pair in zip(route.path[1:-2], route.path[2:-1]))
    assert trunk == pytest.approx(2000.0, abs=0.5)


def test_backbone_chain_delivers_its_slowest_link(backbone):
    """Beijing-Shanghai crosses one chain: its maximum key rate is the slowest link's rate (relative 1e-6)."""
    demand = next(d for d in backbone.demands if d.allocation.demand.name == "beijing-shanghai")
    path = demand.allocation.routes[0].path
    rates = {frozenset(link.endpoints): link.average_rate_bps for link in backbone.network.links}
    slowest = min(rates[frozenset(pair)] for pair in zip(path[:-1], path[1:]))
    assert demand.max_key_rate_bps == pytest.approx(slowest, rel=1e-6)


def test_satellite_capacity_is_pass_rate_times_duty_cycle(backbone):
    """Urumqi reaches Beijing only via Micius: 47.8 kbit/s during passes x (300 s per day) (relative 1e-6)."""
    demand = next(d for d in backbone.demands if d.allocation.demand.name == "urumqi-beijing")
    assert demand.max_key_rate_bps == pytest.approx(MICIUS_RATE_BPS * 300.0 / 86_400.0, rel=1e-6)
    assert "MICIUS" in demand.allocation.routes[0].path


def test_saturated_backbone_demand_gets_its_allocation_in_simulation(backbone):
    """Jinan-Hefei asks more than the Jinan-Hefei segment has left: simulated throughput = planned allocation (1 %)."""
    demand = next(d for d in backbone.demands if d.allocation.demand.name == "jinan-hefei")
    assert not demand.allocation.satisfied
    result = simulate_network(backbone.network, SimulationConfig(duration_s=1800.0, samples=10))
    qos = next(q for q in result.qos if q.name == "jinan-hefei")
    assert qos.throughput_bps == pytest.approx(demand.allocation.allocated_bps, rel=0.01)


def test_saturated_poisson_demand_matches_plan_within_statistics():
    """Poisson requests for 4 kbit/s over a chain whose slowest link makes 3 kbit/s: throughput 3 kbit/s (2 %)."""
    scenario = chain_scenario([5000.0, 3000.0], demand_bps=4000.0)
    planned = plan_network(scenario, survivability=False).demands[0].allocation.allocated_bps
    assert planned == pytest.approx(3000.0, rel=1e-6)
    result = simulate_network(
        scenario, SimulationConfig(duration_s=3000.0, seed=7, traffic={"kind": "poisson", "period_s": 0.5})
    )
    assert result.qos[0].throughput_bps == pytest.approx(planned, rel=0.02)


def test_tokyo_parallel_systems_add_up():
    """Sasaki et al. 2011: three systems in parallel between Koganei and Otemachi; Koganei-Hongo gets
    their sum (1e-6)."""
    plan = plan_network(load_scenario("tokyo-2010"), survivability=False)
    parallel = sum(link.average_rate_bps for link in plan.network.links if set(link.endpoints) == {"KO", "OT"})
    hongo = next(link.average_rate_bps for link in plan.network.links if link.id == "IDQ-OT-HO")
    assert max_key_rate_bps(plan.network, "KO", "HO") == pytest.approx(min(parallel, hongo), rel=1e-6)
    assert next(link for link in plan.network.links if link.id == "NTT-KO-OT").key_rate_bps == 1100.0


def test_cambridge_ring_survives_any_single_link_cut():
    """Dynes et al. 2019: link redundancy keeps every demand served when any one inter-site link is cut."""
    plan = plan_network(load_scenario("cambridge-metro"))
    assert all(demand.allocation.satisfied for demand in plan.demands)
    ring = {"CRL-ENG", "ENG-WCAM", "WCAM-CRL"}
    cuts = [impact for impact in plan.survivability if set(impact.failure.links) & ring]
    assert len(cuts) == 3
    assert all(impact.demands_lost == () for impact in cuts)
