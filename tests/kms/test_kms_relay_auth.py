"""Authenticated relay against real servers: a man in the middle between KMEs, a corrupted trusted
node, replays and voids from KMEs that are not party to a batch.

Network: SAE-S - KME-S - KME-R (trusted node) - KME-T - SAE-T. The attacker holds KME certificates
(it broke or bypassed TLS): a proxy with KME-T's server certificate sits between KME-R and KME-T
and one between KME-S and KME-T, forwarding with KME-R's and KME-S's client certificates. Every
check ends with the pool accounting of both links, exact to the unit: a 256-bit key spends 4 units
per hop (1 for the key, 2 for the end-to-end key, 1 for the tag's pad).
"""

from __future__ import annotations

import base64
import json
import threading
import time

import httpx
import pytest

from qit4n.kms.client import KMEError, sae_transport
from qit4n.kms.launcher import free_port, write_kme_plan
from qit4n.kms.ops import InProcessNetwork, network_status
from qit4n.kms.relay import RelayEngine
from qit4n.scenario import scenario_from_dict

UNITS_PER_HOP = 4  # one 256-bit key: key 1 + end-to-end key 2 + tag 1
UNIT_BITS = 256


class Proxy:
    """A TLS server with ``server_kme``'s certificate that forwards to ``upstream_url`` as ``client_kme``.

    ``tamper(path, body) -> body`` may change a request; every request body is recorded by path.
    """

    def __init__(self, plan, server_kme: str, client_kme: str) -> None:
        import uvicorn
        from starlette.applications import Starlette
        from starlette.requests import Request
        from starlette.responses import Response
        from starlette.routing import Route
        from uvicorn.protocols.http.h11_impl import H11Protocol

        from qit4n.kms.tls import ContextSource, TlsFiles
        from qit4n.kms.tls_client import async_tls_transport, client_tls_source
        from qit4n.kms.tls_server import tls_protocol_class

        server, client = plan.configs[server_kme], plan.configs[client_kme]
        self.upstream_url = server.url
        self.client_files = (client.cert, client.key, client.ca)
        upstream = client_tls_source(*self.client_files, groups=client.tls_groups)
        self.tamper = None
        self.recorded: dict[str, list[bytes]] = {}
        self.port = free_port()

        async def forward(request: Request) -> Response:
            body = await request.body()
            self.recorded.setdefault(request.url.path, []).append(body)
            if self.tamper is not None:
                body = self.tamper(request.url.path, body)
            async with httpx.AsyncClient(transport=async_tls_transport(upstream), timeout=10) as http:
                answer = await http.request(
                    request.method,
                    self.upstream_url + request.url.path,
                    content=body,
                    headers={"content-type": "application/json"},
                )
            return Response(answer.content, status_code=answer.status_code, media_type="application/json")

        app = Starlette(routes=[Route("/{path:path}", forward, methods=["GET", "POST"])])
        tls = ContextSource(TlsFiles(server.cert, server.key, server.ca, None), server.tls_groups, server=True)
        config = uvicorn.Config(
            app, host="127.0.0.1", port=self.port, http=tls_protocol_class(tls, H11Protocol),
            log_level="warning", lifespan="off",
        )  # fmt: skip
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def __enter__(self) -> Proxy:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            assert time.monotonic() < deadline, "proxy did not start"
            time.sleep(0.02)
        return self

    def __exit__(self, *_exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)

    def post_upstream(self, path: str, body: bytes) -> dict:
        """Send ``body`` to the real KME as the client KME (an attacker's replay)."""
        with httpx.Client(transport=sae_transport(*self.client_files), timeout=10) as http:
            answer = http.post(self.upstream_url + path, content=body, headers={"content-type": "application/json"})
        assert answer.status_code == 200, answer.text
        return answer.json()


@pytest.fixture(scope="module")
def attacked(tmp_path_factory, live_network):
    names = ["S", "R", "T"]
    scenario = scenario_from_dict(
        {
            "name": "relay-auth",
            "nodes": [{"id": name, "role": "trusted-relay" if name == "R" else "user"} for name in names],
            "links": [
                {"id": f"{a}-{b}", "endpoints": [a, b], "key_rate_bps": 1e6, "pool_capacity_bits": 2e5}
                for a, b in zip(names, names[1:])
            ],
        }
    )
    plan = write_kme_plan(scenario, tmp_path_factory.mktemp("relay-auth"))
    hop_proxy = Proxy(plan, "KME-T", "KME-R")
    direct_proxy = Proxy(plan, "KME-T", "KME-S")
    configs = dict(plan.configs)
    configs["KME-R"] = configs["KME-R"].model_copy(update={"peers": {**configs["KME-R"].peers, "KME-T": hop_proxy.url}})
    configs["KME-S"] = configs["KME-S"].model_copy(
        update={"peers": {**configs["KME-S"].peers, "KME-T": direct_proxy.url}}
    )
    plan.configs.update(configs)
    with hop_proxy, direct_proxy, InProcessNetwork(plan):
        live = live_network(plan)
        live.wait_for_keys("SAE-S", "SAE-T", 40)
        yield live, hop_proxy, direct_proxy


def _accounts(plan) -> dict:
    kmes = network_status(plan)["kmes"]
    return {
        "S-R": (kmes["KME-S"]["links"]["S-R"]["spent_bits"], kmes["KME-R"]["links"]["S-R"]["spent_bits"]),
        "R-T": (kmes["KME-R"]["links"]["R-T"]["spent_bits"], kmes["KME-T"]["links"]["R-T"]["spent_bits"]),
        "issued": kmes["KME-S"]["issued"],
        "waiting": kmes["KME-T"]["waiting_keys"],
        "refused": kmes["KME-T"]["refused"],
    }


def _spent(before: dict, after: dict) -> dict:
    """Units each end of each link spent between two snapshots."""
    return {
        link: tuple((b - a) // UNIT_BITS for a, b in zip(before[link], after[link], strict=True))
        for link in ("S-R", "R-T")
    }


def _audit_events(plan, kme_id: str) -> list[dict]:
    config = plan.configs[kme_id]
    path = config.audit_file or config.database.with_name(config.database.name + ".audit.jsonl")
    return [json.loads(line) for line in path.read_text().splitlines()]


def _flip_ciphertext(path: str, body: bytes) -> bytes:
    if path != "/kme/v1/relay":
        return body
    data = json.loads(body)
    cipher = bytearray(base64.b64decode(data["messages"][0]["encrypted_keys"]))
    cipher[0] ^= 1
    data["messages"][0]["encrypted_keys"] = base64.b64encode(bytes(cipher)).decode()
    return json.dumps(data).encode()


def _exchange(live) -> None:
    with live.client("SAE-S") as master, live.client("SAE-T") as slave:
        key = master.get_key("SAE-T")[0]
        assert slave.get_key_with_ids("SAE-S", [key.key_id])[0].key == key.key


def test_a_tampered_hop_message_is_rejected_and_nothing_is_lost_or_issued(attacked):
    live, hop_proxy, _ = attacked
    before = _accounts(live.plan)
    hop_proxy.tamper = _flip_ciphertext
    try:
        with live.client("SAE-S") as master, pytest.raises(KMEError) as failed:
            master.get_key("SAE-T")
    finally:
        hop_proxy.tamper = None
    assert failed.value.status_code == 503
    after = _accounts(live.plan)
    # S-R carried the message (both ends spent it); KME-T refused it unread and consumed nothing
    assert _spent(before, after) == {"S-R": (UNITS_PER_HOP, UNITS_PER_HOP), "R-T": (UNITS_PER_HOP, 0)}
    assert after["issued"] == before["issued"] and after["waiting"] == before["waiting"] == 0
    assert after["refused"]["relay"] == before["refused"]["relay"] + 1
    assert _audit_events(live.plan, "KME-T")[-1]["event"] == "relay_refused"
    _exchange(live)  # the master's retry goes through
    assert _spent(after, _accounts(live.plan)) == dict.fromkeys(("S-R", "R-T"), (UNITS_PER_HOP, UNITS_PER_HOP))


def test_replayed_relay_and_confirm_messages_are_rejected(attacked):
    live, hop_proxy, direct_proxy = attacked
    hop_proxy.recorded.clear()
    direct_proxy.recorded.clear()
    _exchange(live)
    before = _accounts(live.plan)
    relay_body = hop_proxy.recorded["/kme/v1/relay"][-1]
    replay = hop_proxy.post_upstream("/kme/v1/relay", relay_body)
    assert replay["results"][0]["status"] == 401 and "replay" in replay["results"][0]["message"]
    # moved to fresh units, the replay fails its tag instead
    data = json.loads(relay_body)
    data["messages"][0]["link_key_ID_start"] += 2 * 1000
    moved = hop_proxy.post_upstream("/kme/v1/relay", json.dumps(data).encode())
    assert moved["results"][0]["status"] == 401 and "tag" in moved["results"][0]["message"]
    confirm = direct_proxy.post_upstream("/kme/v1/confirm", direct_proxy.recorded["/kme/v1/confirm"][-1])
    assert confirm["results"][0]["status"] == 401
    after = _accounts(live.plan)
    assert _spent(before, after) == {"S-R": (0, 0), "R-T": (0, 0)}
    assert after["waiting"] == 0 and after["issued"] == before["issued"]
    assert after["refused"]["relay"] == before["refused"]["relay"] + 2


def test_only_the_masters_kme_can_void_a_batch(attacked):
    live, _, direct_proxy = attacked
    trusted_node = live.plan.configs["KME-R"]  # on the route, it even saw the end-to-end key
    with live.client("SAE-S") as master:
        key = master.get_key("SAE-T")[0]
    batch_id = key.key_id[:-4] + "0000"
    forged_void = {
        "message_type": "key_relay_void",
        "source_KME_ID": "KME-R",
        "destination_KME_ID": "KME-T",
        "key_relay_ID": batch_id,
        "authentication_tag": base64.b64encode(bytes(16)).decode(),
    }
    forged = {"messages": [forged_void]}
    with httpx.Client(transport=sae_transport(trusted_node.cert, trusted_node.key, trusted_node.ca)) as http:
        answer = http.post(live.url("KME-T") + "/kme/v1/void", json=forged).json()
        claimed = http.post(
            live.url("KME-T") + "/kme/v1/void", json={"messages": [forged_void | {"source_KME_ID": "KME-S"}]}
        ).json()
    assert answer["results"][0]["status"] == 401 and "not the KME" in answer["results"][0]["message"]
    # a source_KME_ID other than the certificate's is refused before anything else
    assert claimed["results"][0]["status"] == 401 and "arrived from 'KME-R'" in claimed["results"][0]["message"]
    assert _audit_events(live.plan, "KME-T")[-1]["event"] == "void_refused"
    # the master's KME itself, with a wrong tag (a forged void on its connection): refused too
    own = {"messages": [forged_void | {"source_KME_ID": "KME-S"}]}
    wrong = direct_proxy.post_upstream("/kme/v1/void", json.dumps(own).encode())
    assert wrong["results"][0]["status"] == 401 and "tag" in wrong["results"][0]["message"]
    with live.client("SAE-T") as slave:
        assert slave.get_key_with_ids("SAE-S", [key.key_id])[0].key == key.key


def test_a_corrupted_trusted_node_is_detected_end_to_end(attacked, monkeypatch):
    """KME-R tags its messages correctly but changes a key bit: KME-T's check of the master's KME's
    confirm tag fails, the batch is erased there and the master gets 503."""
    live, _, _ = attacked
    honest = RelayEngine._hop_message

    def corrupt(self, **fields):
        if self.config.kme_id == "KME-R":
            cipher = bytearray(fields["cipher"])
            cipher[0] ^= 0x80
            fields["cipher"] = bytes(cipher)
        return honest(self, **fields)

    before = _accounts(live.plan)
    monkeypatch.setattr(RelayEngine, "_hop_message", corrupt)
    with live.client("SAE-S") as master, pytest.raises(KMEError) as failed:
        master.get_key("SAE-T")
    monkeypatch.undo()
    assert failed.value.status_code == 503
    after = _accounts(live.plan)
    assert _spent(before, after) == dict.fromkeys(("S-R", "R-T"), (UNITS_PER_HOP, UNITS_PER_HOP))
    assert after["waiting"] == 0 and after["issued"] == before["issued"]
    assert after["refused"]["confirm"] == before["refused"]["confirm"] + 1
    _exchange(live)
