"""An event budget for the event-driven engines: a run that would take too long is refused early.

The engines (:mod:`qit4n.net.simulate`, :mod:`qit4n.qin.des_chain`, :mod:`qit4n.qin.network`)
simulate for a requested time, and the events per simulated second depend on the model, so a
duration alone cannot be capped sensibly. :func:`run_within_budget` first fires a pilot of
:data:`PILOT_EVENTS` events, extrapolates to the whole duration and refuses a run that would fire
more than :data:`MAX_EVENTS` events, naming the longest duration that fits; a run that fits goes on,
still stopped at the budget if the events speed up later.

>>> class Ticker:  # fires one event per simulated microsecond
...     now_ps = 0
...     events_fired = 0
...     def run(self, until_ps=None, max_events=None):
...         fired = min(max_events, (until_ps - self.now_ps) // 1_000_000)
...         self.now_ps += fired * 1_000_000
...         self.events_fired += fired
...         return fired
>>> run_within_budget(Ticker(), until_ps=10**12, field="duration_s", max_events=10**7)  # 1 s: 1e6 events
>>> run_within_budget(Ticker(), until_ps=10**15, field="duration_s", max_events=10**7)  # 1,000 s: 1e9 events
Traceback (most recent call last):
...
qit4n.errors.ParameterError: duration_s = 1000 s: needs about 1e+09 events (1e+06 per simulated second \
over the first 0.1 s); at most 1e+07 events, so at most about 10 s
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from qit4n.errors import ParameterError

__all__ = ["MAX_EVENTS", "PILOT_EVENTS", "EventKernel", "ProgressCallback", "run_within_budget"]

#: ``on_progress(done, total)`` of a long computation: work done so far out of the total, in the
#: unit the computation counts (pulses, points, failures, samples, simulated picoseconds...).
ProgressCallback = Callable[[float, float], None]

#: The most events one engine run may fire: about a minute on one core of a 2-core CI machine
#: (measured: 75,000 events/s for the key-pool simulation, 150,000 for the repeater chain).
MAX_EVENTS = 5_000_000

#: Events fired before the whole run is estimated.
PILOT_EVENTS = 100_000

_PS_PER_S = 10**12


class EventKernel(Protocol):
    """What :func:`run_within_budget` needs of :class:`qit4n.des.Kernel`."""

    now_ps: int
    events_fired: int

    def run(self, until_ps: int | None = None, max_events: int | None = None) -> int:
        """Fire events until ``until_ps`` or ``max_events``; the number fired."""
        ...


def _refusal(field: str, until_ps: int, fired: int, elapsed_ps: int, max_events: int) -> ParameterError:
    rate_per_s = fired / max(elapsed_ps, 1) * _PS_PER_S
    return ParameterError(
        f"{field} = {until_ps / _PS_PER_S:g} s: needs about {rate_per_s * until_ps / _PS_PER_S:.2g} events "
        f"({rate_per_s:.3g} per simulated second over the first {elapsed_ps / _PS_PER_S:.3g} s); at most "
        f"{max_events:.0e} events, so at most about {max_events / rate_per_s:.2g} s"
    )


def run_within_budget(
    kernel: EventKernel,
    *,
    until_ps: int,
    field: str,
    max_events: int = MAX_EVENTS,
    on_progress: ProgressCallback | None = None,
) -> None:
    """Run ``kernel`` from time 0 to ``until_ps``, or raise :class:`ParameterError` naming ``field``.

    Raises before the run when the pilot's extrapolation exceeds ``max_events``, and when the
    budget runs out before ``until_ps`` anyway. ``on_progress(now_ps, until_ps)`` is called at the
    start, after the pilot and after every further :data:`PILOT_EVENTS` events.
    """
    start_ps, start_events = kernel.now_ps, kernel.events_fired
    if on_progress is not None:
        on_progress(start_ps, until_ps)
    pilot = min(PILOT_EVENTS, max_events)
    fired = kernel.run(until_ps=until_ps, max_events=pilot)
    if fired < pilot:
        return
    elapsed_ps = kernel.now_ps - start_ps
    if fired * (until_ps - start_ps) > max_events * max(elapsed_ps, 1):
        raise _refusal(field, until_ps, fired, elapsed_ps, max_events)
    left = max_events - fired
    while left > 0:
        if on_progress is not None:
            on_progress(kernel.now_ps, until_ps)
        step = min(PILOT_EVENTS, left)
        fired_now = kernel.run(until_ps=until_ps, max_events=step)
        left -= fired_now
        if fired_now < step:
            return
    if kernel.now_ps < until_ps:
        raise _refusal(field, until_ps, kernel.events_fired - start_events, kernel.now_ps - start_ps, max_events)
