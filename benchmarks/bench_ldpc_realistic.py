"""LDPC reconciliation on realistic blocks: binomial errors and the QBER estimated from the sample
the pipeline discloses (issue 15 item 5).

Each run draws a 1e6-bit sifted key, flips every bit independently with probability ``q`` (a binary
symmetric channel), estimates the QBER from a 10 % random sample exactly as
:func:`qit4n.postprocess.pipeline.distill_sifted` does, and reconciles the remaining 9e5 bits as
one frame (the pipeline's default 2^20-bit frames). Efficiency is leak / (n h2(realised QBER of the
frame)); throughput is reconciled bits per CPU second of this process (after a warm-up run that
builds the code and compiles the kernels). Targets: efficiency <= 1.10 with frame error rate
<= 1e-2 and >= 2 Mbit/s per core, at QBER 2 and 5 %.

Run: ``.venv/bin/python benchmarks/bench_ldpc_realistic.py [--seeds N] [--bits N]``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from qit4n.maths import binary_entropy
from qit4n.postprocess import PublicChannel, noisy_copy, random_bits
from qit4n.postprocess.bits import count_errors
from qit4n.postprocess.estimation import estimate_qber_by_sampling
from qit4n.postprocess.ldpc import LdpcSettings, reconcile_ldpc

#: The settings before issue 15 (design efficiency 1.095, fixed reveals of 0.05 % of the frame).
BEFORE = LdpcSettings(f_design=1.095, reveal_share=0.0005, reveal_per_unsatisfied=0.0)


def realistic_run(qber: float, seed: int, bits: int, settings: LdpcSettings) -> dict[str, float]:
    """One block: estimate from a 10 % sample, reconcile the rest as one frame."""
    rng = np.random.default_rng(seed)
    alice = random_bits(bits, rng)
    bob = noisy_copy(alice, qber, rng, exact=False)
    channel = PublicChannel()
    estimate = estimate_qber_by_sampling(alice, bob, round(0.1 * bits), channel, rng)
    frame_a, frame_b = estimate.alice_key, estimate.bob_key
    realised = count_errors(frame_a, frame_b) / frame_a.size
    start = time.process_time()
    result = reconcile_ldpc(frame_a, frame_b, min(estimate.qber, 0.19), channel, rng, settings)
    seconds = time.process_time() - start
    return {
        "estimate": estimate.qber,
        "realised": realised,
        "efficiency": result.leak_bits / (frame_a.size * float(binary_entropy(realised))),
        "failed": float(not np.array_equal(result.key, frame_a)),
        "seconds": seconds,
        "bits": float(frame_a.size),
        "attempts": float(result.attempts),
    }


def report(qber: float, seeds: int, bits: int, settings: LdpcSettings) -> dict[str, float]:
    """Mean and max efficiency, frame error rate and throughput over ``seeds`` blocks."""
    realistic_run(qber, 10_000, bits, settings)
    runs = [realistic_run(qber, 1 + seed, bits, settings) for seed in range(seeds)]
    efficiency = [run["efficiency"] for run in runs]
    return {
        "efficiency": float(np.mean(efficiency)),
        "efficiency_max": float(np.max(efficiency)),
        "frame_error_rate": float(np.mean([run["failed"] for run in runs])),
        "mbps": sum(run["bits"] for run in runs) / sum(run["seconds"] for run in runs) / 1e6,
        "attempts": float(np.mean([run["attempts"] for run in runs])),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--bits", type=int, default=1_000_000)
    args = parser.parse_args()
    print(f"LDPC, {args.bits}-bit blocks, binomial errors, QBER estimated from a 10 % sample, {args.seeds} seeds")
    print(f"{'settings':28} {'QBER':>5} {'f mean':>7} {'f max':>7} {'FER':>6} {'Mbit/s':>7} {'attempts':>8}")
    for label, settings in (("before (f 1.095, reveal 5e-4)", BEFORE), ("default", LdpcSettings())):
        for qber in (0.02, 0.05):
            run = report(qber, args.seeds, args.bits, settings)
            print(
                f"{label:28} {qber:5.2f} {run['efficiency']:7.4f} {run['efficiency_max']:7.4f} "
                f"{run['frame_error_rate']:6.3f} {run['mbps']:7.2f} {run['attempts']:8.2f}"
            )


if __name__ == "__main__":
    main()
