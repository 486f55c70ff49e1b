"""Raman noise from co-propagating classical channels."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.integrate import quad

from qit4n.errors import ParameterError
from qit4n.physics.constants import NEPERS_PER_DB
from qit4n.physics.raman import (
    O_BAND_FIBRE_LOSS_DB_PER_KM,
    O_BAND_QUANTUM_WAVELENGTH_NM,
    raman_noise_photons_per_gate,
    raman_noise_power_w,
    raman_noise_probability,
    raman_scattering_coefficient,
)
from qit4n.scenario import ClassicalChannel

BETA = 2e-9


def channel(direction: str, power_dbm: float = 0.0, wavelength_nm: float = 1551.72) -> ClassicalChannel:
    return ClassicalChannel(wavelength_nm=wavelength_nm, launch_power_dbm=power_dbm, direction=direction)


@pytest.mark.parametrize("direction", ["forward", "backward"])
@pytest.mark.parametrize(("quantum_loss", "classical_loss"), [(0.2, 0.2), (0.2, 0.25), (0.33, 0.19), (0.0, 0.0)])
def test_closed_forms_match_integration_along_the_fibre(
    direction: str, quantum_loss: float, classical_loss: float
) -> None:
    """Integrate scattering at each point times the attenuation of both legs."""
    length_km, bandwidth_nm, power_w = 40.0, 0.6, 1e-3
    alpha_q, alpha_c = NEPERS_PER_DB * quantum_loss, NEPERS_PER_DB * classical_loss
    if direction == "forward":
        integrand = lambda z: np.exp(-alpha_c * z) * np.exp(-alpha_q * (length_km - z))  # noqa: E731
    else:
        integrand = lambda z: np.exp(-alpha_c * (length_km - z)) * np.exp(-alpha_q * (length_km - z))  # noqa: E731
    expected = power_w * BETA * bandwidth_nm * quad(integrand, 0.0, length_km)[0]
    got = raman_noise_power_w(
        [channel(direction)],
        length_km,
        loss_db_per_km=quantum_loss,
        classical_loss_db_per_km=classical_loss,
        filter_bandwidth_nm=bandwidth_nm,
        raman_coefficient_per_km_nm=BETA,
    )
    assert float(got) == pytest.approx(expected, rel=1e-9)


def test_equal_attenuation_reduces_to_eraerds_equations() -> None:
    """Eraerds et al. (2010): P_f = P_out beta L dlambda, P_b = P_in beta dlambda (1 - exp(-2 a L)) / (2 a)."""
    length = np.array([1.0, 25.0, 100.0])
    alpha = NEPERS_PER_DB * 0.2
    p_in = 1e-3 * 10 ** (3.0 / 10.0)
    forward = raman_noise_power_w(
        [channel("forward", 3.0)], length, raman_coefficient_per_km_nm=BETA, filter_bandwidth_nm=1.0
    )
    backward = raman_noise_power_w(
        [channel("backward", 3.0)], length, raman_coefficient_per_km_nm=BETA, filter_bandwidth_nm=1.0
    )
    np.testing.assert_allclose(forward, p_in * np.exp(-alpha * length) * BETA * length, rtol=1e-12)
    np.testing.assert_allclose(backward, p_in * BETA * (1 - np.exp(-2 * alpha * length)) / (2 * alpha), rtol=1e-12)


def test_backward_saturates_and_forward_peaks_at_one_over_alpha() -> None:
    length = np.linspace(0.1, 200.0, 2000)
    forward = raman_noise_power_w([channel("forward")], length, raman_coefficient_per_km_nm=BETA)
    backward = raman_noise_power_w([channel("backward")], length, raman_coefficient_per_km_nm=BETA)
    assert np.all(np.diff(backward) > 0)
    assert length[np.argmax(forward)] == pytest.approx(1.0 / (NEPERS_PER_DB * 0.2), abs=0.2)


def test_channels_add_and_power_scales_linearly() -> None:
    one = raman_noise_power_w([channel("forward")], 30.0)
    two = raman_noise_power_w([channel("forward"), channel("backward", wavelength_nm=1549.32)], 30.0)
    doubled = raman_noise_power_w([channel("forward", 10 * np.log10(2.0))], 30.0)
    assert float(two) > float(one)
    assert float(doubled) == pytest.approx(2 * float(one), rel=1e-12)


def test_no_classical_channel_no_noise() -> None:
    np.testing.assert_array_equal(raman_noise_probability([], np.array([0.0, 10.0, 80.0])), np.zeros(3))


def test_photons_per_gate_from_power() -> None:
    photons = raman_noise_photons_per_gate(
        [channel("forward")], 20.0, gate_width_s=2e-9, raman_coefficient_per_km_nm=BETA
    )
    power = raman_noise_power_w([channel("forward")], 20.0, raman_coefficient_per_km_nm=BETA)
    photon_energy = 6.62607015e-34 * 299792458.0 / 1550.12e-9
    assert float(photons) == pytest.approx(float(power) * 2e-9 / photon_energy, rel=1e-12)


def test_click_probability_uses_detector_and_receiver_loss() -> None:
    photons = raman_noise_photons_per_gate([channel("backward")], 50.0)
    p = raman_noise_probability([channel("backward")], 50.0, eta_detector=0.25, receiver_loss_db=3.0)
    assert float(p) == pytest.approx(1.0 - np.exp(-0.25 * 10 ** (-0.3) * float(photons)), rel=1e-12)


def test_default_coefficient_in_the_c_band_is_of_order_1e_9() -> None:
    """Sanity bound: the order of magnitude (1e-9 /(km nm)) used for C-band coexistence, not a fit to a figure."""
    beta = raman_scattering_coefficient(1550.12, np.array([1530.0, 1549.32, 1551.72, 1565.0]))
    assert np.all((beta > 1e-9) & (beta < 1e-8))


def test_coefficient_is_continuous_through_zero_shift() -> None:
    near = raman_scattering_coefficient(1550.12, 1550.12 + np.array([-1e-6, 0.0, 1e-6]))
    np.testing.assert_allclose(near, near[1], rtol=1e-3)


def test_o_band_quantum_channel_sees_far_less_noise() -> None:
    data = [channel("forward", 0.0, 1550.12)]
    c_band = raman_noise_probability(data, 25.0, quantum_wavelength_nm=1551.72)
    o_band = raman_noise_probability(
        data, 25.0, quantum_wavelength_nm=O_BAND_QUANTUM_WAVELENGTH_NM, loss_db_per_km=O_BAND_FIBRE_LOSS_DB_PER_KM
    )
    assert float(o_band) < 1e-2 * float(c_band)


def test_noise_broadcasts_over_length() -> None:
    lengths = np.linspace(0.0, 100.0, 12).reshape(3, 4)
    assert raman_noise_probability([channel("forward")], lengths).shape == (3, 4)
    assert float(raman_noise_probability([channel("forward")], 0.0)) == 0.0


@pytest.mark.parametrize(
    ("keyword", "value", "message"),
    [
        ("eta_detector", 1.5, r"eta_detector = 1.5: must be in \[0, 1\]"),
        ("filter_bandwidth_nm", -1.0, r"filter_bandwidth_nm = -1: must be >= 0"),
        ("gate_width_s", -1e-9, r"gate_width_s = -1e-09: must be >= 0"),
        ("receiver_loss_db", -3.0, r"receiver_loss_db = -3: must be >= 0"),
    ],
)
def test_bad_parameters_are_named(keyword: str, value: float, message: str) -> None:
    with pytest.raises(ParameterError, match=message):
        raman_noise_probability([channel("forward")], 10.0, **{keyword: value})


def test_negative_length_is_named() -> None:
    with pytest.raises(ParameterError, match=r"length_km = -5: must be >= 0"):
        raman_noise_probability([channel("forward")], [10.0, -5.0])


@settings(max_examples=60, deadline=None)
@given(
    st.floats(min_value=0.0, max_value=200.0),
    st.floats(min_value=-30.0, max_value=17.0),
    st.floats(min_value=0.01, max_value=10.0),
    st.sampled_from(["forward", "backward"]),
    st.floats(min_value=1530.0, max_value=1565.0),
)
def test_noise_non_negative_and_increasing_with_launch_power(
    length_km: float, power_dbm: float, step_db: float, direction: str, wavelength_nm: float
) -> None:
    low = float(raman_noise_probability([channel(direction, power_dbm, wavelength_nm)], length_km))
    high = float(raman_noise_probability([channel(direction, power_dbm + step_db, wavelength_nm)], length_km))
    assert 0.0 <= low <= 1.0
    assert high >= low
    if length_km > 0.1:
        quiet = raman_noise_photons_per_gate([channel(direction, power_dbm, wavelength_nm)], length_km)
        loud = raman_noise_photons_per_gate([channel(direction, power_dbm + step_db, wavelength_nm)], length_km)
        assert float(loud) > float(quiet) > 0.0
