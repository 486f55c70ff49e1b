"""The event-driven chain and the vectorised Monte Carlo agree on the same chain (issue contract)."""

import numpy as np
import pytest
from scipy import stats

from qit4n.qin.chain import ChainParameters, simulate_chain_mc
from qit4n.qin.des_chain import simulate_chain_des


@pytest.mark.parametrize(
    ("policy", "swap_success", "every_attempt"),
    [
        ("swap-asap", 1.0, True),
        ("doubling", 1.0, False),
        ("doubling", 0.6, True),
        ("swap-asap", 1.0, False),
        ("doubling", 0.6, False),
    ],
)
def test_event_engine_agrees_with_monte_carlo(policy, swap_success, every_attempt):
    """Waiting times: two-sample KS test p > 0.001; mean fidelity within 5 standard errors."""
    params = ChainParameters(
        segments=4, length_km=200.0, memories_per_node=4, swap_success_probability=swap_success, policy=policy
    )
    mc = simulate_chain_mc(params, 50_000, np.random.default_rng(1))
    des = simulate_chain_des(params, duration_s=20.0, seed=2, every_attempt=every_attempt)
    assert des.waiting_time_s.size > 300
    assert stats.ks_2samp(des.waiting_time_s, mc.waiting_time_s).pvalue > 1e-3
    error = np.hypot(des.fidelity.std() / np.sqrt(des.fidelity.size), mc.fidelity.std() / np.sqrt(mc.fidelity.size))
    assert abs(des.fidelity.mean() - mc.fidelity.mean()) < 5 * error


def test_event_engine_is_deterministic_for_a_seed():
    params = ChainParameters(segments=4, length_km=100.0, swap_success_probability=0.7)
    first = simulate_chain_des(params, duration_s=1.0, seed=9)
    second = simulate_chain_des(params, duration_s=1.0, seed=9)
    np.testing.assert_array_equal(first.waiting_time_s, second.waiting_time_s)
    assert first.events == second.events


def test_cutoff_discards_old_pairs_and_raises_fidelity():
    """A cutoff well below the mean waiting time discards pairs and keeps only fresher ones."""
    params = ChainParameters(segments=4, length_km=200.0, memories_per_node=4, memory={"t2_s": 0.02, "t1_s": 1.0})
    without = simulate_chain_des(params, duration_s=5.0, seed=3)
    with_cutoff = simulate_chain_des(params, duration_s=5.0, seed=3, cutoff_s=0.005)
    assert with_cutoff.discarded_pairs > 0
    assert with_cutoff.fidelity.mean() > without.fidelity.mean() + 0.05
    assert with_cutoff.summary()["rate_pairs_per_s"] < without.summary()["rate_pairs_per_s"]


def test_end_node_notification_adds_the_classical_delay():
    """Two segments: the only swap is at the middle, so each delivery is known L/2 / c later (to 1 ps)."""
    from qit4n.des import PS_PER_S
    from qit4n.qin.chain import SPEED_OF_LIGHT_FIBRE_KM_PER_S

    params = ChainParameters(segments=2, length_km=100.0, memories_per_node=8)
    plain = simulate_chain_des(params, duration_s=2.0, seed=4)
    notified = simulate_chain_des(params, duration_s=2.0, seed=4, notify_end_nodes=True)
    count = notified.waiting_time_s.size
    delay_s = round(50.0 / SPEED_OF_LIGHT_FIBRE_KM_PER_S * PS_PER_S) / PS_PER_S
    np.testing.assert_allclose(notified.waiting_time_s, plain.waiting_time_s[:count] + delay_s, atol=2e-12)
    assert np.all(notified.fidelity <= plain.fidelity[:count] + 1e-12)


def test_density_matrix_formalism_agrees_where_noise_is_pauli():
    """Dephasing and depolarising memories, noisy swaps: per-delivery fidelities of the two formalisms
    agree to 1e-12."""
    params = ChainParameters(
        segments=4,
        length_km=200.0,
        memories_per_node=4,
        memory={"t2_s": 0.05, "depolarising_time_s": 0.5},
        swap_gate_depolarising=0.98,
        swap_measurement_error=0.01,
    )
    bell = simulate_chain_des(params, duration_s=0.5, seed=3)
    dense = simulate_chain_des(params, duration_s=0.5, seed=3, formalism="density-matrix")
    assert bell.fidelity.size == dense.fidelity.size > 10
    np.testing.assert_allclose(dense.fidelity, bell.fidelity, atol=1e-12)


def test_density_matrix_formalism_keeps_amplitude_damping():
    """With T1-limited memories the twirled Bell-diagonal model differs from the exact density matrix."""
    params = ChainParameters(segments=4, length_km=200.0, memories_per_node=4, memory={"t1_s": 0.05, "t2_s": 0.1})
    bell = simulate_chain_des(params, duration_s=0.5, seed=3)
    dense = simulate_chain_des(params, duration_s=0.5, seed=3, formalism="density-matrix")
    assert np.all((dense.fidelity >= 0) & (dense.fidelity <= 1))
    assert np.max(np.abs(dense.fidelity - bell.fidelity)) > 1e-3


def test_link_pumping_matches_dejmps_and_renewal_time():
    """One segment, perfect memory, one pumping round: every delivered pair has the DEJMPS output fidelity
    of two heralded pairs (1e-12), and the mean time is 2 / (p s) attempts (renewal: two pairs per try,
    success s), within 5 standard errors."""
    from qit4n.qin.chain import link_model
    from qit4n.qin.purify import dejmps

    params = ChainParameters(segments=1, length_km=20.0, scheme="single-click", bright_state_population=0.25, memory={})
    model = link_model(params)
    state, success = dejmps(model.heralded.state, model.heralded.state)
    run = simulate_chain_des(params, duration_s=2.0, seed=1, pumping_rounds=1)
    np.testing.assert_allclose(run.fidelity, state[0], atol=1e-12)
    attempts = run.waiting_time_s / model.attempt_time_s
    expected = 2.0 / (model.success_probability * float(success))
    assert abs(attempts.mean() - expected) < 5 * attempts.std() / np.sqrt(attempts.size)


def test_two_pumping_rounds_raise_chain_fidelity_and_cost_rate():
    params = ChainParameters(
        segments=4, length_km=100.0, scheme="single-click", bright_state_population=0.2, memories_per_node=4
    )
    plain = simulate_chain_des(params, duration_s=1.0, seed=1)
    pumped = simulate_chain_des(params, duration_s=1.0, seed=1, pumping_rounds=2)
    assert pumped.fidelity.mean() > plain.fidelity.mean() + 0.05
    assert pumped.waiting_time_s.size < plain.waiting_time_s.size
