"""A discrete-event kernel that stays fast with many pending events.

Events fire in the order ``(time_ps, priority, sequence)``: time is an integer in picoseconds, lower
priority fires first among simultaneous events, and the sequence number (the order of scheduling)
breaks every remaining tie, so a run is deterministic. Cancelling marks the entry dead (a tombstone)
instead of searching for it; rescheduling is cancel plus schedule. The kernel does no logging.

Pending events are kept in a ladder-style queue (W. T. Tang, R. S. M. Goh, I. L.-J. Thng, Ladder
queue, ACM TOMACS 15, 175 (2005), doi:10.1145/1103323.1103324, here with one rung of lazily created
buckets): every event gets one integer sort key, ``-((time_ps << 64) + (priority << 48) + sequence)``
(negated, so that the next event is the last of a sorted list). Events before the *horizon* sit in
the *near* list, sorted, and fire by ``list.pop()``; each later event is appended, unsorted, to the
bucket of ``time_ps // width_ps``. When the near list runs dry the earliest bucket is sorted once by
``list.sort`` (in C) and becomes it; an event scheduled before the horizon is placed by
``bisect.insort`` (in C). No comparison runs in Python and nothing is sifted per event. The bucket
width is re-chosen from the pending events when buckets grow too full or too sparse (about
``_BUCKET_EVENTS`` events per bucket). The firing order is the same as a single heap's.
"""

from __future__ import annotations

from bisect import insort
from collections.abc import Callable
from heapq import heapify, heappop, heappush
from operator import itemgetter
from typing import Any

from qit4n.errors import ParameterError

__all__ = ["Event", "Kernel"]

#: An opaque handle to a scheduled event: ``[negated sort key, callback, args, time_ps]``.
Event = list

_CALLBACK = 1
_TIME = 3
_SEQUENCE_BITS = 48
_PRIORITY_BITS = 16
#: Priorities must lie in ``[-_PRIORITY_LIMIT, _PRIORITY_LIMIT)``.
_PRIORITY_LIMIT = 1 << (_PRIORITY_BITS - 1)
_TIME_SHIFT = _SEQUENCE_BITS + _PRIORITY_BITS
_SORT_KEY = itemgetter(0)
#: Target number of events per bucket.
_BUCKET_EVENTS = 32
#: Near-list size that, before any bucket exists, switches the kernel to buckets.
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
        "_horizon_ps",
        "_indices",
        "_near",
        "_sequence",
        "_split_at",
        "_width_ps",
        "events_fired",
        "now_ps",
    )

    def __init__(self, start_ps: int = 0) -> None:
        self.now_ps: int = start_ps
        #: Events before the horizon, sorted by negated key: the next event is the last.
        self._near: list[Event] = []
        self._buckets: dict[int, list[Event]] = {}
        self._indices: list[int] = []
        self._far_count = 0
        self._horizon_ps: float = _NO_HORIZON
        self._width_ps = 0
        self._split_at = _FIRST_SPLIT
        # The priority offset sits above the sequence bits, so a key is one subtraction per part.
        self._sequence = _PRIORITY_LIMIT << _SEQUENCE_BITS
        self.events_fired = 0

    def schedule_at(self, time_ps: int, callback: Callable[..., Any], *args: Any, priority: int = 0) -> Event:
        """Fire ``callback(*args)`` at absolute time ``time_ps`` (not before now)."""
        if time_ps < self.now_ps:
            raise ParameterError(f"time_ps = {time_ps}: must be >= now ({self.now_ps} ps)")
        self._sequence = sequence = self._sequence + 1
        if priority:
            event = [(-time_ps << _TIME_SHIFT) - sequence - _priority_key(priority), callback, args, time_ps]
        else:
            event = [(-time_ps << _TIME_SHIFT) - sequence, callback, args, time_ps]
        if time_ps < self._horizon_ps:
            near = self._near
            if near:
                insort(near, event, key=_SORT_KEY)
                if len(near) > self._split_at:
                    self._rebucket()
            else:
                near.append(event)
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
        time_ps = self.now_ps + delay_ps
        self._sequence = sequence = self._sequence + 1
        if priority:
            event = [(-time_ps << _TIME_SHIFT) - sequence - _priority_key(priority), callback, args, time_ps]
        else:
            event = [(-time_ps << _TIME_SHIFT) - sequence, callback, args, time_ps]
        if time_ps < self._horizon_ps:
            near = self._near
            if near:
                insort(near, event, key=_SORT_KEY)
                if len(near) > self._split_at:
                    self._rebucket()
            else:
                near.append(event)
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

    def _new_bucket(self, index: int, event: Event) -> None:
        self._buckets[index] = [event]
        heappush(self._indices, index)
        if len(self._indices) > self._far_count // (_BUCKET_EVENTS // 16) + 64:
            self._rebucket()

    def _rebucket(self) -> None:
        """Re-choose the bucket width from all pending live events and redistribute them."""
        events = [event for event in self._near if event[_CALLBACK] is not None]
        for bucket in self._buckets.values():
            events.extend(event for event in bucket if event[_CALLBACK] is not None)
        self._buckets = {}
        self._indices = []
        self._far_count = 0
        near = self._near
        if len(events) <= _BUCKET_EVENTS:
            events.sort(key=_SORT_KEY)
            near[:] = events
            self._horizon_ps = _NO_HORIZON
            self._split_at = _FIRST_SPLIT
            return
        first_ps = min(event[_TIME] for event in events)
        span_ps = max(event[_TIME] for event in events) - first_ps + 1
        self._width_ps = width_ps = max(1, span_ps * _BUCKET_EVENTS // len(events))
        buckets = self._buckets
        for event in events:
            index = event[_TIME] // width_ps
            if index in buckets:
                buckets[index].append(event)
            else:
                buckets[index] = [event]
        self._indices = list(buckets)
        heapify(self._indices)
        self._far_count = len(events)
        near.clear()
        self._horizon_ps = -1
        self._refill()

    def _refill(self) -> bool:
        """Sort the earliest bucket into the near list (called when it is empty); ``False`` if none is left."""
        indices = self._indices
        if not indices:
            self._horizon_ps = _NO_HORIZON
            self._split_at = _FIRST_SPLIT
            return False
        index = heappop(indices)
        bucket = self._buckets.pop(index)
        self._far_count -= len(bucket)
        # A near list far fuller than the bucket means the width no longer fits the pending events; it is
        # kept short (an insert moves the entries after it), so a rebucket is cheaper than letting it grow.
        self._split_at = max(_FIRST_SPLIT, 8 * len(bucket))
        bucket.sort(key=_SORT_KEY)
        self._near[:] = bucket
        self._horizon_ps = (index + 1) * self._width_ps
        return True

    def peek_ps(self) -> int | None:
        """Time of the next live event, or ``None`` when nothing is scheduled."""
        near = self._near
        while True:
            while near and near[-1][_CALLBACK] is None:
                near.pop()
            if near:
                return int(near[-1][_TIME])
            if not self._refill():
                return None

    def run(self, until_ps: int | None = None, max_events: int | None = None) -> int:
        """Fire events in order until none is left, ``until_ps`` is passed, or ``max_events`` fired.

        Events at exactly ``until_ps`` fire; afterwards ``now_ps`` is ``until_ps`` when given.
        Returns the number of events fired by this call.
        """
        budget = -1 if max_events is None else max_events
        fired = 0
        near = self._near
        pop = near.pop
        if until_ps is None:
            # The same loop without the time check (the common call; the check costs about 7 %).
            while fired != budget:
                if not near:
                    if not self._refill():
                        break
                    continue
                event = pop()
                callback = event[1]
                if callback is None:
                    continue
                event[1] = None
                self.now_ps = event[3]
                callback(*event[2])
                fired += 1
        else:
            while fired != budget:
                if not near:
                    if not self._refill():
                        break
                    continue
                event = near[-1]
                if event[3] > until_ps:
                    break
                pop()
                callback = event[1]
                if callback is None:
                    continue
                event[1] = None
                self.now_ps = event[3]
                callback(*event[2])
                fired += 1
        if until_ps is not None and fired != budget and until_ps > self.now_ps:
            self.now_ps = until_ps
        self.events_fired += fired
        return fired


def _priority_key(priority: int) -> int:
    """The priority's part of the sort key (the offset that makes it non-negative is in the sequence)."""
    if not -_PRIORITY_LIMIT <= priority < _PRIORITY_LIMIT:
        raise ParameterError(f"priority = {priority}: must be in [{-_PRIORITY_LIMIT}, {_PRIORITY_LIMIT})")
    return priority << _SEQUENCE_BITS
