"""Repeaterless bounds, maximal distance, and invariants of the BB84 family checked with hypothesis."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import brentq

from qit4n.errors import ParameterError
from qit4n.physics.fibre import fibre_transmittance
from qit4n.qkd import get_protocol, make_parameters
from qit4n.qkd.distance import max_distance_km
from qit4n.qkd.plob import plob_bound
from qit4n.qkd.tgw import tgw_bound

ASYMPTOTIC = ["bb84", "bb84-decoy", "bb84-decoy-inf"]


def test_tgw_is_never_below_plob() -> None:
    eta = np.linspace(0.0, 0.999, 1000)
    assert np.all(tgw_bound(eta) >= plob_bound(eta))


@pytest.mark.parametrize("bound", [plob_bound, tgw_bound])
def test_bounds_reject_transmittance_outside_unit_interval(bound) -> None:
    with pytest.raises(ParameterError, match="eta_channel"):
        bound(np.array([0.5, 1.5]))


def test_bounds_report_no_qber() -> None:
    for name in ("plob", "tgw"):
        result = get_protocol(name).evaluate(
            np.array([0.1]), make_parameters(name, overrides={"repetition_rate_hz": 1e6})
        )
        assert result.qber is None
        assert result.key_rate_bps[0] == pytest.approx(result.key_rate_per_pulse[0] * 1e6)


def test_max_distance_agrees_with_brentq() -> None:
    spec = get_protocol("bb84-decoy-inf")
    params = make_parameters("bb84-decoy-inf", "gys", {"intensity_signal": 0.5})

    def rate(length_km: float) -> float:
        eta = fibre_transmittance(np.array([length_km]), params.loss_db_per_km)
        # The unclipped rate changes sign; the tiny offset makes the clipped one do so too.
        return spec.evaluate(eta, params).key_rate_per_pulse[0] - 1e-300

    reference = brentq(rate, 50.0, 250.0, xtol=1e-6)
    assert max_distance_km(spec, params) == pytest.approx(reference, abs=2e-3)


def test_max_distance_none_without_key_at_zero_length() -> None:
    params = make_parameters("bb84-decoy", overrides={"misalignment_error": 0.2})
    assert max_distance_km(get_protocol("bb84-decoy"), params) is None


def test_max_distance_unbounded_cases() -> None:
    assert max_distance_km(get_protocol("plob"), make_parameters("plob")) == math.inf
    lossless = make_parameters("bb84", overrides={"loss_db_per_km": 0.0})
    assert max_distance_km(get_protocol("bb84"), lossless) == math.inf


def test_max_distance_respects_cap() -> None:
    capped = max_distance_km(get_protocol("tgw"), make_parameters("tgw"), max_length_km=500.0)
    assert capped == pytest.approx(500.0, abs=1e-2)


receivers = st.fixed_dictionaries(
    {
        "eta_detector": st.floats(0.01, 1.0),
        "dark_count_probability": st.floats(0.0, 1e-4),
        "misalignment_error": st.floats(0.0, 0.1),
        "error_correction_efficiency": st.floats(1.0, 1.5),
        "afterpulse_probability": st.floats(0.0, 0.1),
    }
)


@settings(max_examples=40, deadline=None)
@given(receiver=receivers, protocol=st.sampled_from(ASYMPTOTIC))
def test_rate_non_increasing_with_distance(receiver: dict, protocol: str) -> None:
    params = make_parameters(protocol, overrides=receiver)
    eta = fibre_transmittance(np.linspace(0.0, 300.0, 301), params.loss_db_per_km)
    rate = get_protocol(protocol).evaluate(eta, params).key_rate_per_pulse
    assert np.all(np.diff(rate) <= 1e-12 * np.maximum(rate[:-1], 1e-300))


@settings(max_examples=40, deadline=None)
@given(receiver=receivers, protocol=st.sampled_from(ASYMPTOTIC))
def test_rate_below_plob_and_qber_in_range(receiver: dict, protocol: str) -> None:
    params = make_parameters(protocol, overrides=receiver)
    eta_channel = np.geomspace(1.0, 1e-8, 60)
    result = get_protocol(protocol).evaluate(eta_channel, params)
    # Compare per pulse with the capacity of the whole link, detector included.
    assert np.all(result.key_rate_per_pulse <= plob_bound(np.minimum(eta_channel * params.eta_detector, 1.0)))
    assert np.all((result.qber >= 0.0) & (result.qber <= 0.5))


@settings(max_examples=6, deadline=None)
@given(
    misalignment=st.floats(0.0, 0.03),
    length_km=st.floats(0.0, 100.0),
)
def test_finite_key_below_its_asymptote_and_plob(misalignment: float, length_km: float) -> None:
    from qit4n.qkd.finite import asymptotic_key_rate, key_rate

    params = make_parameters("bb84-decoy-finite", "lim2014", {"block_size_x": 1e6, "misalignment_error": misalignment})
    eta = fibre_transmittance(np.array([length_km]), params.loss_db_per_km)
    finite = key_rate(eta, params)
    limit = asymptotic_key_rate(eta, params).key_rate_per_pulse
    assert finite.key_rate_per_pulse[0] <= limit[0]
    assert finite.key_rate_per_pulse[0] <= plob_bound(eta * params.eta_detector)[0]
    assert 0.0 <= finite.qber[0] <= 0.5
