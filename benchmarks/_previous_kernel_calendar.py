"""The calendar-queue event kernel of issue 18 (frozen here as a benchmark reference; replaced by the ladder).

Events fire in the order ``(time_ps, priority, sequence)``: time is an integer in picoseconds, lower
priority fires first among simultaneous events, and the sequence number (the order of scheduling)
breaks every remaining tie, so a run is deterministic. Cancelling marks the entry dead (a tombstone)
instead of searching for it; rescheduling is cancel plus schedule. The kernel does no logging.

Pending events are kept in a two-level calendar queue (R. Brown, Calendar queues, Commun. ACM 31,
1220 (1988), doi:10.1145/63039.63045, here with lazily created buckets): the events before the
*horizon* sit in a small binary heap, every later event is appended, unsorted, to the bucket of
``time_ps // width_ps``, and the earliest bucket becomes the heap when the heap runs dry. A heap of
a few dozen entries stays in cache, where one heap of all pending events does not; the bucket width
is re-chosen from the pending events when buckets grow too full or too sparse (about
``_BUCKET_EVENTS`` events per bucket). The firing order is the same as a single heap's.
"""

from __future__ import annotations

from collections.abc import Callable
from heapq import heapify, heappop, heappush
from typing import Any

from qit4n.errors import ParameterError

__all__ = ["Event", "Kernel"]

#: An opaque handle to a scheduled event: ``[time_ps, priority, sequence, callback, args]``.
Event = list

_CALLBACK = 3
#: Target number of events per bucket; the heap holds about this many.
_BUCKET_EVENTS = 32
#: Heap size that, before any bucket exists, switches the kernel to buckets.
_FIRST_SPLIT = 1024
_NO_HORIZON = float("inf")


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

    __slots__ = (
        "_buckets",
        "_far_count",
        "_heap",
        "_horizon_ps",
        "_indices",
        "_sequence",
        "_split_at",
        "_width_ps",
        "events_fired",
        "now_ps",
    )

    def __init__(self, start_ps: int = 0) -> None:
        self.now_ps: int = start_ps
        self._heap: list[Event] = []
        self._buckets: dict[int, list[Event]] = {}
        self._indices: list[int] = []
        self._far_count = 0
        self._horizon_ps: float = _NO_HORIZON
        self._width_ps = 0
        self._split_at = _FIRST_SPLIT
        self._sequence = 0
        self.events_fired = 0

    def _new_bucket(self, index: int, event: Event) -> None:
        self._buckets[index] = [event]
        heappush(self._indices, index)
        if len(self._indices) > self._far_count // 2 + 64:
            self._rebucket()

    def schedule_at(self, time_ps: int, callback: Callable[..., Any], *args: Any, priority: int = 0) -> Event:
        """Fire ``callback(*args)`` at absolute time ``time_ps`` (not before now)."""
        if time_ps < self.now_ps:
            raise ParameterError(f"time_ps = {time_ps}: must be >= now ({self.now_ps} ps)")
        self._sequence += 1
        event = [time_ps, priority, self._sequence, callback, args]
        if time_ps < self._horizon_ps:
            heap = self._heap
            heappush(heap, event)
            if len(heap) > self._split_at:
                self._rebucket()
            return event
        # Inlined: the far branch is the common one with many events pending.
        self._far_count += 1
        index = time_ps // self._width_ps
        bucket = self._buckets.get(index)
        if bucket is None:
            self._new_bucket(index, event)
        else:
            bucket.append(event)
        return event

    def schedule_in(self, delay_ps: int, callback: Callable[..., Any], *args: Any, priority: int = 0) -> Event:
        """Fire ``callback(*args)`` after ``delay_ps`` picoseconds (>= 0)."""
        if delay_ps < 0:
            raise ParameterError(f"delay_ps = {delay_ps}: must be >= 0")
        self._sequence += 1
        time_ps = self.now_ps + delay_ps
        event = [time_ps, priority, self._sequence, callback, args]
        if time_ps < self._horizon_ps:
            heap = self._heap
            heappush(heap, event)
            if len(heap) > self._split_at:
                self._rebucket()
            return event
        # Inlined: the far branch is the common one with many events pending.
        self._far_count += 1
        index = time_ps // self._width_ps
        bucket = self._buckets.get(index)
        if bucket is None:
            self._new_bucket(index, event)
        else:
            bucket.append(event)
        return event

    @staticmethod
    def cancel(event: Event) -> None:
        """Make a scheduled event a no-op; cancelling twice or after it fired is harmless."""
        event[_CALLBACK] = None

    @staticmethod
    def is_pending(event: Event) -> bool:
        """Whether ``event`` is still scheduled (not cancelled and not yet fired)."""
        return event[_CALLBACK] is not None

    def _rebucket(self) -> None:
        """Re-choose the bucket width from all pending live events and redistribute them."""
        events = [event for event in self._heap if event[_CALLBACK] is not None]
        for bucket in self._buckets.values():
            events.extend(event for event in bucket if event[_CALLBACK] is not None)
        self._buckets = {}
        self._indices = []
        self._far_count = 0
        if len(events) <= _BUCKET_EVENTS:
            heapify(events)
            self._heap[:] = events
            self._horizon_ps = _NO_HORIZON
            self._split_at = _FIRST_SPLIT
            return
        first_ps = min(event[0] for event in events)
        span_ps = max(event[0] for event in events) - first_ps + 1
        self._width_ps = width_ps = max(1, span_ps * _BUCKET_EVENTS // len(events))
        buckets = self._buckets
        for event in events:
            index = event[0] // width_ps
            if index in buckets:
                buckets[index].append(event)
            else:
                buckets[index] = [event]
        self._indices = list(buckets)
        heapify(self._indices)
        self._far_count = len(events)
        self._heap.clear()
        self._horizon_ps = -1
        self._refill()

    def _refill(self) -> bool:
        """Make the earliest bucket the heap (called when the heap is empty); ``False`` if none is left."""
        indices = self._indices
        if not indices:
            self._horizon_ps = _NO_HORIZON
            self._split_at = _FIRST_SPLIT
            return False
        index = heappop(indices)
        bucket = self._buckets.pop(index)
        self._far_count -= len(bucket)
        # A bucket far fuller than the target means the width no longer fits the pending events.
        self._split_at = max(_FIRST_SPLIT, 8 * len(bucket), self._far_count // 8)
        heapify(bucket)
        self._heap[:] = bucket
        self._horizon_ps = (index + 1) * self._width_ps
        return True

    def peek_ps(self) -> int | None:
        """Time of the next live event, or ``None`` when nothing is scheduled."""
        heap = self._heap
        while True:
            while heap and heap[0][_CALLBACK] is None:
                heappop(heap)
            if heap:
                return int(heap[0][0])
            if not self._refill():
                return None

    def run(self, until_ps: int | None = None, max_events: int | None = None) -> int:
        """Fire events in order until none is left, ``until_ps`` is passed, or ``max_events`` fired.

        Events at exactly ``until_ps`` fire; afterwards ``now_ps`` is ``until_ps`` when given.
        Returns the number of events fired by this call.
        """
        limit = float("inf") if until_ps is None else until_ps
        budget = -1 if max_events is None else max_events
        fired = 0
        heap = self._heap
        while fired != budget:
            if not heap:
                if not self._refill():
                    break
                continue
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
