"""Unit tests of the GG02 CV-QKD model: parameters, optimisation, broadcasting and invariants."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qit4n.errors import ParameterError
from qit4n.physics.fibre import fibre_transmittance
from qit4n.qkd import get_protocol, make_parameters
from qit4n.qkd._cv_holevo import entropy_g
from qit4n.qkd.cv import CVParameters, key_rate
from qit4n.qkd.plob import plob_bound


def test_entropy_of_a_thermal_mode():
    """G(x) is the entropy of a thermal state: 0 for the vacuum, 2 bits at one mean photon."""
    np.testing.assert_allclose(entropy_g(np.array([0.0, 1.0, -1e-12])), [0.0, 2.0, 0.0])


def test_result_shape_details_and_zero_transmittance():
    eta = np.array([[0.5, 0.1], [0.0, 1e-3]])
    result = key_rate(eta, make_parameters("cv-gg02", overrides={"modulation_variance": 5.0}))
    assert result.key_rate_per_pulse.shape == (2, 2)
    assert result.qber is None
    assert set(result.details) == {"excess_noise", "mutual_information", "holevo_bound", "modulation_variance"}
    assert result.key_rate_per_pulse[1, 0] == 0.0
    np.testing.assert_allclose(result.details["excess_noise"], 0.01)


def test_key_is_reconciled_information_minus_holevo_bound():
    params = make_parameters("cv-gg02", overrides={"modulation_variance": 10.0, "reconciliation_efficiency": 0.9})
    result = key_rate(np.array([0.3]), params)
    details = result.details
    expected = 0.9 * details["mutual_information"] - details["holevo_bound"]
    np.testing.assert_allclose(result.key_rate_per_pulse, np.maximum(expected, 0.0))
    np.testing.assert_allclose(result.key_rate_bps, result.key_rate_per_pulse * params.repetition_rate_hz)


@pytest.mark.parametrize("detection", ["homodyne", "heterodyne"])
def test_optimised_modulation_beats_fixed_values(detection):
    eta = fibre_transmittance(np.array([5.0, 25.0, 50.0]))
    best = key_rate(eta, make_parameters("cv-gg02", overrides={"detection": detection}))
    for v_a in (1.0, 4.0, 20.0, 60.0):
        fixed = make_parameters("cv-gg02", overrides={"detection": detection, "modulation_variance": v_a})
        assert np.all(best.key_rate_per_pulse >= key_rate(eta, fixed).key_rate_per_pulse * (1.0 - 1e-9))
    assert np.all(best.details["modulation_variance"] > 0.0)


def test_excess_noise_and_electronic_noise_cost_key():
    eta = fibre_transmittance(np.array([20.0]))
    quiet = key_rate(eta, make_parameters("cv-gg02", overrides={"excess_noise": 0.0})).key_rate_per_pulse
    noisy = key_rate(eta, make_parameters("cv-gg02", overrides={"excess_noise": 0.05})).key_rate_per_pulse
    assert quiet[0] > noisy[0] > 0.0


def test_registry_finds_the_protocol():
    spec = get_protocol("cv-gg02")
    assert spec.parameters is CVParameters
    assert spec.evaluate(np.array([0.5]), CVParameters()).key_rate_per_pulse[0] > 0.0


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("detection", "direct", "detection = 'direct': must be one of"),
        ("reconciliation_efficiency", 1.2, "reconciliation_efficiency = 1.2: must be <= 1"),
        ("excess_noise", -0.1, "excess_noise = -0.1: must be >= 0"),
        ("modulation_variance", 0.0, "modulation_variance = 0: must be > 0"),
    ],
)
def test_bad_parameters_name_field_value_and_range(field, value, message):
    with pytest.raises(ParameterError, match=message):
        make_parameters("cv-gg02", overrides={field: value})


_DEVICE = st.fixed_dictionaries(
    {
        "modulation_variance": st.one_of(st.none(), st.floats(0.5, 100.0)),
        "excess_noise": st.floats(0.0, 0.1),
        "electronic_noise": st.floats(0.0, 0.2),
        "eta_detector": st.floats(0.2, 1.0),
        "reconciliation_efficiency": st.floats(0.8, 1.0),
        "detection": st.sampled_from(["homodyne", "heterodyne"]),
    }
)


@settings(max_examples=30, deadline=None)
@given(device=_DEVICE)
def test_rate_never_increases_with_distance_and_stays_below_plob(device):
    """GG02 is a point-to-point protocol: never above -log2(1 - T) of its channel."""
    params = make_parameters("cv-gg02", overrides=device)
    eta = fibre_transmittance(np.linspace(0.0, 150.0, 61))
    rate = key_rate(eta, params).key_rate_per_pulse
    assert np.all(rate >= 0.0)
    assert np.all(np.diff(rate) <= 1e-9 * rate[:-1] + 1e-300)
    assert np.all(rate[1:] <= plob_bound(eta[1:]))
