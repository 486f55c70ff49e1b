"""Post-processing benchmarks: Cascade efficiency and throughput, privacy-amplification throughput.

Targets (issue 7): optimised Cascade efficiency <= 1.06 at QBER 1, 2, 5 % with frame error rate
<= 1e-3 and >= 5 Mbit/s of sifted key per core; privacy amplification >= 100 Mbit/s of input per
core for blocks of 1e6 to 1e8 bits; LDPC efficiency <= 1.10 at QBER 2 and 5 % on 1e5-bit frames
with frame error rate <= 1e-2 and >= 2 Mbit/s per core (CPU time of this process). Baselines
measured in the same run: the original Cascade, a scalar check-serial LDPC decoder on the same
code, and a numpy-FFT Toeplitz product.

Run: ``.venv/bin/python benchmarks/bench_postprocess.py [--quick] [--ldpc-only | --pa-only]``.
"""

from __future__ import annotations

import argparse
import time
from functools import partial

import numba
import numpy as np

from _timing import best_seconds
from qit4n.maths import binary_entropy
from qit4n.postprocess import (
    HASH_FAMILIES,
    CascadeAlice,
    CascadeBob,
    CascadeSettings,
    CascadeVariant,
    PublicChannel,
    noisy_copy,
    random_bits,
    reconcile_cascade,
)
from qit4n.postprocess.amplification import TOEPLITZ
from qit4n.postprocess.bits import count_errors
from qit4n.postprocess.cascade import reconcile_cascade_frames


def cascade_run(variant: CascadeVariant, size: int, qber: float, frames: int) -> dict[str, float]:
    efficiencies, seconds, failures, round_trips = [], 0.0, 0, []
    for seed in range(frames):
        rng = np.random.default_rng(1000 + seed)
        alice_key = random_bits(size, rng)
        bob_key = alice_key.copy()
        bob_key[rng.choice(size, size=round(qber * size), replace=False)] ^= 1
        errors = count_errors(alice_key, bob_key)
        channel = PublicChannel()
        start = time.perf_counter()
        result = reconcile_cascade(
            CascadeAlice(alice_key), CascadeBob(bob_key, CascadeSettings(variant, qber, seed)), channel
        )
        seconds += time.perf_counter() - start
        failures += not np.array_equal(result.key, alice_key)
        efficiencies.append(channel.total().disclosed_bits / (size * float(binary_entropy(errors / size))))
        round_trips.append(channel.total().round_trips)
    return {
        "efficiency": float(np.mean(efficiencies)),
        "efficiency_max": float(np.max(efficiencies)),
        "frame_error_rate": failures / frames,
        "mbps": size * frames / seconds / 1e6,
        "round_trips": float(np.mean(round_trips)),
    }


def cascade_batch_run(size: int, qber: float, frames: int) -> tuple[float, float, float]:
    """Optimised Cascade with all frames reconciled together (shared round trips), as the pipeline does."""
    rng = np.random.default_rng(3000)
    alice_keys = [random_bits(size, rng) for _ in range(frames)]
    bob_keys = []
    for key in alice_keys:
        noisy = key.copy()
        noisy[rng.choice(size, size=round(qber * size), replace=False)] ^= 1
        bob_keys.append(noisy)
    errors = sum(count_errors(a, b) for a, b in zip(alice_keys, bob_keys))
    channel = PublicChannel()
    bobs = [CascadeBob(key, CascadeSettings(CascadeVariant.OPTIMISED, qber, seed)) for seed, key in enumerate(bob_keys)]
    start = time.perf_counter()
    results = reconcile_cascade_frames([CascadeAlice(key) for key in alice_keys], bobs, channel)
    seconds = time.perf_counter() - start
    failures = sum(not np.array_equal(r.key, a) for r, a in zip(results, alice_keys))
    efficiency = channel.total().disclosed_bits / (size * frames * float(binary_entropy(errors / (size * frames))))
    return efficiency, failures / frames, size * frames / seconds / 1e6


def ldpc_run(qber: float, frames: int, size: int = 100_000) -> dict[str, float]:
    """Rate-adaptive LDPC (default settings) on ``size``-bit frames with exactly ``round(qber size)``
    errors; efficiency is leak / (size h2(realised QBER)), throughput is sifted bits per CPU second
    of this process over every frame (failed ones included), after one warm-up frame that builds
    the code."""
    from qit4n.postprocess.ldpc import reconcile_ldpc

    warm = random_bits(size, np.random.default_rng(0))
    reconcile_ldpc(
        warm, noisy_copy(warm, qber, np.random.default_rng(1)), qber, PublicChannel(), np.random.default_rng(0)
    )
    efficiencies, failures, seconds, attempts = [], 0, 0.0, []
    for seed in range(frames):
        rng = np.random.default_rng(2000 + seed)
        alice_key = random_bits(size, rng)
        bob_key = alice_key.copy()
        bob_key[rng.choice(size, size=round(qber * size), replace=False)] ^= 1
        realised = count_errors(alice_key, bob_key) / size
        start = time.process_time()
        result = reconcile_ldpc(alice_key, bob_key, qber, PublicChannel(), rng)
        seconds += time.process_time() - start
        failures += not np.array_equal(result.key, alice_key)
        efficiencies.append(result.leak_bits / (size * float(binary_entropy(realised))))
        attempts.append(result.attempts)
    return {
        "efficiency": float(np.mean(efficiencies)),
        "efficiency_max": float(np.max(efficiencies)),
        "frame_error_rate": failures / frames,
        "mbps": size * frames / seconds / 1e6,
        "attempts": float(np.mean(attempts)),
    }


_PHI_SCALE = np.float32(256.0)
_PHI_TABLE = (-np.log(np.tanh(0.5 * (np.arange(32 * 256) + 0.5) / _PHI_SCALE))).astype(np.float32)


@numba.njit(cache=True, fastmath=True)
def _scalar_layered_sum_product(posterior, sign, variable_of_edge, check_start, iterations, c2v, table, scale):
    """Baseline: check-serial layered sum-product, one check at a time, ``phi`` from a lookup table
    (the project's decoder before the block-row kernels)."""
    limit = np.float32((table.size - 1) / scale)
    width = np.max(check_start[1:] - check_start[:-1])
    incoming = np.empty(width, np.float32)
    phis = np.empty(width, np.float32)
    for _ in range(iterations):
        for check in range(check_start.size - 1):
            first, last = check_start[check], check_start[check + 1]
            total = np.float32(0.0)
            negative = sign[check] < 0
            for edge in range(first, last):
                value = posterior[variable_of_edge[edge]] - c2v[edge]
                incoming[edge - first] = value
                negative ^= value < 0
                phi = table[int(min(abs(value), limit) * scale)]
                phis[edge - first] = phi
                total += phi
            for edge in range(first, last):
                value = incoming[edge - first]
                magnitude = table[int(min(max(total - phis[edge - first], np.float32(0.0)), limit) * scale)]
                message = -magnitude if negative ^ (value < 0) else magnitude
                c2v[edge] = message
                posterior[variable_of_edge[edge]] = value + message


def ldpc_kernel_ratio(qber: float, iterations: int = 10, repeats: int = 3) -> tuple[float, float]:
    """CPU ns per edge and iteration of the block-row kernel and of the scalar baseline, on the
    1e5-bit frame's code and channel LLRs (fixed iteration count, no early stop)."""
    from qit4n.postprocess.ldpc import plan_frame
    from qit4n.postprocess.ldpc_codes import build_code, decode_sum_product, syndrome

    plan = plan_frame(100_000, qber)
    code = build_code(plan.length, plan.rate, lift=plan.lift)
    rng = np.random.default_rng(7)
    alice = random_bits(code.num_variables, rng)
    llr = (1.0 - 2.0 * noisy_copy(alice, qber, rng)) * np.log((1.0 - qber) / qber)
    target = syndrome(code, alice)
    order = np.argsort(code.check_of_edge, kind="stable")
    check_start = np.searchsorted(code.check_of_edge[order], np.arange(code.num_checks + 1))
    sign = (1.0 - 2.0 * target).astype(np.float32)

    def block_row() -> None:
        decode_sum_product(code, llr, target, iterations, patience=iterations)

    def scalar() -> None:
        _scalar_layered_sum_product(
            llr.astype(np.float32),
            sign,
            code.variable_of_edge[order],
            check_start,
            iterations,
            np.zeros(code.num_edges, np.float32),
            _PHI_TABLE,
            _PHI_SCALE,
        )

    block_row(), scalar()
    per_edge = 1e9 / (code.num_edges * iterations)
    return best_seconds(block_row, repeats, cpu=True) * per_edge, best_seconds(scalar, repeats, cpu=True) * per_edge


def ldpc_report(frames: int) -> None:
    print(
        f"LDPC (QC-PEG codes, Elkouss et al. 2009 distributions, layered sum-product), 1e5-bit frames, {frames} "
        "frames per point"
    )
    print(
        f"{'QBER':>5} {'f mean':>7} {'f max':>7} {'FER':>6} {'Mbit/s':>7} {'attempts':>8} {'kernel ns/edge':>14} "
        f"{'scalar ns/edge':>14} "
        f"{'speed-up':>8}"
    )
    for qber in (0.02, 0.05):
        run = ldpc_run(qber, frames)
        kernel, scalar = ldpc_kernel_ratio(qber)
        print(
            f"{qber:5.2f} {run['efficiency']:7.4f} {run['efficiency_max']:7.4f} {run['frame_error_rate']:6.3f} "
            f"{run['mbps']:7.2f} "
            f"{run['attempts']:8.2f} {kernel:14.2f} {scalar:14.2f} {scalar / kernel:8.2f}"
        )


def fft_toeplitz(key: np.ndarray, seed: np.ndarray, output_bits: int) -> np.ndarray:
    """Baseline: the Toeplitz product as an integer convolution by numpy's float64 FFT, parity of
    the rounded window (exact only while rounding errors stay below 1/2)."""
    size = key.size
    length = 1 << int(np.ceil(np.log2(size + seed.size)))
    product = np.fft.irfft(np.fft.rfft(key.astype(float), length) * np.fft.rfft(seed.astype(float), length), length)
    return (np.rint(product[size - 1 : size - 1 + output_bits]).astype(np.int64) & 1).astype(np.uint8)


def gmp_kronecker_toeplitz(key: np.ndarray, seed: np.ndarray, output_bits: int) -> np.ndarray:
    """Baseline: the former implementation, one GMP product with every bit spread into a field
    wide enough for any column sum (Kronecker substitution)."""
    import gmpy2

    size = key.size
    field_bytes = max(1, (size.bit_length() + 7) // 8)

    def spread(bits: np.ndarray) -> gmpy2.mpz:
        wide = np.zeros(bits.size * field_bytes, dtype=np.uint8)
        wide[::field_bytes] = bits
        return gmpy2.mpz.from_bytes(wide.tobytes(), "little")

    raw = np.frombuffer(
        (spread(key) * spread(seed)).to_bytes((size + seed.size) * field_bytes, "little"), dtype=np.uint8
    )
    return raw[(size - 1) * field_bytes : (size - 1 + output_bits) * field_bytes : field_bytes] & np.uint8(1)


def pa_report(sizes: tuple[int, ...]) -> None:
    """Input Mbit/s per CPU second of this process (output = input / 2): modular hashing and the
    additive-FFT Toeplitz product (through ``TOEPLITZ.apply``, seed packed as it crosses the channel),
    against the numpy-FFT and former GMP Kronecker Toeplitz products on the same key and seed
    (the former only up to 1e7 bits: it needs 32 bits per input bit)."""
    warm = random_bits(4096, np.random.default_rng(0))
    TOEPLITZ.apply(
        warm,
        np.packbits(random_bits(6143, np.random.default_rng(1)), bitorder="little"),
        6143,
        2048,
    )
    print("\nPrivacy amplification, input Mbit/s per CPU second (output = input / 2), best of repeats")
    print(
        f"{'bits':>10} {'modular':>8} {'toeplitz':>8} {'numpy-fft':>9} {'gmp-kron':>8} {'toep/fft':>8} {'toep/gmp':>8} "
        f"{'toep/mod':>8} {'fft exact':>9}"
    )
    for bits in sizes:
        print(_pa_row(bits, repeats=5 if bits <= 10**6 else 3 if bits <= 10**7 else 1))


def _pa_row(bits: int, repeats: int) -> str:
    rng = np.random.default_rng(bits)
    key = random_bits(bits, rng)
    output = bits // 2
    families = {name: HASH_FAMILIES.get(name) for name in ("modular", "toeplitz")}
    sizes = {name: family.seed_bits(bits, output) for name, family in families.items()}
    packed = {name: np.frombuffer(rng.bytes((sizes[name] + 7) // 8), dtype=np.uint8) for name in families}
    seed = np.unpackbits(packed["toeplitz"], bitorder="little", count=sizes["toeplitz"])
    hashes = {name: partial(family.apply, key, packed[name], sizes[name], output) for name, family in families.items()}
    modular = bits / best_seconds(hashes["modular"], repeats, cpu=True) / 1e6
    toeplitz = bits / best_seconds(hashes["toeplitz"], repeats, cpu=True) / 1e6
    results: list[np.ndarray] = []
    fft = bits / best_seconds(lambda: results.append(fft_toeplitz(key, seed, output)), 1, cpu=True) / 1e6
    exact = np.array_equal(results.pop(), hashes["toeplitz"]())
    former = (
        bits / best_seconds(partial(gmp_kronecker_toeplitz, key, seed, output), 1, cpu=True) / 1e6
        if bits <= 10**7
        else float("nan")
    )
    return (
        f"{bits:10.0e} {modular:8.1f} {toeplitz:8.1f} {fft:9.2f} {former:8.2f} {toeplitz / fft:8.1f} "
        f"{toeplitz / former:8.1f} "
        f"{toeplitz / modular:8.2f} {exact!s:>9}"
    )


def pa_anchor() -> None:
    """Toeplitz at the published CPU anchor's point: 2^27 input bits compressed to 1/8 (Tang et al.,
    Sci. Rep. 9, 15733 (2019), doi:10.1038/s41598-019-50290-1, report 71.16 Mbit/s there)."""
    bits, output = 2**27, 2**24
    rng = np.random.default_rng(27)
    key = random_bits(bits, rng)
    seed_bits = TOEPLITZ.seed_bits(bits, output)
    packed = np.frombuffer(rng.bytes((seed_bits + 7) // 8), dtype=np.uint8)
    seconds = best_seconds(lambda: TOEPLITZ.apply(key, packed, seed_bits, output), 2, cpu=True)
    print(
        f"Toeplitz, 2^27 bits to 2^24 (compression 0.125): {bits / seconds / 1e6:.1f} Mbit/s per CPU second "
        f"(Tang et al. 2019 on their CPU platform: 71.16 Mbit/s, ratio {bits / seconds / 1e6 / 71.16:.2f})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller frames and fewer repeats")
    parser.add_argument("--ldpc-only", action="store_true", help="only the LDPC efficiency and throughput")
    parser.add_argument("--pa-only", action="store_true", help="only the privacy-amplification throughput")
    args = parser.parse_args()
    if args.pa_only:
        pa_report((10**6, 10**7) if args.quick else (10**6, 10**7, 10**8))
        if not args.quick:
            pa_anchor()
        return
    if args.ldpc_only:
        ldpc_report(3 if args.quick else 20)
        return
    size = 2**18 if args.quick else 2**20
    frames = 2 if args.quick else 8
    cascade_run(CascadeVariant.OPTIMISED, 4096, 0.02, 1)
    cascade_run(CascadeVariant.ORIGINAL, 4096, 0.02, 1)
    print(f"Cascade on {size}-bit frames, {frames} frames per point (realised error count)")
    print(f"{'variant':18} {'QBER':>5} {'f mean':>7} {'f max':>7} {'FER':>6} {'Mbit/s':>7} {'round trips':>11}")
    for qber in (0.01, 0.02, 0.05):
        runs = {variant: cascade_run(variant, size, qber, frames) for variant in CascadeVariant}
        for variant, run in runs.items():
            print(
                f"{variant.value:18} {qber:5.2f} {run['efficiency']:7.4f} {run['efficiency_max']:7.4f} "
                f"{run['frame_error_rate']:6.3f} {run['mbps']:7.2f} {run['round_trips']:11.0f}"
            )
        ratio = runs[CascadeVariant.OPTIMISED]["mbps"] / runs[CascadeVariant.ORIGINAL]["mbps"]
        print(f"{'':18} optimised/original throughput ratio {ratio:.2f}")
        efficiency, fer, mbps = cascade_batch_run(size, qber, frames)
        print(
            f"{'cascade, batch':18} {qber:5.2f} {efficiency:7.4f} {'':7} {fer:6.3f} {mbps:7.2f}   ({frames} frames "
            "share round trips)"
        )
    print()
    ldpc_report(3 if args.quick else 20)
    pa_report((10**6, 10**7) if args.quick else (10**6, 10**7, 10**8))
    if not args.quick:
        pa_anchor()


if __name__ == "__main__":
    main()
