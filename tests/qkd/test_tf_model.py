"""Unit tests of the sending-or-not-sending twin-field model: relay statistics, scaling, settings, invariants."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qit4n.errors import ParameterError
from qit4n.physics.fibre import fibre_transmittance
from qit4n.qkd import get_protocol, make_parameters
from qit4n.qkd.twinfield import TwinFieldParameters, _rate_terms, _windows, key_rate

_PHASES = np.linspace(0.0, 2.0 * np.pi, 1024, endpoint=False)


def _single_click_by_phase_average(amplitude_a: float, amplitude_b: float, p_d: float) -> float:
    """Probability that exactly one of the two relay detectors clicks, phase by phase.

    Each user's pulse is a coherent state of the given amplitude with an independent random
    phase; after the 50:50 beam splitter each detector sees Poissonian light.
    """
    field_a = amplitude_a * np.exp(1j * _PHASES)
    out_1 = np.abs(field_a + amplitude_b) ** 2 / 2.0
    out_2 = np.abs(field_a - amplitude_b) ** 2 / 2.0
    silent_1, silent_2 = (1.0 - p_d) * np.exp(-out_1), (1.0 - p_d) * np.exp(-out_2)
    return float(np.mean((1.0 - silent_1) * silent_2 + silent_1 * (1.0 - silent_2)))


@pytest.mark.parametrize(("eta", "mu", "p_d"), [(0.3, 0.4, 1e-6), (1e-3, 0.2, 1e-8), (0.8, 2.0, 1e-2)])
def test_z_window_statistics_match_the_optics(eta, mu, p_d):
    """S_00, S_10 and S_11 of the closed form equal the phase-averaged two-detector model."""
    params = TwinFieldParameters(dark_count_probability=p_d)
    amplitude = np.sqrt(eta * mu)
    expected = {
        "neither": _single_click_by_phase_average(0.0, 0.0, p_d),
        "one": _single_click_by_phase_average(amplitude, 0.0, p_d),
        "both": _single_click_by_phase_average(amplitude, amplitude, p_d),
    }
    eta_arr, mu_arr = np.array(eta), np.array(mu)
    # epsilon = 0 isolates S_00; epsilon = 1 isolates S_11; S_10 from the gain at epsilon = 1/2.
    windows = _windows(eta_arr, mu_arr, params)
    neither = float(_rate_terms(windows, np.array(0.0), params)["gain_z"])
    both = float(_rate_terms(windows, np.array(1.0), params)["gain_z"])
    half = float(_rate_terms(windows, np.array(0.5), params)["gain_z"])
    one = (half - 0.25 * neither - 0.25 * both) / 0.5
    assert neither == pytest.approx(expected["neither"], rel=1e-12)
    assert both == pytest.approx(expected["both"], rel=1e-9)
    assert one == pytest.approx(expected["one"], rel=1e-9)


def test_key_scales_with_the_square_root_of_the_transmittance():
    """Without dark counts the optimised key per pulse is proportional to eta_detector sqrt(eta)."""
    params = make_parameters("tf", overrides={"dark_count_probability": 0.0, "misalignment_error": 0.02})
    eta = np.array([1e-6, 1e-8, 1e-10])
    rate = key_rate(eta, params).key_rate_per_pulse
    np.testing.assert_allclose(rate[:-1] / rate[1:], 10.0, rtol=1e-3)


def test_broadcasts_and_reports_its_settings():
    eta = fibre_transmittance(np.array([[50.0, 200.0], [350.0, 500.0]]))
    result = key_rate(eta, make_parameters("tf"))
    assert result.key_rate_per_pulse.shape == (2, 2)
    assert set(result.details) == {"intensity_signal", "sending_probability", "gain_z", "yield_1", "phase_error_1"}
    assert np.all((result.details["sending_probability"] > 0.0) & (result.details["sending_probability"] <= 0.5))
    assert np.all(np.diff(result.key_rate_per_pulse.ravel()) < 0.0)


def test_optimised_settings_beat_fixed_ones():
    eta = fibre_transmittance(np.array([100.0, 300.0, 500.0]))
    best = key_rate(eta, make_parameters("tf")).key_rate_per_pulse
    for mu, eps in ((0.1, 0.1), (0.4, 0.05), (0.8, 0.3)):
        fixed_params = make_parameters("tf", overrides={"intensity_signal": mu, "sending_probability": eps})
        assert np.all(best >= key_rate(eta, fixed_params).key_rate_per_pulse * (1.0 - 1e-9))


def test_larger_interference_error_costs_key():
    eta = fibre_transmittance(np.array([200.0, 400.0]))
    rates = [
        key_rate(eta, make_parameters("tf", overrides={"misalignment_error": e_d})).key_rate_per_pulse
        for e_d in (0.0, 0.1, 0.3)
    ]
    assert np.all(rates[0] > rates[1]) and np.all(rates[1] > rates[2])


def test_registry_finds_the_protocol():
    spec = get_protocol("tf")
    assert spec.parameters is TwinFieldParameters
    assert not spec.repeaterless


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("sending_probability", 1.0, "sending_probability = 1: must be < 1"),
        ("misalignment_error", 0.7, "misalignment_error = 0.7: must be <= 0.5"),
        ("eta_detector", 0.0, "eta_detector = 0: must be > 0"),
    ],
)
def test_bad_parameters_name_field_value_and_range(field, value, message):
    with pytest.raises(ParameterError, match=message):
        make_parameters("tf", overrides={field: value})


_DEVICE = st.fixed_dictionaries(
    {
        "eta_detector": st.floats(0.05, 1.0),
        "dark_count_probability": st.floats(0.0, 1e-6),
        "misalignment_error": st.floats(0.0, 0.2),
        "error_correction_efficiency": st.floats(1.0, 1.5),
    }
)


@settings(max_examples=15, deadline=None)
@given(device=_DEVICE)
def test_rate_never_increases_with_distance_and_qber_is_a_probability(device):
    """E_Z stays below 1/2 wherever there is key; beyond the reach the empty windows' dark counts
    may push it up to 1 (an SNS error is a click when both or neither user sent)."""
    params = make_parameters("tf", overrides=device)
    eta = fibre_transmittance(np.linspace(0.0, 800.0, 41))
    result = key_rate(eta, params)
    rate = result.key_rate_per_pulse
    assert np.all(rate >= 0.0)
    assert np.all(np.diff(rate) <= 1e-9 * rate[:-1] + 1e-300)
    assert np.all((result.qber >= 0.0) & (result.qber <= 1.0))
    assert np.all(result.qber[rate > 0.0] <= 0.5)
