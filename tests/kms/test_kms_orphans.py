"""The temporary state of a ``kms up`` killed by SIGKILL (private keys, link secrets) is removed by the
next ``kms up`` without ``--state``; a state a live process holds is never touched (real files, flock)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import yaml

from qit4n.kms.atrest import write_private
from qit4n.kms.launcher import TEMPORARY_STATE_PREFIX, StateLock, remove_orphan_states

PAIR = {
    "name": "kms-orphan-pair",
    "nodes": [{"id": "A"}, {"id": "D"}],
    "links": [{"id": "A-D", "endpoints": ["A", "D"], "key_rate_bps": 1e5, "pool_capacity_bits": 1e6}],
}


def _state(folder: Path, name: str, *, age_s: float) -> Path:
    state = folder / f"{TEMPORARY_STATE_PREFIX}{name}"
    state.mkdir(mode=0o700)
    write_private(state / "kms.lock", "1")
    write_private(state / "links.json", "{}")
    stamp = time.time() - age_s
    os.utime(state / "kms.lock", (stamp, stamp))
    return state


def test_only_old_unlocked_temporary_states_are_removed(tmp_path):
    orphan = _state(tmp_path, "orphan", age_s=120)
    young = _state(tmp_path, "young", age_s=0)
    held = _state(tmp_path, "held", age_s=120)
    lock = StateLock(held)
    lock.acquire()
    stamp = time.time() - 120
    os.utime(held / "kms.lock", (stamp, stamp))
    (tmp_path / "unrelated").mkdir()
    try:
        assert remove_orphan_states(tmp_path) == [orphan]
    finally:
        lock.release()
    assert not orphan.exists() and young.exists() and held.exists() and (tmp_path / "unrelated").exists()


def test_kms_up_without_state_removes_what_a_killed_run_left(tmp_path):
    scenario = tmp_path / "pair.yaml"
    scenario.write_text(yaml.safe_dump(PAIR))
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    left = _state(temporary, "killed", age_s=120)  # what a SIGKILLed `kms up` leaves
    env = {**os.environ, "TMPDIR": str(temporary), "PYTHONPATH": str(Path(__file__).parents[2] / "src")}
    command = [sys.executable, "-m", "qit4n", "kms", "up", str(scenario), "--duration-s", "0"]
    run = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
    assert run.returncode == 0, run.stderr
    assert f"removed {left}" in run.stderr.replace("\n", "")
    assert not list(temporary.iterdir())  # neither the orphan nor this run's own temporary state
