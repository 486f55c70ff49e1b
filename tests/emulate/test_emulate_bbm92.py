"""The BBM92 emulator: records, seeds, noiseless links, settings from presets, errors, the CLI."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from typer.testing import CliRunner

from qit4n.cli import app
from qit4n.emulate import (
    BASIS_X,
    EntangledLinkSettings,
    coincidence_statistics,
    emulate_bbm92,
    entangled_link_settings,
    run_link,
)
from qit4n.errors import ParameterError
from qit4n.physics.source import PairStatistics
from qit4n.qkd.bbm92 import BBM92Parameters

runner = CliRunner()

#: Detectors good enough for a key from a few million slots.
_GOOD_DETECTORS = {"eta_detector": 0.5, "mean_pair_number": 0.1}


def test_records_are_sorted_consistent_and_seeded():
    settings = EntangledLinkSettings(
        eta_alice=0.2, eta_bob=0.05, mean_pair_number=0.3, probability_basis_x=0.8, dark_count_probability_alice=1e-4
    )
    first = emulate_bbm92(settings, 500_000, np.random.default_rng(5))
    second = emulate_bbm92(settings, 500_000, np.random.default_rng(5))
    other = emulate_bbm92(settings, 500_000, np.random.default_rng(6))
    for party in ("alice", "bob"):
        a, b = getattr(first, party), getattr(second, party)
        assert a.slots.shape == a.bases.shape == a.bits.shape == a.double_clicks.shape
        assert np.all(np.diff(a.slots) > 0) and a.slots.max() < 500_000
        assert np.array_equal(a.slots, b.slots) and np.array_equal(a.bits, b.bits) and np.array_equal(a.bases, b.bases)
        assert set(np.unique(a.bits)) <= {0, 1}
        fraction_x = np.mean(a.bases == BASIS_X)
        assert abs(fraction_x - 0.8) < 5 * np.sqrt(0.16 / a.slots.size)
    assert not np.array_equal(first.alice.slots, other.alice.slots)


def test_lossless_noiseless_link_errs_only_on_double_clicks():
    """With eta = 1, no dark counts and no misalignment, every error of a sifted coincidence comes
    from a multi-pair double click (a random bit); single-click coincidences have QBER 0, and the
    overall QBER is lambda^2 / (2 (1 + lambda)^2) / Q = lambda / (2 (2 + lambda)) (thermal)."""
    settings = EntangledLinkSettings(
        eta_alice=1.0,
        eta_bob=1.0,
        mean_pair_number=0.2,
        dark_count_probability_alice=0.0,
        dark_count_probability_bob=0.0,
        misalignment_error=0.0,
    )
    records = emulate_bbm92(settings, 200_000, np.random.default_rng(1))
    alice, bob = records.alice, records.bob
    assert np.array_equal(alice.slots, bob.slots)
    sifted = alice.bases == bob.bases
    single = ~alice.double_clicks & ~bob.double_clicks
    assert np.count_nonzero(sifted & single) > 10_000
    assert np.count_nonzero((alice.bits != bob.bits) & sifted & single) == 0
    stats = coincidence_statistics(records)
    lam = 0.1
    expected = lam / (2 * (2 + lam))
    assert abs(stats.qber - expected) < 5 * np.sqrt(expected / stats.sifted.sum())


def test_single_pairs_without_noise_give_qber_zero():
    settings = EntangledLinkSettings(
        eta_alice=1.0,
        eta_bob=0.5,
        mean_pair_number=1e-4,
        dark_count_probability_alice=0.0,
        dark_count_probability_bob=0.0,
        misalignment_error=0.0,
    )
    stats = coincidence_statistics(emulate_bbm92(settings, 2_000_000, np.random.default_rng(2)))
    assert stats.sifted.sum() > 20 and stats.qber == 0.0


def test_mismatched_bases_are_uncorrelated():
    settings = EntangledLinkSettings(eta_alice=0.5, eta_bob=0.5, mean_pair_number=0.1, misalignment_error=0.0)
    records = emulate_bbm92(settings, 1_000_000, np.random.default_rng(3))
    _, ia, ib = np.intersect1d(records.alice.slots, records.bob.slots, return_indices=True)
    mismatched = records.alice.bases[ia] != records.bob.bases[ib]
    differ = np.mean(records.alice.bits[ia][mismatched] != records.bob.bits[ib][mismatched])
    assert abs(differ - 0.5) < 5 * np.sqrt(0.25 / mismatched.sum())


def test_settings_split_the_fibre_at_the_source():
    params = BBM92Parameters(eta_detector=0.5, mean_pair_number=0.2, source_position=0.25)
    settings = entangled_link_settings(params, 1e-4)
    assert settings.eta_alice == pytest.approx(0.5 * 0.1) and settings.eta_bob == pytest.approx(0.5 * 1e-3)
    at_alice = entangled_link_settings(BBM92Parameters(source_position=0.0, pair_statistics="poisson"), 1e-3)
    assert at_alice.eta_alice == pytest.approx(0.1) and at_alice.pair_statistics is PairStatistics.POISSON
    optimised = entangled_link_settings(BBM92Parameters(), 1e-2)
    assert 0.01 < optimised.mean_pair_number < 1.0


def test_run_link_distils_a_key_and_keeps_the_bb84_json_keys():
    bb84 = run_link("bb84-decoy", 10.0, 300_000, seed=1).as_dict()
    run = run_link("bbm92", 10.0, 3_000_000, overrides=_GOOD_DETECTORS, seed=1)
    summary = run.as_dict()
    assert set(bb84) <= set(summary)
    assert summary["keys_match"] is True and summary["final_key_bits"] > 0
    assert summary["sifted_x_bits"] + summary["sifted_z_bits"] == summary["bits"]
    assert summary["detections"] == run.statistics.coincidences
    assert 0.0 < summary["analytic_finite_key_per_pulse"] < summary["analytic_asymptotic_key_per_pulse"]
    json.dumps(summary)


def test_device_values_come_from_the_preset():
    run = run_link(
        "bbm92", 0.0, 1_000_000, preset="gys", overrides={"mean_pair_number": 0.1, "source_position": 0.0}, seed=2
    )
    assert run.settings.eta_alice == pytest.approx(0.045) and run.settings.eta_bob == pytest.approx(0.045)
    assert run.settings.misalignment_error == 0.033 and run.settings.repetition_rate_hz == 2e6


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"mean_pair_number": -0.1}, "mean_pair_number = -0.1"),
        ({"source_position": 2.0}, "source_position = 2"),
        ({"pair_statistics": "laser"}, "pair_statistics"),
        ({"intensity_signal": 0.5}, "intensity_signal"),
    ],
)
def test_bad_source_overrides_name_the_field(overrides, field):
    with pytest.raises(ParameterError, match=field):
        run_link("bbm92", 10.0, 100_000, overrides=overrides)


def test_bad_slots_and_unsupported_options_raise():
    settings = EntangledLinkSettings(eta_alice=0.1, eta_bob=0.1)
    with pytest.raises(ParameterError, match="pulses = 0"):
        emulate_bbm92(settings, 0, np.random.default_rng(0))
    from qit4n.scenario import ClassicalChannel

    with pytest.raises(ParameterError, match="classical_channels"):
        run_link(
            "bbm92", 10.0, 100_000, classical_channels=[ClassicalChannel(wavelength_nm=1530.0, launch_power_dbm=-20.0)]
        )


def test_cli_emulate_bbm92_json_and_table():
    args = [
        "emulate",
        "bbm92",
        "--distance-km",
        "10",
        "--pulses",
        "3e6",
        "--seed",
        "1",
        "--set",
        "eta_detector=0.5",
        "--set",
        "mean_pair_number=0.1",
    ]
    result = runner.invoke(app, [*args, "--postprocess", "ldpc", "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["protocol"] == "bbm92" and summary["keys_match"] is True
    assert summary["mean_pair_number"] == 0.1 and summary["source_position"] == 0.5
    table = runner.invoke(app, args)
    assert table.exit_code == 0, table.output
    assert "Ma-Fung-Lo" in table.output and "final key bits" in table.output


def test_cli_bad_source_position_exits_2_without_traceback():
    completed = subprocess.run(
        [
            sys.executable,
            "-c",
            "from qit4n.cli import main; main()",
            "emulate",
            "bbm92",
            "--distance-km",
            "10",
            "--pulses",
            "1e5",
            "--set",
            "source_position=1.5",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 2
    assert "source_position = 1.5" in completed.stderr and "must be <= 1" in completed.stderr
    assert "Traceback" not in completed.stderr
