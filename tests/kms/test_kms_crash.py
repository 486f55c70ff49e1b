"""Crash test: kill -9 KME processes under load, restart them, and audit every key.

Audit rules: a key acknowledged to the master (Get key answered 200) and not yet fetched by the
slave must be deliverable exactly once after the restart, with the same bytes; a key the slave
already fetched must never be delivered again; a fetch that was in flight at the crash may have
been committed or not, but is delivered at most once.
"""

from __future__ import annotations

import threading
import time

import httpx
import pytest

from qit4n.errors import ServiceError
from qit4n.kms.client import KMEError, SAEClient
from qit4n.kms.launcher import Network, write_kme_plan

_PROGRESS_TIMEOUT_S = 60.0


class Load:
    """A master issuing keys for one slave, and that slave fetching some of them, until stopped."""

    def __init__(self, plan, master: str, slave: str, fetch: bool) -> None:
        self.plan, self.master, self.slave, self.fetch = plan, master, slave, fetch
        self.acked: dict[str, bytes] = {}
        self.fetched: dict[str, bytes] = {}
        self.in_doubt: set[str] = set()
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self._issue)] + (
            [threading.Thread(target=self._fetch)] if fetch else []
        )

    def _client(self, sae_id: str) -> SAEClient:
        return SAEClient(self.plan.url(self.plan.directory[sae_id]), *self.plan.sae_cert(sae_id), timeout_s=3.0)

    def _issue(self) -> None:
        with self._client(self.master) as client:
            while not self.stop.is_set():
                try:
                    for key in client.get_key(self.slave, number=4):
                        self.acked[key.key_id] = key.key
                except (ServiceError, OSError, ValueError, httpx.HTTPError):  # the KME is down or restarting
                    time.sleep(0.02)

    def _fetch(self) -> None:
        with self._client(self.slave) as client:
            while not self.stop.is_set():
                pending = [
                    key_id for key_id in list(self.acked) if key_id not in self.fetched and key_id not in self.in_doubt
                ][:2]
                if len(pending) < 2 or len(self.fetched) > len(self.acked) // 2:
                    time.sleep(0.01)
                    continue
                try:
                    for key in client.get_key_with_ids(self.master, pending):
                        self.fetched[key.key_id] = key.key
                except KMEError:
                    self.in_doubt.update(pending)
                except (ServiceError, OSError, ValueError, httpx.HTTPError):
                    self.in_doubt.update(pending)
                    time.sleep(0.02)

    def __enter__(self) -> Load:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=10)

    def wait_for(self, acked: int, fetched: int = 0) -> None:
        """Let the load run until it has ``acked`` keys acknowledged and ``fetched`` fetched, however
        slow the machine (a KME crash then always happens mid-load, with enough keys to audit)."""
        deadline = time.monotonic() + _PROGRESS_TIMEOUT_S
        while len(self.acked) < acked or len(self.fetched) < fetched:
            assert time.monotonic() < deadline, (
                f"load made no progress: {len(self.acked)} acked, {len(self.fetched)} fetched"
            )
            time.sleep(0.01)

    def audit(self) -> tuple[int, int]:
        """Fetch every key again; returns (keys delivered after the restart, keys refused)."""
        assert all(self.acked[key_id] == key for key_id, key in self.fetched.items())
        delivered = refused = 0
        with self._client(self.slave) as client:
            for key_id, key in self.acked.items():
                try:
                    got = client.get_key_with_ids(self.master, [key_id])[0].key
                except KMEError as error:
                    assert error.status_code == 400
                    assert key_id in self.fetched or key_id in self.in_doubt, f"acknowledged key {key_id} was lost"
                    refused += 1
                    continue
                assert key_id not in self.fetched, f"key {key_id} delivered twice"
                assert got == key
                delivered += 1
                with pytest.raises(KMEError):
                    client.get_key_with_ids(self.master, [key_id])
        return delivered, refused


@pytest.mark.timeout(120)
def test_kill_9_under_load_loses_no_acknowledged_key_and_delivers_none_twice(tmp_path, make_star, live_network):
    plan = write_kme_plan(make_star(rate_bps=2e6, capacity_bits=2e6), tmp_path)
    with Network(plan) as network:
        live_network(plan).wait_for_keys("SAE-A", "SAE-D", 200)
        live_network(plan).wait_for_keys("SAE-A", "SAE-C", 200)
        with Load(plan, "SAE-A", "SAE-D", fetch=True) as direct:
            direct.wait_for(acked=24, fetched=6)
            network.kill("KME-D")
            time.sleep(0.3)
        network.start(["KME-D"])
        with Load(plan, "SAE-A", "SAE-C", fetch=False) as relayed:
            relayed.wait_for(acked=12)
            network.kill("KME-B")
            time.sleep(0.2)
            network.kill("KME-A")
        network.start(["KME-A", "KME-B"])
        delivered, refused = direct.audit()
        assert len(direct.acked) > 20 and len(direct.fetched) > 5
        assert delivered + refused == len(direct.acked)
        relayed_delivered, _ = relayed.audit()
        assert relayed_delivered == len(relayed.acked) > 10
