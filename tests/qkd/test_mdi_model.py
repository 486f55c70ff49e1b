"""Unit tests of the MDI-QKD model: the relay's statistics, decoy bounds, parameters and invariants."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qit4n.errors import ParameterError
from qit4n.physics.fibre import fibre_transmittance
from qit4n.qkd import get_protocol, make_parameters
from qit4n.qkd._mdi_decoy import both_sent, error_11_upper, yield_11_lower
from qit4n.qkd._mdi_gains import gains_x, gains_z, single_photon_error_x, single_photon_yield
from qit4n.qkd.mdi import MDIParameters, key_rate
from qit4n.qkd.plob import plob_bound

_PHASES = np.linspace(0.0, 2.0 * np.pi, 512, endpoint=False)
_H, _V = np.array([1.0, 0.0]), np.array([0.0, 1.0])
_D, _A = np.array([1.0, 1.0]) / np.sqrt(2.0), np.array([1.0, -1.0]) / np.sqrt(2.0)


def _bsm_by_phase_average(mu_a, mu_b, eta_a, eta_b, p_d, basis):
    """Gain and error gain of the polarisation BSM computed from the optics, phase by phase.

    Each pulse is a coherent state; after the 50:50 beam splitter the four detectors (c/d output,
    H/V) see Poissonian light, and the relative phase of the two users is averaged numerically.
    psi- is one H and one V click on different outputs, psi+ on the same output. Z-basis bits
    are anti-correlated for both; X-basis bits are correlated for psi+, anti-correlated for psi-.
    """
    states = (_H, _V) if basis == "z" else (_D, _A)
    gain = error = 0.0
    for bit_a, pol_a in enumerate(states):
        for bit_b, pol_b in enumerate(states):
            field_a = np.sqrt(eta_a * mu_a) * pol_a[None, :] * np.exp(1j * _PHASES)[:, None]
            field_b = np.sqrt(eta_b * mu_b) * pol_b[None, :]
            out_c = np.abs((field_a + field_b) / np.sqrt(2.0)) ** 2
            out_d = np.abs((field_a - field_b) / np.sqrt(2.0)) ** 2
            silent_c, silent_d = (1.0 - p_d) * np.exp(-out_c), (1.0 - p_d) * np.exp(-out_d)
            click_c, click_d = 1.0 - silent_c, 1.0 - silent_d
            psi_minus = np.mean(
                click_c[:, 0] * silent_c[:, 1] * silent_d[:, 0] * click_d[:, 1]
                + silent_c[:, 0] * click_c[:, 1] * click_d[:, 0] * silent_d[:, 1]
            )
            psi_plus = np.mean(
                click_c[:, 0] * click_c[:, 1] * silent_d[:, 0] * silent_d[:, 1]
                + silent_c[:, 0] * silent_c[:, 1] * click_d[:, 0] * click_d[:, 1]
            )
            gain += (psi_minus + psi_plus) / 4.0
            same = bit_a == bit_b
            if basis == "z":
                error += (psi_minus + psi_plus) / 4.0 if same else 0.0
            else:
                error += (psi_minus if same else psi_plus) / 4.0
    return gain, error


@pytest.mark.parametrize("basis", ["z", "x"])
@pytest.mark.parametrize(
    ("mu_a", "mu_b", "eta_a", "eta_b", "p_d"),
    [(0.4, 0.4, 0.1, 0.1, 1e-3), (0.8, 0.2, 0.5, 0.03, 1e-2), (0.05, 0.0, 0.2, 0.2, 1e-2), (0.0, 0.0, 0.3, 0.3, 0.05)],
)
def test_closed_form_gains_match_the_optics(basis, mu_a, mu_b, eta_a, eta_b, p_d):
    """Ma-Razavi closed forms (e_d = 0) equal the phase-averaged four-detector model."""
    model = gains_z if basis == "z" else gains_x
    closed = model(np.array(mu_a), np.array(mu_b), np.array(eta_a), np.array(eta_b), p_d, 0.0)
    gain, error = _bsm_by_phase_average(mu_a, mu_b, eta_a, eta_b, p_d, basis)
    assert float(closed.gain) == pytest.approx(gain, rel=1e-9, abs=1e-15)
    assert float(closed.error_gain) == pytest.approx(error, rel=1e-9, abs=1e-15)


def test_decoy_bounds_approach_the_single_photon_values_as_the_decoy_vanishes():
    """The vacuum+weak bounds built from the gains converge to the closed-form Y11 and e11."""
    eta_a, eta_b, p_d, e_d = np.array(0.02), np.array(0.05), 1e-5, 0.02

    def x_gains(a, b):
        return gains_x(a, b, eta_a, eta_b, p_d, e_d)

    def z_gains(a, b):
        return gains_z(a, b, eta_a, eta_b, p_d, e_d)

    exact_y11 = single_photon_yield(eta_a, eta_b, p_d)
    exact_e11 = single_photon_error_x(eta_a, eta_b, p_d, e_d)
    previous_gaps = (np.inf, np.inf)
    for nu in (0.1, 0.03, 0.01, 0.003, 1e-4):
        mu, nu = np.array(0.4), np.array(nu)
        y11 = yield_11_lower(both_sent(z_gains, nu).gain, both_sent(z_gains, mu).gain, mu, nu)
        y11_x = yield_11_lower(both_sent(x_gains, nu).gain, both_sent(x_gains, mu).gain, mu, nu)
        e11 = error_11_upper(both_sent(x_gains, nu).error_gain, nu, y11_x)
        assert y11 <= exact_y11 * (1.0 + 1e-9)
        assert e11 >= exact_e11 * (1.0 - 1e-9)
        gaps = (abs(float(y11 / exact_y11) - 1.0), abs(float(e11 / exact_e11) - 1.0))
        assert gaps[0] < previous_gaps[0] and gaps[1] < previous_gaps[1]
        previous_gaps = gaps
    assert float(y11) == pytest.approx(float(exact_y11), rel=1e-3)
    assert float(e11) == pytest.approx(float(exact_e11), rel=1e-2)


def test_broadcasts_over_any_shape():
    eta = fibre_transmittance(np.array([[10.0, 50.0], [100.0, 150.0]]))
    result = key_rate(eta, make_parameters("mdi"))
    assert result.key_rate_per_pulse.shape == (2, 2)
    assert result.qber.shape == (2, 2)
    assert set(result.details) == {"intensity_signal", "intensity_decoy", "gain_z", "yield_11", "error_11"}
    assert np.all(np.diff(result.key_rate_per_pulse.ravel()) < 0.0)


def test_key_rate_bps_is_per_pulse_times_clock():
    params = make_parameters("mdi", overrides={"repetition_rate_hz": 2e8})
    result = key_rate(np.array([1e-2]), params)
    assert result.key_rate_bps[0] == pytest.approx(2e8 * result.key_rate_per_pulse[0])


def test_optimised_signal_beats_fixed_intensities():
    eta = fibre_transmittance(np.array([20.0, 80.0, 140.0]))
    best = key_rate(eta, make_parameters("mdi")).key_rate_per_pulse
    for mu in (0.1, 0.3, 0.8):
        fixed = key_rate(eta, make_parameters("mdi", overrides={"intensity_signal": mu})).key_rate_per_pulse
        assert np.all(best >= fixed * (1.0 - 1e-9))


def test_infinite_decoys_give_more_key_than_vacuum_plus_weak():
    eta = fibre_transmittance(np.linspace(0.0, 150.0, 7))
    finite = key_rate(eta, make_parameters("mdi")).key_rate_per_pulse
    infinite = key_rate(eta, make_parameters("mdi", overrides={"decoy_method": "infinite"})).key_rate_per_pulse
    assert np.all(infinite >= finite)


def test_swapping_the_arms_leaves_the_rate_unchanged():
    eta = fibre_transmittance(np.array([30.0, 90.0]))
    left = key_rate(eta, make_parameters("mdi", overrides={"alice_arm_loss_fraction": 0.2})).key_rate_per_pulse
    right = key_rate(eta, make_parameters("mdi", overrides={"alice_arm_loss_fraction": 0.8})).key_rate_per_pulse
    symmetric = key_rate(eta, make_parameters("mdi")).key_rate_per_pulse
    np.testing.assert_allclose(left, right, rtol=1e-6)
    assert np.all(symmetric > left)


def test_registry_finds_the_protocol():
    spec = get_protocol("mdi")
    assert spec.parameters is MDIParameters
    assert spec.evaluate(np.array([0.1]), MDIParameters()).key_rate_per_pulse[0] > 0.0


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("eta_detector", 1.5, "eta_detector = 1.5: must be <= 1"),
        ("dark_count_probability", -1e-6, "dark_count_probability = -1e-06: must be >= 0"),
        ("decoy_method", "two-decoy", "decoy_method = 'two-decoy': must be one of"),
        ("alice_arm_loss_fraction", 2.0, "alice_arm_loss_fraction = 2: must be <= 1"),
        ("intensity_sginal", 0.3, "intensity_sginal = 0.3: unknown field"),
        ("intensity_decoy", 2.0, "intensity_decoy = 2: must be < the largest signal searched, 1.5"),
    ],
)
def test_bad_parameters_name_field_value_and_range(field, value, message):
    with pytest.raises(ParameterError, match=message.replace("(", r"\(").replace(")", r"\)")):
        make_parameters("mdi", overrides={field: value})


def test_decoy_must_be_weaker_than_a_fixed_signal():
    with pytest.raises(ParameterError, match=r"intensity_decoy = 0\.4: must be < intensity_signal = 0\.3"):
        make_parameters("mdi", overrides={"intensity_signal": 0.3, "intensity_decoy": 0.4})


_DEVICE = st.fixed_dictionaries(
    {
        "eta_detector": st.floats(0.05, 1.0),
        "dark_count_probability": st.floats(0.0, 1e-4),
        "misalignment_error": st.floats(0.0, 0.1),
        "error_correction_efficiency": st.floats(1.0, 1.5),
        "decoy_method": st.sampled_from(["vacuum+weak", "infinite"]),
    }
)


@settings(max_examples=25, deadline=None)
@given(device=_DEVICE)
def test_rate_never_increases_with_distance_and_stays_below_plob(device):
    params = make_parameters("mdi", overrides=device)
    eta = fibre_transmittance(np.linspace(0.0, 300.0, 61))
    result = key_rate(eta, params)
    rate = result.key_rate_per_pulse
    assert np.all(rate >= 0.0)
    assert np.all(np.diff(rate) <= 1e-9 * rate[:-1] + 1e-300)
    assert np.all((result.qber >= 0.0) & (result.qber <= 0.5))
    assert np.all(rate <= plob_bound(eta * params.eta_detector))


@pytest.mark.parametrize("protocol", ["mdi", "tf", "cv-gg02"])
@pytest.mark.parametrize("eta", [-0.1, 1.5, float("nan")])
def test_transmittance_outside_the_unit_interval_is_refused(protocol, eta):
    spec = get_protocol(protocol)
    with pytest.raises(ParameterError, match=r"eta_channel: must be within \[0, 1\]"):
        spec.evaluate(np.array([0.5, eta]), make_parameters(protocol))
