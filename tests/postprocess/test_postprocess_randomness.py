"""QRNG-fed post-processing: the pre-shared authentication key and the privacy-amplification seeds
come from a randomness source; a failing source stops the session; without one the generator path is
unchanged (byte for byte: the golden output ``postprocess-cascade.json`` in tests/golden)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from qit4n.errors import RandomnessError
from qit4n.postprocess.amplification import MODULAR, TOEPLITZ, amplify
from qit4n.postprocess.bits import random_bits
from qit4n.postprocess.channel import PublicChannel
from qit4n.postprocess.pipeline import INITIAL_AUTH_KEY_BITS, PipelineSettings, Session, distill_simulated
from qit4n.qrng import Fault, FaultKind, HomodyneSource
from qit4n.qrng.source import FileSource, QrngSource


def _file(tmp_path, payload: bytes, name: str = "random.bin") -> FileSource:
    path = tmp_path / name
    path.write_bytes(payload)
    return FileSource(path)


def test_the_pre_shared_key_is_the_source_bits(tmp_path):
    payload = np.random.default_rng(1).bytes(INITIAL_AUTH_KEY_BITS // 8)
    settings = PipelineSettings()
    session = Session.start(np.random.default_rng(0), settings, seeds=_file(tmp_path, payload))
    bits = np.unpackbits(np.frombuffer(payload, dtype=np.uint8), bitorder="little")
    hash_key_bits = 64 * settings.auth_hashes  # taken first for the transcript hashes
    pool = session.alice_auth.pool
    assert np.array_equal(pool.take(pool.available_bits), bits[hash_key_bits:])


def test_the_amplification_seed_is_the_source_bytes(tmp_path):
    key = random_bits(4096, np.random.default_rng(2))
    seed_bits = TOEPLITZ.seed_bits(key.size, 1000)
    payload = np.random.default_rng(3).bytes((seed_bits + 7) // 8)
    alice, bob = amplify(
        key, key.copy(), 1000, TOEPLITZ, PublicChannel(), np.random.default_rng(0), seeds=_file(tmp_path, payload)
    )
    expected = TOEPLITZ.apply(key, np.frombuffer(payload, dtype=np.uint8), seed_bits, 1000)
    assert np.array_equal(alice, expected) and np.array_equal(bob, expected)


def test_a_qrng_fed_pipeline_distils_and_reports_the_source_health():
    source = QrngSource(HomodyneSource(), name="qrng:homodyne", seed=5, block_samples=1 << 16)
    result = distill_simulated(100_000, 0.02, PipelineSettings(), seed=7, seeds=source)
    assert result.keys_match and result.net_key_bits > 0
    state = result.as_dict()["randomness"]
    assert state["healthy"] and state["source"] == "qrng:homodyne"
    # Exactly the pre-shared key and one modular-hashing seed, nothing from the generator.
    seed_bits = MODULAR.seed_bits(result.reconciliation.alice_key.size, result.amplified_bits)
    assert state["bytes_delivered"] == INITIAL_AUTH_KEY_BITS // 8 + (seed_bits + 7) // 8


def test_a_failing_source_stops_the_session_with_the_failed_test(tmp_path):
    with pytest.raises(RandomnessError, match="repetition count test failed"):
        distill_simulated(10_000, 0.02, PipelineSettings(), seed=1, seeds=_file(tmp_path, bytes(4096)))
    enough_for_the_pool_only = np.random.default_rng(4).bytes(INITIAL_AUTH_KEY_BITS // 8)
    with pytest.raises(RandomnessError, match="exhausted after 512 bytes"):
        distill_simulated(10_000, 0.02, PipelineSettings(), seed=1, seeds=_file(tmp_path, enough_for_the_pool_only))
    stuck = QrngSource(HomodyneSource(), seed=5, faults=[Fault(FaultKind.STUCK_VALUE, 0, value=3)])
    with pytest.raises(RandomnessError, match="repetition count test"):
        distill_simulated(10_000, 0.02, PipelineSettings(), seed=1, seeds=stuck)


def test_default_result_has_no_randomness_entry():
    assert "randomness" not in distill_simulated(10_000, 0.02, PipelineSettings(), seed=1).as_dict()


def test_cli_randomness_from_a_file(tmp_path):
    good = tmp_path / "good.bin"
    good.write_bytes(np.random.default_rng(6).bytes(1 << 16))
    base = [sys.executable, "-m", "qit4n", "postprocess", "--qber", "0.02", "--bits", "20000", "--json"]
    done = subprocess.run([*base, "--randomness", f"file:{good}"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert '"source": "file:' in done.stdout and '"healthy": true' in done.stdout
    missing = tmp_path / "missing.bin"
    done = subprocess.run([*base, "--randomness", f"file:{missing}"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "--randomness = 'file:" in done.stderr


def test_the_table_output_shows_the_source_health(cli_runner):
    from qit4n.cli import app

    result = cli_runner.invoke(
        app, ["postprocess", "--qber", "0.02", "--bits", "20000", "--randomness", "qrng:homodyne"]
    )
    assert result.exit_code == 0, result.output
    assert "qrng:homodyne" in result.output and "randomness healthy" in result.output
