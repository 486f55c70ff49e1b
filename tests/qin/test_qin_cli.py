"""The ``qit4n qin chain`` / ``qin run`` CLI contract and the demo section, through the real command."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from qit4n.cli import app
from qit4n.qin import waiting


def _json(runner: CliRunner, *args: str):
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_physical_chain_prints_the_contract_fields(cli_runner: CliRunner) -> None:
    report = _json(
        cli_runner,
        "qin",
        "chain",
        "--segments",
        "4",
        "--length-km",
        "200",
        "--memory-t2-s",
        "0.5",
        "--samples",
        "20000",
        "--json",
    )
    assert {"rate_pairs_per_s", "fidelity_mean", "waiting_time_mean_s", "waiting_time_p99_s"} <= set(report)
    assert report["waiting_time_p99_s"] > report["waiting_time_mean_s"] > 0
    assert 0.5 < report["fidelity_mean"] < 1.0
    assert report["rate_pairs_per_s"] == pytest.approx(1 / report["waiting_time_mean_s"])


def test_event_engine_through_the_cli(cli_runner: CliRunner) -> None:
    report = _json(
        cli_runner,
        "qin",
        "chain",
        "--segments",
        "4",
        "--length-km",
        "100",
        "--engine",
        "des",
        "--duration",
        "1s",
        "--json",
    )
    assert report["delivered_pairs"] > 10
    assert report["engine"] == "des"


def test_abstract_model_is_exact_where_solvable(cli_runner: CliRunner) -> None:
    report = _json(
        cli_runner,
        "qin",
        "chain",
        "--segments",
        "4",
        "--link-success-probability",
        "0.1",
        "--swap-success-probability",
        "0.5",
        "--policy",
        "doubling",
        "--json",
    )
    assert report["method"] == "markov-chain"
    assert report["waiting_time_mean_attempts"] == pytest.approx(waiting.doubling_mean_waiting_time(4, 0.1, 0.5))
    two = _json(
        cli_runner,
        "qin",
        "chain",
        "--segments",
        "2",
        "--link-success-probability",
        "0.3",
        "--swap-success-probability",
        "0.5",
        "--policy",
        "doubling",
        "--json",
    )
    assert two["method"] == "closed-form"
    assert two["waiting_time_mean_attempts"] == pytest.approx((3 - 0.6) / (0.5 * 0.3 * 1.7))


def test_abstract_model_samples_beyond_exact(cli_runner: CliRunner) -> None:
    report = _json(
        cli_runner,
        "qin",
        "chain",
        "--segments",
        "16",
        "--link-success-probability",
        "0.5",
        "--swap-success-probability",
        "0.5",
        "--policy",
        "doubling",
        "--samples",
        "20000",
        "--json",
    )
    assert report["method"] == "monte-carlo"
    assert report["standard_error_attempts"] > 0


def test_target_fidelity_picks_a_policy(cli_runner: CliRunner) -> None:
    report = _json(
        cli_runner,
        "qin",
        "chain",
        "--segments",
        "8",
        "--length-km",
        "400",
        "--target-fidelity",
        "0.8",
        "--samples",
        "10000",
        "--json",
    )
    assert report["fidelity_mean"] >= 0.8
    assert {c["policy"] for c in report["candidates"]} == {"swap-asap", "doubling"}


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (["--segments", "0", "--length-km", "10"], "segments = 0"),
        (["--segments", "4", "--link-success-probability", "1.5"], "link_success_probability = 1.5"),
        (["--segments", "3", "--link-success-probability", "0.5", "--swap-success-probability", "0.5"], "segments = 3"),
        (
            ["--segments", "4", "--length-km", "1000", "--target-fidelity", "0.999", "--samples", "2000"],
            "--target-fidelity = 0.999",
        ),
        (
            ["--segments", "16", "--link-success-probability", "1e-300", "--swap-success-probability", "0.5"],
            "link_success_probability = 1e-300",
        ),
    ],
)
def test_bad_input_exits_2_naming_the_field(args, field) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "qit4n", "qin", "chain", *args], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 2
    assert field in result.stderr
    assert "Traceback" not in result.stderr


def test_run_scenario_json_and_figures(cli_runner: CliRunner, tmp_path: Path) -> None:
    report = _json(
        cli_runner,
        "qin",
        "run",
        "qin-metro-2qc",
        "--duration",
        "200ms",
        "--seed",
        "3",
        "--json",
        "--out",
        str(tmp_path),
    )
    assert [row["name"] for row in report["requests"]] == ["distributed-computing", "sensor-to-qc-a", "sensor-to-qc-b"]
    for row in report["requests"]:
        assert row["delivered_pairs"] > 0 and row["fidelity_mean"] > 0.5
    assert report["memory_use"]["R2"]["utilisation"] > 0.9  # the shared repeater is the bottleneck
    for name in report["figures"]:
        assert (tmp_path / name).stat().st_size > 1000
    assert (tmp_path / "index.html").is_file()


def test_run_uses_the_scenario_hardware_and_set_overrides(cli_runner: CliRunner) -> None:
    """qin-metro-2qc writes out the default hardware, so ``--set`` to the same values changes
    nothing; halving the detector efficiency and cutting the memory T2 to 50 ms lowers every
    request's rate and the fidelity of what arrives (a request may get nothing in 100 ms); a bad
    value is named, exit 2."""
    base = _json(cli_runner, "qin", "run", "qin-metro-2qc", "--duration", "100ms", "--seed", "4", "--json")
    same = _json(
        cli_runner,
        "qin",
        "run",
        "qin-metro-2qc",
        "--duration",
        "100ms",
        "--seed",
        "4",
        "--json",
        "--set",
        "eta_detector=0.9",
    )
    assert same == base
    worse = _json(
        cli_runner,
        "qin",
        "run",
        "qin-metro-2qc",
        "--duration",
        "100ms",
        "--seed",
        "4",
        "--json",
        "--set",
        "eta_detector=0.45",
        "--set",
        "memory.t2_s=0.05",
    )
    for before, after in zip(base["requests"], worse["requests"]):
        assert after["rate_pairs_per_s"] < before["rate_pairs_per_s"]
        assert after["fidelity_mean"] is None or after["fidelity_mean"] < before["fidelity_mean"]
    assert any(after["fidelity_mean"] is not None for after in worse["requests"])
    result = subprocess.run(
        [sys.executable, "-m", "qit4n", "qin", "run", "qin-metro-2qc", "--set", "memory.t2_s=-1"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert (
        result.returncode == 2
        and "--set.memory.t2_s = -1: must be > 0" in result.stderr
        and "Traceback" not in result.stderr
    )


def test_run_is_deterministic_for_a_seed(cli_runner: CliRunner) -> None:
    first = _json(cli_runner, "qin", "run", "qin-metro-2qc", "--duration", "100ms", "--seed", "5", "--json")
    second = _json(cli_runner, "qin", "run", "qin-metro-2qc", "--duration", "100ms", "--seed", "5", "--json")
    assert first == second


def test_demo_section_runs_on_the_default_scenario(tmp_path: Path) -> None:
    from qit4n.qin.report import repeater_chain_section
    from qit4n.scenario import load_scenario

    section = repeater_chain_section(load_scenario("secoqc-vienna-2008"), tmp_path)
    rows = section.tables[0].rows
    assert [row[0] for row in rows] == list(range(8))
    assert rows[0][3] < rows[0][4]  # no repeater: below the repeaterless bound
    assert max(row[3] for row in rows) > rows[0][4]  # enough repeaters beat it
    assert (tmp_path / "qin_chain_repeaters.png").stat().st_size > 1000


def test_planner_adds_pumping_when_plain_chains_miss_the_target(cli_runner: CliRunner) -> None:
    report = _json(
        cli_runner,
        "qin",
        "chain",
        "--segments",
        "4",
        "--length-km",
        "100",
        "--scheme",
        "single-click",
        "--bright-state-population",
        "0.2",
        "--target-fidelity",
        "0.6",
        "--samples",
        "5000",
        "--duration",
        "1s",
        "--json",
    )
    plain = [c for c in report["candidates"] if c["pumping_rounds"] == 0]
    assert all(c["fidelity_mean"] < 0.6 for c in plain)
    assert report["pumping_rounds"] > 0 and report["engine"] == "des"
    assert report["fidelity_mean"] >= 0.6


def test_chain_edges_answer_or_refuse_clearly(cli_runner: CliRunner) -> None:
    """Issue 15: 64 segments with a = 1 gave 44.25 instead of 7.34; p = 1e-12 never finished its
    99th percentile (a sampled chain at p = 1e-300, which overflowed 64-bit counters silently, is
    refused in test_bad_input_exits_2_naming_the_field)."""
    long_chain = _json(cli_runner, "qin", "chain", "--segments", "64", "--link-success-probability", "0.5", "--json")
    assert long_chain["waiting_time_mean_attempts"] == pytest.approx(7.344, abs=1e-3)
    rare = _json(cli_runner, "qin", "chain", "--segments", "2", "--link-success-probability", "1e-12", "--json")
    assert rare["waiting_time_p99_attempts"] == 5295807939118
