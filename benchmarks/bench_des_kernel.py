"""Event-kernel throughput: plain schedule-and-fire workload (target: >= 1e6 events per second on one core).

Workloads: ``--events`` callbacks scheduled at random integer-picosecond times, then fired in order
by :meth:`qit4n.des.Kernel.run` (the heap holds up to all of them); a self-rescheduling chain (each
event schedules the next, one pending); and steady states with 1,000 and 100,000 events pending
(each fired event schedules one more at a random delay), as simulations run. Baseline measured in
the same run: a bare ``heapq`` loop over tuples with the same times (no cancellation, no
priorities), the lower bound of any Python heap kernel.

Usage: ``python benchmarks/bench_des_kernel.py [--quick] [--events N]``.
"""

from __future__ import annotations

import argparse
import heapq
import time

import numpy as np

from qit4n.des import Kernel


def _noop() -> None:
    return None


def schedule_and_fire(times_ps: list[int]) -> tuple[float, float]:
    """Seconds to schedule all events and seconds to fire them."""
    kernel = Kernel()
    start = time.perf_counter()
    for time_ps in times_ps:
        kernel.schedule_at(time_ps, _noop)
    scheduled = time.perf_counter()
    fired = kernel.run()
    done = time.perf_counter()
    assert fired == len(times_ps)
    return scheduled - start, done - scheduled


def chained(count: int) -> float:
    """Seconds for ``count`` events where each event schedules the next one 1 ns later."""
    kernel = Kernel()
    remaining = [count]

    def tick() -> None:
        remaining[0] -= 1
        if remaining[0]:
            kernel.schedule_in(1000, tick)

    kernel.schedule_at(0, tick)
    start = time.perf_counter()
    kernel.run()
    return time.perf_counter() - start


def steady(count: int, pending: int) -> float:
    """Seconds for ``count`` events with ``pending`` always scheduled (each fired event schedules one more)."""
    kernel = Kernel()
    delays = np.random.default_rng(2).integers(1, 10**9, size=count).tolist()
    remaining = [count - pending]

    def fire(index: int) -> None:
        if remaining[0] > 0:
            remaining[0] -= 1
            kernel.schedule_in(delays[index], fire, index + 1)

    for index in range(pending):
        kernel.schedule_at(delays[index], fire, pending + index)
    start = time.perf_counter()
    fired = kernel.run()
    elapsed = time.perf_counter() - start
    assert fired == count
    return elapsed


def heapq_baseline(times_ps: list[int]) -> float:
    """Seconds for a bare heapq push-all / pop-all-and-call loop over the same times."""
    start = time.perf_counter()
    heap: list = []
    for sequence, time_ps in enumerate(times_ps):
        heapq.heappush(heap, (time_ps, sequence, _noop))
    while heap:
        heapq.heappop(heap)[2]()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--quick", action="store_true", help="100,000 events")
    args = parser.parse_args()
    count = 100_000 if args.quick else args.events
    times_ps = np.random.default_rng(1).integers(0, 10**15, size=count).tolist()
    schedule_s, fire_s = schedule_and_fire(times_ps)
    chain_s = chained(count)
    steady_s = {pending: steady(count, pending) for pending in (1_000, 100_000)}
    baseline_s = heapq_baseline(times_ps)
    total_s = schedule_s + fire_s
    print(f"events: {count}")
    print(
        f"schedule+fire: {total_s:.3f} s = {count / total_s / 1e6:.2f} M events/s (schedule "
        f"{count / schedule_s / 1e6:.2f} M/s, fire {count / fire_s / 1e6:.2f} M/s)"
    )
    print(f"chained (each event schedules the next): {count / chain_s / 1e6:.2f} M events/s")
    for pending, seconds in steady_s.items():
        print(
            f"steady state with {pending} events pending (fire one, schedule one): {count / seconds / 1e6:.2f} M "
            "events/s"
        )
    print(
        f"baseline bare heapq loop: {count / baseline_s / 1e6:.2f} M events/s; kernel / baseline time ratio "
        f"{total_s / baseline_s:.2f}"
    )


if __name__ == "__main__":
    main()
