"""``qit4n kms``: up (real processes), status, get-key, dec-key, restart with --state, bad input."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from qit4n.cli import app

SCENARIO = {
    "name": "kms-cli-pair",
    "nodes": [{"id": "A"}, {"id": "D"}],
    "links": [{"id": "A-D", "endpoints": ["A", "D"], "key_rate_bps": 1e6, "pool_capacity_bits": 2e5}],
}


def _qit4n(*args: str) -> list[str]:
    return [sys.executable, "-c", "from qit4n.cli import main; main()", *args]


def _start_up(scenario_file: Path, state: Path) -> tuple[subprocess.Popen, str]:
    process = subprocess.Popen(
        _qit4n("kms", "up", str(scenario_file), "--state", str(state)),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines = []
    deadline = time.monotonic() + 60
    assert process.stdout is not None
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        lines.append(line)
        if "running" in line:
            return process, "".join(lines)
        if not line and process.poll() is not None:
            break
    process.kill()
    raise AssertionError("kms up did not start:\n" + "".join(lines))


def _stop(process: subprocess.Popen) -> str:
    process.send_signal(signal.SIGINT)
    output, _ = process.communicate(timeout=30)
    assert process.returncode == 0, output
    return output


def _wait_for_key(runner: CliRunner, state: Path) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        result = runner.invoke(app, ["kms", "status", "--state", str(state), "--json"])
        pairs = json.loads(result.output)["pairs"] if result.exit_code == 0 else []
        if pairs and all(pair.get("stored_key_count", 0) >= 4 for pair in pairs):
            return
        time.sleep(0.1)
    raise AssertionError("pools did not fill")


def test_up_status_get_key_dec_key_and_restart_resume(tmp_path):
    scenario_file = tmp_path / "pair.yaml"
    scenario_file.write_text(yaml.safe_dump(SCENARIO))
    state = tmp_path / "state"
    runner = CliRunner()
    up, banner = _start_up(scenario_file, state)
    assert "https://127.0.0.1:" in banner and "KME-D" in banner
    try:
        _wait_for_key(runner, state)
        table = runner.invoke(app, ["kms", "status", "--state", str(state)])
        assert table.exit_code == 0 and "KME-A" in table.output and "SAE-D" in table.output
        got = runner.invoke(
            app,
            [
                "kms",
                "get-key",
                "--state",
                str(state),
                "--sae",
                "SAE-A",
                "--slave",
                "SAE-D",
                "--number",
                "2",
                "--size",
                "128",
                "--json",
            ],
        )
        assert got.exit_code == 0, got.output
        keys = json.loads(got.output)["keys"]
        assert len(keys) == 2
        first = runner.invoke(
            app,
            [
                "kms",
                "dec-key",
                "--state",
                str(state),
                "--sae",
                "SAE-D",
                "--master",
                "SAE-A",
                "--key-id",
                keys[0]["key_ID"],
                "--json",
            ],
        )
        assert json.loads(first.output)["keys"] == [keys[0]]
    finally:
        assert "stopping" in _stop(up)
    assert runner.invoke(app, ["kms", "status", "--state", str(state), "--json"]).exit_code == 0
    offline = json.loads(runner.invoke(app, ["kms", "status", "--state", str(state), "--json"]).output)
    assert all("error" in health for health in offline["kmes"].values())
    up, _ = _start_up(scenario_file, state)
    try:
        second = runner.invoke(
            app,
            [
                "kms",
                "dec-key",
                "--state",
                str(state),
                "--sae",
                "SAE-D",
                "--master",
                "SAE-A",
                "--key-id",
                keys[1]["key_ID"],
                "--json",
            ],
        )
        assert second.exit_code == 0, second.output
        assert json.loads(second.output)["keys"] == [keys[1]]
    finally:
        _stop(up)


def test_plan_with_an_offline_ca_writes_one_certificate_per_entity_and_no_ca_key(tmp_path):
    scenario_file = tmp_path / "pair.yaml"
    scenario_file.write_text(yaml.safe_dump(SCENARIO))
    runner = CliRunner()
    assert runner.invoke(app, ["kms", "certs", "init", "--ca", str(tmp_path / "ca")]).exit_code == 0
    result = runner.invoke(
        app, ["kms", "plan", str(scenario_file), "--state", str(tmp_path / "st"), "--ca", str(tmp_path / "ca")]
    )
    assert result.exit_code == 0, result.output
    names = sorted(path.name for path in (tmp_path / "st" / "certs").glob("*.pem"))
    assert names == ["KME-A.pem", "KME-D.pem", "SAE-A.pem", "SAE-D.pem", "ca.pem", "crl.pem", "qit4n-operator.pem"]
    assert not list((tmp_path / "st").rglob("ca.key"))


def test_bad_input_exits_2_with_a_message_and_no_traceback(tmp_path):
    result = subprocess.run(
        _qit4n("kms", "status", "--state", str(tmp_path / "missing")), capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert "--state" in result.stderr and "no KME configs found" in result.stderr
    assert "Traceback" not in result.stderr


def test_openapi_prints_the_etsi_document():
    result = CliRunner().invoke(app, ["kms", "openapi"])
    assert result.exit_code == 0
    assert "/api/v1/keys/{slave_SAE_ID}/enc_keys" in json.loads(result.output)["paths"]


def test_a_network_that_fails_to_start_leaves_no_process_behind(tmp_path, make_star):
    from qit4n.errors import ServiceError
    from qit4n.kms.launcher import Network, write_kme_plan

    plan = write_kme_plan(make_star(), tmp_path)
    broken = plan.state_dir / "kme" / "KME-D.json"
    broken.write_text("{}")
    network = Network(plan)
    with pytest.raises(ServiceError, match="KME-D exited"), network:
        pass
    assert network.processes == {}
