"""A minimal, fast discrete-event kernel.

Events live in a binary heap ordered by ``(time_ps, priority, sequence)``: time is an integer in
picoseconds, lower priority fires first among simultaneous events, and the sequence number (the
order of scheduling) breaks every remaining tie, so a run is deterministic. Cancelling marks the
entry dead (a tombstone) instead of searching the heap; rescheduling is cancel plus schedule. The
kernel does no logging: observers wrap callbacks or count from outside.
"""

from __future__ import annotations

from collections.abc import Callable
from heapq import heappop, heappush
from typing import Any

from qit4n.errors import ParameterError

__all__ = ["Event", "Kernel"]

#: An opaque handle to a scheduled event: ``[time_ps, priority, sequence, callback, args]``.
Event = list

_CALLBACK = 3


class Kernel:
    """Schedules callbacks at integer-picosecond times and fires them in order.

    >>> kernel = Kernel()
    >>> fired = []
    >>> _ = kernel.schedule_at(20, fired.append, "late")
    >>> early = kernel.schedule_at(10, fired.append, "early")
    >>> _ = kernel.schedule_at(10, fired.append, "cancelled")
    >>> kernel.cancel(kernel.schedule_at(5, fired.append, "never"))
    >>> kernel.run()
    3
    >>> fired
    ['early', 'cancelled', 'late']
    >>> kernel.now_ps
    20
    """

    __slots__ = ("_heap", "_sequence", "events_fired", "now_ps")

    def __init__(self, start_ps: int = 0) -> None:
        self.now_ps: int = start_ps
        self._heap: list[Event] = []
        self._sequence = 0
        self.events_fired = 0

    def schedule_at(self, time_ps: int, callback: Callable[..., Any], *args: Any, priority: int = 0) -> Event:
        """Fire ``callback(*args)`` at absolute time ``time_ps`` (not before now)."""
        if time_ps < self.now_ps:
            raise ParameterError(f"time_ps = {time_ps}: must be >= now ({self.now_ps} ps)")
        self._sequence += 1
        event = [time_ps, priority, self._sequence, callback, args]
        heappush(self._heap, event)
        return event

    def schedule_in(self, delay_ps: int, callback: Callable[..., Any], *args: Any, priority: int = 0) -> Event:
        """Fire ``callback(*args)`` after ``delay_ps`` picoseconds (>= 0)."""
        if delay_ps < 0:
            raise ParameterError(f"delay_ps = {delay_ps}: must be >= 0")
        self._sequence += 1
        event = [self.now_ps + delay_ps, priority, self._sequence, callback, args]
        heappush(self._heap, event)
        return event

    @staticmethod
    def cancel(event: Event) -> None:
        """Make a scheduled event a no-op; cancelling twice or after it fired is harmless."""
        event[_CALLBACK] = None

    @staticmethod
    def is_pending(event: Event) -> bool:
        """Whether ``event`` is still scheduled (not cancelled and not yet fired)."""
        return event[_CALLBACK] is not None

    def peek_ps(self) -> int | None:
        """Time of the next live event, or ``None`` when nothing is scheduled."""
        heap = self._heap
        while heap and heap[0][_CALLBACK] is None:
            heappop(heap)
        return heap[0][0] if heap else None

    def run(self, until_ps: int | None = None, max_events: int | None = None) -> int:
        """Fire events in order until the heap is empty, ``until_ps`` is passed, or ``max_events`` fired.

        Events at exactly ``until_ps`` fire; afterwards ``now_ps`` is ``until_ps`` when given.
        Returns the number of events fired by this call.
        """
        heap = self._heap
        limit = float("inf") if until_ps is None else until_ps
        budget = -1 if max_events is None else max_events
        fired = 0
        while heap and fired != budget:
            event = heap[0]
            if event[0] > limit:
                break
            heappop(heap)
            callback = event[_CALLBACK]
            if callback is None:
                continue
            event[_CALLBACK] = None
            self.now_ps = event[0]
            callback(*event[4])
            fired += 1
        if until_ps is not None and fired != budget and until_ps > self.now_ps:
            self.now_ps = until_ps
        self.events_fired += fired
        return fired
