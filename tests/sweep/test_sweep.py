"""Sweeps on local processes and on a local Dask cluster of two workers, with per-point status."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from qit4n.errors import ParameterError, ServiceError
from qit4n.sweep import grid, key_rate_point, run_sweep


def square_or_fail(point: Mapping[str, Any]) -> float:
    """Module-level so worker processes can unpickle it."""
    if point["x"] < 0:
        raise ParameterError(f"x = {point['x']}: must be >= 0")
    return point["x"] ** 2


def test_grid_is_the_cartesian_product() -> None:
    points = grid(a=[1, 2], b=["u", "v", "w"])
    assert len(points) == 6 and points[0] == {"a": 1, "b": "u"} and points[-1] == {"a": 2, "b": "w"}


def test_local_processes_keep_order_and_report_bad_points() -> None:
    points = grid(x=[3, -1, 2])
    results = run_sweep(square_or_fail, points, workers=2)
    assert [result.status for result in results] == ["ok", "error", "ok"]
    assert [result.value for result in results] == [9, None, 4]
    assert "x = -1: must be >= 0" in results[1].error


def test_dask_cluster_of_two_workers() -> None:
    """Workers import the point function by name, so it must live in the package (here the key-rate point)."""
    distributed = pytest.importorskip("dask.distributed")
    points = [{"protocol": "plob", "distance_km": d} for d in (10.0, 50.0, 100.0)] + [
        {"protocol": "plob", "distance_km": 10.0, "colour": 1}
    ]
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster:
        results = run_sweep(key_rate_point, points, scheduler_address=cluster.scheduler_address)
    assert [result.status for result in results] == ["ok", "ok", "ok", "error"]
    rates = [result.value["key_rate_per_pulse"] for result in results[:3]]
    assert rates == sorted(rates, reverse=True) and rates[-1] > 0
    assert "colour" in results[-1].error


def test_unreachable_scheduler_is_a_service_error() -> None:
    with pytest.raises(ServiceError, match="cannot connect"):
        run_sweep(square_or_fail, grid(x=[1]), scheduler_address="tcp://127.0.0.1:9")


def test_a_scheduler_without_workers_is_a_service_error_not_a_hang(monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 14: a Dask scheduler with no workers made ``sweep --scheduler`` wait silently for ever."""
    distributed = pytest.importorskip("dask.distributed")
    from qit4n.sweep import runner

    monkeypatch.setattr(runner, "WORKER_WAIT_S", 1.0)
    cluster = distributed.LocalCluster(n_workers=0, processes=True, dashboard_address=":0", host="127.0.0.1")
    with cluster, pytest.raises(ServiceError, match="no worker joined within 1 s; start one with `dask worker"):
        run_sweep(square_or_fail, grid(x=[1]), scheduler_address=cluster.scheduler_address)


def test_workers_must_be_positive() -> None:
    with pytest.raises(ParameterError, match="workers = 0: must be >= 1"):
        run_sweep(square_or_fail, grid(x=[1]), workers=0)
