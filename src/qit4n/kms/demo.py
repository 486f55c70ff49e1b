"""The key management part of ``qit4n demo``: KMEs of a scenario, hybrid keys across a trusted relay."""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

from qit4n.errors import ServiceError
from qit4n.kms.config import sae_id_of
from qit4n.kms.hybrid import Answer, Finished, HybridPolicy, Initiator, Offer, Responder, SAEIdentity
from qit4n.kms.launcher import write_kme_plan
from qit4n.kms.ops import InProcessNetwork, network_status, sae_client
from qit4n.kms.routes import kme_network

if TYPE_CHECKING:
    from qit4n.kms.client import SAEClient
    from qit4n.report import Section
    from qit4n.scenario import Scenario

__all__ = ["hybrid_exchange", "pick_relayed_pair", "run_demo"]

_FILL_WAIT_S = 4.0


def pick_relayed_pair(scenario: Scenario) -> tuple[str, str, list[str]]:
    """Two user nodes whose key must cross at least one trusted node (a demand first), and the route."""
    users = [node.id for node in scenario.nodes if node.role.value == "user"]
    candidates = [tuple(demand.endpoints) for demand in scenario.demands] + [
        (a, b) for a in users for b in users if a < b
    ]
    routes = kme_network(scenario).routes
    for source, target in candidates:
        hops = routes[source].get(target, []) if source in users and target in users else []
        if len(hops) > 1:
            return source, target, [source, *hops]
    raise ServiceError(f"scenario {scenario.name!r}: no pair of user nodes needs a trusted relay")


def hybrid_exchange(
    master_client: SAEClient,
    slave_client: SAEClient,
    master: SAEIdentity,
    slave: SAEIdentity,
    policy: HybridPolicy,
) -> tuple[str, bytes, bytes]:
    """One authenticated hybrid key agreed by two SAEs (both ends run here): (key_ID, master's key, slave's key).

    Each message goes through its wire form, as it would between two hosts.
    """
    qkd = master_client.get_key(slave.sae_id)[0]
    initiator = Initiator(master, slave.sae_id, qkd_key=qkd.key, key_id=qkd.key_id, policy=policy)
    offer = Offer.from_json(initiator.offer.to_json())
    if offer.key_id is None:
        raise ServiceError(f"policy = {policy.value!r}: the offer names no QKD key")
    slave_qkd = slave_client.get_key_with_ids(offer.master_sae_id, [offer.key_id])[0]
    responder = Responder(slave, offer, qkd_key=slave_qkd.key, policy=policy)
    master_key, finished = initiator.finish(Answer.from_json(responder.answer.to_json()))
    return qkd.key_id, master_key, responder.finish(Finished.from_json(finished.to_json()))


def run_demo(scenario: Scenario, out_dir: Path, *, keys: int = 4) -> Section:
    """Run the KMEs for a few seconds and return a report section with figures in ``out_dir``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    from qit4n.report import Figure, Section, Table

    source, target, route = pick_relayed_pair(scenario)
    master, slave = sae_id_of(source), sae_id_of(target)
    rows = []
    with tempfile.TemporaryDirectory(prefix="qit4n-kms-demo-") as folder:
        plan = write_kme_plan(scenario, Path(folder))
        with InProcessNetwork(plan), sae_client(plan, master) as master_client, sae_client(plan, slave) as slave_client:
            deadline = time.monotonic() + _FILL_WAIT_S
            while master_client.status(slave)["stored_key_count"] < keys and time.monotonic() < deadline:
                time.sleep(0.1)
            for _ in range(keys):
                key_id, master_key, slave_key = hybrid_exchange(
                    master_client,
                    slave_client,
                    SAEIdentity.from_files(*plan.sae_cert(master)),
                    SAEIdentity.from_files(*plan.sae_cert(slave)),
                    HybridPolicy.BOTH,
                )
                nonce = os.urandom(12)
                sealed = AESGCM(master_key).encrypt(nonce, b"hello over QKD + ML-KEM", key_id.encode())
                opened = AESGCM(slave_key).decrypt(nonce, sealed, key_id.encode())
                rows.append((key_id, master_key == slave_key, opened.decode()))
            status = network_status(plan)
    links = [
        (kme_id, link_id, link)
        for kme_id, health in status["kmes"].items()
        for link_id, link in health.get("links", {}).items()
    ]
    figure_name = "kms_pool_levels.png"
    fig, axis = plt.subplots(figsize=(7, 3.2))
    axis.barh(
        [f"{kme_id} / {link_id}" for kme_id, link_id, _ in links], [link["pool_bits"] / 1e3 for _, _, link in links]
    )
    axis.set_xlabel("key in pool (kbit)")
    axis.set_title("KME link pools after the demo")
    fig.tight_layout()
    fig.savefig(out_dir / figure_name, dpi=110)
    plt.close(fig)
    return Section(
        title="Key management (ETSI GS QKD 014)",
        paragraphs=[
            f"One KME per node of {scenario.name} ran on 127.0.0.1 with mutual TLS; "
            "link pools filled at the links' key rates.",
            f"{master} (behind KME-{source}) and {slave} (behind KME-{target}) agreed {len(rows)} hybrid keys "
            f"(QKD key relayed over {' → '.join(route)}, combined with ML-KEM-768 and X25519) "
            "and exchanged AES-GCM messages.",
        ],
        tables=[
            Table(
                ["key_ID", "both SAEs derived the same key", "message decrypted by the slave"],
                rows,
                caption="hybrid keys",
            ),
            Table(
                ["KME", "link", "pool bits"],
                [(kme_id, link_id, link["pool_bits"]) for kme_id, link_id, link in links],
                caption="pool levels (each KME's view of each of its links)",
            ),
            Table(
                ["KME", "keys issued to its masters", "keys delivered to its slaves"],
                [(kme_id, health["issued"], health["delivered"]) for kme_id, health in status["kmes"].items()],
                caption="key counters (one row per KME: counts are per KME, not per link)",
            ),
        ],
        figures=[Figure(figure_name, "Key in each KME's link pools at the end of the demo")],
    )
