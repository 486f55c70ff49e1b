"""Long commands show progress on stderr when it is a terminal, and nothing when it is not."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

EMULATE = ["emulate", "bb84-decoy", "--distance-km", "20", "--pulses", "1e6"]


def _stderr_on_a_terminal(argv: list[str]) -> str:
    """Run ``qit4n argv`` with stderr on a pseudo-terminal; what the terminal received."""
    master, slave = pty.openpty()
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2] / "src"), "TERM": "xterm", "COLUMNS": "100"}
    env.pop("NO_COLOR", None)
    with subprocess.Popen(
        [sys.executable, "-m", "qit4n", *argv], stdout=subprocess.DEVNULL, stderr=slave, env=env
    ) as process:
        os.close(slave)
        chunks = []
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # the terminal closed: the command is done
                break
            if not chunk:
                break
            chunks.append(chunk)
        process.wait(timeout=120)
    os.close(master)
    return b"".join(chunks).decode("utf-8", "replace")


def test_emulate_shows_progress_on_a_terminal_and_is_quiet_under_json() -> None:
    assert "emulating 1e+06 pulses of bb84-decoy" in _stderr_on_a_terminal(EMULATE)
    assert "emulating" not in _stderr_on_a_terminal([*EMULATE, "--json"])


def test_emulate_writes_no_progress_when_stderr_is_not_a_terminal() -> None:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2] / "src")}
    run = subprocess.run(
        [sys.executable, "-m", "qit4n", *EMULATE], capture_output=True, text=True, timeout=120, env=env, check=False
    )
    assert run.returncode == 0, run.stderr
    assert "emulating" not in run.stderr


def test_kms_up_shows_planning_and_each_kme_starting_on_a_terminal(tmp_path: Path) -> None:
    scenario = tmp_path / "pair.yaml"
    scenario.write_text(
        "name: pair\nnodes: [{id: A}, {id: B}]\n"
        "links: [{endpoints: [A, B], key_rate_bps: 1.0e5, pool_capacity_bits: 1.0e6}]\n"
    )
    shown = _stderr_on_a_terminal(["kms", "up", str(scenario), "--state", str(tmp_path / "st"), "--duration-s", "0"])
    assert "planning: configs and certificates" in shown
    assert "KME-B listening" in shown and "2/2" in shown
