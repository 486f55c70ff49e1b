"""Key-pool simulation: conservation, relay accounting, waiting and loss, failures, satellite passes."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).parent))
from netfixtures import chain_scenario, random_scenario

from qit4n.des import Kernel
from qit4n.errors import ParameterError
from qit4n.net.pools import PairPools
from qit4n.net.simulate import FailureEvent, SimulationConfig, simulate_network
from qit4n.scenario import scenario_from_dict


def _balance_ok(result) -> bool:
    totals = result.totals_bits
    scale = max(totals["generated_bits"] + totals["initial_bits"], 1.0)
    return abs(totals["imbalance_bits"]) <= 1e-9 * scale


def _ring(first_route_bps: float, second_route_bps: float, demand_bps: float):
    """Users A and B joined through relay R1 (links a1, 1b) and through relay R2 (links a2, 2b)."""
    return scenario_from_dict(
        {
            "name": "ring",
            "nodes": [
                {"id": "A"},
                {"id": "B"},
                {"id": "R1", "role": "trusted-relay"},
                {"id": "R2", "role": "trusted-relay"},
            ],
            "links": [
                {"id": "a1", "endpoints": ["A", "R1"], "key_rate_bps": first_route_bps},
                {"id": "1b", "endpoints": ["R1", "B"], "key_rate_bps": first_route_bps},
                {"id": "a2", "endpoints": ["A", "R2"], "key_rate_bps": second_route_bps},
                {"id": "2b", "endpoints": ["R2", "B"], "key_rate_bps": second_route_bps},
            ],
            "demands": [{"name": "ab", "endpoints": ["A", "B"], "key_rate_bps": demand_bps}],
        }
    )


def test_pools_fill_clip_and_take():
    pools = PairPools(np.array([100.0, 1000.0]), np.array([10.0, 1.0]))
    assert pools.try_take(np.array([0, 1]), np.array([50.0, 50.0]), 100.0, 50.0, 5.0) == pytest.approx(45.0)
    assert pools.try_take(np.array([0, 1]), np.array([50.0, 50.0]), 100.0, 50.0, 50.0) == 0.0
    assert pools.level_bits.tolist() == pytest.approx([50.0, 0.0])
    assert pools.discarded_bits == pytest.approx(400.0)
    pools.close(60.0)
    assert pools.balance_bits() == pytest.approx(0.0, abs=1e-9)
    stopped = PairPools(np.array([100.0]), np.array([0.0]))
    assert stopped.try_take(np.array([0]), np.array([1.0]), 1.0, 1.0, 1.0) == float("inf")


def test_relay_consumption_is_hops_times_delivered():
    """One path of 4 hops: every delivered bit costs 3 more bits of relay key."""
    result = simulate_network(
        chain_scenario([5000, 4000, 6000, 7000], demand_bps=1000), SimulationConfig(duration_s=200)
    )
    totals = result.totals_bits
    assert totals["delivered_bits"] == pytest.approx(200 * 1000)
    assert totals["relay_consumed_bits"] == pytest.approx(3 * totals["delivered_bits"])
    assert _balance_ok(result)


def test_waiting_requests_give_up_after_max_wait():
    scenario = chain_scenario([100.0], demand_bps=1000)
    result = simulate_network(scenario, SimulationConfig(duration_s=100, max_wait_s=2))
    qos = result.qos[0]
    assert qos.lost > 0 and qos.loss_ratio > 0.5
    assert qos.throughput_bps <= 100.0 + 1e-9
    assert qos.delay_p99_s <= 2.0 + 1e-9


def test_pool_capacity_discards_surplus():
    scenario = chain_scenario([1000.0], demand_bps=10, capacity_bits=5000)
    result = simulate_network(scenario, SimulationConfig(duration_s=100))
    # The last request (t = 100 s) leaves 5000 - 10 bits in the pool.
    assert result.totals_bits["discarded_bits"] == pytest.approx(100 * 1000 - 100 * 10 - (5000 - 10), rel=1e-9)
    assert result.pool_levels_bits.max() <= 5000 + 1e-6
    assert _balance_ok(result)


def test_failure_reroutes_and_reports_restoration():
    scenario = _ring(first_route_bps=5000, second_route_bps=3000, demand_bps=1000)
    config = SimulationConfig(
        duration_s=600,
        failures=[
            FailureEvent(time_s=100, links=["a1"], repair_s=50),
            FailureEvent(time_s=300, nodes=["R1", "R2"], repair_s=100),
        ],
    )
    result = simulate_network(scenario, config)
    qos = result.qos[0]
    restoration = qos.restoration_times_s
    assert restoration[0] == pytest.approx(0.0, abs=1.0)  # rerouted over R2 at once (pool already has key)
    assert restoration[1] == pytest.approx(100.0, abs=1.01)  # no route until the relays come back
    assert qos.availability == pytest.approx(1 - 100 / 600)
    assert _balance_ok(result)


def test_unknown_failure_target_is_an_error():
    with pytest.raises(ParameterError, match="no such link"):
        simulate_network(
            chain_scenario([10.0]), SimulationConfig(duration_s=10, failures=[FailureEvent(time_s=1, links=["nope"])])
        )
    with pytest.raises(ParameterError, match="demand_traffic"):
        simulate_network(
            chain_scenario([10.0]), SimulationConfig(duration_s=10, demand_traffic={"zz": {"kind": "rekey"}})
        )


def test_rekey_traffic_requests_256_bit_keys():
    config = SimulationConfig(duration_s=100, traffic={"kind": "rekey", "period_s": 0.5})
    qos = simulate_network(chain_scenario([1e4], demand_bps=512), config).qos[0]
    assert qos.requests == 200 and qos.delivered_bits == pytest.approx(200 * 256)
    # A demand planned at 100 bit/s is policed to it: 256-bit keys every 0.5 s exceed the plan.
    policed = simulate_network(chain_scenario([1e4], demand_bps=100), config).qos[0]
    assert policed.throughput_bps <= 100 * (1 + 10 / 100) and policed.lost > 0
    free = simulate_network(chain_scenario([1e4], demand_bps=100), config.model_copy(update={"police": False})).qos[0]
    assert free.delivered_bits == pytest.approx(200 * 256)


def test_satellite_link_delivers_only_through_passes():
    scenario = scenario_from_dict(
        {
            "name": "sat",
            "nodes": [{"id": "G1", "role": "ground-station"}, {"id": "S", "role": "satellite"}, {"id": "U"}],
            "links": [
                {"id": "up", "endpoints": ["S", "G1"], "channel": "satellite", "key_rate_bps": 1000.0},
                {"id": "fibre", "endpoints": ["G1", "U"], "key_rate_bps": 1e6},
            ],
            "demands": [{"name": "us", "endpoints": ["U", "S"], "key_rate_bps": 1.0}],
        }
    )
    config = SimulationConfig(
        duration_s=1000, passes={"period_s": 500, "pass_duration_s": 50, "first_pass_s": 100}, samples=101
    )
    result = simulate_network(scenario, config)
    column = result.pair_labels.index("G1-S")
    levels = result.pool_levels_bits[:, column]
    times = result.sample_times_s
    assert levels[times < 100].max() == 0.0
    generated_in_passes = 2 * 50 * 1000.0
    assert result.totals_bits["generated_bits"] == pytest.approx(generated_in_passes + 1e6 * 1000, rel=1e-9)
    assert _balance_ok(result)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    traffic=st.sampled_from(["constant", "poisson", "rekey", "sessions"]),
    fill=st.floats(0.0, 1.0),
)
def test_bits_are_conserved(seed, traffic, fill):
    """generated + initial = delivered + relay + in pools + discarded, whatever the network and traffic."""
    scenario = random_scenario(seed, n_nodes=7, n_links=11)
    links = [item.model_copy(update={"pool_capacity_bits": 2e4}) for item in scenario.links]
    scenario = scenario.model_copy(update={"links": links})
    config = SimulationConfig(
        duration_s=120,
        seed=seed,
        traffic={"kind": traffic, "period_s": 0.7},
        initial_fill=fill,
        failures=[FailureEvent(time_s=30, links=["L1"], repair_s=20)],
    )
    result = simulate_network(scenario, config)
    assert _balance_ok(result)
    assert np.all(result.pool_levels_bits >= -1e-6)
    for qos in result.qos:
        assert qos.delivered_bits <= qos.requested_bits + 1e-6


def test_runs_on_the_shared_kernel():
    kernel = Kernel()
    assert kernel.run() == 0
    result = simulate_network(chain_scenario([1000.0], demand_bps=10), SimulationConfig(duration_s=10, samples=3))
    assert result.events_fired >= 10


def test_key_aware_routing_uses_the_fuller_route():
    """Two disjoint routes; key-aware routing follows the fuller pools and still conserves bits."""
    scenario = _ring(first_route_bps=900, second_route_bps=600, demand_bps=1400)
    result = simulate_network(scenario, SimulationConfig(duration_s=300, routing="key-aware"))
    assert result.qos[0].throughput_bps == pytest.approx(1400, rel=0.02)
    assert result.totals_bits["relay_consumed_bits"] == pytest.approx(result.totals_bits["delivered_bits"], rel=1e-9)
    assert _balance_ok(result)


def test_poisson_sessions_load():
    """Sessions every 20 s on average lasting 10 s on average: the demand is active about half the time."""
    config = SimulationConfig(
        duration_s=20000, seed=3, traffic={"kind": "sessions", "period_s": 20.0, "session_s": 10.0}, police=False
    )
    qos = simulate_network(chain_scenario([1e5], demand_bps=100), config).qos[0]
    # Each session asks 100 bit/s for about 10 s (whole seconds, the first request at its start):
    # 100 x 10.5 bits per 20 s.
    assert qos.throughput_bps == pytest.approx(100 * 10.5 / 20, rel=0.1)
    assert qos.loss_ratio == 0.0


def test_planned_routes_return_after_repair():
    """While a1 is down the demand (1500 bit/s) squeezes through R2 (1000 bit/s) and loses key; after the
    repair the planned routes come back and the losses stop."""
    scenario = _ring(first_route_bps=5000, second_route_bps=1000, demand_bps=1500)
    config = SimulationConfig(
        duration_s=1000, max_wait_s=2, failures=[FailureEvent(time_s=100, links=["a1"], repair_s=400)]
    )
    # R2 pools hold at most ~100 kbit at t = 100 s and drain at 500 bit/s: losses from ~300 s to the repair at 500 s
    # (about 70 requests); staying on R2 until the end would lose about 230.
    qos = simulate_network(scenario, config).qos[0]
    assert 0 < qos.lost <= 100
    assert qos.delivered_bits == pytest.approx(1500 * qos.served, rel=1e-12)
