"""Toeplitz extraction (same product as postprocess's hash, leftover hash length) and emulation."""

from __future__ import annotations

import numpy as np
import pytest

from qit4n.errors import ParameterError
from qit4n.postprocess import toeplitz_hash
from qit4n.qrng import (
    BeamSplitterSource,
    Fault,
    FaultKind,
    HomodyneSource,
    ToeplitzExtractor,
    emulate,
    leftover_hash_output_bits,
    samples_to_packed_bits,
    write_samples,
)


@pytest.mark.parametrize(("input_bits", "output_bits"), [(100, 37), (1000, 999), (64, 64), (130, 7), (4096, 2000)])
def test_extractor_equals_the_postprocess_toeplitz_hash(input_bits: int, output_bits: int) -> None:
    rng = np.random.default_rng(9)
    extractor = ToeplitzExtractor.from_generator(input_bits, output_bits, rng)
    block = rng.integers(0, 256, -(-input_bits // 8), dtype=np.uint8)
    ours = np.unpackbits(extractor.extract(block), bitorder="little")[:output_bits]
    bits = np.unpackbits(block, bitorder="little")[:input_bits]
    seed = np.unpackbits(extractor.seed, bitorder="little")[: extractor.seed_bits]
    assert np.array_equal(ours, toeplitz_hash(bits, seed, output_bits))


def test_leftover_hash_length_and_checks() -> None:
    assert leftover_hash_output_bits(10_000, 0.5, 2.0**-50) == 5000 - 100
    assert leftover_hash_output_bits(100, 0.1, 2.0**-50) == 0
    with pytest.raises(ParameterError, match="epsilon"):
        leftover_hash_output_bits(100, 0.5, 0.0)
    with pytest.raises(ParameterError, match="output_bits"):
        ToeplitzExtractor(input_bits=64, output_bits=65, seed=np.zeros(16, dtype=np.uint8))


def test_stream_reblocks_and_packing_keeps_the_low_bits() -> None:
    rng = np.random.default_rng(10)
    extractor = ToeplitzExtractor.from_generator(800, 300, rng)
    data = rng.integers(0, 256, 1000, dtype=np.uint8)
    outputs = list(extractor.stream(np.array_split(data, 7)))
    assert len(outputs) == 10 and np.array_equal(outputs[3], extractor.extract(data[300:400]))
    packed = samples_to_packed_bits(np.array([1, 2, 3], dtype=np.uint8), 2)
    assert np.unpackbits(packed, bitorder="little")[:6].tolist() == [1, 0, 0, 1, 1, 1]


def test_emulation_is_reproducible_and_faults_act(tmp_path) -> None:
    source = HomodyneSource()
    first = np.concatenate(list(emulate(source, 5000, np.random.default_rng(1), chunk_samples=1000)))
    again = np.concatenate(list(emulate(source, 5000, np.random.default_rng(1), chunk_samples=1000)))
    assert np.array_equal(first, again) and first.dtype == np.uint8
    stuck = np.concatenate(
        list(emulate(source, 5000, np.random.default_rng(1), faults=[Fault(FaultKind.STUCK_BIT, 2000, 1, bit=3)]))
    )
    assert np.all(stuck[2000:] & 8) and not np.all(stuck[:2000] & 8)
    bits = np.concatenate(list(emulate(BeamSplitterSource(eta=(0.6, 0.3)), 20_000, np.random.default_rng(2))))
    assert set(np.unique(bits)) <= {0, 1} and bits.mean() < 0.45
    path = tmp_path / "raw.bin"
    assert write_samples(path, emulate(source, 1234, np.random.default_rng(3))) == 1234
    assert path.stat().st_size == 1234
    with pytest.raises(ParameterError, match="bit"):
        list(emulate(source, 10, np.random.default_rng(1), faults=[Fault(FaultKind.STUCK_BIT, 0, 1, bit=9)]))
