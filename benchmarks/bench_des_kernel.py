"""Event-kernel throughput with many pending events: the calendar kernel against the previous heap kernel.

Workloads, each run on :class:`qit4n.des.Kernel`, on the previous single-heap kernel
(``benchmarks/_previous_kernel.py``, the kernel before issue 18) and on a bare ``heapq`` loop over
``(time, sequence, callback)`` tuples, all in the same process: a self-rescheduling chain (one event
pending); steady states with 1,000, 100,000 and 1,000,000 events pending, where every fired event
schedules one more at a random delay of 1 ps to 1 ms (the "hold" model of queue benchmarks); and
schedule-everything-then-fire. Each figure is the median of ``--repeats`` runs (the machine is shared).
Targets (issue 18): >= 1 M events/s with 1e5 pending and >= 0.5 M/s with 1e6 pending.

Usage: ``python benchmarks/bench_des_kernel.py [--quick] [--events N] [--repeats R]``.
"""

from __future__ import annotations

import argparse
import heapq
import statistics
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from qit4n.des import Kernel

sys.path.insert(0, str(Path(__file__).parent))
from _previous_kernel import Kernel as PreviousKernel

_MAX_DELAY_PS = 10**9


def _noop() -> None:
    return None


def chained(make: Callable[[], Any], count: int) -> float:
    """Seconds for ``count`` events where each event schedules the next one 1 ns later."""
    kernel = make()
    remaining = [count]

    def tick() -> None:
        remaining[0] -= 1
        if remaining[0]:
            kernel.schedule_in(1000, tick)

    kernel.schedule_at(0, tick)
    start = time.process_time()
    kernel.run()
    return time.process_time() - start


def steady(make: Callable[[], Any], count: int, pending: int) -> float:
    """Seconds to fire ``count`` events with ``pending`` always scheduled (each fired event schedules one more)."""
    kernel = make()
    delays = np.random.default_rng(2).integers(1, _MAX_DELAY_PS, size=count + pending).tolist()
    remaining = [count - pending]

    def fire(index: int) -> None:
        if remaining[0] > 0:
            remaining[0] -= 1
            kernel.schedule_in(delays[index], fire, index + 1)

    for index in range(pending):
        kernel.schedule_at(delays[index], fire, pending + index)
    start = time.process_time()
    fired = kernel.run()
    elapsed = time.process_time() - start
    assert fired == count
    return elapsed


def steady_heapq(count: int, pending: int) -> float:
    """The steady-state workload on a bare heapq loop (no priorities, no cancellation)."""
    delays = np.random.default_rng(2).integers(1, _MAX_DELAY_PS, size=count + pending).tolist()
    heap: list = []
    remaining = [count - pending]
    now = [0]
    sequence = [pending]

    def fire(index: int) -> None:
        if remaining[0] > 0:
            remaining[0] -= 1
            sequence[0] += 1
            heapq.heappush(heap, (now[0] + delays[index], sequence[0], fire, index + 1))

    for index in range(pending):
        heapq.heappush(heap, (delays[index], index, fire, pending + index))
    start = time.process_time()
    fired = 0
    while heap:
        entry = heapq.heappop(heap)
        now[0] = entry[0]
        entry[2](entry[3])
        fired += 1
    elapsed = time.process_time() - start
    assert fired == count
    return elapsed


def schedule_and_fire(make: Callable[[], Any], times_ps: list[int]) -> float:
    """Seconds to schedule all events then fire them."""
    kernel = make()
    start = time.process_time()
    for time_ps in times_ps:
        kernel.schedule_at(time_ps, _noop)
    fired = kernel.run()
    assert fired == len(times_ps)
    return time.process_time() - start


def schedule_and_fire_heapq(times_ps: list[int]) -> float:
    """Seconds for a bare heapq push-all / pop-all-and-call loop over the same times."""
    start = time.process_time()
    heap: list = []
    for sequence, time_ps in enumerate(times_ps):
        heapq.heappush(heap, (time_ps, sequence, _noop))
    while heap:
        heapq.heappop(heap)[2]()
    return time.process_time() - start


def _median(call: Callable[[], float], repeats: int) -> float:
    return statistics.median(call() for _ in range(repeats))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2_000_000, help="events fired per workload")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="300,000 events, pending up to 1e5, one repeat")
    args = parser.parse_args()
    count = 300_000 if args.quick else args.events
    repeats = args.repeats
    pendings = (1_000, 100_000) if args.quick else (1_000, 100_000, 1_000_000)
    print(f"events per workload: {count}; median of {repeats} run(s); figures in M events/s")
    print(f"{'workload':<34}{'new':>8}{'previous':>10}{'heapq':>8}{'new/previous':>14}{'new/heapq':>11}")

    def row(label: str, events: int, new_s: float, old_s: float, heap_s: float) -> None:
        rates = [events / seconds / 1e6 for seconds in (new_s, old_s, heap_s)]
        print(
            f"{label:<34}{rates[0]:>8.2f}{rates[1]:>10.2f}{rates[2]:>8.2f}{old_s / new_s:>14.2f}{heap_s / new_s:>11.2f}"
        )

    chain = [_median(partial(chained, make, count), repeats) for make in (Kernel, PreviousKernel)]
    print(
        f"{'chained (1 pending)':<34}{count / chain[0] / 1e6:>8.2f}{count / chain[1] / 1e6:>10.2f}{'':>8}"
        f"{chain[1] / chain[0]:>14.2f}"
    )
    for pending in pendings:
        total = max(count, 2 * pending)
        new_s = _median(partial(steady, Kernel, total, pending), repeats)
        old_s = _median(partial(steady, PreviousKernel, total, pending), repeats)
        heap_s = _median(partial(steady_heapq, total, pending), repeats)
        row(f"steady, {pending:,} pending", total, new_s, old_s, heap_s)
    scheduled = min(count, 1_000_000)
    times_ps = np.random.default_rng(1).integers(0, 10**15, size=scheduled).tolist()
    row(
        f"schedule {scheduled:,} then fire",
        scheduled,
        _median(lambda: schedule_and_fire(Kernel, times_ps), repeats),
        _median(lambda: schedule_and_fire(PreviousKernel, times_ps), repeats),
        _median(lambda: schedule_and_fire_heapq(times_ps), repeats),
    )


if __name__ == "__main__":
    main()
