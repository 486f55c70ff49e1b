"""Shared by the tunnel examples: a small QKD network on this machine that hands two SAEs equal keys.

SAE-ALICE (behind KME-ALICE) and SAE-BOB (behind KME-BOB) are joined through a trusted relay
(KME-RELAY), so every key is relayed hop by hop. Alice asks her KME for a key (ETSI GS QKD 014
Get key), Bob asks his for the same key by its ID (Get key with key IDs); both calls go over
mutual TLS to real KMEs serving from SQLite stores in a private temporary folder.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from qit4n.kms.client import SAEClient
from qit4n.kms.launcher import write_kme_plan
from qit4n.kms.ops import InProcessNetwork, sae_client
from qit4n.scenario import scenario_from_dict

KEY_BITS = 256


@dataclass(frozen=True)
class SharedKey:
    """One QKD key as each end received it (equal unless something is broken)."""

    key_id: str
    alice_key: bytes
    bob_key: bytes


class KeyPairSource:
    """Hands out keys shared by SAE-ALICE and SAE-BOB, one ETSI 014 round trip per end."""

    def __init__(self, alice: SAEClient, bob: SAEClient) -> None:
        self._alice = alice
        self._bob = bob

    def wait_for(self, count: int, timeout_s: float = 30.0) -> None:
        """Wait until one request from Alice can carry ``count`` keys for Bob (the relay pools fill at
        the link rate; every request also spends link key on authentication)."""
        deadline = time.monotonic() + timeout_s
        while self._alice.status("SAE-BOB")["stored_key_count"] < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"SAE-ALICE -> SAE-BOB: fewer than {count} keys after {timeout_s} s")
            time.sleep(0.05)

    def next_key(self) -> SharedKey:
        """A fresh 256-bit key: Alice gets it as master, Bob fetches it by its key_ID as slave."""
        self.wait_for(1)
        alice = self._alice.get_key("SAE-BOB", size_bits=KEY_BITS)[0]
        bob = self._bob.get_key_with_ids("SAE-ALICE", [alice.key_id])[0]
        return SharedKey(alice.key_id, alice.key, bob.key)


@contextmanager
def key_pair_network(key_rate_bps: float = 1e5) -> Iterator[KeyPairSource]:
    """Start the three KMEs in this process; yield a key source; stop them and delete the state."""
    scenario = scenario_from_dict(
        {
            "name": "tunnel-keys",
            "nodes": [{"id": "ALICE"}, {"id": "RELAY", "role": "trusted-relay"}, {"id": "BOB"}],
            "links": [
                {"endpoints": ["ALICE", "RELAY"], "key_rate_bps": key_rate_bps, "pool_capacity_bits": 1e6},
                {"endpoints": ["RELAY", "BOB"], "key_rate_bps": key_rate_bps, "pool_capacity_bits": 1e6},
            ],
        }
    )
    with tempfile.TemporaryDirectory(prefix="qit4n-tunnel-keys-") as folder:
        plan = write_kme_plan(scenario, Path(folder))
        with InProcessNetwork(plan), sae_client(plan, "SAE-ALICE") as alice, sae_client(plan, "SAE-BOB") as bob:
            yield KeyPairSource(alice, bob)
