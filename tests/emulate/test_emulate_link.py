"""The emulator's records, determinism, dead time, photon numbers and settings validation."""

from __future__ import annotations

import numpy as np
import pytest

from qit4n.emulate import (
    BASIS_X,
    LinkSettings,
    emulate_bb84,
    expected_statistics,
    link_settings,
    observed_statistics,
    run_link,
)
from qit4n.errors import ParameterError
from qit4n.qkd import make_parameters


def test_records_are_consistent_and_seeded():
    settings = LinkSettings(eta_channel=0.2, probability_basis_x=0.8)
    first = emulate_bb84(settings, 200_000, np.random.default_rng(5))
    second = emulate_bb84(settings, 200_000, np.random.default_rng(5))
    assert np.array_equal(first.bob.pulses, second.bob.pulses) and np.array_equal(first.bob.bits, second.bob.bits)
    alice, bob = first.alice, first.bob
    assert alice.bases.shape == alice.intensities.shape == alice.bits.shape == (200_000,)
    assert np.all(np.diff(bob.pulses) > 0) and bob.pulses.max() < 200_000
    assert set(np.unique(alice.intensities)) <= {0, 1, 2}
    fraction_x = np.mean(alice.bases == BASIS_X)
    assert abs(fraction_x - 0.8) < 5 * np.sqrt(0.8 * 0.2 / 200_000)


def test_photon_numbers_are_poisson_per_intensity():
    settings = LinkSettings(eta_channel=0.5)
    records = emulate_bb84(settings, 400_000, np.random.default_rng(6), photon_numbers=True)
    for index, mu in enumerate(settings.intensities):
        numbers = records.photon_numbers[records.alice.intensities == index]
        assert abs(numbers.mean() - mu) < 5 * np.sqrt(max(mu, 1e-9) / numbers.size) + 1e-12
        assert abs(numbers.var() - mu) < 0.02 + 1e-12


def test_dead_time_saturates_as_non_paralysable():
    """r_registered = r / (1 + r tau) for a non-paralysable receiver (Rogers et al. 2007)."""
    settings = LinkSettings(eta_channel=1.0, eta_detector=0.5, dead_time_s=20e-9, repetition_rate_hz=1e9)
    records = emulate_bb84(settings, 500_000, np.random.default_rng(7))
    raw = settings.probabilities @ (1.0 - np.exp(-settings.eta_total * np.asarray(settings.intensities)))
    expected = raw / (1.0 + raw * settings.dead_gates)
    measured = records.bob.pulses.size / records.num_pulses
    assert abs(measured - expected) < 0.02 * expected
    assert np.all(np.diff(records.bob.pulses) > settings.dead_gates)


def test_double_clicks_become_random_bits():
    settings = LinkSettings(eta_channel=1.0, eta_detector=1.0, intensities=(3.0, 1.0, 0.0), misalignment_error=0.3)
    records = emulate_bb84(settings, 50_000, np.random.default_rng(8))
    assert records.bob.double_clicks.mean() > 0.1
    stats = observed_statistics(records)
    _, expected_qber = expected_statistics(settings)
    for index in range(2):
        sigma = np.sqrt(expected_qber[index] * (1 - expected_qber[index]) / stats.sifted_x[index])
        assert abs(stats.qber_x[index] - expected_qber[index]) < 4.5 * sigma


def test_settings_from_protocol_parameters():
    params = make_parameters("bb84-decoy", None, {"intensity_signal": 0.6, "intensity_decoy": 0.05})
    settings = link_settings(params, 0.1)
    assert settings.intensities == (0.6, 0.05, 0.0)
    assert settings.eta_detector == params.eta_detector
    defaults = link_settings(make_parameters("bb84-decoy"), 0.1)
    assert defaults.intensities == (0.5, 0.1, 0.0)


def test_bad_settings_name_the_field():
    with pytest.raises(ParameterError, match="intensities"):
        link_settings(make_parameters("bb84-decoy", None, {"intensity_signal": 0.1, "intensity_decoy": 0.2}), 0.1)
    with pytest.raises(ParameterError, match="pulses = 5"):
        run_link("bb84-decoy", 10.0, 5)
    with pytest.raises(ParameterError, match="distance_km = -1"):
        run_link("bb84-decoy", -1.0, 100_000)


def test_raman_noise_from_classical_channels_reaches_the_detectors():
    from qit4n.physics.raman import raman_noise_probability
    from qit4n.scenario import ClassicalChannel

    channels = [ClassicalChannel(wavelength_nm=1530.0, launch_power_dbm=-20.0)]
    run = run_link("bb84-decoy", 20.0, 400_000, seed=3, classical_channels=channels)
    params = make_parameters("bb84-decoy")
    expected = float(
        raman_noise_probability(channels, 20.0, eta_detector=params.eta_detector, receiver_loss_db=10 * np.log10(2.0))
    )
    assert run.settings.noise_probability == pytest.approx(expected)
    vacuum_gain = 1.0 - ((1.0 - params.dark_count_probability) * (1.0 - expected)) ** 2
    assert abs(run.statistics.gain[2] - vacuum_gain) < 5 * np.sqrt(vacuum_gain / run.statistics.sent[2])


@pytest.mark.parametrize("mean", [1e-7, 0.05, 2.0])
def test_detected_photon_numbers_are_zero_truncated_poisson(mean):
    """E[N | N >= 1] = mean / (1 - exp(-mean)) for a Poisson N (variance from the same law)."""
    from qit4n.emulate.bb84 import zero_truncated_poisson

    counts = zero_truncated_poisson(np.full(200_000, mean), np.random.default_rng(11))
    expected = mean / -np.expm1(-mean)
    second = (mean + mean**2) / -np.expm1(-mean)
    sigma = np.sqrt(max(second - expected**2, 1e-12) / counts.size)
    assert counts.min() >= 1
    assert abs(counts.mean() - expected) < 5 * sigma + 1e-9
