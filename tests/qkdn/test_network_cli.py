"""``qit4n network up | fault | status``: real processes on loopback, Ctrl-C, restart, bad input."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from qit4n.cli import app, main

pytestmark = pytest.mark.timeout(120)

SCENARIO = {
    "name": "qkdn-chain",
    "nodes": [{"id": "A"}, {"id": "R", "role": "trusted-relay"}, {"id": "D"}],
    "links": [
        {"id": "A-R", "endpoints": ["A", "R"], "key_rate_bps": 1e6, "pool_capacity_bits": 1e7},
        {"id": "R-D", "endpoints": ["R", "D"], "key_rate_bps": 1e6, "pool_capacity_bits": 1e7},
    ],
}


def _start(scenario_file: Path, state: Path) -> tuple[subprocess.Popen[str], str]:
    command = [sys.executable, "-c", "from qit4n.cli import main; main()", "network", "up", str(scenario_file)]
    process = subprocess.Popen(
        [*command, "--state", str(state)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    lines = []
    assert process.stdout is not None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        lines.append(line)
        if "running" in line:
            return process, "".join(lines)
        if not line and process.poll() is not None:
            break
    process.kill()
    raise AssertionError("network up did not start:\n" + "".join(lines))


def _status(runner: CliRunner, state: Path) -> dict[str, Any]:
    result = runner.invoke(app, ["network", "status", "--state", str(state), "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def _until(runner: CliRunner, state: Path, predicate: Any, what: str) -> dict[str, Any]:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        report = _status(runner, state)
        if predicate(report):
            return report
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting until {what}: {report}")


def _nodes(report: dict[str, Any]) -> dict[str, str]:
    return {node["id"]: node["state"] for node in report["nodes"]}


def test_up_kill_restore_stop_and_resume(tmp_path: Path, cli_runner: CliRunner) -> None:
    scenario_file = tmp_path / "chain.yaml"
    scenario_file.write_text(yaml.safe_dump(SCENARIO))
    state = tmp_path / "state"
    process, banner = _start(scenario_file, state)
    try:
        assert "3 KMEs and the QKDN controller ready in" in banner and "/qkdn/v1/state" in banner
        assert all(f"KME-{node} ready at https://127.0.0.1:" in banner for node in "ARD"), banner
        report = _until(cli_runner, state, lambda r: len(r["routes"]) == 6, "all routes are installed")
        assert {link["id"] for link in report["links"]} == {"A-R", "R-D"}
        assert {"id", "state", "key_rate_bps", "pool_bits"} <= set(report["links"][0])

        killed = cli_runner.invoke(app, ["network", "fault", "--state", str(state), "kill", "R"])
        assert killed.exit_code == 0 and "no network is running" not in killed.output, killed.output
        report = _until(cli_runner, state, lambda r: _nodes(r)["R"] == "down", "R is down")
        assert {link["state"] for link in report["links"]} == {"down"}
        assert not any(route["target_kme"] == "KME-D" for route in report["routes"])
        assert any(a["source"] == "node:R" and a["severity"] == "critical" for a in report["alarms"])

        cli_runner.invoke(app, ["network", "fault", "--state", str(state), "restore", "R"])
        _until(cli_runner, state, lambda r: len(r["routes"]) == 6, "R is back and routed")
        table = cli_runner.invoke(app, ["network", "status", "--state", str(state)])
        assert table.exit_code == 0 and "A-R" in table.output and "node R: KME does not answer" in table.output
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=30)
    assert process.returncode == 0 and "stopping" in output, output
    controller_port = json.loads((state / "qkdn" / "controller.json").read_text())["port"]
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", controller_port), timeout=1):
        pass

    process, _ = _start(scenario_file, state)  # the same state resumes: same address, alarm history kept
    try:
        report = _until(cli_runner, state, lambda r: len(r["routes"]) == 6, "the restarted network is routed")
        cleared = [a for a in report["alarms"] if a["source"] == "node:R"]
        assert cleared and all(alarm["cleared_at"] is not None for alarm in cleared)
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=30)


@pytest.fixture(scope="module")
def planned(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A planned (not running) state of the chain."""
    from qit4n.kms.launcher import write_kme_plan
    from qit4n.qkdn.plan import write_controller_plan
    from qit4n.scenario import scenario_from_dict

    state = tmp_path_factory.mktemp("planned") / "state"
    scenario = scenario_from_dict(SCENARIO)
    write_controller_plan(scenario, write_kme_plan(scenario, state))
    return state


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["fault", "cut", "NOPE"], "LINK = 'NOPE': no such link (links: A-R, R-D)"),
        (["fault", "kill", "NOPE"], "NODE = 'NOPE': no such node (nodes: A, R, D)"),
        (["fault", "noise", "A-R", "--classical", "1550:loud"], "--classical = '1550:loud': must be"),
        (["fault", "explode", "A-R"], "ACTION = 'explode': must be cut, restore, noise or kill"),
    ],
)
def test_bad_faults_name_the_field(
    planned: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    state = planned
    with pytest.raises(SystemExit) as done:
        main(["network", *argv[:1], "--state", str(state), *argv[1:]])
    output = capsys.readouterr()
    assert done.value.code == 2 and message in output.err, output
    assert "Traceback" not in output.err and len(output.err.strip().splitlines()) == 1


def test_status_without_a_network_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(["network", "status", "--state", str(tmp_path)])
    assert done.value.code != 0 and "no QKDN controller planned" in capsys.readouterr().err


def test_a_fault_without_a_running_network_is_recorded_for_the_next_start(
    planned: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as done:
        main(["network", "fault", "--state", str(planned), "cut", "R-D"])
    output = capsys.readouterr()
    assert done.value.code == 0, output
    assert output.out.startswith("cut R-D: ")
    assert f"no network is running on --state {planned}; the fault is recorded in" in output.err, output
    assert json.loads((planned / "qkdn" / "faults.json").read_text())["links"]["R-D"]["cut"] is True
    with pytest.raises(SystemExit):
        main(["network", "fault", "--state", str(planned), "restore", "R-D"])
    assert "R-D" not in json.loads((planned / "qkdn" / "faults.json").read_text())["links"]


def test_a_fault_on_a_folder_that_is_not_a_network_state_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as done:
        main(["network", "fault", "--state", str(tmp_path), "cut", "A-R"])
    error = capsys.readouterr().err
    assert done.value.code == 2 and error.startswith(f"error: --state {tmp_path}: not a network state"), error
    assert "Traceback" not in error and len(error.strip().splitlines()) == 1
    assert not (tmp_path / "qkdn").exists()
