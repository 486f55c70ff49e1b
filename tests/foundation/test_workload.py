"""The event budget of :mod:`qit4n.workload` on the real kernel: runs that fit finish, others are refused early."""

from __future__ import annotations

import pytest

from qit4n.des import Kernel
from qit4n.errors import ParameterError
from qit4n.workload import PILOT_EVENTS, run_within_budget

PS_PER_US = 1_000_000


def _ticking_kernel(interval_ps: int, *, faster_after_ps: int | None = None) -> Kernel:
    """A kernel with one event every ``interval_ps`` (every ps after ``faster_after_ps``), forever."""
    kernel = Kernel()

    def tick() -> None:
        fast = faster_after_ps is not None and kernel.now_ps >= faster_after_ps
        kernel.schedule_in(1 if fast else interval_ps, tick)

    kernel.schedule_at(interval_ps, tick)
    return kernel


def test_a_run_that_fits_reaches_its_end_with_every_event() -> None:
    kernel = _ticking_kernel(PS_PER_US)
    run_within_budget(kernel, until_ps=300_000 * PS_PER_US, field="duration_s", max_events=400_000)
    assert kernel.now_ps == 300_000 * PS_PER_US and kernel.events_fired == 300_000


def test_a_run_that_would_not_fit_is_refused_after_the_pilot_with_the_longest_duration_that_fits() -> None:
    kernel = _ticking_kernel(PS_PER_US)  # 1e6 events per simulated second
    with pytest.raises(ParameterError) as refused:
        run_within_budget(kernel, until_ps=10**9 * 10**12, field="duration_s", max_events=1_000_000)
    assert kernel.events_fired == PILOT_EVENTS  # refused after the pilot, not after a billion events
    message = str(refused.value)
    assert message.startswith("duration_s = 1e+09 s: needs about 1e+15 events (1e+06 per simulated second")
    assert message.endswith("at most 1e+06 events, so at most about 1 s")


def test_a_run_that_speeds_up_after_the_pilot_still_stops_at_the_budget() -> None:
    kernel = _ticking_kernel(PS_PER_US, faster_after_ps=200_000 * PS_PER_US)
    with pytest.raises(ParameterError, match="at most 1e\\+06 events"):
        run_within_budget(kernel, until_ps=300_000 * PS_PER_US, field="duration_s", max_events=1_000_000)
    assert kernel.events_fired == 1_000_000
