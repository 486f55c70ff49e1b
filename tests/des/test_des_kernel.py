"""The event kernel: ordering, tie-breaks, cancellation, time limits."""

from __future__ import annotations

import heapq
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qit4n.des import PS_PER_S, Kernel, seconds_to_ps
from qit4n.errors import ParameterError


def test_simultaneous_events_fire_by_priority_then_schedule_order() -> None:
    kernel = Kernel()
    fired: list[str] = []
    kernel.schedule_at(10, fired.append, "b-low", priority=1)
    kernel.schedule_at(10, fired.append, "a-first")
    kernel.schedule_at(10, fired.append, "a-second")
    kernel.schedule_at(10, fired.append, "urgent", priority=-1)
    kernel.run()
    assert fired == ["urgent", "a-first", "a-second", "b-low"]


def test_cancel_and_reschedule() -> None:
    kernel = Kernel()
    fired: list[int] = []
    event = kernel.schedule_at(5, fired.append, 5)
    assert kernel.is_pending(event)
    kernel.cancel(event)
    kernel.cancel(event)
    kernel.schedule_at(7, fired.append, 7)
    assert kernel.peek_ps() == 7
    assert kernel.run() == 1
    assert fired == [7] and not kernel.is_pending(event)


def test_run_until_stops_at_the_limit_and_resumes() -> None:
    kernel = Kernel()
    fired: list[int] = []
    for time_ps in (1, 5, 10, 11):
        kernel.schedule_at(time_ps, fired.append, time_ps)
    assert kernel.run(until_ps=10) == 3
    assert kernel.now_ps == 10 and fired == [1, 5, 10]
    kernel.run()
    assert fired == [1, 5, 10, 11] and kernel.events_fired == 4


def test_callbacks_schedule_more_events_and_max_events_bounds_a_run() -> None:
    kernel = Kernel()
    ticks: list[int] = []

    def tick() -> None:
        ticks.append(kernel.now_ps)
        kernel.schedule_in(seconds_to_ps(1.0), tick)

    kernel.schedule_in(0, tick)
    assert kernel.run(max_events=4) == 4
    assert ticks == [0, PS_PER_S, 2 * PS_PER_S, 3 * PS_PER_S]


def test_scheduling_in_the_past_is_an_error() -> None:
    kernel = Kernel(start_ps=100)
    with pytest.raises(ParameterError, match="time_ps = 50: must be >= now"):
        kernel.schedule_at(50, print)
    with pytest.raises(ParameterError, match="delay_ps = -1"):
        kernel.schedule_in(-1, print)


@given(st.lists(st.tuples(st.integers(0, 10**6), st.integers(-2, 2)), max_size=200))
def test_events_fire_in_time_priority_sequence_order(schedule: list[tuple[int, int]]) -> None:
    kernel = Kernel()
    fired: list[tuple[int, int, int]] = []
    for sequence, (time_ps, priority) in enumerate(schedule):
        kernel.schedule_at(time_ps, fired.append, (time_ps, priority, sequence), priority=priority)
    kernel.run()
    assert fired == sorted(fired)


class _HeapOracle:
    """The ordering contract written as one plain heap: what the calendar kernel must reproduce."""

    def __init__(self) -> None:
        self.now_ps = 0
        self.heap: list[list] = []
        self.sequence = 0

    def schedule_at(self, time_ps: int, callback, *args, priority: int = 0) -> list:
        self.sequence += 1
        event = [time_ps, priority, self.sequence, callback, args]
        heapq.heappush(self.heap, event)
        return event

    def schedule_in(self, delay_ps: int, callback, *args, priority: int = 0) -> list:
        return self.schedule_at(self.now_ps + delay_ps, callback, *args, priority=priority)

    @staticmethod
    def cancel(event: list) -> None:
        event[3] = None

    def run(self, until_ps: int) -> None:
        while self.heap and self.heap[0][0] <= until_ps:
            event = heapq.heappop(self.heap)
            if event[3] is not None:
                callback, event[3] = event[3], None
                self.now_ps = event[0]
                callback(*event[4])


def _hold_model(kernel: Kernel | _HeapOracle, seed: int, initial: int, spread_ps: int) -> list[tuple[int, int]]:
    """Many pending events (clustered times, equal times, mixed priorities), callbacks that schedule and cancel."""
    rng = random.Random(seed)
    fired: list[tuple[int, int]] = []
    handles: list[list] = []

    def fire(label: int) -> None:
        fired.append((kernel.now_ps, label))
        if len(fired) < 4 * initial:
            for extra in range(rng.randint(0, 2)):
                delay = rng.choice((0, 1, rng.randrange(spread_ps), rng.randrange(spread_ps * 1000)))
                handle = kernel.schedule_in(delay, fire, 10 * label + extra, priority=rng.randint(-1, 1))
                handles.append(handle)
            if handles and rng.random() < 0.2:
                kernel.cancel(handles[rng.randrange(len(handles))])

    for label in range(initial):
        time_ps = rng.randrange(spread_ps) if label % 3 else 1000 * (label % 7)
        handles.append(kernel.schedule_at(time_ps, fire, label, priority=rng.randint(-2, 2)))
    kernel.run(until_ps=spread_ps * 500)
    return fired


@pytest.mark.parametrize(("seed", "initial", "spread_ps"), [(1, 5000, 10**6), (2, 3000, 50), (3, 20, 10**9)])
def test_calendar_kernel_fires_exactly_as_one_heap_with_many_pending(seed: int, initial: int, spread_ps: int) -> None:
    """Bucketed storage must not change the (time, priority, sequence) order, nor cancellation, at any scale."""
    expected = _hold_model(_HeapOracle(), seed, initial, spread_ps)
    assert len(expected) > 2 * initial
    assert _hold_model(Kernel(), seed, initial, spread_ps) == expected


def test_peek_and_run_until_cross_bucket_boundaries() -> None:
    kernel = Kernel()
    times_ps = random.Random(4).sample(range(10**9), 5000)
    for time_ps in times_ps:
        kernel.schedule_at(time_ps, int)
    ordered = sorted(times_ps)
    assert kernel.peek_ps() == ordered[0]
    assert kernel.run(until_ps=ordered[2499]) == 2500
    assert kernel.peek_ps() == ordered[2500] and kernel.now_ps == ordered[2499]
    assert kernel.run(max_events=10) == 10 and kernel.now_ps == ordered[2509]
    assert kernel.run() == 2490 and kernel.peek_ps() is None


def test_cancel_after_fire_and_twice_is_harmless() -> None:
    kernel = Kernel()
    fired: list[int] = []
    event = kernel.schedule_at(3, fired.append, 3)
    later = kernel.schedule_at(9, fired.append, 9)
    assert kernel.run(until_ps=5) == 1 and not kernel.is_pending(event)
    kernel.cancel(event)
    kernel.cancel(later)
    kernel.cancel(later)
    assert kernel.run() == 0 and fired == [3] and kernel.peek_ps() is None and kernel.events_fired == 1


def test_scheduling_before_now_is_refused_after_a_run_and_the_queue_is_unchanged() -> None:
    kernel = Kernel()
    kernel.schedule_at(10, int)
    kernel.run(until_ps=100)
    with pytest.raises(ParameterError, match=r"time_ps = 99: must be >= now \(100 ps\)"):
        kernel.schedule_at(99, int)
    kernel.schedule_at(100, int)
    assert kernel.peek_ps() == 100 and kernel.run() == 1


@pytest.mark.parametrize("base_ps", [2**63 - 10**7, 2**63 + 5, 10**30])
def test_times_near_and_beyond_the_int64_limit_keep_exact_order(base_ps: int) -> None:
    """Times are Python ints: no packing, so nothing wraps at 2**63 ps (106 days) or later."""
    kernel = Kernel(start_ps=base_ps)
    rng = random.Random(5)
    offsets = [rng.randrange(10**6) for _ in range(3000)]  # enough to switch to buckets
    fired: list[int] = []
    for offset in offsets:
        kernel.schedule_at(base_ps + offset, lambda: fired.append(kernel.now_ps))
    assert kernel.run() == len(offsets)
    assert fired == sorted(base_ps + offset for offset in offsets) and kernel.now_ps == base_ps + max(offsets)


def test_equal_times_fire_in_schedule_order_with_buckets_in_use() -> None:
    """FIFO among equal (time, priority), also when thousands of events share a time and a bucket."""
    kernel = Kernel()
    fired: list[tuple[int, int]] = []
    for label in range(6000):
        kernel.schedule_at((label % 3) * 10**9, fired.append, ((label % 3) * 10**9, label))
    kernel.run()
    assert fired == sorted(fired)


def test_cancelling_every_pending_event_fires_nothing_at_scale() -> None:
    kernel = Kernel()
    fired: list[int] = []
    events = [kernel.schedule_at(time_ps, fired.append, time_ps) for time_ps in range(0, 10**8, 10**4)]
    for event in events:
        kernel.cancel(event)
    assert not any(kernel.is_pending(event) for event in events)
    assert kernel.peek_ps() is None and kernel.run() == 0 and fired == []


def test_priorities_outside_the_sort_key_range_are_refused_and_its_ends_keep_order() -> None:
    """The sort key packs the priority in 16 bits: -32768 and 32767 still order, one beyond is a clear error."""
    kernel = Kernel()
    fired: list[str] = []
    kernel.schedule_at(7, fired.append, "last", priority=32767)
    kernel.schedule_at(7, fired.append, "plain")
    kernel.schedule_in(7, fired.append, "first", priority=-32768)
    with pytest.raises(ParameterError, match=r"priority = 32768: must be in \[-32768, 32768\)"):
        kernel.schedule_at(7, print, priority=32768)
    with pytest.raises(ParameterError, match=r"priority = -32769"):
        kernel.schedule_in(7, print, priority=-32769)
    assert kernel.run() == 3 and fired == ["first", "plain", "last"]
