"""The net commands through the real CLI: plan, simulate, scenario generate/show, demo section, bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import yaml
from typer.testing import CliRunner

from qit4n.cli import app
from qit4n.cli.net import parse_failure_spec
from qit4n.net.report import network_section
from qit4n.scenario import load_scenario

runner = CliRunner()
QIT4N = str(Path(sys.executable).with_name("qit4n"))


def test_plan_json_contract(tmp_path):
    result = runner.invoke(app, ["plan", "tokyo-2010", "--json", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert {"links", "demands", "survivability"} <= set(data)
    assert all("key_rate_bps" in link for link in data["links"])
    demand = data["demands"][0]
    assert {"max_key_rate_bps", "allocated_bps", "satisfied", "routes"} <= set(demand)
    assert {"failed", "demands_lost", "capacity_lost_bps"} <= set(data["survivability"][0])
    assert (tmp_path / "index.html").is_file() and (tmp_path / "net-network.png").is_file()


def test_plan_table_output():
    result = runner.invoke(app, ["plan", "cambridge-metro"])
    assert result.exit_code == 0, result.output
    assert "crl-eng-100g" in result.output and "Survivability" in result.output


def test_simulate_json_and_report(tmp_path):
    result = runner.invoke(
        app,
        [
            "simulate",
            "tokyo-2010",
            "--duration",
            "10min",
            "--json",
            "--fail",
            "link:MELCO-OT-HA@2min+1min",
            "--out",
            str(tmp_path),
        ],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["duration_s"] == 600.0
    assert {
        "throughput_bps",
        "delay_median_s",
        "delay_p99_s",
        "loss_ratio",
        "availability",
        "restoration_times_s",
    } <= set(data["demands"][0])
    totals = data["conservation"]
    assert abs(totals["imbalance_bits"]) < 1e-9 * totals["generated_bits"]
    assert (tmp_path / "net-pool-levels.png").is_file() and (tmp_path / "net-delivered.png").is_file()


def test_scenario_generate_and_show(tmp_path):
    result = runner.invoke(app, ["scenario", "generate", "--nodes", "15", "--demands", "3", "--seed", "4"])
    assert result.exit_code == 0, result.output
    path = tmp_path / "net.yaml"
    path.write_text(result.output)
    assert len(yaml.safe_load(result.output)["nodes"]) == 15
    assert len(load_scenario(path).demands) == 3
    picture = tmp_path / "net.png"
    shown = runner.invoke(app, ["scenario", "show", str(path), "--plot", str(picture)])
    assert shown.exit_code == 0, shown.output
    assert picture.stat().st_size > 1000 and f"drawing written to {picture}" in shown.output


def test_scenario_show_writes_no_picture_unless_asked(tmp_path, monkeypatch):
    """Issue 14: ``scenario show`` wrote ``network.png`` into the working folder unasked."""
    monkeypatch.chdir(tmp_path)
    shown = runner.invoke(app, ["scenario", "show", "secoqc-vienna-2008"])
    assert shown.exit_code == 0, shown.output
    assert list(tmp_path.iterdir()) == [] and "drawing written" not in shown.output
    help_text = runner.invoke(app, ["scenario", "show", "--help"], env={"COLUMNS": "240"}).output
    assert "nothing is written without it" in help_text
    old_name = runner.invoke(app, ["scenario", "show", "secoqc-vienna-2008", "--out", "net.svg"])
    assert old_name.exit_code == 0 and (tmp_path / "net.svg").stat().st_size > 1000


def test_bad_input_exits_2_without_traceback():
    run = subprocess.run(
        [QIT4N, "simulate", "tokyo-2010", "--duration", "-5h"], capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 2
    assert "--duration" in run.stderr and "Traceback" not in run.stderr
    run = subprocess.run(
        [QIT4N, "simulate", "tokyo-2010", "--duration", "1min", "--fail", "link:NOPE@1s"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 2 and "NOPE" in run.stderr and "Traceback" not in run.stderr
    run = subprocess.run([QIT4N, "scenario", "generate", "--nodes", "1"], capture_output=True, text=True, timeout=120)
    assert run.returncode == 2 and "nodes = 1" in run.stderr
    run = subprocess.run(
        [QIT4N, "scenario", "generate", "--format", "xml"], capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 2 and "--format = 'xml': must be yaml or json" in run.stderr


def test_scenario_generate_json_plans_like_yaml(tmp_path):
    arguments = ["scenario", "generate", "--nodes", "40", "--demands", "4", "--seed", "6"]
    as_yaml = runner.invoke(app, arguments)
    as_json = runner.invoke(app, [*arguments, "--format", "json"])
    assert as_yaml.exit_code == 0 and as_json.exit_code == 0, as_json.output
    (tmp_path / "net.yaml").write_text(as_yaml.output)
    (tmp_path / "net.json").write_text(as_json.output)
    plans = [runner.invoke(app, ["plan", str(tmp_path / name), "--json"]) for name in ("net.yaml", "net.json")]
    assert plans[0].exit_code == 0 and json.loads(plans[0].stdout) == json.loads(plans[1].stdout)


def test_failure_spec_errors_name_the_option():
    for spec in ("A-B@1h", "link:A-B", "wire:A-B@1h"):
        try:
            parse_failure_spec(spec)
        except Exception as error:  # noqa: BLE001 - the type is checked below
            assert type(error).__name__ == "ParameterError" and "--fail" in str(error)
        else:
            raise AssertionError(spec)


def test_demo_section_runs_on_the_default_scenario(tmp_path):
    section = network_section(load_scenario("secoqc-vienna-2008"), tmp_path)
    assert section.tables and section.figures
    for figure in section.figures:
        assert (tmp_path / figure.file_name).is_file()


def test_plan_with_design(tmp_path):
    base = tmp_path / "base.yaml"
    base.write_text(
        "name: base\nnodes:\n  - {id: A, latitude_deg: 0, longitude_deg: 0}\n"
        "  - {id: B, latitude_deg: 0, longitude_deg: 1}\n"
        "  - {id: R, role: trusted-relay, latitude_deg: 0.5, longitude_deg: 0.5}\n"
        "links:\n  - {id: AR, endpoints: [A, R], key_rate_bps: 500}\n"
        "demands:\n  - {name: ab, endpoints: [A, B], key_rate_bps: 100}\n"
    )
    candidates = tmp_path / "candidates.yaml"
    candidates.write_text(
        "name: candidates\nnodes:\n  - {id: A}\n  - {id: B}\n  - {id: R}\n"
        "links:\n  - {id: RB, endpoints: [R, B], key_rate_bps: 500}\n"
        "  - {id: AB, endpoints: [A, B], key_rate_bps: 500}\n"
    )
    result = runner.invoke(app, ["plan", str(base), "--design", str(candidates), "--json", "--no-survivability"])
    assert result.exit_code == 0, result.output
    design = json.loads(result.output)["design"]
    assert {link["id"] for link in design["chosen_links"]} == {"RB", "AB"}
    assert design["total_cost"] > 0


def test_plan_with_a_failure_set():
    result = runner.invoke(app, ["plan", "cambridge-metro", "--json", "--failure-set", "link:CRL-ENG,link:ENG-WCAM"])
    assert result.exit_code == 0, result.output
    last = json.loads(result.output)["survivability"][-1]
    assert last["failed_links"] == ["CRL-ENG", "ENG-WCAM"]
    assert set(last["demands_lost"]) == {"crl-eng-100g", "eng-wcam-100g"}


def test_seed_with_deterministic_traffic_says_it_changes_nothing():
    """Issue 14: the README passed ``--seed`` to ``simulate`` whose default constant traffic draws nothing."""
    args = ["simulate", "secoqc-vienna-2008", "--duration", "10min", "--json"]
    first = subprocess.run([QIT4N, *args, "--seed", "1"], capture_output=True, text=True, timeout=120)
    second = subprocess.run([QIT4N, *args, "--seed", "2"], capture_output=True, text=True, timeout=120)
    assert "note: --seed has no effect with --traffic constant" in first.stderr
    assert json.loads(first.stdout)["demands"] == json.loads(second.stdout)["demands"]
    poisson = subprocess.run(
        [QIT4N, *args, "--seed", "1", "--traffic", "poisson"], capture_output=True, text=True, timeout=120
    )
    assert poisson.returncode == 0 and "note:" not in poisson.stderr
