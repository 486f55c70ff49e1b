"""Run a function over many parameter points: local processes by default, a Dask cluster by address.

Each point is evaluated independently and returns a :class:`PointResult` with a status, so one bad
point (a parameter out of range, a model that fails) is reported without aborting the sweep. The
function must be importable (defined at module level) so that worker processes can unpickle it.
"""

from __future__ import annotations

import itertools
import os
import socket
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from qit4n.errors import ParameterError, ServiceError
from qit4n.workload import ProgressCallback

__all__ = [
    "PROBE_S",
    "WORKER_WAIT_S",
    "PointResult",
    "dask_batch_mapper",
    "grid",
    "local_workers",
    "run_sweep",
    "usable_cores",
]

S = TypeVar("S")
B = TypeVar("B")
R = TypeVar("R")


@dataclass(frozen=True)
class PointResult:
    """The outcome of one point: ``status`` is ``"ok"`` with a ``value`` or ``"error"`` with a message."""

    index: int
    point: Mapping[str, Any]
    status: Literal["ok", "error"]
    value: Any = None
    error: str | None = None


def grid(**axes: Iterable[Any]) -> list[dict[str, Any]]:
    """The Cartesian product of named axes, as a list of points (last axis varies fastest).

    >>> for point in grid(distance_km=[0, 50], eta_detector=[0.1, 0.2]):
    ...     print(point)
    {'distance_km': 0, 'eta_detector': 0.1}
    {'distance_km': 0, 'eta_detector': 0.2}
    {'distance_km': 50, 'eta_detector': 0.1}
    {'distance_km': 50, 'eta_detector': 0.2}
    """
    names = list(axes)
    return [dict(zip(names, values)) for values in itertools.product(*(list(axes[name]) for name in names))]


#: Seconds a sweep waits for a Dask scheduler to have at least one worker before it gives up.
WORKER_WAIT_S = 10.0


def usable_cores() -> int:
    """CPU cores this process may run on (its affinity where the platform tells it)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def local_workers(requested: int | None, num_points: int) -> int:
    """Worker processes for a local sweep: ``requested`` (default one per core), but never more than the
    usable cores (more processes only compete for them) nor than the points.

    >>> local_workers(1, 10)
    1
    >>> local_workers(10_000, 1)
    1
    >>> local_workers(10_000, 10_000) == usable_cores()
    True
    """
    if requested is not None and requested < 1:
        raise ParameterError(f"workers = {requested}: must be >= 1")
    return max(1, min(requested or usable_cores(), usable_cores(), num_points))


def _evaluate(function: Callable[[Mapping[str, Any]], Any], index: int, point: Mapping[str, Any]) -> PointResult:
    try:
        return PointResult(index, point, "ok", value=function(point))
    except Exception as error:  # noqa: BLE001 - a sweep reports every failure per point instead of aborting
        return PointResult(index, point, "error", error=f"{type(error).__name__}: {error}")


def _run_local(function, points, workers, done: Callable[[], None]) -> list[PointResult]:
    results = []
    with ProcessPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(_evaluate, function, index, point) for index, point in enumerate(points)]
        try:
            for future in as_completed(futures):
                results.append(future.result())
                done()
        except BaseException:  # a refusal from the progress callback, Ctrl-C: drop the points not started
            pool.shutdown(wait=False, cancel_futures=True)
            raise
    return results


#: Seconds a scheduler has to accept a connection and to send its handshake.
PROBE_S = 5.0


def _probe_scheduler(scheduler_address: str) -> None:
    """Refuse a ``tcp://`` address where nothing answers as a Dask scheduler does: it sends its handshake
    as soon as a connection opens. Dask's client waits without limit for a server that stays silent
    (an HTTP server, say); ``tls://`` addresses are left to the client (the client speaks first there)."""
    scheme, _, rest = scheduler_address.rpartition("://")
    if scheme not in ("", "tcp"):
        return
    host, _, port = rest.rpartition(":")
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=PROBE_S) as probe:
            first = probe.recv(1)
    except TimeoutError:
        raise ServiceError(
            f"scheduler_address = {scheduler_address!r}: no answer as a Dask scheduler within {PROBE_S:g} s"
        ) from None
    except (OSError, ValueError) as error:
        raise ServiceError(f"scheduler_address = {scheduler_address!r}: cannot connect ({error})") from None
    if not first:
        raise ServiceError(f"scheduler_address = {scheduler_address!r}: closed the connection; not a Dask scheduler")


def _client(scheduler_address: str) -> Any:
    """A Dask client of the scheduler at ``scheduler_address`` with at least one worker
    (:class:`ServiceError` if dask is missing, the scheduler does not answer within 5 s, or no
    worker joins within :data:`WORKER_WAIT_S`)."""
    try:
        from dask.distributed import Client
    except ImportError as error:
        raise ServiceError("a Dask scheduler address needs the 'dask' extra: pip install 'qit4n[dask]'") from error
    _probe_scheduler(scheduler_address)
    try:
        client = Client(scheduler_address, timeout="5s")
    except (OSError, TimeoutError) as error:
        raise ServiceError(f"scheduler_address = {scheduler_address!r}: cannot connect ({error})") from None
    try:
        client.wait_for_workers(1, timeout=WORKER_WAIT_S)
    except TimeoutError:
        client.close()
        raise ServiceError(
            f"scheduler_address = {scheduler_address!r}: no worker joined within {WORKER_WAIT_S:g} s; "
            f"start one with `dask worker {scheduler_address}`"
        ) from None
    return client


def _run_dask(function, points, scheduler_address, done: Callable[[], None]) -> list[PointResult]:
    from dask.distributed import as_completed as dask_completed

    client = _client(scheduler_address)
    results = []
    with client:
        futures = client.map(_evaluate, [function] * len(points), range(len(points)), points, pure=False)
        for future in dask_completed(futures):
            results.append(future.result())
            done()
    return results


def dask_batch_mapper(scheduler_address: str) -> Callable[[Callable[[S, B], R], S, Sequence[B]], list[R]]:
    """A mapper that runs ``function(shared, batch)`` for every batch on the Dask cluster at
    ``scheduler_address`` and returns the answers in the order of the batches.

    ``shared`` is scattered once to every worker (broadcast); each task then carries only its
    batch and its answer. This is the ``mapper`` of :func:`qit4n.net.plan.plan_network` and
    :func:`qit4n.net.survivability.failure_impacts`; the analysis is the same as without it.
    """

    def mapper(function: Callable[[S, B], R], shared: S, batches: Sequence[B]) -> list[R]:
        if not batches:
            return []
        with _client(scheduler_address) as client:
            on_workers = client.scatter(shared, broadcast=True)
            futures = client.map(function, [on_workers] * len(batches), list(batches), pure=False)
            return list(client.gather(futures))

    return mapper


def run_sweep(
    function: Callable[[Mapping[str, Any]], Any],
    points: Sequence[Mapping[str, Any]],
    *,
    scheduler_address: str | None = None,
    workers: int | None = None,
    on_progress: ProgressCallback | None = None,
) -> list[PointResult]:
    """Evaluate ``function(point)`` for every point; results come back in the order of ``points``.

    Parameters
    ----------
    function
        A module-level callable taking one point (a mapping of names to values).
    points
        The parameter points, e.g. from :func:`grid`.
    scheduler_address
        A Dask scheduler such as ``tcp://127.0.0.1:8786``; ``None`` uses local processes.
    workers
        Local worker processes (default: one per core; at most one per usable core and one per
        point, see :func:`local_workers`); ignored with a scheduler.
    on_progress
        Called as ``on_progress(points_done, points)`` at the start and after each point.
    """
    points = list(points)
    processes = local_workers(workers, len(points))
    if not points:
        return []
    finished = 0

    def done() -> None:
        nonlocal finished
        finished += 1
        if on_progress is not None:
            on_progress(finished, len(points))

    if on_progress is not None:
        on_progress(0, len(points))
    if scheduler_address is None:
        results = _run_local(function, points, processes, done)
    else:
        results = _run_dask(function, points, scheduler_address, done)
    return sorted(results, key=lambda result: result.index)
