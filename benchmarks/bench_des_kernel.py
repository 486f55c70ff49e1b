"""Event-kernel throughput with 0 to 1e6 pending events: the kernel, the previous kernel and bare loops.

Every workload runs, in the same process and interleaved repeat by repeat, on :class:`qit4n.des.Kernel` (the
ladder queue), on the calendar-queue kernel it replaced (``benchmarks/_previous_kernel_calendar.py``), on
the single-heap kernel before issue 18 (``benchmarks/_previous_kernel.py``) and on a bare ``heapq`` loop
over ``(time, sequence, callback, argument)`` tuples (no priorities, no cancellation, no method call to
schedule). A last column runs the same callbacks through a FIFO ``deque`` that does not order events at all:
the cost of calling the callbacks and scheduling, the floor any kernel written in Python pays.

Workloads: a self-rescheduling chain (nothing else pending); the "hold" model with 1,000, 100,000
and 1,000,000 events pending, where every fired event schedules one more at a uniform random delay
of 1 ps to 1 ms; the same with a cancellation per event (each fired event schedules a retry and
cancels the retry scheduled before it, as the key-pool simulator does; every retry is cancelled
before its time, so the figure counts the same fired events; the bare loop marks cancelled list
entries); and schedule-everything-then-fire. Each figure is the median of ``--repeats`` runs, in
events per CPU second of the process; the load average is printed with each row (shared machine).
Targets (issue 18): >= 1 M events/s with 1e5 pending and >= 0.5 M/s with 1e6 pending.

Usage: ``python benchmarks/bench_des_kernel.py [--quick] [--events N] [--repeats R]``.
"""

from __future__ import annotations

import argparse
import heapq
import os
import statistics
import sys
import time
from collections import deque
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from qit4n.des import Kernel

sys.path.insert(0, str(Path(__file__).parent))
from _previous_kernel import Kernel as PreviousKernel
from _previous_kernel_calendar import Kernel as CalendarKernel

_MAX_DELAY_PS = 10**9
#: Retries wait at least this long, so the next fired event always cancels them first (none fires).
_RETRY_PS = 2 * _MAX_DELAY_PS


def _noop() -> None:
    return None


class _FifoFloor:
    """Not a kernel: the kernel's calls with events kept in arrival order (the cost of the calls alone)."""

    def __init__(self) -> None:
        self.now_ps = 0
        self._queue: deque[tuple[int, Callable[..., Any], tuple[Any, ...]]] = deque()

    def schedule_at(self, time_ps: int, callback: Callable[..., Any], *args: Any, priority: int = 0) -> None:
        if time_ps < self.now_ps:
            raise ValueError(time_ps)
        self._queue.append((time_ps, callback, args))

    def schedule_in(self, delay_ps: int, callback: Callable[..., Any], *args: Any, priority: int = 0) -> None:
        if delay_ps < 0:
            raise ValueError(delay_ps)
        self._queue.append((self.now_ps + delay_ps, callback, args))

    def run(self) -> int:
        pop = self._queue.popleft
        fired = 0
        while self._queue:
            time_ps, callback, args = pop()
            self.now_ps = max(self.now_ps, time_ps)
            callback(*args)
            fired += 1
        return fired


def chained(make: Callable[[], Any], count: int) -> float:
    """CPU seconds for ``count`` events where each event schedules the next one 1 ns later."""
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


def chained_heapq(count: int) -> float:
    """The chain on a bare heapq loop."""
    heap: list = []
    remaining = [count]
    now = [0]
    sequence = [0]

    def tick() -> None:
        remaining[0] -= 1
        if remaining[0]:
            sequence[0] += 1
            heapq.heappush(heap, (now[0] + 1000, sequence[0], tick))

    heap.append((0, 0, tick))
    start = time.process_time()
    while heap:
        entry = heapq.heappop(heap)
        now[0] = entry[0]
        entry[2]()
    return time.process_time() - start


def steady(make: Callable[[], Any], count: int, pending: int) -> float:
    """CPU seconds to fire ``count`` events with ``pending`` always scheduled (each fired event schedules one more)."""
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
    """The steady-state workload on a bare heapq loop."""
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


def steady_cancel(make: Callable[[], Any], count: int, pending: int) -> float:
    """The steady state where every fired event also schedules a retry and cancels the previous retry."""
    kernel = make()
    delays = np.random.default_rng(3).integers(1, _MAX_DELAY_PS, size=count + pending).tolist()
    remaining = [count - pending]
    retry: list[Any] = [None]

    def fire(index: int) -> None:
        if remaining[0] > 0:
            remaining[0] -= 1
            kernel.schedule_in(delays[index], fire, index + 1)
            if retry[0] is not None:
                kernel.cancel(retry[0])
            retry[0] = kernel.schedule_in(_RETRY_PS + delays[index - 1], _noop) if remaining[0] else None

    for index in range(pending):
        kernel.schedule_at(delays[index], fire, pending + index)
    start = time.process_time()
    fired = kernel.run()
    elapsed = time.process_time() - start
    assert fired == count
    return elapsed


def steady_cancel_heapq(count: int, pending: int) -> float:
    """The cancelling workload on a bare heapq loop of lists, a cancelled entry's callback set to None."""
    delays = np.random.default_rng(3).integers(1, _MAX_DELAY_PS, size=count + pending).tolist()
    heap: list = []
    remaining = [count - pending]
    now = [0]
    sequence = [pending]
    retry: list[Any] = [None]

    def fire(index: int) -> None:
        if remaining[0] > 0:
            remaining[0] -= 1
            sequence[0] += 1
            heapq.heappush(heap, [now[0] + delays[index], sequence[0], fire, index + 1])
            if retry[0] is not None:
                retry[0][2] = None
            retry[0] = None
            if remaining[0]:
                sequence[0] += 1
                retry[0] = [now[0] + _RETRY_PS + delays[index - 1], sequence[0], _noop]
                heapq.heappush(heap, retry[0])

    for index in range(pending):
        heapq.heappush(heap, [delays[index], index, fire, pending + index])
    start = time.process_time()
    fired = 0
    while heap:
        entry = heapq.heappop(heap)
        if entry[2] is None:
            continue
        now[0] = entry[0]
        entry[2](entry[3])
        fired += 1
    elapsed = time.process_time() - start
    assert fired == count
    return elapsed


def schedule_and_fire(make: Callable[[], Any], times_ps: list[int]) -> float:
    """CPU seconds to schedule all events then fire them."""
    kernel = make()
    start = time.process_time()
    for time_ps in times_ps:
        kernel.schedule_at(time_ps, _noop)
    fired = kernel.run()
    assert fired == len(times_ps)
    return time.process_time() - start


def schedule_and_fire_heapq(times_ps: list[int]) -> float:
    """CPU seconds for a bare heapq push-all / pop-all-and-call loop over the same times."""
    start = time.process_time()
    heap: list = []
    for sequence, time_ps in enumerate(times_ps):
        heapq.heappush(heap, (time_ps, sequence, _noop))
    while heap:
        heapq.heappop(heap)[2]()
    return time.process_time() - start


def _interleaved(calls: list[Callable[[], float] | None], repeats: int) -> list[float | None]:
    """Median seconds of each call, running them in turn ``repeats`` times (so load drifts hit all alike)."""
    runs: list[list[float]] = [[] for _ in calls]
    for _ in range(repeats):
        for call, seconds in zip(calls, runs):
            if call is not None:
                seconds.append(call())
    return [statistics.median(seconds) if seconds else None for seconds in runs]


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000, help="events fired per workload (at least 2x pending)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="200,000 events, pending up to 1e5, one repeat")
    args = parser.parse_args()
    count = 200_000 if args.quick else args.events
    repeats = 1 if args.quick else args.repeats
    pendings = (1_000, 100_000) if args.quick else (1_000, 100_000, 1_000_000)
    print(f"events per workload: >= {count:,}; median of {repeats} interleaved run(s); M events/s per CPU second")
    print(
        f"{'workload':<34}{'kernel':>8}{'calendar':>10}{'heap kernel':>13}{'heapq':>8}{'fifo floor':>12}"
        f"{'kernel/calendar':>17}{'kernel/heapq':>14}{'load':>6}"
    )

    def row(label: str, events: int, calls: list[Callable[[], float] | None]) -> None:
        seconds = _interleaved(calls, repeats)
        rates = [f"{events / s / 1e6:.2f}" if s else "-" for s in seconds]
        kernel_s, calendar_s, heap_s = seconds[0], seconds[1], seconds[3]
        assert kernel_s is not None and calendar_s is not None
        versus_heap = f"{heap_s / kernel_s:.2f}" if heap_s else "-"
        print(
            f"{label:<34}{rates[0]:>8}{rates[1]:>10}{rates[2]:>13}{rates[3]:>8}{rates[4]:>12}"
            f"{calendar_s / kernel_s:>17.2f}{versus_heap:>14}{os.getloadavg()[0]:>6.1f}",
            flush=True,
        )

    row(
        "chained (0 pending)",
        count,
        [
            lambda: chained(Kernel, count),
            lambda: chained(CalendarKernel, count),
            lambda: chained(PreviousKernel, count),
            lambda: chained_heapq(count),
            lambda: chained(_FifoFloor, count),
        ],
    )
    for pending in pendings:
        total = max(count, 2 * pending)
        row(
            f"steady, {pending:,} pending",
            total,
            [
                partial(steady, Kernel, total, pending),
                partial(steady, CalendarKernel, total, pending),
                partial(steady, PreviousKernel, total, pending),
                partial(steady_heapq, total, pending),
                partial(steady, _FifoFloor, total, pending),
            ],
        )
    for pending in pendings[:2]:
        total = max(count, 2 * pending)
        row(
            f"cancelling, {pending:,} pending",
            total,
            [
                partial(steady_cancel, Kernel, total, pending),
                partial(steady_cancel, CalendarKernel, total, pending),
                partial(steady_cancel, PreviousKernel, total, pending),
                partial(steady_cancel_heapq, total, pending),
                None,
            ],
        )
    scheduled = min(count, 1_000_000)
    times_ps = np.random.default_rng(1).integers(0, 10**15, size=scheduled).tolist()
    row(
        f"schedule {scheduled:,} then fire",
        scheduled,
        [
            lambda: schedule_and_fire(Kernel, times_ps),
            lambda: schedule_and_fire(CalendarKernel, times_ps),
            lambda: schedule_and_fire(PreviousKernel, times_ps),
            lambda: schedule_and_fire_heapq(times_ps),
            lambda: schedule_and_fire(_FifoFloor, times_ps),
        ],
    )


if __name__ == "__main__":
    main()
