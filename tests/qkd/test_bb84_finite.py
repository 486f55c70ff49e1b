"""Unit tests of the Lim et al. 2014 finite-key model and its optimiser."""

from __future__ import annotations

import numpy as np
import pytest

from qit4n.errors import ParameterError
from qit4n.qkd import get_protocol, make_parameters
from qit4n.qkd.finite import Settings, asymptotic_key_rate, key_length, key_rate

PAPER_LOSS_DB_PER_KM = 0.2

#: A hand-picked setting in the range the paper's optimiser explores (not published values).
HAND_PICKED = {
    "intensity_signal": 0.5,
    "intensity_decoy": 0.1,
    "probability_signal": 0.7,
    "probability_decoy": 0.2,
    "probability_basis_x": 0.8,
}


def _eta(length_km) -> np.ndarray:
    return 10 ** (-PAPER_LOSS_DB_PER_KM * np.asarray(length_km, dtype=float) / 10)


def test_optimised_rate_beats_fixed_settings() -> None:
    lengths = np.array([0.0, 50.0, 100.0, 150.0])
    free = make_parameters("bb84-decoy-finite", "lim2014", {"block_size_x": 1e7})
    fixed = make_parameters("bb84-decoy-finite", "lim2014", {"block_size_x": 1e7, **HAND_PICKED})
    best = key_rate(_eta(lengths), free).key_rate_per_pulse
    hand = key_rate(_eta(lengths), fixed).key_rate_per_pulse
    assert np.all(best >= hand)
    assert np.all(best[:3] > 0.0)


def test_optimiser_agrees_with_a_dense_grid_at_one_point() -> None:
    """A brute-force grid over the five settings never finds more than the optimiser."""
    overrides = {"block_size_x": 1e6, "secrecy_per_bit": None, "epsilon_sec": 1e-10}
    params = make_parameters("bb84-decoy-finite", "lim2014", overrides)
    eta = _eta(80.0) * params.eta_detector
    best = key_rate(np.array([_eta(80.0)]), params).key_rate_per_pulse[0]
    mu1, mu2, p1, p2, q_x = np.meshgrid(
        np.linspace(0.25, 0.8, 8),
        np.linspace(0.02, 0.3, 8),
        np.linspace(0.1, 0.9, 7),
        np.linspace(0.05, 0.8, 7),
        np.linspace(0.3, 0.95, 8),
        indexing="ij",
    )
    ok = (p1 + p2 < 0.99) & (mu1 > mu2 + 2e-4)
    settings = Settings(mu1[ok], mu2[ok], np.full(ok.sum(), 2e-4), p1[ok], p2[ok], q_x[ok])
    result = key_length(
        eta, settings, params, pulses=None, block_size_x=1e6, epsilon_sec=1e-10, epsilon_cor=params.epsilon_cor
    )
    grid_best = np.max(np.maximum(result.length, 0.0) / result.pulses)
    assert best >= grid_best * 0.999
    assert best > 0.0


def test_finite_rate_grows_with_block_towards_asymptote() -> None:
    lengths = np.array([20.0, 80.0, 120.0])
    rates = [
        key_rate(_eta(lengths), make_parameters("bb84-decoy-finite", "lim2014", {"block_size_x": n})).key_rate_per_pulse
        for n in (1e5, 1e7, 1e9)
    ]
    limit = asymptotic_key_rate(_eta(lengths), make_parameters("bb84-decoy-finite", "lim2014")).key_rate_per_pulse
    assert np.all(rates[0] < rates[1])
    assert np.all(rates[1] < rates[2])
    assert np.all(rates[2] < limit)


def test_fixed_pulse_count_mode() -> None:
    params = make_parameters("bb84-decoy-finite", overrides={"pulses": 1e11})
    result = key_rate(_eta(np.array([25.0, 50.0])), params)
    assert np.allclose(result.details["pulses"], 1e11)
    assert np.all(result.key_rate_per_pulse > 0.0)
    assert np.all((result.qber > 0.0) & (result.qber < 0.5))


def test_more_pulses_more_key_per_pulse() -> None:
    eta = _eta(np.array([60.0]))
    rates = [
        key_rate(eta, make_parameters("bb84-decoy-finite", overrides={"pulses": n})).key_rate_per_pulse[0]
        for n in (1e9, 1e11, 1e13)
    ]
    assert rates[0] < rates[1] < rates[2]


def test_details_report_consistent_bounds() -> None:
    result = key_rate(_eta(np.array([50.0])), make_parameters("bb84-decoy-finite", "lim2014", {"block_size_x": 1e8}))
    details = {key: float(value[0]) for key, value in result.details.items()}
    assert details["block_size_x"] == pytest.approx(1e8, rel=1e-9)
    assert 0.0 < details["s_x1_lower"] < details["block_size_x"]
    assert 0.0 < details["phase_error_upper"] < 0.5
    assert details["intensity_signal"] > details["intensity_decoy"] + 2e-4
    assert details["probability_signal"] + details["probability_decoy"] < 1.0


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"intensity_signal": 0.1, "intensity_decoy": 0.2}, "intensity_signal"),
        ({"intensity_decoy": 1e-4}, "intensity_decoy"),
        ({"probability_signal": 0.6, "probability_decoy": 0.5}, "probability_signal"),
        ({"pulses": 10.0}, "pulses"),
        ({"epsilon_sec": 0.0}, "epsilon_sec"),
        ({"intensity_signal": 3e-4}, "intensity_signal"),
        ({"pulses": 1e9, "block_size_x": 1e6}, "block_size_x"),
        ({"epsilon_sec": 1e-9, "secrecy_per_bit": 1e-15}, "secrecy_per_bit"),
        ({"intensity_decoy": 1.6}, "intensity_decoy"),
    ],
)
def test_bad_finite_parameters_name_the_field(overrides: dict, field: str) -> None:
    with pytest.raises(ParameterError, match=field):
        make_parameters("bb84-decoy-finite", overrides=overrides)


def test_registry_finds_finite_protocol() -> None:
    spec = get_protocol("bb84-decoy-finite")
    assert spec.repeaterless
    assert "022307" in spec.reference
