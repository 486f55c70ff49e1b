"""The Kx interface (ITU-T Q.4163): key supply notification between real KMEs over mutual TLS, the
store's supply agreement on real SQLite files, and the key relay messages on the wire.

Network for the live tests: SAE-A - KME-A - KME-B - KME-C - SAE-C (two QKD links, A-B and B-C), each
link at 1e5 bit/s into a pool of 1e7 bits (never full during the tests, so new units keep arriving).
Every unit is 256 bits.
"""

from __future__ import annotations

import json
import time

import httpx
import pytest

from qit4n.kms.client import sae_transport
from qit4n.kms.kx import KeyRelayCompletionNotification, KeyRelayMessage, KeySupplyNotificationResponse
from qit4n.kms.launcher import write_kme_plan
from qit4n.kms.ops import InProcessNetwork, network_status
from qit4n.kms.storage import PeerUnits
from qit4n.kms.store import KeyStore, PoolExhaustedError, UnitMismatchError
from qit4n.kms.supply import SeededLinkSupply
from qit4n.scenario import scenario_from_dict

UNIT_BITS = 256


# -- the store's supply agreement ------------------------------------------------------------------
def _agreeing_pair(tmp_path):
    supply = SeededLinkSupply("cd" * 32, unit_bytes=32)
    low, high = KeyStore(tmp_path / "low.sqlite"), KeyStore(tmp_path / "high.sqlite")
    low.register_link(link_id="L", parity=0, agreement=True)
    high.register_link(link_id="L", parity=1, agreement=True)
    return supply, low, high


def test_a_unit_is_allocated_only_once_the_peer_has_notified_it(tmp_path):
    supply, low, high = _agreeing_pair(tmp_path)
    low.supply_units(link_id="L", count=20)
    assert low.unit_count(link_id="L", owned_only=True) == 0  # the peer has notified nothing yet
    with pytest.raises(PoolExhaustedError):
        low.allocate(link_id="L", supply=supply, count=1)
    assert low.record_peer_supply(link_id="L", start=0, count=8) == 8
    assert low.unit_count(link_id="L", owned_only=True) == 4  # units 0, 2, 4, 6: below min(20, 8)
    start, _pad = low.allocate(link_id="L", supply=supply, count=4)
    with pytest.raises(PoolExhaustedError):
        low.allocate(link_id="L", supply=supply, count=1)
    # the peer holds no unit this end has not been told of: naming unit 6 before high holds it is refused
    with pytest.raises(UnitMismatchError, match="not held here"):
        high.forward(consumed=PeerUnits("L", start, 4, supply), out_link_id="L", out_supply=supply, out_count=1)
    high.supply_units(link_id="L", count=8)
    high.record_peer_supply(link_id="L", start=0, count=20)
    pad_in, _out_start, _pad_out = high.forward(
        consumed=PeerUnits("L", start, 4, supply), out_link_id="L", out_supply=supply, out_count=1
    )
    assert pad_in == _pad


def test_a_gap_or_an_overlap_in_the_notifications_is_refused_and_changes_nothing(tmp_path):
    _supply, low, _high = _agreeing_pair(tmp_path)
    low.supply_units(link_id="L", count=10)
    low.record_peer_supply(link_id="L", start=0, count=6)
    with pytest.raises(UnitMismatchError, match="a gap"):
        low.record_peer_supply(link_id="L", start=7, count=3)
    with pytest.raises(UnitMismatchError, match="an overlap"):
        low.record_peer_supply(link_id="L", start=0, count=6)  # the same notification again (a replay)
    assert low.supply_agreement(link_id="L") == (10, 0, 6)
    with pytest.raises(UnitMismatchError, match="holds 10"):
        low.record_announced(link_id="L", units=11)  # the peer cannot hold more of this end's units than it has
    low.record_announced(link_id="L", units=10)
    assert low.record_peer_supply(link_id="L", start=6, count=100) == 106  # the peer's module may run ahead
    assert low.unit_count(link_id="L", owned_only=True) == 5  # but only units both ends hold are used
    low.close()
    assert KeyStore(tmp_path / "low.sqlite").supply_agreement(link_id="L") == (10, 10, 106)  # durable


# -- live KMEs ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def chain(tmp_path_factory, live_network):
    names = ["A", "B", "C"]
    scenario = scenario_from_dict(
        {
            "name": "kx-chain",
            "nodes": [{"id": name} for name in names],
            "links": [
                {"id": f"{a}-{b}", "endpoints": [a, b], "key_rate_bps": 1e5, "pool_capacity_bits": 1e7}
                for a, b in zip(names, names[1:])
            ],
        }
    )
    plan = write_kme_plan(scenario, tmp_path_factory.mktemp("kx-chain"))
    with InProcessNetwork(plan):
        live = live_network(plan)
        live.wait_for_keys("SAE-A", "SAE-C", 10)
        yield live


def _link(plan, kme_id: str, link_id: str) -> dict:
    return network_status(plan)["kmes"][kme_id]["links"][link_id]


def _units(bits: int | None) -> int:
    assert bits is not None
    return bits // UNIT_BITS


def _post_as(live, kme_id: str, to_kme: str, messages: list[dict]) -> httpx.Response:
    config = live.plan.configs[kme_id]
    with httpx.Client(transport=sae_transport(config.cert, config.key, config.ca), timeout=10) as http:
        return http.post(live.url(to_kme) + "/kme/v1/supply", json={"messages": messages})


def _notification(source: str, destination: str, link_id: str, start: int, count: int) -> dict:
    return {
        "message_type": "key_supply_notification",
        "source_KME_ID": source,
        "destination_KME_ID": destination,
        "link_ID": link_id,
        "key_ID_start": start,
        "key_count": count,
    }


def _audit(plan, kme_id: str) -> list[dict]:
    config = plan.configs[kme_id]
    path = config.audit_file or config.database.with_name(config.database.name + ".audit.jsonl")
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_notifications_are_sent_answered_and_both_ends_agree(chain):
    plan = chain.plan
    # read B's record of A's supply before A's supply, and A's accepted count before B's record:
    # both records only grow, so each pair of readings must be ordered
    recorded = _units(_link(plan, "KME-B", "A-B")["peer_supplied_bits"])
    a_link = _link(plan, "KME-A", "A-B")
    a_held = _units(a_link["pool_bits"] + a_link["spent_bits"])
    assert 0 < recorded <= a_held  # B never records units A does not hold
    announced = _units(a_link["announced_bits"])
    assert 0 < announced <= _units(_link(plan, "KME-B", "A-B")["peer_supplied_bits"])
    # A uses only units B holds too: its owned units lie below min(A's supply, B's notified supply)
    agreed = min(a_held, _units(a_link["peer_supplied_bits"]))
    assert _units(a_link["owned_bits"]) <= (agreed + 1) // 2
    health = network_status(plan)["kmes"]
    counts_a, counts_b = health["KME-A"]["supply_notifications"], health["KME-B"]["supply_notifications"]
    assert counts_a["sent"] >= counts_a["accepted"] > 0 and counts_a.get("refused", 0) == 0
    assert counts_b["answered"] > 0 and health["KME-B"]["refused"]["supply"] == 0
    with chain.client("SAE-A") as master, chain.client("SAE-C") as slave:
        keys = master.get_key("SAE-C", number=3)
        assert [key.key for key in slave.get_key_with_ids("SAE-A", [key.key_id for key in keys])] == [
            key.key for key in keys
        ]


def test_a_mismatched_notification_is_refused_with_the_expected_key_id(chain):
    plan = chain.plan
    record = _units(_link(plan, "KME-B", "A-B")["peer_supplied_bits"])
    gap = _notification("KME-A", "KME-B", "A-B", record + 10**6, 5)
    duplicate = _notification("KME-A", "KME-B", "A-B", 0, 5)
    answer = _post_as(chain, "KME-A", "KME-B", [gap, duplicate])
    assert answer.status_code == 200
    responses = [
        KeySupplyNotificationResponse.model_validate(result["response"]) for result in answer.json()["results"]
    ]
    assert [response.result for response in responses] == ["refused", "refused"]
    assert "a gap" in (responses[0].reason or "") and "an overlap" in (responses[1].reason or "")
    for response in responses:
        assert response.source_KME_ID == "KME-B" and response.destination_KME_ID == "KME-A"
        assert record <= response.next_key_ID < record + 10**6  # B's record moved only by A's real notifications
    refused = [entry for entry in _audit(plan, "KME-B") if entry["event"] == "supply_refused"]
    assert len(refused) >= 2 and "a gap" in refused[-2]["reason"] and "an overlap" in refused[-1]["reason"]


def test_notifications_are_authenticated(chain):
    plan = chain.plan
    before = network_status(plan)["kmes"]["KME-B"]["refused"]["supply"]
    # KME-C's certificate: C shares B-C with B, not A-B; and it cannot pass for KME-A
    not_its_link = _post_as(chain, "KME-C", "KME-B", [_notification("KME-C", "KME-B", "A-B", 0, 1)])
    impostor = _post_as(chain, "KME-C", "KME-B", [_notification("KME-A", "KME-B", "A-B", 0, 1)])
    misaddressed = _post_as(chain, "KME-A", "KME-B", [_notification("KME-A", "KME-C", "A-B", 0, 1)])
    results = [response.json()["results"][0] for response in (not_its_link, impostor, misaddressed)]
    assert [result["status"] for result in results] == [401, 401, 401]
    assert "not a QKD link with KME-C" in results[0]["message"]
    assert "arrived from 'KME-C'" in results[1]["message"] and "at 'KME-B'" in results[2]["message"]
    # an SAE's certificate does not open the KME-to-KME interface at all
    sae_cert = plan.sae_cert("SAE-A")
    with httpx.Client(transport=sae_transport(*sae_cert), timeout=10) as http:
        body = {"messages": [_notification("KME-A", "KME-B", "A-B", 0, 1)]}
        assert http.post(chain.url("KME-B") + "/kme/v1/supply", json=body).status_code == 401
    assert network_status(plan)["kmes"]["KME-B"]["refused"]["supply"] == before  # 401s are not mismatches
    assert [entry["event"] for entry in _audit(plan, "KME-B")[-3:]] == ["supply_refused"] * 3


def test_a_lost_response_heals_without_losing_or_duplicating_units(chain):
    """KME-A's notification reaches B but its response is lost (here: sent by the test as KME-A, so A
    never sees the response). A's next notification overlaps, B refuses it naming where to resume,
    and A continues from there: B's record never exceeds A's supply and keys keep flowing."""
    plan = chain.plan
    for _ in range(50):
        record = _units(_link(plan, "KME-B", "A-B")["peer_supplied_bits"])
        answer = _post_as(chain, "KME-A", "KME-B", [_notification("KME-A", "KME-B", "A-B", record, 1)])
        if answer.json()["results"][0]["response"]["result"] == "accepted":
            break
    else:
        pytest.fail("A's own notifications kept moving B's record")
    deadline = time.monotonic() + 10
    while not any(entry["event"] == "supply_resync" for entry in _audit(plan, "KME-A")):
        assert time.monotonic() < deadline, "KME-A never resynchronised"
        time.sleep(0.05)
    deadline = time.monotonic() + 10
    while _units(_link(plan, "KME-A", "A-B")["announced_bits"]) <= record + 1:
        assert time.monotonic() < deadline, "KME-A's notifications did not resume"
        time.sleep(0.05)
    recorded = _units(_link(plan, "KME-B", "A-B")["peer_supplied_bits"])
    a_link = _link(plan, "KME-A", "A-B")
    assert recorded <= _units(a_link["pool_bits"] + a_link["spent_bits"])
    assert not any(entry["event"] == "supply_mismatch" for entry in _audit(plan, "KME-A"))
    with chain.client("SAE-A") as master, chain.client("SAE-C") as slave:
        key = master.get_key("SAE-C")[0]
        assert slave.get_key_with_ids("SAE-A", [key.key_id])[0].key == key.key


def test_relay_messages_on_the_wire_are_q4163_messages(chain, monkeypatch):
    """A key from SAE-A to SAE-C crosses KME-B: each hop is a key relay message, and KME-C answers the
    master's KME's confirmation with a key relay completion notification."""
    from qit4n.kms.relay import RelayEngine

    seen: list[tuple[str, dict, dict]] = []
    post = RelayEngine.post

    async def recording(self, kme_id, path, body):
        answer = await post(self, kme_id, path, body)
        seen.append((path, body, answer))
        return answer

    monkeypatch.setattr(RelayEngine, "post", recording)
    with chain.client("SAE-A") as master:
        master.get_key("SAE-C")
    monkeypatch.undo()
    hops = {
        message.source_KME_ID: message
        for path, body, _ in seen
        if path == "/kme/v1/relay"
        for message in map(KeyRelayMessage.model_validate, body["messages"])
    }
    assert (hops["KME-A"].destination_KME_ID, hops["KME-A"].link_ID, hops["KME-A"].route) == (
        "KME-B",
        "A-B",
        ["KME-B", "KME-C"],
    )
    assert hops["KME-A"].encrypted_keys is None  # the first hop's keys are the link key itself
    assert (hops["KME-B"].destination_KME_ID, hops["KME-B"].link_ID) == ("KME-C", "B-C")
    assert hops["KME-B"].encrypted_keys is not None and hops["KME-B"].key_relay_ID == hops["KME-A"].key_relay_ID
    (confirmation,) = [(body, answer) for path, body, answer in seen if path == "/kme/v1/confirm"]
    assert confirmation[0]["messages"][0]["message_type"] == "key_relay_confirmation"
    completion = KeyRelayCompletionNotification.model_validate(confirmation[1]["results"][0]["completion"])
    assert (completion.source_KME_ID, completion.destination_KME_ID) == ("KME-C", "KME-A")
    assert completion.key_relay_ID == hops["KME-A"].key_relay_ID and completion.result == "completed"
