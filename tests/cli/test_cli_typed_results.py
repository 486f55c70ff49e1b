"""Each command's ``--json`` is its package entry point's typed result serialised, nothing added by the CLI."""

from __future__ import annotations

import json

import numpy as np
from typer.testing import CliRunner

from qit4n.cli import app
from qit4n.net import PlanReport, plan_network
from qit4n.postprocess.summary import postprocess_simulated
from qit4n.qin import ChainRequest, run_chain
from qit4n.qkd import compare_protocols, rate_curve
from qit4n.qkd.compare import compare_max_distances
from qit4n.scenario import load_scenario


def _json(runner: CliRunner, *args: str) -> object:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_rate_json_is_the_rate_curve(cli_runner: CliRunner) -> None:
    expected = rate_curve("mdi", np.array([0.0, 50.0]), None, {"eta_detector": 0.5}).to_json()
    assert _json(cli_runner, "rate", "mdi", "--distance-km", "0,50", "--set", "eta_detector=0.5", "--json") == expected


def test_compare_json_applies_the_comparison_rules_of_qkd(cli_runner: CliRunner) -> None:
    expected = compare_protocols(["mdi", "plob"], np.array([50.0]), "gys", {"eta_detector": 0.5})
    shown = _json(
        cli_runner,
        "rate",
        "--compare",
        "mdi,plob",
        "--distance-km",
        "50",
        "--preset",
        "gys",
        "--set",
        "eta_detector=0.5",
        "--json",
    )
    assert shown == expected.to_json()
    assert [point.protocol for point in expected.points] == ["mdi", "plob"]


def test_max_distance_json_is_the_typed_result(cli_runner: CliRunner) -> None:
    expected = [item.to_json() for item in compare_max_distances(["bb84-decoy", "plob"])]
    assert _json(cli_runner, "rate", "--compare", "bb84-decoy,plob", "--max-distance", "--json") == expected
    assert expected[1] == {"protocol": "plob", "max_distance_km": None, "status": "unbounded"}


def test_qin_chain_json_is_the_chain_report(cli_runner: CliRunner) -> None:
    report = run_chain(ChainRequest(segments=2, length_km=50.0, samples=2000, seed=4))
    shown = _json(
        cli_runner, "qin", "chain", "--segments", "2", "--length-km", "50", "--samples", "2000", "--seed", "4", "--json"
    )
    assert shown == report.to_json()
    assert report.engine == "mc" and report.summary["samples"] == 2000


def test_plan_json_is_the_plan_report(cli_runner: CliRunner) -> None:
    expected = PlanReport(plan_network(load_scenario("tokyo-2010"))).to_dict()
    assert _json(cli_runner, "plan", "tokyo-2010", "--json") == json.loads(json.dumps(expected))


def test_postprocess_json_is_the_summary_without_wall_clock(cli_runner: CliRunner) -> None:
    summary = postprocess_simulated(20_000, 0.02, seed=3).to_json()
    shown = _json(cli_runner, "postprocess", "--qber", "0.02", "--bits", "20000", "--seed", "3", "--json")
    assert isinstance(shown, dict)
    assert {key: value for key, value in shown.items() if key != "seconds"} == {
        key: value for key, value in summary.items() if key != "seconds"
    }
