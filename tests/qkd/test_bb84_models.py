"""Unit tests of the asymptotic BB84-family models: formulas, shapes, options and errors."""

from __future__ import annotations

import math

import numpy as np
import pytest

from qit4n.errors import ParameterError
from qit4n.maths import binary_entropy, binary_entropy_clipped
from qit4n.qkd import _bb84_channel as channel
from qit4n.qkd import get_protocol, make_parameters
from qit4n.qkd.decoy import decoy_bounds

ASYMPTOTIC = ["bb84", "bb84-decoy", "bb84-decoy-inf"]


def _h2(x: float) -> float:
    return 0.0 if x <= 0.0 or x >= 1.0 else -x * math.log2(x) - (1 - x) * math.log2(1 - x)


def _scalar_decoy_rate(eta_channel: float, mu: float, nu: float) -> float:
    """Ma et al. 2005 GLLP rate and vacuum+weak bounds, written out with the GYS values, one point at a time.

    The error gain counts a dark click as a coin toss only when no signal photon is detected
    (``Y0/2 e^-eta x``), which keeps the QBER at most 1/2; Ma et al. write ``Y0/2``.
    """
    y0, e_d, f_ec, eta_bob = 1.7e-6 - 8.5e-7**2, 0.033, 1.22, 0.045
    eta = eta_channel * eta_bob

    def gain(x: float) -> float:
        return y0 + (1 - y0) * (1 - math.exp(-eta * x))

    def errors(x: float) -> float:
        return y0 / 2 * math.exp(-eta * x) + e_d * (1 - math.exp(-eta * x))

    y1 = (
        mu
        / (mu * nu - nu**2)
        * (gain(nu) * math.exp(nu) - gain(mu) * math.exp(mu) * nu**2 / mu**2 - (mu**2 - nu**2) / mu**2 * y0)
    )
    e1 = (errors(nu) * math.exp(nu) - y0 / 2) / (y1 * nu)
    q1 = y1 * mu * math.exp(-mu)
    rate = 0.5 * (q1 * (1 - _h2(min(e1, 0.5))) - f_ec * gain(mu) * _h2(errors(mu) / gain(mu)))
    return max(rate, 0.0)


def test_binary_entropy_matches_definition() -> None:
    x = np.array([0.0, 1e-6, 0.05, 0.11, 0.5, 0.8, 1.0])
    expected = [_h2(v) for v in x]
    assert np.allclose(binary_entropy(x), expected, rtol=1e-12, atol=0)
    assert np.allclose(binary_entropy_clipped(x), [_h2(min(v, 0.5)) for v in x], rtol=1e-10, atol=1e-290)


@pytest.mark.parametrize("length_km", [0.0, 40.0, 100.0, 130.0])
def test_decoy_matches_scalar_reference(length_km: float) -> None:
    params = make_parameters("bb84-decoy", "gys", {"intensity_signal": 0.48, "intensity_decoy": 0.05})
    eta = 10 ** (-0.21 * length_km / 10)
    ours = get_protocol("bb84-decoy").evaluate(np.array([eta]), params).key_rate_per_pulse[0]
    assert ours == pytest.approx(_scalar_decoy_rate(eta, 0.48, 0.05), rel=1e-9, abs=1e-15)


def test_decoy_bounds_are_valid_bounds() -> None:
    """Y1_L never exceeds the true single-photon yield and e1_U never falls below the true e1."""
    params = make_parameters("bb84-decoy", "gys")
    eta = 0.045 * 10 ** (-0.021 * np.linspace(0, 140, 50))
    y1_lower, e1_upper, _, _ = decoy_bounds(eta, 0.5, 0.05, params)
    y0 = channel.background_yield(params.dark_count_probability)
    y1 = 1 - (1 - y0) * (1 - eta)
    e1 = (y0 / 2 * (1 - eta) + params.misalignment_error * eta) / y1
    assert np.all(y1_lower <= y1 * (1 + 1e-12))
    assert np.all(e1_upper >= e1 * (1 - 1e-12))


@pytest.mark.parametrize("afterpulse", [0.0, 0.04])
def test_linear_gain_is_the_physics_detector_model(afterpulse: float) -> None:
    """The sweep-friendly coefficients reproduce qit4n.physics.detector with two detectors."""
    from qit4n.physics.detector import background_yield, detection_and_error_probability

    params = make_parameters("bb84-decoy", "gys", {"afterpulse_probability": afterpulse})
    eta, mu = np.geomspace(1.0, 1e-5, 7), 0.45
    line = channel.linear_gain(params)
    m = np.expm1(-eta * mu)
    gain, errors = detection_and_error_probability(
        mu,
        eta_detector=eta,
        dark_count_probability=background_yield(params.dark_count_probability),
        misalignment=params.misalignment_error,
        afterpulse_probability=afterpulse,
    )
    np.testing.assert_allclose(line.gain_0 + line.gain_slope * m, gain, rtol=1e-10)
    np.testing.assert_allclose(line.errors_0 + line.errors_slope * m, errors, rtol=1e-10)


@pytest.mark.parametrize("protocol", ASYMPTOTIC + ["plob", "tgw"])
def test_shapes_broadcast(protocol: str) -> None:
    eta = np.geomspace(1.0, 1e-4, 12).reshape(3, 4)
    result = get_protocol(protocol).evaluate(eta, make_parameters(protocol))
    assert result.key_rate_per_pulse.shape == (3, 4)
    assert result.key_rate_bps.shape == (3, 4)
    for value in result.details.values():
        assert np.shape(value) == (3, 4)
    if result.qber is not None:
        assert result.qber.shape == (3, 4)


def test_blocked_evaluation_equals_one_shot() -> None:
    params = make_parameters("bb84-decoy", "gys")
    eta = 10 ** (-0.021 * np.linspace(0, 160, channel.BLOCK_POINTS + 1000))
    whole = get_protocol("bb84-decoy").evaluate(eta, params)
    head = get_protocol("bb84-decoy").evaluate(eta[:100], params)
    tail = get_protocol("bb84-decoy").evaluate(eta[-100:], params)
    assert np.array_equal(whole.key_rate_per_pulse[:100], head.key_rate_per_pulse)
    assert np.array_equal(whole.key_rate_per_pulse[-100:], tail.key_rate_per_pulse)
    assert np.array_equal(whole.details["intensity_signal"][-100:], tail.details["intensity_signal"])


@pytest.mark.parametrize("protocol", ["bb84-decoy", "bb84-decoy-inf"])
def test_optimised_intensity_beats_a_grid(protocol: str) -> None:
    params = make_parameters(protocol, "gys")
    eta = np.array([1.0, 0.1, 1e-2, 1e-3])
    best = get_protocol(protocol).evaluate(eta, params).key_rate_per_pulse
    for mu in np.linspace(0.05, 1.2, 24):
        fixed = make_parameters(protocol, "gys", {"intensity_signal": float(mu)})
        assert np.all(best >= get_protocol(protocol).evaluate(eta, fixed).key_rate_per_pulse * (1 - 1e-9))


def test_weak_decoy_approaches_infinite_decoy() -> None:
    eta = 10 ** (-0.021 * np.array([0.0, 50.0, 100.0]))
    infinite = get_protocol("bb84-decoy-inf").evaluate(eta, make_parameters("bb84-decoy-inf", "gys"))
    weak = get_protocol("bb84-decoy").evaluate(
        eta, make_parameters("bb84-decoy", "gys", {"minimum_decoy_intensity": 1e-3})
    )
    assert np.all(weak.key_rate_per_pulse <= infinite.key_rate_per_pulse)
    assert np.allclose(weak.key_rate_per_pulse, infinite.key_rate_per_pulse, rtol=0.01)


def test_single_photon_source_beats_coherent_source() -> None:
    eta = 10 ** (-0.021 * np.array([0.0, 60.0, 120.0]))
    photon = get_protocol("bb84").evaluate(eta, make_parameters("bb84", "gys")).key_rate_per_pulse
    coherent = get_protocol("bb84-decoy-inf").evaluate(eta, make_parameters("bb84-decoy-inf", "gys")).key_rate_per_pulse
    assert np.all(photon > coherent)


def test_dead_time_saturates_the_rate_per_second() -> None:
    eta = np.array([1.0, 1e-3])
    plain = get_protocol("bb84-decoy").evaluate(eta, make_parameters("bb84-decoy"))
    tau = 50e-9
    dead = get_protocol("bb84-decoy").evaluate(eta, make_parameters("bb84-decoy", overrides={"dead_time_s": tau}))
    clicks_hz = plain.details["gain"] * 1e9
    assert np.allclose(dead.key_rate_bps, plain.key_rate_bps / (1 + clicks_hz * tau))
    assert np.array_equal(dead.key_rate_per_pulse, plain.key_rate_per_pulse)


def test_afterpulses_cost_key() -> None:
    eta = np.array([1e-2])
    with_afterpulse = make_parameters("bb84-decoy-inf", overrides={"afterpulse_probability": 0.04})
    clean = get_protocol("bb84-decoy-inf").evaluate(eta, make_parameters("bb84-decoy-inf"))
    noisy = get_protocol("bb84-decoy-inf").evaluate(eta, with_afterpulse)
    assert noisy.key_rate_per_pulse[0] < clean.key_rate_per_pulse[0]
    assert noisy.qber[0] > clean.qber[0]


def test_no_key_without_channel() -> None:
    for protocol in ASYMPTOTIC:
        result = get_protocol(protocol).evaluate(np.array([0.0]), make_parameters(protocol))
        assert result.key_rate_per_pulse[0] == 0.0


@pytest.mark.parametrize(
    ("protocol", "overrides", "field"),
    [
        ("bb84", {"eta_detector": 2.0}, "eta_detector"),
        ("bb84-decoy", {"misalignment_error": 0.7}, "misalignment_error"),
        ("bb84-decoy", {"error_correction_efficiency": 0.9}, "error_correction_efficiency"),
        ("bb84-decoy-inf", {"dead_time_s": -1.0}, "dead_time_s"),
        ("bb84-decoy", {"intensity_signl": 0.5}, "intensity_signl"),
    ],
)
def test_bad_parameters_name_the_field(protocol: str, overrides: dict, field: str) -> None:
    with pytest.raises(ParameterError, match=field):
        make_parameters(protocol, overrides=overrides)


def test_decoy_above_signal_is_rejected() -> None:
    params = make_parameters("bb84-decoy", overrides={"intensity_signal": 0.1, "intensity_decoy": 0.2})
    with pytest.raises(ParameterError, match="intensity_decoy"):
        get_protocol("bb84-decoy").evaluate(np.array([0.1]), params)


def test_presets_load_for_every_listed_protocol() -> None:
    for preset in ("gys", "lim2014"):
        for protocol in ASYMPTOTIC + ["bb84-decoy-finite"]:
            params = make_parameters(protocol, preset)
            assert params.eta_detector in (0.045, 0.1)
