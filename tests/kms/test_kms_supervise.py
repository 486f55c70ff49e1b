"""Supervision (issue 12): the state lock, restart with back-off and giving up, and no orphan KME
after SIGTERM, SIGINT or kill -9 of ``kms up`` (real processes on 127.0.0.1)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from qit4n.errors import ServiceError
from qit4n.kms.launcher import Network, write_kme_plan
from qit4n.scenario import scenario_from_dict

PAIR = {
    "name": "kms-supervise-pair",
    "nodes": [{"id": "A"}, {"id": "D"}],
    "links": [{"id": "A-D", "endpoints": ["A", "D"], "key_rate_bps": 1e6, "pool_capacity_bits": 2e5}],
}


def _children(pid: int) -> set[int]:
    """PIDs whose parent is ``pid`` (from /proc)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.add(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _start_up(tmp_path: Path, state: Path) -> subprocess.Popen:
    scenario_file = tmp_path / "pair.yaml"
    scenario_file.write_text(yaml.safe_dump(PAIR))
    command = [sys.executable, "-c", "from qit4n.cli import main; main()", "kms", "up", str(scenario_file)]
    process = subprocess.Popen(
        [*command, "--state", str(state)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    deadline = time.monotonic() + 60
    lines = []
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        lines.append(line)
        if "running" in line:
            return process
        if not line and process.poll() is not None:
            break
    process.kill()
    raise AssertionError("kms up did not start:\n" + "".join(lines))


@pytest.mark.timeout(120)
@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGTERM, signal.SIGINT])
def test_no_kme_outlives_its_supervisor(tmp_path, how):
    state = tmp_path / "state"
    up = _start_up(tmp_path, state)
    kmes = _children(up.pid)
    assert len(kmes) == 2
    if how != signal.SIGKILL:  # only the supervisor holds the lock, so a second one is refused
        scenario_file = tmp_path / "pair.yaml"
        second = subprocess.run(
            [sys.executable, "-c", "from qit4n.cli import main; main()", "kms", "up", str(scenario_file)]
            + ["--state", str(state), "--duration-s", "0"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert second.returncode == 2 and "already in use by `qit4n kms up`" in second.stderr
        assert f"pid {up.pid}" in second.stderr and "Traceback" not in second.stderr
    os.kill(up.pid, how)
    up.communicate(timeout=30)
    deadline = time.monotonic() + 20
    while any(_alive(pid) for pid in kmes):
        assert time.monotonic() < deadline, f"orphan KMEs after {how.name}: {[p for p in kmes if _alive(p)]}"
        time.sleep(0.05)


@pytest.mark.timeout(120)
def test_a_killed_kme_is_restarted_and_a_failing_one_given_up(tmp_path):
    plan = write_kme_plan(scenario_from_dict(PAIR), tmp_path / "state")
    with Network(plan, max_restarts=2, backoff_s=0.05) as network:
        first = network.processes["KME-D"].pid
        os.kill(first, signal.SIGKILL)
        deadline = time.monotonic() + 20
        while "KME-D" not in network.supervise():
            assert time.monotonic() < deadline
            time.sleep(0.02)
        assert network.processes["KME-D"].pid != first and network.restarts["KME-D"].count == 1
        network._wait_ready("KME-D")
        (plan.state_dir / "kme" / "KME-D.json").chmod(0o644)  # every restart now exits with status 2
        network.processes["KME-D"].kill()
        with pytest.raises(ServiceError, match=r"KME-D exited with status 2 after 2 restarts; giving up \(log: "):
            while time.monotonic() < deadline + 20:
                network.supervise()
                time.sleep(0.02)
        assert "mode 0644" in (plan.state_dir / "KME-D.log").read_text()
        (plan.state_dir / "kme" / "KME-D.json").chmod(0o600)
