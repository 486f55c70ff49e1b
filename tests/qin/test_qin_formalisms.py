"""Bell-diagonal rules agree with the density-matrix circuits on random states (hypothesis)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qit4n.errors import ParameterError
from qit4n.qin import bell, circuits, density, memory, purify

weights = st.lists(st.floats(0.01, 1.0), min_size=4, max_size=4).map(lambda w: np.array(w) / np.sum(w))


@settings(max_examples=25, deadline=None)
@given(weights, weights, st.floats(0.5, 1.0), st.floats(0.0, 0.2))
def test_swap_rule_matches_circuit(left, right, gate, error):
    rho = circuits.swap_circuit(
        density.from_bell_diagonal(left),
        density.from_bell_diagonal(right),
        gate_depolarising=gate,
        measurement_error=error,
    )
    np.testing.assert_allclose(
        density.to_bell_diagonal(rho),
        bell.swap(left, right, gate_depolarising=gate, measurement_error=error),
        atol=1e-10,
    )


@settings(max_examples=25, deadline=None)
@given(weights, weights)
def test_dejmps_and_bilateral_cnot_match_circuits(first, second):
    for rotate, rule in ((True, purify.dejmps), (False, purify.bilateral_cnot)):
        rho, success = circuits.purify_circuit(
            density.from_bell_diagonal(first), density.from_bell_diagonal(second), rotate=rotate
        )
        state, probability = rule(first, second)
        assert success == pytest.approx(float(probability), abs=1e-10)
        np.testing.assert_allclose(density.to_bell_diagonal(rho), state, atol=1e-10)


@settings(max_examples=25, deadline=None)
@given(weights, st.floats(0.0, 5.0), st.floats(0.5, 10.0))
def test_dephasing_memory_matches_kraus(state, wait_s, t2_s):
    decayed = memory.decay(state, wait_s, memory.MemoryParameters(t2_s=t2_s))
    rho = density.apply_channel(density.from_bell_diagonal(state), density.memory_kraus(wait_s, t2_s=t2_s), [0])
    np.testing.assert_allclose(density.to_bell_diagonal(rho), decayed, atol=1e-10)


def test_pumping_raises_fidelity_with_falling_success():
    states, probabilities = purify.pump(bell.werner(0.8), bell.werner(0.8), 4)
    fidelities = states[:, 0]
    assert fidelities[0] > 0.8 and np.all(np.diff(probabilities) < 0)
    assert fidelities[-1] > fidelities[0]


def test_swap_output_is_a_state_and_broadcasts():
    out = bell.swap(bell.werner(np.array([0.7, 0.9])), bell.werner(0.95))
    assert out.shape == (2, 4)
    np.testing.assert_allclose(out.sum(axis=1), 1.0)


@pytest.mark.parametrize("bad", [[0.5, 0.5, 0.5, -0.5], [0.2, 0.2, 0.2], [0.3, 0.3, 0.3, 0.3]])
def test_invalid_states_name_the_problem(bad):
    with pytest.raises(ParameterError, match="first"):
        purify.dejmps(bad, bell.werner(0.9))


def test_memory_rejects_t2_beyond_twice_t1():
    with pytest.raises(Exception, match="t2_s"):
        memory.MemoryParameters(t1_s=1.0, t2_s=3.0)
