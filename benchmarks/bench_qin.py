"""Speed of the quantum-network simulator (issue contract figures).

Measures, on one core:
  1. the shared event kernel alone (self-rescheduling callbacks), events per second;
  2. the event-driven repeater chain (4 segments), events per second;
  3. a 1,000-node repeater chain (999 segments of 10 km) on the event engine, wall time;
  4. 10^6 Monte Carlo deliveries of an 8-segment chain: physical (deterministic swaps, fidelity
     included) and abstract doubling with probabilistic swaps (p = 0.1, a = 0.5);
  and as a baseline in the same run, the same Monte Carlo figure for 10^4 deliveries.

Usage: python benchmarks/bench_qin.py [--quick]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from qit4n.des import Kernel
from qit4n.qin.chain import ChainParameters, simulate_chain_mc
from qit4n.qin.des_chain import simulate_chain_des
from qit4n.qin.montecarlo import sample_chain


def _kernel_events_per_s(count: int) -> float:
    kernel = Kernel()

    def tick(remaining: list[int]) -> None:
        remaining[0] -= 1
        if remaining[0] > 0:
            kernel.schedule_in(1000, tick, remaining)

    for _ in range(100):
        kernel.schedule_in(0, tick, [count // 100])
    start = time.perf_counter()
    fired = kernel.run()
    return fired / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes for a smoke run")
    args = parser.parse_args()
    scale = 0.1 if args.quick else 1.0

    rate = _kernel_events_per_s(int(1_000_000 * scale))
    print(f"kernel alone: {rate:,.0f} events/s (contract: >= 1e6)")

    params = ChainParameters(segments=4, length_km=100.0)
    start = time.perf_counter()
    run = simulate_chain_des(params, duration_s=20.0 * scale, seed=1, every_attempt=True)
    wall = time.perf_counter() - start
    print(
        f"event-driven 4-segment chain (every attempt as messages): {run.events:,} events in {wall:.2f} s = "
        f"{run.events / wall:,.0f} events/s, "
        f"{run.waiting_time_s.size} deliveries"
    )

    long_chain = ChainParameters(segments=999, length_km=9990.0)
    duration_s = 0.2 * scale
    for every_attempt in (False, True):
        start = time.perf_counter()
        run = simulate_chain_des(long_chain, duration_s=duration_s, seed=1, every_attempt=every_attempt)
        wall = time.perf_counter() - start
        summary = run.summary()
        mode = "every attempt as messages" if every_attempt else "failed attempts skipped"
        print(
            f"1,000-node chain (999 x 10 km, {mode}), {duration_s:g} s simulated: {wall:.2f} s wall (contract: <= 60 "
            "s), "
            f"{run.events:,} events, {summary['delivered_pairs']} deliveries, mean fidelity "
            f"{summary['fidelity_mean']:.4f}"
        )

    eight = ChainParameters(segments=8, length_km=400.0)
    for samples in (10_000, int(1_000_000 * scale)):
        start = time.perf_counter()
        result = simulate_chain_mc(eight, samples, np.random.default_rng(1))
        wall = time.perf_counter() - start
        print(
            f"Monte Carlo, 8-segment physical chain, {samples:,} samples: {wall:.3f} s "
            f"(mean wait {result.summary()['waiting_time_mean_s'] * 1e3:.3f} ms, fidelity "
            f"{result.summary()['fidelity_mean']:.4f})"
        )
    for samples in (10_000, int(1_000_000 * scale)):
        start = time.perf_counter()
        drawn = sample_chain(
            np.random.default_rng(1), samples, segments=8, link_success_probability=0.1, swap_success_probability=0.5
        )
        wall = time.perf_counter() - start
        print(
            f"Monte Carlo, 8-segment abstract doubling chain (p=0.1, a=0.5), {samples:,} samples: {wall:.3f} s "
            f"(mean {drawn.waiting_steps.mean():.2f} attempts); contract <= 60 s for 1e6"
        )


if __name__ == "__main__":
    main()
