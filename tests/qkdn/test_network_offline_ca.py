"""`qit4n network up` on a state of an offline CA: `kms certs init` + `kms plan --ca`, then the
controller's certificate from `kms certs issue --controller` (real processes on loopback)."""

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

pytestmark = pytest.mark.timeout(120)

SCENARIO = {
    "name": "offline-ca-pair",
    "nodes": [{"id": "A"}, {"id": "B"}],
    "links": [{"id": "A-B", "endpoints": ["A", "B"], "key_rate_bps": 1e6, "pool_capacity_bits": 1e7}],
}
_UP = [sys.executable, "-c", "from qit4n.cli import main; main()", "network", "up"]


def _invoke(runner: CliRunner, *argv: str) -> str:
    result = runner.invoke(app, list(argv))
    assert result.exit_code == 0, result.output
    return result.output


def test_network_up_runs_a_state_of_an_offline_ca(tmp_path: Path, cli_runner: CliRunner) -> None:
    scenario, ca, state = tmp_path / "pair.yaml", tmp_path / "ca", tmp_path / "state"
    scenario.write_text(yaml.safe_dump(SCENARIO))
    _invoke(cli_runner, "kms", "certs", "init", "--ca", str(ca))
    _invoke(cli_runner, "kms", "plan", str(scenario), "--state", str(state), "--ca", str(ca))

    refused = subprocess.run([*_UP, str(scenario), "--state", str(state)], capture_output=True, text=True, timeout=60)
    assert refused.returncode == 2, refused.stderr
    assert "qkdn-controller: missing" in refused.stderr and "kms certs issue --ca CA_DIR" in refused.stderr
    assert "--controller" in refused.stderr and "Traceback" not in refused.stderr

    issued = _invoke(cli_runner, "kms", "certs", "issue", "--ca", str(ca), "--state", str(state), "--controller")
    assert "qkdn-controller" in issued
    shown = json.loads(_invoke(cli_runner, "kms", "certs", "show", "--state", str(state), "--json"))
    controller = next(row for row in shown if row["entity"] == "qkdn-controller")
    assert {"127.0.0.1", "localhost"} <= set(controller["names"]) and not controller["revoked"]

    process = subprocess.Popen(
        [*_UP, str(scenario), "--state", str(state)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        assert process.stdout is not None
        banner = [process.stdout.readline() for _ in range(6)]  # a line per KME, then the network's
        assert banner[0].startswith("KME-") and " ready at https://" in banner[0], banner
        assert "2 KMEs and the QKDN controller ready" in banner[2], banner
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            report = json.loads(_invoke(cli_runner, "network", "status", "--state", str(state), "--json"))
            if len(report["routes"]) == 2:
                break
            time.sleep(0.1)
        assert {node["state"] for node in report["nodes"]} == {"up"} and len(report["routes"]) == 2, report
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=30)
    assert process.returncode == 0
    again = _invoke(cli_runner, "kms", "certs", "issue", "--ca", str(ca), "--state", str(state))
    assert "nothing (all valid)" in again  # the controller's certificate is kept without --controller
