"""The ``qit4n rate`` / ``presets`` / ``sweep`` CLI contract, through the real command."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from qit4n.cli import app


def _json(runner: CliRunner, *args: str):
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_json_rows_carry_the_contract_fields(cli_runner: CliRunner) -> None:
    rows = _json(cli_runner, "rate", "bb84-decoy", "--distance-km", "0,50,100", "--preset", "gys", "--json")
    assert [row["distance_km"] for row in rows] == [0.0, 50.0, 100.0]
    for row in rows:
        assert {"distance_km", "key_rate_per_pulse", "key_rate_bps", "qber"} <= set(row)
        assert 0.0 <= row["qber"] <= 0.5
    assert rows[0]["key_rate_per_pulse"] > rows[1]["key_rate_per_pulse"] > rows[2]["key_rate_per_pulse"] > 0


def test_bounds_have_null_qber_and_ranges_expand(cli_runner: CliRunner) -> None:
    rows = _json(cli_runner, "rate", "plob", "--distance-km", "0:100:25", "--json")
    assert [row["distance_km"] for row in rows] == [0.0, 25.0, 50.0, 75.0, 100.0]
    assert all(row["qber"] is None for row in rows)


def test_max_distance_json(cli_runner: CliRunner) -> None:
    result = _json(cli_runner, "rate", "bb84-decoy", "--preset", "gys", "--max-distance", "--json")
    assert 100.0 < result["max_distance_km"] < 200.0 and result["status"] == "finite"
    assert _json(cli_runner, "rate", "plob", "--max-distance", "--json")["status"] == "unbounded"
    none = _json(cli_runner, "rate", "bb84-decoy", "--set", "misalignment_error=0.3", "--max-distance", "--json")
    assert none == {"protocol": "bb84-decoy", "max_distance_km": None, "status": "no-key"}


def test_csv_output_has_a_header_and_one_line_per_distance(cli_runner: CliRunner) -> None:
    result = cli_runner.invoke(app, ["rate", "bb84", "--distance-km", "0,10,20", "--csv"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    assert lines[0].startswith("protocol,distance_km") and len(lines) == 4


def test_compare_draws_the_classic_figure(cli_runner: CliRunner, tmp_path: Path) -> None:
    figure = tmp_path / "cmp.png"
    result = cli_runner.invoke(
        app, ["rate", "--compare", "bb84-decoy,tf,plob", "--distance-km", "0:400:20", "--plot", str(figure)]
    )
    assert result.exit_code == 0, result.output
    assert figure.stat().st_size > 10_000 and figure.read_bytes()[:4] == b"\x89PNG"
    assert result.stdout.splitlines()[0] == f"figure written to {figure}", "said before the long table"


def test_finite_key_takes_pulses(cli_runner: CliRunner) -> None:
    small = _json(
        cli_runner,
        "rate",
        "bb84-decoy-finite",
        "--preset",
        "lim2014",
        "--pulses",
        "1e9",
        "--distance-km",
        "50",
        "--json",
    )
    large = _json(
        cli_runner,
        "rate",
        "bb84-decoy-finite",
        "--preset",
        "lim2014",
        "--pulses",
        "1e11",
        "--distance-km",
        "50",
        "--json",
    )
    assert 0 < small[0]["key_rate_per_pulse"] < large[0]["key_rate_per_pulse"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["rate", "bb85", "--distance-km", "10"], "protocol = 'bb85': must be one of"),
        (["rate", "bb84-decoy", "--distance-km", "a:b"], "--distance-km = 'a:b': must be a comma list"),
        (["rate", "bb84-decoy", "--distance-km", "-5"], "distances must be in [0, 100000] km"),
        (["rate", "bb84-decoy", "--set", "eta_detector=2"], "eta_detector = 2: must be <= 1"),
        (["rate", "bb84-decoy", "--set", "colour=2"], "colour = 2: unknown field"),
        (["rate", "bb84-decoy", "--preset", "nope"], "preset = 'nope': must be one of"),
        (["rate", "cv-gg02", "--preset", "gys"], "does not apply to protocol 'cv-gg02'"),
    ],
)
def test_bad_input_exits_2_without_traceback(args: list[str], message: str) -> None:
    import subprocess
    import sys

    completed = subprocess.run([sys.executable, "-m", "qit4n", *args], capture_output=True, text=True, timeout=120)
    assert completed.returncode == 2, completed.stderr
    assert message in completed.stderr
    assert "Traceback" not in completed.stderr


def test_presets_list_their_sources(cli_runner: CliRunner) -> None:
    presets = {preset["name"]: preset for preset in _json(cli_runner, "presets", "--json")}
    assert {"gys", "lim2014", "lodewyck2007"} <= set(presets)
    assert "012326" in presets["gys"]["source"] and "042305" in presets["lodewyck2007"]["source"]


def test_sweep_reports_each_point(cli_runner: CliRunner) -> None:
    rows = _json(
        cli_runner,
        "sweep",
        "bb84-decoy",
        "--distance-km",
        "0,50",
        "--vary",
        "eta_detector=0.1,2",
        "--workers",
        "1",
        "--json",
    )
    assert [row["status"] for row in rows] == ["ok", "error", "ok", "error"]
    assert "must be <= 1" in rows[1]["error"]


def test_compare_applies_settings_only_where_they_exist(cli_runner: CliRunner) -> None:
    rows = _json(
        cli_runner, "rate", "--compare", "mdi,plob", "--distance-km", "50", "--set", "eta_detector=0.5", "--json"
    )
    assert [row["protocol"] for row in rows] == ["mdi", "plob"]
    result = cli_runner.invoke(app, ["rate", "--compare", "mdi,plob", "--distance-km", "50", "--set", "colour=1"])
    assert result.exit_code != 0 and "no compared protocol has this parameter" in str(result.exception)
