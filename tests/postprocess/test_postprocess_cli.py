"""``qit4n postprocess`` and ``qit4n emulate`` through the real CLI, and the demo section."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from qit4n.cli import app
from qit4n.emulate.report import emulated_link_section
from qit4n.scenario import load_scenario

runner = CliRunner()

_CONTRACT = (
    "bits",
    "qber",
    "reconciler",
    "leak_ec_bits",
    "efficiency",
    "round_trips",
    "frame_errors",
    "final_key_bits",
    "keys_match",
    "seconds",
)


def test_postprocess_json_contract():
    result = runner.invoke(app, ["postprocess", "--qber", "0.03", "--bits", "120000", "--seed", "2", "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert all(field in summary for field in _CONTRACT)
    assert summary["bits"] == 120000 and summary["reconciler"] == "cascade"
    assert summary["keys_match"] is True
    assert 1.0 < summary["efficiency"] < 1.2
    assert summary["seconds"]["reconciliation"] > 0


def test_postprocess_toeplitz_ldpc_frames():
    """``--amplification toeplitz`` and ``--frame-bits`` reach the pipeline: three LDPC frames, keys
    equal, and a bad family is named (exit 2 through the real entry point)."""
    import subprocess
    import sys

    result = runner.invoke(
        app,
        [
            "postprocess",
            "--qber",
            "0.03",
            "--bits",
            "60000",
            "--reconciler",
            "ldpc",
            "--amplification",
            "toeplitz",
            "--frame-bits",
            "20000",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["amplification"] == "toeplitz" and summary["frame_bits"] == 20000 and summary["frames"] == 3
    assert summary["keys_match"] is True and summary["final_key_bits"] > 0
    completed = subprocess.run(
        [sys.executable, "-m", "qit4n", "postprocess", "--qber", "0.03", "--bits", "5000", "--amplification", "sha"],
        capture_output=True,
        text=True,
    )
    assert completed.returncode == 2
    assert (
        "amplification = 'sha': must be one of toeplitz, modular" in completed.stderr
        and "Traceback" not in completed.stderr
    )


def test_postprocess_table_output():
    result = runner.invoke(
        app, ["postprocess", "--qber", "0.02", "--bits", "50000", "--reconciler", "cascade-original"]
    )
    assert result.exit_code == 0, result.output
    assert "final_key_bits" in result.output


def test_postprocess_bad_input_exits_2_without_traceback():
    import subprocess
    import sys

    from qit4n.cli import main

    completed = subprocess.run(
        [sys.executable, "-c", "from qit4n.cli import main; main()", "postprocess", "--qber", "0.7", "--bits", "5000"],
        capture_output=True,
        text=True,
    )
    assert completed.returncode == 2
    assert "qber = 0.7" in completed.stderr and "Traceback" not in completed.stderr
    assert callable(main)


def test_emulate_json_reports_measured_and_analytic_rates():
    result = runner.invoke(
        app, ["emulate", "bb84-decoy", "--distance-km", "10", "--pulses", "3e6", "--seed", "1", "--json"]
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["keys_match"] is True
    assert summary["detections"] > 0 and summary["sifted_x_bits"] > 0
    assert "analytic_finite_key_rate_bps" in summary and "measured_key_rate_bps" in summary


def test_emulate_rejects_unknown_protocol():
    from qit4n.errors import ParameterError

    result = runner.invoke(app, ["emulate", "cv-gg02", "--distance-km", "10", "--pulses", "1e6"])
    assert result.exit_code != 0
    assert isinstance(result.exception, ParameterError)
    assert "protocol = 'cv-gg02'" in str(result.exception)


def test_demo_section_runs(tmp_path):
    section = emulated_link_section(load_scenario("secoqc-vienna-2008"), tmp_path)
    assert (tmp_path / "postprocess-bits.png").stat().st_size > 0
    assert section.tables and section.figures
