"""QRNG-fed emulation: the parties' choices come from a randomness source, a failing source stops
the run, and without a source the seeded generator's path is unchanged (byte for byte: the golden
outputs ``emulate-bb84-decoy.json`` and ``emulate-bbm92.json`` in tests/golden)."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import numpy as np
import pytest
from typer.testing import CliRunner

from qit4n.cli import app
from qit4n.emulate import run_link
from qit4n.emulate.bb84 import emulate_bb84
from qit4n.emulate.entangled_pairs import EntangledLinkSettings, emulate_bbm92
from qit4n.emulate.settings import LinkSettings
from qit4n.errors import RandomnessError
from qit4n.qrng import Fault, FaultKind, HomodyneSource
from qit4n.qrng.source import FileSource, QrngSource


def _file_source(tmp_path, num_bytes: int, seed: int) -> tuple[FileSource, bytes]:
    payload = np.random.default_rng(seed).bytes(num_bytes)
    path = tmp_path / f"random-{seed}.bin"
    path.write_bytes(payload)
    return FileSource(path), payload


def test_alice_choices_are_the_source_uniforms(tmp_path):
    settings = LinkSettings(eta_channel=0.1)
    pulses = 20_000
    source, payload = _file_source(tmp_path, 4 * pulses + pulses // 8 + 100_000, 1)
    records = emulate_bb84(settings, pulses, np.random.default_rng(2), choices=source)
    u = (np.frombuffer(payload[: 4 * pulses], dtype="<u4") + 0.5) / 2.0**32
    cumulative = np.concatenate([[0.0], np.cumsum(settings.probabilities)])
    intensity = np.searchsorted(cumulative, u, side="right") - 1
    inside = (u - cumulative[intensity]) / np.asarray(settings.probabilities)[intensity]
    assert np.array_equal(records.alice.intensities, intensity)
    assert np.array_equal(records.alice.bases, (inside >= settings.probability_basis_x).astype(np.uint8))
    bits = np.unpackbits(np.frombuffer(payload[4 * pulses :], dtype=np.uint8), bitorder="little")[:pulses]
    assert np.array_equal(records.alice.bits, bits)


def test_bbm92_bases_follow_the_source_and_the_physics_the_generator(tmp_path):
    settings = EntangledLinkSettings(eta_alice=0.1, eta_bob=0.1, mean_pair_number=0.1)
    first, _ = _file_source(tmp_path, 1 << 20, 3)
    second, _ = _file_source(tmp_path, 1 << 20, 4)
    a = emulate_bbm92(settings, 200_000, np.random.default_rng(5), choices=first)
    b = emulate_bbm92(settings, 200_000, np.random.default_rng(5), choices=second)
    assert np.array_equal(a.alice.slots, b.alice.slots)  # clicks are physics: same generator, same slots
    assert not np.array_equal(a.alice.bases, b.alice.bases)


def test_a_qrng_fed_link_distils_and_shows_the_source_health():
    pulses = 200_000
    source = QrngSource(HomodyneSource(), name="qrng:homodyne", seed=7)
    run = run_link("bb84-decoy", 10.0, pulses, seed=1, randomness=source)
    summary = run.as_dict()
    assert summary["keys_match"]
    state = summary["randomness"]
    assert state["source"] == "qrng:homodyne" and state["healthy"]
    assert state["bytes_delivered"] >= 4 * pulses + pulses // 8  # a 32-bit uniform and a bit per pulse
    # The intensity choices keep their probabilities: each fraction within 5 binomial sd.
    intensities = np.asarray(run.settings.probabilities)
    observed = np.array([run.statistics.sent[k] for k in range(intensities.size)]) / pulses
    assert np.all(np.abs(observed - intensities) < 5 * np.sqrt(intensities * (1 - intensities) / pulses))


def test_a_failing_qrng_stops_the_emulation_with_the_failed_test():
    fault = Fault(FaultKind.STUCK_VALUE, 100_000, value=7)
    source = QrngSource(HomodyneSource(), name="qrng:homodyne", seed=7, faults=[fault])
    with pytest.raises(RandomnessError, match="qrng:homodyne: repetition count test failed"):
        run_link("bb84-decoy", 10.0, 1_000_000, seed=1, randomness=source)


def test_default_json_has_no_randomness_entry():
    summary = run_link("bbm92", 5.0, 200_000, seed=1).as_dict()
    assert "randomness" not in summary


def test_cli_randomness_option(tmp_path):
    runner = CliRunner()
    base = ["emulate", "bbm92", "--distance-km", "5", "--pulses", "3e5", "--json"]
    ok = runner.invoke(app, [*base, "--randomness", "qrng:beam-splitter"])
    assert ok.exit_code == 0, ok.output
    payload = json.loads(ok.output)
    assert payload["randomness"]["healthy"] and payload["randomness"]["source"] == "qrng:beam-splitter"
    assert math.isfinite(payload["qber_estimate"])
    for spec, message in (
        ("qrng:homodyne,signal-loss@0", "randomness source qrng:homodyne: adaptive proportion test failed"),
        ("qrng:laser", "--randomness = 'qrng:laser': must be qrng:MODEL"),
    ):
        done = subprocess.run(
            [sys.executable, "-m", "qit4n", *base, "--randomness", spec], capture_output=True, text=True, timeout=300
        )
        assert done.returncode == 2 and done.stdout == ""
        assert done.stderr.count("\n") == 1 and message in done.stderr
