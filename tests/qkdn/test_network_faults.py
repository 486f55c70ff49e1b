"""Issue 13 items 1-3: SECOQC's KMEs and the QKDN controller as real processes on loopback, a scripted
fault sequence, and the delivered-key ledger checked against the controller's view.

In each phase the test waits until the controller reports the routes it installed after the fault,
then every SAE pair asks for keys: a pair the controller gives a route must get every key (and its
slave the same bytes under the same key ID), a pair without one must get ETSI 503 naming the missing
route. Lost (delivered to the master only, or different bytes) and duplicated key IDs must be 0.
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from qit4n.cli.network import fetch
from qit4n.kms.client import KMEError
from qit4n.kms.launcher import Network, write_kme_plan
from qit4n.kms.ops import sae_client
from qit4n.qkdn.faults import apply_fault
from qit4n.qkdn.plan import start_controller, write_controller_plan
from qit4n.scenario import load_scenario

pytestmark = pytest.mark.timeout(120)

PAIRS = [("SAE-SIE", "SAE-STP"), ("SAE-FOR", "SAE-STP"), ("SAE-SIE", "SAE-FOR")]
REQUESTS_PER_PAIR = 3


@pytest.fixture(scope="module")
def secoqc(tmp_path_factory: pytest.TempPathFactory) -> Any:
    state = tmp_path_factory.mktemp("qkdn") / "state"
    state.mkdir(mode=0o700)
    os.chmod(state.parent, 0o700)
    scenario = load_scenario("secoqc-vienna-2008")
    started = time.monotonic()
    kmes = write_kme_plan(scenario, state)
    plan = write_controller_plan(scenario, kmes)
    with Network(kmes) as network:
        start_controller(network, state)
        _wait(lambda: _state(state)["sequence"] > 0, "the controller answers")
        ready_s = time.monotonic() - started
        yield plan, network, ready_s


def _state(state_dir: Path) -> dict[str, Any]:
    try:
        return fetch(state_dir, "/qkdn/v1/state")
    except Exception as error:  # noqa: BLE001 - not answering yet
        print("controller:", error)
        return {"sequence": 0, "routes": [], "links": [], "nodes": [], "alarms": []}


def _wait(predicate: Any, what: str, timeout_s: float = 15.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting until {what}")


def _route(state: dict[str, Any], master: str, slave: str) -> list[str] | None:
    source, target = master.replace("SAE-", "KME-"), slave.replace("SAE-", "KME-")
    return next((r["path"] for r in state["routes"] if r["source_kme"] == source and r["target_kme"] == target), None)


def _link(state: dict[str, Any], link_id: str) -> dict[str, Any]:
    return next((link for link in state["links"] if link["id"] == link_id), {"state": None})


class Ledger:
    """Keys requested, delivered, refused with 503, lost and duplicated, over all phases."""

    def __init__(self, plan: Any) -> None:
        self.plan = plan
        self.counts: Counter[str] = Counter()
        self.key_ids: Counter[str] = Counter()
        self.refusals: list[str] = []

    def run_phase(self, name: str) -> dict[str, bool]:
        """Every pair asks for keys; returns pair -> whether the controller gave it a route."""
        state = _state(self.plan.state_dir)
        routed = {}
        for master, slave in PAIRS:
            has_route = _route(state, master, slave) is not None
            routed[f"{master}>{slave}"] = has_route
            with sae_client(self.plan.kmes, master) as client, sae_client(self.plan.kmes, slave) as peer:
                for _ in range(REQUESTS_PER_PAIR):
                    self.counts["requested"] += 1
                    try:
                        keys = client.get_key(slave)
                    except KMEError as error:
                        assert error.status_code == 503, f"{name}: {master}>{slave}: {error}"
                        assert not has_route, f"{name}: {master}>{slave} refused although routed: {error}"
                        self.counts["refused_503"] += 1
                        self.refusals.append(error.body["message"])
                        continue
                    assert has_route, f"{name}: {master}>{slave} got a key without a route"
                    for key in keys:
                        self.key_ids[key.key_id] += 1
                    delivered = peer.get_key_with_ids(master, [key.key_id for key in keys])
                    if [(k.key_id, k.key) for k in delivered] == [(k.key_id, k.key) for k in keys]:
                        self.counts["delivered"] += 1
                    else:
                        self.counts["lost"] += 1
        return routed


def test_fault_sequence_ledger_matches_the_controller(secoqc: Any, record_property: Any) -> None:
    plan, network, ready_s = secoqc
    state_dir = plan.state_dir
    ledger = Ledger(plan)
    record_property("ready_s", round(ready_s, 2))

    _wait(lambda: _route(_state(state_dir), "SAE-SIE", "SAE-STP") is not None, "routes are installed")
    assert all(ledger.run_phase("start").values())

    apply_fault(plan, "cut", "SIE-FOR")  # SIE and FOR stay joined through ERD and GUD
    _wait(lambda: _link(_state(state_dir), "SIE-FOR")["state"] == "down", "SIE-FOR is down")
    _wait(lambda: len(_route(_state(state_dir), "SAE-SIE", "SAE-FOR") or []) > 2, "SIE>FOR is rerouted")
    assert all(ledger.run_phase("SIE-FOR cut").values())

    apply_fault(plan, "cut", "BREI-STP")  # STP's only link: no path to STP
    _wait(lambda: _route(_state(state_dir), "SAE-SIE", "SAE-STP") is None, "no route to STP")
    assert ledger.run_phase("BREI-STP cut") == {
        "SAE-SIE>SAE-STP": False,
        "SAE-FOR>SAE-STP": False,
        "SAE-SIE>SAE-FOR": True,
    }

    apply_fault(plan, "restore", "BREI-STP")
    _wait(lambda: _route(_state(state_dir), "SAE-FOR", "SAE-STP") is not None, "STP is reachable again")
    assert all(ledger.run_phase("BREI-STP restored").values())

    network.stop(["KME-BREI"])  # what `network fault kill BREI` makes the `network up` supervisor do
    _wait(lambda: _route(_state(state_dir), "SAE-SIE", "SAE-STP") is None, "BREI's loss is seen")
    assert ledger.run_phase("BREI killed") == {
        "SAE-SIE>SAE-STP": False,
        "SAE-FOR>SAE-STP": False,
        "SAE-SIE>SAE-FOR": True,
    }

    network.start(["KME-BREI"])
    _wait(lambda: _route(_state(state_dir), "SAE-SIE", "SAE-STP") is not None, "BREI is back")
    assert all(ledger.run_phase("BREI restarted").values())

    counts = ledger.counts
    duplicated = sum(count - 1 for count in ledger.key_ids.values() if count > 1)
    record_property("ledger", json.dumps({**counts, "duplicated": duplicated}))
    assert counts["requested"] == counts["delivered"] + counts["refused_503"] + counts["lost"]
    assert counts["lost"] == 0 and duplicated == 0
    assert counts["refused_503"] == 4 * REQUESTS_PER_PAIR and counts["delivered"] == 14 * REQUESTS_PER_PAIR
    assert all("no key route to slave_SAE_ID 'SAE-STP'" in message for message in ledger.refusals)

    state = _state(state_dir)
    events = fetch(state_dir, "/qkdn/v1/events")["events"]
    kinds = [(event["kind"], event["source"]) for event in events]
    for expected in [
        ("link-down", "link:SIE-FOR"),
        ("link-down", "link:BREI-STP"),
        ("link-up", "link:BREI-STP"),
        ("node-down", "node:BREI"),
        ("node-up", "node:BREI"),
    ]:
        assert expected in kinds, expected
    alarms = {(alarm["source"], alarm["severity"], alarm["cleared_at"] is None) for alarm in state["alarms"]}
    assert ("link:SIE-FOR", "major", True) in alarms  # still cut
    assert ("link:BREI-STP", "major", False) in alarms  # cut, then cleared
    assert ("node:BREI", "critical", False) in alarms
    assert _link(state, "SIE-FOR")["state"] == "down" and _link(state, "SIE-FOR")["key_rate_bps"] == 0.0


def test_noise_from_a_classical_channel_lowers_the_rate_or_aborts(secoqc: Any) -> None:
    """Raman noise of a classical channel at 1550.12 nm per the link budget (bb84-decoy links):
    -20 dBm in SIE-BREI (24.5 km) leaves ~90 % of the rate, 0 dBm in GUD-BREI (9 km) aborts it."""
    plan, _network, _ready = secoqc
    weak = apply_fault(plan, "noise", "SIE-BREI", classical="1550.12:-20dBm")
    strong = apply_fault(plan, "noise", "GUD-BREI", classical="1550.12:0dBm")
    assert 0.5 < weak["rate_factor"] < 1.0 and weak["qber"] < 0.11
    assert strong["rate_factor"] == 0.0 and strong["qber"] > 0.11
    _wait(lambda: _link(_state(plan.state_dir), "GUD-BREI")["state"] == "aborted", "GUD-BREI aborts")
    state = _state(plan.state_dir)
    sie_brei = _link(state, "SIE-BREI")
    assert sie_brei["state"] == "degraded" and sie_brei["qber"] == pytest.approx(weak["qber"])
    assert sie_brei["key_rate_bps"] == pytest.approx(weak["rate_factor"] * 4.859e6, rel=1e-3)
    active = [alarm["text"] for alarm in state["alarms"] if alarm["cleared_at"] is None]
    assert any(text.startswith("link GUD-BREI aborted (QBER 0.4") for text in active), active
    hops = {frozenset(pair) for route in state["routes"] for pair in zip(route["path"], route["path"][1:])}
    assert frozenset({"KME-GUD", "KME-BREI"}) not in hops  # no route crosses the aborted link
    apply_fault(plan, "restore", "SIE-BREI")
    apply_fault(plan, "restore", "GUD-BREI")
    _wait(lambda: _link(_state(plan.state_dir), "GUD-BREI")["state"] == "up", "GUD-BREI is up again")


def test_views_need_the_operator_and_speak_etsi_015(secoqc: Any) -> None:
    plan, _network, _ready = secoqc
    document = fetch(plan.state_dir, "/qkdn/v1/etsi015")
    assert [node["qkdn_location_id"] for node in document["qkd_node"]] == ["SIE", "ERD", "GUD", "BREI", "FOR", "STP"]
    brei = document["qkd_node"][3]
    direct = [link for link in brei["qkd_links"]["qkd_link"] if link["qkdl_type"] == "DIRECT"]
    assert len(direct) == 4 and len(brei["qkd_interfaces"]["qkd_interface"]) == 4
    page = fetch_text(plan, "/dashboard")
    assert page.startswith("<!doctype html>") and 'content="/qkdn/v1/state"' in page
    metrics = fetch_text(plan, "/qkdn/v1/metrics")
    assert 'qit4n_qkdn_link_key_rate_bps{link="BREI-STP"}' in metrics
    history = fetch(plan.state_dir, "/qkdn/v1/history/BREI-STP")["samples"]
    assert len(history) > 5 and {"time_s", "key_rate_bps", "qber", "pool_bits"} <= set(history[0])
    with sae_client(plan.kmes, "SAE-SIE") as client:  # an SAE certificate is refused by the controller
        refused = client._http.get(plan.url + "/qkdn/v1/state")
    assert refused.status_code == 401


def fetch_text(plan: Any, path: str) -> str:
    import httpx

    from qit4n.kms.tls_client import tls_transport

    with httpx.Client(transport=tls_transport(plan.operator_tls()), timeout=5.0) as http:
        return http.get(plan.url + path).text
