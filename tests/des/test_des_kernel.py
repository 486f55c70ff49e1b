"""The event kernel: ordering, tie-breaks, cancellation, time limits."""

from __future__ import annotations

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
