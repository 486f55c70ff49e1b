"""Secrets at rest (issue 12): private state files, the refusal of a readable state, the sealed store,
and erasure of delivered and expired keys from the SQLite database and its WAL (real files, real
servers with mutual TLS)."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from qit4n.errors import ServiceError
from qit4n.kms.atrest import KeySealer, StateModeError, check_private
from qit4n.kms.launcher import write_kme_plan
from qit4n.kms.ops import InProcessNetwork
from qit4n.kms.shape import KeyShape
from qit4n.kms.storage import KeyBatch
from qit4n.kms.store import KeyStore, batch_key_ids, new_batch_id
from qit4n.scenario import scenario_from_dict

PAIR = {
    "name": "kms-atrest-pair",
    "nodes": [{"id": "A"}, {"id": "D"}],
    "links": [{"id": "A-D", "endpoints": ["A", "D"], "key_rate_bps": 1e6, "pool_capacity_bits": 2e5}],
}


def _modes(state: Path) -> dict[str, str]:
    return {
        str(path.relative_to(state)): f"{stat.S_IMODE(path.lstat().st_mode):04o}"
        for path in [state, *sorted(state.rglob("*"))]
    }


def _qit4n(*args: str, env: dict[str, str] | None = None, timeout_s: float = 60) -> subprocess.CompletedProcess:
    command = [sys.executable, "-c", "from qit4n.cli import main; main()", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout_s, env=env)


def test_a_served_state_has_private_folders_and_files_only(tmp_path):
    state = tmp_path / "state"
    plan = write_kme_plan(scenario_from_dict(PAIR), state)
    with InProcessNetwork(plan):
        from qit4n.kms.ops import sae_client

        deadline = time.monotonic() + 20
        with sae_client(plan, "SAE-A") as master, sae_client(plan, "SAE-D") as slave:
            while master.status("SAE-D")["stored_key_count"] < 4:
                assert time.monotonic() < deadline, "pool did not fill"
                time.sleep(0.05)
            keys = master.get_key("SAE-D", number=2)
            slave.get_key_with_ids("SAE-A", [keys[0].key_id])
        modes = _modes(state)
    assert any(name.endswith(".sqlite-wal") for name in modes) and "kme/KME-A.json" in modes
    assert "kek/KME-A.key" in modes and "links.json" in modes
    wrong = {name: mode for name, mode in modes.items() if mode != ("0700" if (state / name).is_dir() else "0600")}
    assert wrong == {}
    # the waiting key is sealed: its bytes appear in no file of the state
    for path in state.rglob("*"):
        if path.is_file():
            assert keys[1].key not in path.read_bytes(), path


def test_a_state_other_users_can_read_is_refused_with_one_line(tmp_path):
    scenario_file = tmp_path / "pair.yaml"
    scenario_file.write_text(yaml.safe_dump(PAIR))
    state = tmp_path / "state"
    plan = write_kme_plan(scenario_from_dict(PAIR), state)
    config = state / "kme" / "KME-A.json"
    config.chmod(0o644)
    up = _qit4n("kms", "up", str(scenario_file), "--state", str(state), "--duration-s", "0")
    assert up.returncode == 2 and "Traceback" not in up.stderr
    assert str(config) in up.stderr and "mode 0644" in up.stderr and len(up.stderr.strip().splitlines()) == 1
    # a KME started on its own refuses too, before touching its database
    serve = subprocess.run(
        [sys.executable, "-m", "qit4n.kms.server", str(config)], capture_output=True, text=True, timeout=60
    )
    assert serve.returncode == 2 and "mode 0644" in serve.stderr and "Traceback" not in serve.stderr
    config.chmod(0o600)
    (state / "kme").chmod(0o755)
    with pytest.raises(StateModeError, match="kme: mode 0755"):
        check_private(plan.state_dir)


def test_kms_up_without_state_leaves_no_temporary_folder(tmp_path):
    scenario_file = tmp_path / "pair.yaml"
    scenario_file.write_text(yaml.safe_dump(PAIR))
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    up = _qit4n("kms", "up", str(scenario_file), "--duration-s", "0.5", env={**os.environ, "TMPDIR": str(scratch)})
    assert up.returncode == 0, up.stdout + up.stderr
    assert "qit4n-kms-" in up.stdout and list(scratch.iterdir()) == []


def _store_one(store: KeyStore, material: bytes) -> tuple[str, str]:
    batch = KeyBatch(new_batch_id(), "M", ["S"], KeyShape(number=1, size_bits=8 * len(material)))
    store.receive(batch=batch, decode=lambda _pad: material)
    return batch.batch_id, batch_key_ids(batch.batch_id, 1)[0]


def _files(path: Path) -> bytes:
    return b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())


def _sealed(path: Path, batch_id: str) -> bytes:
    with sqlite3.connect(path) as reader:
        return bytes(reader.execute("SELECT material FROM batches WHERE batch_id = ?", (batch_id,)).fetchone()[0])


@pytest.mark.parametrize("erase", ["delivered", "expired"])
def test_an_erased_key_is_in_neither_the_database_nor_its_wal(tmp_path, erase):
    path = tmp_path / "kme.sqlite"
    store = KeyStore(path)
    material = os.urandom(64)
    batch_id, key_id = _store_one(store, material)
    sealed = _sealed(path, batch_id)
    assert material not in _files(path)  # sealed under the KEK, never in clear
    assert sealed in _files(path)  # the scan below can find what is there
    if erase == "delivered":
        assert store.take(slave="S", master="M", key_ids=[key_id])[0].material == material
    else:
        assert store.expire(older_than_s=time.time() + 1) == 1
        assert store.counters()["expired"] == 1
    assert store.scrub()
    assert sealed not in _files(path) and material not in _files(path)
    store.close()


def test_sealed_keys_open_only_with_their_kek_and_row(tmp_path):
    path = tmp_path / "kme.sqlite"
    store = KeyStore(path)
    batch_id, key_id = _store_one(store, b"\x42" * 32)
    store.close()
    kek = Path(f"{path}.kek")
    assert stat.S_IMODE(kek.stat().st_mode) == 0o600 and len(kek.read_bytes()) == 32
    sealer = KeySealer.from_file(kek)
    blob = sealer.seal(b"k" * 32, context="b/S")
    with pytest.raises(ServiceError, match="authentication failed"):
        sealer.open(blob, context="b/T")  # moved to another slave's row
    kek.write_bytes(os.urandom(32))  # another KEK: the stored key does not open
    with pytest.raises(ServiceError, match="authentication failed"):
        KeyStore(path).take(slave="S", master="M", key_ids=[key_id])
    kek.write_bytes(b"short")
    with pytest.raises(ServiceError, match="must be 32 bytes"):
        KeySealer.from_file(kek)
    kek.chmod(0o644)
    with pytest.raises(StateModeError, match="mode 0644"):
        KeySealer.from_file(kek)
    assert batch_id


def test_check_private_ignores_files_that_vanish_during_the_walk(tmp_path):
    """A KME's database folder changes while it is checked: a file gone between listing and stat is skipped."""
    import threading

    from qit4n.kms.atrest import check_private

    folder = tmp_path / "db"
    folder.mkdir(mode=0o700)
    for index in range(1000):
        (folder / f"a-{index}").touch(mode=0o600)
    stop = threading.Event()

    def churn() -> None:
        while not stop.is_set():
            for index in range(50):
                path = folder / f"k-{index}.sqlite-journal"
                path.touch(mode=0o600)
                path.unlink()

    worker = threading.Thread(target=churn)
    worker.start()
    try:
        for _ in range(10):
            check_private(folder)
    finally:
        stop.set()
        worker.join()
