"""Two SAEs agree hybrid keys through real KMEs and chat with AES-GCM.

Alice (SAE-ALICE, behind KME-ALICE) and Bob (SAE-BOB, behind KME-BOB) sit at the two ends of a
trusted relay (KME-RELAY). Each message is sealed with a fresh hybrid key: a QKD key relayed by
the KMEs (ETSI GS QKD 014 Get key / Get key with key IDs over mutual TLS), combined with an
ML-KEM-768 and an X25519 shared secret (policy ``both``). Each SAE signs its part of the exchange
with the certificate it uses towards its KME and checks the other's, and both confirm the key
before using it. The two SAEs run in separate threads and talk only through a queue (standing for
any application channel), which carries the key offer, the answer, the confirmation and the
sealed messages, never a key.

Run: ``python examples/hybrid_chat.py``.
"""

from __future__ import annotations

import os
import queue
import tempfile
import threading
import time
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from qit4n.kms.hybrid import Answer, Finished, HybridPolicy, Initiator, Offer, Responder, SAEIdentity
from qit4n.kms.launcher import write_kme_plan
from qit4n.kms.ops import InProcessNetwork, sae_client
from qit4n.scenario import scenario_from_dict

MESSAGES = ["hello Bob", "the relay never saw this key", "bye"]


def _scenario():
    return scenario_from_dict(
        {
            "name": "hybrid-chat",
            "nodes": [{"id": "ALICE"}, {"id": "RELAY", "role": "trusted-relay"}, {"id": "BOB"}],
            "links": [
                {"endpoints": ["ALICE", "RELAY"], "key_rate_bps": 1e5, "pool_capacity_bits": 1e6},
                {"endpoints": ["RELAY", "BOB"], "key_rate_bps": 1e5, "pool_capacity_bits": 1e6},
            ],
        }
    )


def alice(plan, to_bob: queue.Queue, from_bob: queue.Queue, policy: HybridPolicy) -> None:
    """Master SAE: gets a QKD key, offers, finishes the hybrid key, sends a sealed message."""
    identity = SAEIdentity.from_files(*plan.sae_cert("SAE-ALICE"))
    with sae_client(plan, "SAE-ALICE") as kme:
        for text in MESSAGES:
            deadline = time.monotonic() + 30
            while kme.status("SAE-BOB")["stored_key_count"] < 1 and time.monotonic() < deadline:
                time.sleep(0.05)  # the link pools refill at 100 kbit/s; each request also spends key on authentication
            qkd = kme.get_key("SAE-BOB")[0]
            initiator = Initiator(identity, "SAE-BOB", qkd_key=qkd.key, key_id=qkd.key_id, policy=policy)
            to_bob.put(("offer", initiator.offer.to_json()))
            key, finished = initiator.finish(Answer.from_json(from_bob.get(timeout=30)[1]))
            to_bob.put(("finished", finished.to_json()))
            nonce = os.urandom(12)
            to_bob.put(("message", nonce + AESGCM(key).encrypt(nonce, text.encode(), qkd.key_id.encode())))
    to_bob.put(("bye", b""))


def bob(plan, from_alice: queue.Queue, to_alice: queue.Queue, policy: HybridPolicy, received: list[str]) -> None:
    """Slave SAE: fetches the QKD key by its ID, answers, checks the confirmation, opens the message."""
    identity = SAEIdentity.from_files(*plan.sae_cert("SAE-BOB"))
    with sae_client(plan, "SAE-BOB") as kme:
        key = key_id = responder = None
        while True:
            kind, payload = from_alice.get(timeout=30)
            if kind == "bye":
                return
            if kind == "offer":
                offer = Offer.from_json(payload)
                qkd = kme.get_key_with_ids(offer.master_sae_id, [offer.key_id])[0]
                responder = Responder(identity, offer, qkd_key=qkd.key, policy=policy)
                key_id = offer.key_id
                to_alice.put(("answer", responder.answer.to_json()))
            elif kind == "finished":
                key = responder.finish(Finished.from_json(payload))
            else:
                received.append(AESGCM(key).decrypt(payload[:12], payload[12:], key_id.encode()).decode())


def main(policy: HybridPolicy = HybridPolicy.BOTH) -> list[str]:
    """Run the chat; returns the messages Bob decrypted."""
    received: list[str] = []
    with tempfile.TemporaryDirectory(prefix="hybrid-chat-") as folder:
        plan = write_kme_plan(_scenario(), Path(folder))
        with InProcessNetwork(plan):
            to_bob, to_alice = queue.Queue(), queue.Queue()
            threads = [
                threading.Thread(target=alice, args=(plan, to_bob, to_alice, policy)),
                threading.Thread(target=bob, args=(plan, to_bob, to_alice, policy, received)),
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=60)
    return received


if __name__ == "__main__":
    for line in main():
        print(f"Bob read: {line}")
