"""Detector click statistics and photon-number distributions of sources."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from qit4n.errors import ParameterError
from qit4n.physics.detector import (
    GatedDetectorParameters,
    dark_count_probability,
    dead_gates,
    dead_time_click_rate_hz,
    detection_and_error_probability,
    detection_probability,
    error_probability,
    quantum_bit_error_rate,
    registered_click_fraction,
)
from qit4n.physics.source import (
    poisson_multiphoton_probability,
    poisson_photon_probability,
    thermal_multiphoton_probability,
    thermal_photon_probability,
)

probabilities = st.floats(min_value=0.0, max_value=1.0)
mean_photons = st.floats(min_value=0.0, max_value=50.0)


def test_dark_count_probability_is_small_rate_times_gate_and_saturates() -> None:
    assert dark_count_probability(100.0, 1e-9) == pytest.approx(1e-7, rel=1e-6)
    assert dark_count_probability(1e12, 1e-6) == pytest.approx(1.0)


def test_detection_probability_limits() -> None:
    assert detection_probability(0.0, eta_detector=0.5, dark_count_probability=1e-5) == pytest.approx(1e-5)
    assert detection_probability(1e3, eta_detector=0.5, dark_count_probability=0.0) == pytest.approx(1.0)
    mu = np.array([0.1, 0.5, 1.0])
    np.testing.assert_allclose(detection_probability(mu, eta_detector=0.2), 1.0 - np.exp(-0.2 * mu))


def test_detection_probability_broadcasts() -> None:
    result = detection_probability(
        np.array([0.1, 0.5])[:, None], eta_detector=np.array([1e-3, 1e-2, 1e-1]), dark_count_probability=1e-6
    )
    assert result.shape == (2, 3)


def test_qber_limits() -> None:
    assert quantum_bit_error_rate(
        0.0, eta_detector=0.1, dark_count_probability=1e-6, misalignment=0.02
    ) == pytest.approx(0.5)
    assert quantum_bit_error_rate(
        0.5, eta_detector=0.1, dark_count_probability=0.0, misalignment=0.02
    ) == pytest.approx(0.02)
    assert quantum_bit_error_rate(0.0, eta_detector=0.1) == pytest.approx(0.5)


@given(mean_photons, probabilities, st.floats(min_value=0.0, max_value=0.01), st.floats(min_value=0.0, max_value=0.5))
def test_click_and_error_probabilities_are_probabilities(mu: float, eta: float, p_dc: float, e_d: float) -> None:
    gain = float(detection_probability(mu, eta_detector=eta, dark_count_probability=p_dc))
    errors = float(error_probability(mu, eta_detector=eta, dark_count_probability=p_dc, misalignment=e_d))
    qber = float(quantum_bit_error_rate(mu, eta_detector=eta, dark_count_probability=p_dc, misalignment=e_d))
    assert 0.0 <= gain <= 1.0
    assert 0.0 <= errors <= gain + 1e-15
    assert 0.0 <= qber <= 0.5 + 1e-12


def test_dead_time_gated_formula_against_simulation() -> None:
    """Simulated gated detector with a dead time of n gates after each click."""
    rng = np.random.default_rng(2024)
    click_probability, blocked = 0.05, 10
    armed_clicks = rng.random(400_000) < click_probability
    registered, index = 0, 0
    while index < armed_clicks.size:
        hit = np.flatnonzero(armed_clicks[index:])
        if hit.size == 0:
            break
        registered += 1
        index += int(hit[0]) + 1 + blocked
    expected = dead_time_click_rate_hz(click_probability, 1.0, float(blocked)) * armed_clicks.size
    assert registered == pytest.approx(float(expected), rel=0.02)


def test_dead_time_free_running_limit_is_non_paralysable_law() -> None:
    rate0, tau = 1e6, 1e-6
    frequency = 1e12
    saturated = dead_time_click_rate_hz(rate0 / frequency, frequency, tau)
    assert float(saturated) == pytest.approx(rate0 / (1.0 + rate0 * tau), rel=1e-5)


@given(st.floats(min_value=1e-6, max_value=1.0), st.floats(min_value=0.0, max_value=1e-5))
def test_dead_time_never_increases_the_rate(p: float, tau: float) -> None:
    assert dead_time_click_rate_hz(p, 1e9, tau) <= dead_time_click_rate_hz(p, 1e9, 0.0) * (1 + 1e-12)


@pytest.mark.parametrize("mu", [0.0, 0.1, 0.5, 2.0])
def test_poisson_distribution_normalised_with_mean_mu(mu: float) -> None:
    n = np.arange(60)
    p = poisson_photon_probability(n, mu)
    assert p.sum() == pytest.approx(1.0, abs=1e-12)
    assert (n * p).sum() == pytest.approx(mu, abs=1e-12)
    assert poisson_multiphoton_probability(mu) == pytest.approx(1.0 - p[0] - p[1], abs=1e-14)


@pytest.mark.parametrize("mu", [0.0, 0.01, 0.1, 0.5])
def test_thermal_distribution_normalised_with_mean_mu(mu: float) -> None:
    n = np.arange(400)
    p = thermal_photon_probability(n, mu)
    assert p.sum() == pytest.approx(1.0, abs=1e-12)
    assert (n * p).sum() == pytest.approx(mu, abs=1e-10)
    assert thermal_multiphoton_probability(mu) == pytest.approx(1.0 - p[0] - p[1], abs=1e-14)


def test_poisson_broadcasts_photon_numbers_against_intensities() -> None:
    table = poisson_photon_probability(np.arange(4)[:, None], np.array([0.1, 0.5, 0.6]))
    assert table.shape == (4, 3)
    assert table[1, 1] == pytest.approx(0.5 * np.exp(-0.5))


@pytest.mark.parametrize("bad", [-1, 1.5])
def test_photon_number_must_be_non_negative_integer(bad: float) -> None:
    with pytest.raises(ParameterError, match=r"n = .*: must be a non-negative integer"):
        poisson_photon_probability(bad, 0.5)


def test_dead_gates_round_the_dead_time_up_to_whole_gates() -> None:
    assert dead_gates(20e-9, 1e9) == 20.0
    assert dead_gates(20.2e-9, 1e9) == 21.0
    assert dead_gates(0.0, 1e9) == 0.0
    np.testing.assert_array_equal(dead_gates(np.array([1e-9, 1.5e-9]), 1e9), [1.0, 2.0])


@pytest.mark.parametrize("dead_time_s", [0.0, 7e-9, 20e-9, 20.4e-9])
def test_rate_models_and_emulator_share_one_dead_time_convention(dead_time_s: float) -> None:
    """The key-rate models (registered fraction) and the emulator (gates skipped) use the same n."""
    from qit4n.emulate import LinkSettings
    from qit4n.qkd import get_protocol, make_parameters

    settings = LinkSettings(eta_channel=0.5, dead_time_s=dead_time_s)
    assert settings.dead_gates == int(dead_gates(dead_time_s, settings.repetition_rate_hz))
    eta = np.array([0.5])
    plain = get_protocol("bb84-decoy").evaluate(eta, make_parameters("bb84-decoy"))
    dead = get_protocol("bb84-decoy").evaluate(
        eta, make_parameters("bb84-decoy", overrides={"dead_time_s": dead_time_s})
    )
    fraction = registered_click_fraction(plain.details["gain"], repetition_rate_hz=1e9, dead_time_s=dead_time_s)
    np.testing.assert_allclose(dead.key_rate_bps, plain.key_rate_bps * fraction, rtol=1e-12)
    assert float(fraction[0]) == pytest.approx(1.0 / (1.0 + settings.dead_gates * float(plain.details["gain"][0])))


def test_afterpulses_add_clicks_that_are_coin_tosses() -> None:
    gain, errors = detection_and_error_probability(
        0.5, eta_detector=0.1, dark_count_probability=1e-6, misalignment=0.01, afterpulse_probability=0.04
    )
    clean_gain, clean_errors = detection_and_error_probability(
        0.5, eta_detector=0.1, dark_count_probability=1e-6, misalignment=0.01
    )
    assert float(gain) == pytest.approx(1.04 * float(clean_gain))
    assert float(errors) == pytest.approx(float(clean_errors) + 0.02 * float(clean_gain))
    assert float(detection_probability(0.5, eta_detector=0.1, afterpulse_probability=0.04)) == pytest.approx(
        1.04 * (1.0 - np.exp(-0.05))
    )


def test_receiver_schemas_compose_the_physics_detector_fields() -> None:
    """Every receiver schema validates its detector fields with the one declaration in physics."""
    from qit4n.emulate import LinkSettings
    from qit4n.errors import ParameterError as Error
    from qit4n.qin.chain import ChainParameters
    from qit4n.qkd import get_protocol
    from qit4n.schema import validate_parameters

    schemas = [
        get_protocol(name).parameters for name in ("bb84", "bb84-decoy", "bb84-decoy-finite", "mdi", "tf", "bbm92")
    ]
    for schema in [*schemas, ChainParameters]:
        with pytest.raises(Error, match=r"eta_detector = 0: must be > 0"):
            validate_parameters(schema, {"eta_detector": 0.0})
    with pytest.raises(Error, match=r"dark_count_probability = 0.2: must be <= 0.1"):
        validate_parameters(get_protocol("mdi").parameters, {"dark_count_probability": 0.2})
    assert ChainParameters(dark_count_probability=0.2).dark_count_probability == 0.2
    assert issubclass(LinkSettings, GatedDetectorParameters)
    assert issubclass(get_protocol("bb84-decoy").parameters, GatedDetectorParameters)
    with pytest.raises(Error, match=r"dead_time_s = -1: must be >= 0"):
        validate_parameters(GatedDetectorParameters, {"dead_time_s": -1.0})
