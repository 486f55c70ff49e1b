"""Survivability on a Dask cluster (issue 18): a local cluster of two worker processes gives the same
plan as the analysis in this process, for the library call and for ``qit4n plan --scheduler``."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from qit4n.cli import app
from qit4n.errors import ParameterError
from qit4n.net import survivability
from qit4n.net.generate import generate_scenario
from qit4n.net.plan import plan_network
from qit4n.net.survivability import Failure, failure_impacts
from qit4n.sweep import dask_batch_mapper

distributed = pytest.importorskip("dask.distributed")


@pytest.fixture(scope="module")
def scheduler_address():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster:
        yield cluster.scheduler_address


def _in_order_mapper(function, shared, batches):
    return [function(shared, batch) for batch in batches]


def test_plan_on_two_workers_equals_the_local_plan(scheduler_address, monkeypatch):
    scenario = generate_scenario(60, demands=8, seed=4)
    local = plan_network(scenario).to_dict()
    monkeypatch.setattr(survivability, "BATCH_FAILURES", 5)  # several tasks per worker
    spread = plan_network(scenario, mapper=dask_batch_mapper(scheduler_address)).to_dict()
    assert spread == local
    assert sum(1 for impact in local["survivability"] if impact["remaining_bps"]) > 10


def test_in_process_mapper_keeps_order_and_errors(monkeypatch):
    scenario = generate_scenario(30, demands=4, seed=1)
    plan = plan_network(scenario, survivability=False)
    from qit4n.net.flows import compile_network

    compiled = compile_network(plan.network)
    allocations = [demand.allocation for demand in plan.demands]
    monkeypatch.setattr(survivability, "BATCH_FAILURES", 3)
    assert failure_impacts(compiled, allocations, mapper=_in_order_mapper) == failure_impacts(compiled, allocations)
    with pytest.raises(ParameterError, match="no such link or node 'nowhere'"):
        failure_impacts(compiled, allocations, [Failure(nodes=("nowhere",))], mapper=_in_order_mapper)


def test_cli_plan_scheduler_gives_the_same_json(scheduler_address, tmp_path, cli_runner: CliRunner):
    from qit4n.scenario import scenario_to_yaml

    path = tmp_path / "net.yaml"
    path.write_text(scenario_to_yaml(generate_scenario(40, demands=5, seed=2)))
    local = cli_runner.invoke(app, ["plan", str(path), "--json"])
    spread = cli_runner.invoke(app, ["plan", str(path), "--json", "--scheduler", scheduler_address])
    assert local.exit_code == 0 and spread.exit_code == 0, spread.output
    assert json.loads(spread.stdout) == json.loads(local.stdout)
    bad = cli_runner.invoke(app, ["plan", str(path), "--scheduler", "not an address"])
    assert isinstance(bad.exception, ParameterError) and "--scheduler" in str(bad.exception)
