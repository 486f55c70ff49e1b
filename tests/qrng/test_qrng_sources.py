"""QRNG-fed randomness sources: the health tests stop them, the extractor's output is uniform, specs parse.

The health-test cutoffs are those of SP 800-90B section 4.4 (NIST SP 800-90B, 2018) with the feeding
false-positive rate alpha = 2^-40: for the homodyne model's 6.73 bits per sample the repetition
count cutoff is 1 + ceil(40 / 6.73) = 7.
"""

from __future__ import annotations

import math
import os
import threading

import numpy as np
import pytest

from qit4n.errors import InputError, ParameterError, RandomnessError
from qit4n.qrng import Fault, FaultKind, HomodyneSource, PhaseNoiseSource
from qit4n.qrng.source import FileSource, QrngSource, open_source
from qit4n.randomness import RandomnessSource, random_bits, uniforms


def test_a_healthy_qrng_delivers_uniform_bytes_and_reports_its_health():
    source = QrngSource(HomodyneSource(), name="qrng:homodyne", seed=3, block_samples=1 << 16)
    assert isinstance(source, RandomnessSource)
    data = np.frombuffer(source.random_bytes(400_000), dtype=np.uint8)
    counts = np.bincount(data, minlength=256)
    # Chi-square with 255 degrees of freedom: mean 255, sd 22.6; 6 sd either side fails a biased extractor.
    chi2 = float(((counts - data.size / 256) ** 2 / (data.size / 256)).sum())
    assert 255 - 6 * math.sqrt(510) < chi2 < 255 + 6 * math.sqrt(510)
    state = source.health()
    assert state.healthy and state.bytes_delivered == 400_000 and state.failed_test is None
    # Extractor output per raw bit is the leftover-hash length: m / n close to H / 8 = 6.73 / 8.
    assert source.extractor.output_bits / source.extractor.input_bits == pytest.approx(6.7336 / 8, abs=1e-3)


@pytest.mark.parametrize(
    ("fault", "test"),
    [
        (Fault(FaultKind.STUCK_VALUE, 70_000, value=7), "repetition count test"),
        (Fault(FaultKind.SIGNAL_LOSS, 70_000), "adaptive proportion test"),
        (Fault(FaultKind.STUCK_BIT, 70_000, value=0, bit=0), "bit-plane repetition test"),
    ],
)
def test_a_failing_qrng_stops_and_names_the_failed_test(fault, test):
    source = QrngSource(HomodyneSource(), name="qrng:homodyne", seed=4, faults=[fault], block_samples=1 << 15)
    delivered = source.random_bytes(10_000)  # from blocks before the fault
    assert len(delivered) == 10_000
    with pytest.raises(RandomnessError, match=f"qrng:homodyne: {test} failed at raw sample") as caught:
        source.random_bytes(200_000)
    assert caught.value.test == test and caught.value.source == "qrng:homodyne"
    with pytest.raises(RandomnessError):  # stays stopped
        source.random_bytes(1)
    state = source.health()
    assert not state.healthy and state.failed_test == test and state.bytes_delivered == 10_000


def test_file_source_reads_in_order_then_reports_exhaustion(tmp_path):
    payload = np.random.default_rng(5).bytes(10_000)
    path = tmp_path / "random.bin"
    path.write_bytes(payload)
    source = FileSource(path)
    assert source.random_bytes(6000) + source.random_bytes(4000) == payload
    with pytest.raises(RandomnessError, match="exhausted after 10000 bytes"):
        source.random_bytes(1)
    assert source.health().failed_test == "exhausted"


def test_file_source_of_a_stuck_device_fails_the_repetition_count_test(tmp_path):
    path = tmp_path / "stuck.bin"
    path.write_bytes(bytes(1000))
    with pytest.raises(RandomnessError, match=r"repetition count test failed at raw sample 5 \(count 6 >= cutoff 6\)"):
        FileSource(path).random_bytes(10)  # full entropy claimed: C = 1 + ceil(40 / 8) = 6


def test_uniforms_and_bits_come_from_the_source_bytes(tmp_path):
    path = tmp_path / "random.bin"
    payload = np.random.default_rng(6).bytes(4096)
    path.write_bytes(payload)
    words = np.frombuffer(payload[:400], dtype="<u4")
    assert np.array_equal(uniforms(FileSource(path), 100), (words + 0.5) / 2.0**32)
    expected = np.unpackbits(np.frombuffer(payload[:2], dtype=np.uint8), bitorder="little")[:13]
    assert np.array_equal(random_bits(FileSource(path), 13), expected)


def test_open_source_reads_the_specifications(tmp_path):
    assert open_source("qrng:phase-noise", seed=1).device == PhaseNoiseSource()
    faulty = open_source("qrng:homodyne,stuck-value@5e4:7", seed=1)
    assert isinstance(faulty, QrngSource)
    with pytest.raises(RandomnessError, match="repetition count"):
        faulty.random_bytes(1_000_000)
    for bad in ("qrng:laser", "urandom", "qrng:", "file:", "qrng:homodyne,stuck@1"):
        with pytest.raises(ParameterError, match=r"^--randomness (fault )?= '.*': must"):
            open_source(bad, option="--randomness")
    with pytest.raises(InputError, match="cannot read"):
        open_source(f"file:{tmp_path / 'missing.bin'}")


def _feed_fifo(path, payload: bytes) -> threading.Thread:
    """A writer that opens the FIFO (waiting for its reader), writes ``payload`` and closes it."""

    def write() -> None:
        with open(path, "wb") as handle:
            handle.write(payload)

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    return writer


def test_file_source_reads_a_fifo_in_order_until_its_writer_closes(tmp_path):
    """Pipes as sources (issue 17): a named pipe is read from one handle, in order, across draws
    larger and smaller than the read chunk; after the writer closes, the source is exhausted."""
    fifo = tmp_path / "qrng.fifo"
    os.mkfifo(fifo)
    payload = np.random.default_rng(5).integers(0, 256, 300_000, dtype=np.uint8).tobytes()
    source = FileSource(fifo, chunk_bytes=65_536)
    writer = _feed_fifo(fifo, payload)
    drawn = source.random_bytes(1000) + source.random_bytes(200_000) + source.random_bytes(99_000)
    assert drawn == payload
    writer.join(timeout=10)
    with pytest.raises(RandomnessError, match="exhausted after 300000 bytes"):
        source.random_bytes(1)
    assert source.health().bytes_delivered == 300_000 and source.health().failed_test == "exhausted"


def test_file_source_stops_a_stuck_fifo(tmp_path):
    """A pipe that delivers one repeated byte trips the repetition count test (cutoff 1 + 40 / 8 = 6
    at alpha = 2^-40 and 8 bits per byte) and the source stops and closes its handle."""
    fifo = tmp_path / "stuck.fifo"
    os.mkfifo(fifo)
    source = FileSource(fifo, chunk_bytes=4096)
    _feed_fifo(fifo, bytes(range(256)) * 4 + b"\x07" * 1000)
    with pytest.raises(RandomnessError, match="repetition count"):
        source.random_bytes(2048)
    assert source._stream is not None and source._stream.closed


def test_file_source_checks_a_fifo_without_waiting_for_its_writer(tmp_path):
    """Constructing the source does not open the FIFO (that would wait for a writer); a directory or
    a missing path is refused at once."""
    fifo = tmp_path / "idle.fifo"
    os.mkfifo(fifo)
    assert FileSource(fifo).health().healthy
    for bad in (tmp_path, tmp_path / "missing"):
        with pytest.raises(InputError, match="cannot read"):
            FileSource(bad)
