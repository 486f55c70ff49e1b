"""Timing shared by the benchmark scripts: the best of several runs, in wall or CPU seconds."""

from __future__ import annotations

import time
from collections.abc import Callable


def best_seconds(call: Callable[[], object], repeats: int, *, cpu: bool = False) -> float:
    """Shortest of ``repeats`` runs of ``call``; ``cpu=True`` counts this process's CPU time.

    On a shared machine CPU time is the steadier figure: wall time also measures the queue.
    """
    clock = time.process_time if cpu else time.perf_counter
    best = float("inf")
    for _ in range(repeats):
        start = clock()
        call()
        best = min(best, clock() - start)
    return max(best, 1e-9)
