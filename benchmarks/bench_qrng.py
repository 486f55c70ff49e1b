"""QRNG benchmarks: SP 800-90B assessment, online health tests, Toeplitz extraction.

Targets (issue 17): the non-IID assessment of 1e6 8-bit samples within 2x of NIST's reference
tool's wall time on the same machine (its time is an input, ``--reference-seconds``: build
usnistgov/SP800-90B_EntropyAssessment and time ``ea_non_iid -q FILE 8`` on the file this script
writes with ``--write-data``); health tests >= 1 Gbit/s per core; extraction >= 100 Mbit/s per
core at 1e7-bit blocks. Baselines measured in the same run: the health tests as vectorised numpy
(run lengths and window counts from ``numpy.diff``), and the Toeplitz hash on unpacked bits
(:func:`qit4n.postprocess.toeplitz_hash`). Times are CPU seconds of this process (steadier on a
shared machine) unless marked wall.

Run: ``.venv/bin/python benchmarks/bench_qrng.py [--quick] [--reference-seconds S] [--write-data FILE]``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from _timing import best_seconds
from qit4n.postprocess import toeplitz_hash
from qit4n.qrng import (
    HealthMonitor,
    HomodyneSource,
    ToeplitzExtractor,
    assess_non_iid,
    emulate,
    leftover_hash_output_bits,
    repetition_count_cutoff,
)


def numpy_health_alarms(samples: np.ndarray, rct_cutoff: int, apt_cutoff: int, window: int) -> int:
    """Baseline: both tests vectorised over a whole array (not online)."""
    change = np.flatnonzero(np.diff(samples.astype(np.int16)) != 0)
    runs = np.diff(np.concatenate(([-1], change, [samples.size - 1])))
    whole = samples[: samples.size // window * window].reshape(-1, window)
    counts = (whole == whole[:, :1]).sum(axis=1)
    return int(np.sum(runs >= rct_cutoff) + np.sum(counts >= apt_cutoff))


def bench_assessment(samples: int, reference_seconds: float | None) -> None:
    data = np.concatenate(list(emulate(HomodyneSource(), samples, np.random.default_rng(1))))
    assess_non_iid(data[:20_000], 8)  # compile
    start_wall, start_cpu = time.perf_counter(), time.process_time()
    result = assess_non_iid(data, 8)
    wall, cpu = time.perf_counter() - start_wall, time.process_time() - start_cpu
    print(f"non-IID assessment, {samples:.0e} 8-bit samples: {wall:.2f} s wall, {cpu:.2f} s CPU")
    print(f"  H_I = {result.h_initial:.4f} bits per sample")
    if reference_seconds:
        ratio = wall / reference_seconds
        print(f"  reference tool {reference_seconds:.2f} s wall: ratio ours/reference = {ratio:.2f} (target <= 2)")


def bench_health_one(data: np.ndarray, bits: int, entropy: float) -> None:
    monitor = HealthMonitor(entropy_bits=entropy, bits_per_sample=bits)
    monitor.feed(data[:1000])
    chunks = np.array_split(data, 16)
    ours = best_seconds(lambda: [monitor.feed(c) for c in chunks], 3, cpu=True)
    rct = repetition_count_cutoff(entropy)
    baseline = best_seconds(lambda: numpy_health_alarms(data, rct, monitor.apt_cutoff, monitor.window), 3, cpu=True)
    print(
        f"health tests, {bits}-bit samples: {data.size * bits / ours / 1e9:.2f} Gbit/s per core (target >= 1), "
        f"numpy baseline {data.size * bits / baseline / 1e9:.2f} Gbit/s, speed-up {baseline / ours:.1f}x"
    )


def bench_health(samples: int) -> None:
    rng = np.random.default_rng(2)
    for bits, entropy in ((8, 6.0), (1, 0.9)):
        bench_health_one(rng.integers(0, 1 << bits, samples, dtype=np.uint8), bits, entropy)


def bench_extraction(block_bits: int, raw_rate_bps: float) -> None:
    rng = np.random.default_rng(3)
    entropy_per_bit = 0.8
    output_bits = leftover_hash_output_bits(block_bits, entropy_per_bit, 2.0**-100)
    extractor = ToeplitzExtractor.from_generator(block_bits, output_bits, rng)
    block = rng.integers(0, 256, block_bits // 8, dtype=np.uint8)
    extractor.extract(block)
    ours = best_seconds(lambda: extractor.extract(block), 3, cpu=True)
    bits = np.unpackbits(block, bitorder="little")
    seed = np.unpackbits(extractor.seed, bitorder="little")[: extractor.seed_bits]
    baseline = best_seconds(lambda: toeplitz_hash(bits, seed, output_bits), 3, cpu=True)
    print(
        f"Toeplitz extraction, {block_bits:.0e}-bit blocks at {entropy_per_bit} bits of min-entropy per bit, "
        f"epsilon 2^-100: {block_bits / ours / 1e6:.0f} Mbit/s in, {output_bits / ours / 1e6:.0f} Mbit/s out per core "
        f"(target >= 100 in); unpacked-bit baseline {block_bits / baseline / 1e6:.0f} Mbit/s in"
    )
    cores_needed = raw_rate_bps / (block_bits / ours)
    extracted_bps = raw_rate_bps * output_bits / block_bits
    print(
        f"  a {raw_rate_bps / 1e9:.0f} Gbit/s raw device gives {extracted_bps / 1e9:.2f} Gbit/s extracted "
        f"and needs {cores_needed:.1f} cores at this speed"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller inputs")
    parser.add_argument("--reference-seconds", type=float, default=None, help="ea_non_iid wall time on this machine")
    parser.add_argument("--write-data", default=None, help="write the 1e6 8-bit samples assessed here to this file")
    args = parser.parse_args()
    samples = 100_000 if args.quick else 1_000_000
    if args.write_data:
        data = np.concatenate(list(emulate(HomodyneSource(), samples, np.random.default_rng(1))))
        data.tofile(args.write_data)
    bench_assessment(samples, args.reference_seconds)
    bench_health(1 << (22 if args.quick else 25))
    source = HomodyneSource()
    bench_extraction(1_000_000 if args.quick else 10_000_000, 1e9 * source.bits_per_sample)


if __name__ == "__main__":
    main()
