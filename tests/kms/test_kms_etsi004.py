"""ETSI GS QKD 004 key streams on real KMEs (real TLS, real stores): every status value 0-8 reached by a
real call, the same key at both ends on a direct link and across a trusted node, CLOSE, identity.

Status values and QoS fields: ETSI GS QKD 004 V2.1.1 (2020-08), clause 6.
Network: the star of conftest (SAE-A - KME-A - KME-D direct; KME-A - KME-B (trusted) - KME-C),
links of 1e5 bit/s and 2e5-bit pools, so a min_bps above 1e5 cannot be met and large chunks drain a pool.
"""

from __future__ import annotations

import time
import uuid

import httpx
import pytest

from qit4n.kms.client import KMEError
from qit4n.kms.client004 import StreamClient
from qit4n.kms.launcher import write_kme_plan
from qit4n.kms.ops import InProcessNetwork, network_status

_RATE_BPS = 1e5


@pytest.fixture(scope="module")
def net(tmp_path_factory, make_star, live_network):
    plan = write_kme_plan(make_star(rate_bps=_RATE_BPS, capacity_bits=2e5), tmp_path_factory.mktemp("etsi004"))
    with InProcessNetwork(plan):
        live = live_network(plan)
        live.wait_for_keys("SAE-A", "SAE-C", 40)
        live.wait_for_keys("SAE-A", "SAE-D", 40)
        yield live


def stream_client(net, sae_id: str) -> StreamClient:
    plan = net.plan
    return StreamClient(plan.url(plan.directory[sae_id]), *plan.sae_cert(sae_id))


@pytest.fixture
def saes(net):
    clients = {sae: stream_client(net, sae) for sae in ("SAE-A", "SAE-C", "SAE-D")}
    yield clients
    for client in clients.values():
        client.close()


def open_pair(saes, source: str, destination: str, **qos) -> str:
    opened = saes[source].open_connect(source, destination, qos)
    assert opened["status"] == 1, opened  # the source is connected, its peer not yet
    ksid = opened["KSID"]
    joined = saes[destination].open_connect(source, destination, qos, ksid=ksid)
    assert joined["status"] == 0 and joined["KSID"] == ksid, joined
    return ksid


@pytest.mark.parametrize("destination", ["SAE-D", "SAE-C"], ids=["direct", "relayed"])
def test_both_ends_get_the_same_key_for_each_index(saes, destination):
    ksid = open_pair(saes, "SAE-A", destination, key_chunk_size=48)
    source, dest = saes["SAE-A"], saes[destination]
    chunks = []
    for index in range(4):
        # Alternate who asks first: the key of an index is made on the first GET_KEY from either end.
        first, second = (source, dest) if index % 2 else (dest, source)
        got_first, got_second = first.get_key(ksid, index), second.get_key(ksid, index)
        assert got_first["status"] == got_second["status"] == 0, (got_first, got_second)
        assert got_first["key_buffer"] == got_second["key_buffer"]
        assert len(got_first["key_buffer"]) == 48 and got_first["index"] == index
        chunks.append(got_first["key_buffer"])
    assert len(set(chunks)) == 4
    nxt = source.get_key(ksid)  # no index: this end's next one
    assert nxt["status"] == 0 and nxt["index"] == 4 and dest.get_key(ksid, 4)["key_buffer"] == nxt["key_buffer"]
    with pytest.raises(KMEError) as again:  # each key reaches each end once
        source.get_key(ksid, 0)
    assert again.value.status_code == 400 and "already delivered" in again.value.body["message"]
    assert source.close_stream(ksid)["status"] == 0


def test_get_key_before_the_peer_opens_is_status_3(saes):
    opened = saes["SAE-A"].open_connect("SAE-A", "SAE-D")
    assert opened["status"] == 1 and opened["qos"]["key_chunk_size"] == 32
    answer = saes["SAE-A"].get_key(opened["KSID"], 0)
    assert answer["status"] == 3 and "key_buffer" not in answer


def test_close_ends_the_stream_at_both_ends(saes):
    ksid = open_pair(saes, "SAE-A", "SAE-C")
    assert saes["SAE-C"].get_key(ksid, 0)["status"] == 0
    assert saes["SAE-C"].close_stream(ksid)["status"] == 0
    for sae in ("SAE-A", "SAE-C"):
        after = saes[sae].get_key(ksid, 1)
        assert after["status"] == 4 and "closed" in after["message"], after
    assert saes["SAE-A"].open_connect("SAE-A", "SAE-C", ksid=ksid)["status"] == 5  # a KSID is not reused


@pytest.mark.parametrize("closer", ["SAE-A", "SAE-C"])
def test_close_erases_the_keys_still_waiting_at_either_kme(net, saes, closer):
    ksid = open_pair(saes, "SAE-A", "SAE-C")
    for index in range(3):  # made and taken at the source; waiting for SAE-C at KME-C
        assert saes["SAE-A"].get_key(ksid, index)["status"] == 0
    assert saes["SAE-C"].get_key(ksid, 3)["status"] == 0  # and one waiting for SAE-A at KME-A
    before = network_status(net.plan)["kmes"]
    assert saes[closer].close_stream(ksid)["status"] == 0
    after = network_status(net.plan)["kmes"]
    assert before["KME-C"]["waiting_keys"] - after["KME-C"]["waiting_keys"] == 3
    assert before["KME-A"]["waiting_keys"] - after["KME-A"]["waiting_keys"] == 1


def test_unknown_ksid_is_status_4(saes):
    ksid = str(uuid.uuid4())
    assert saes["SAE-A"].get_key(ksid)["status"] == 4
    assert saes["SAE-A"].close_stream(ksid)["status"] == 4
    assert saes["SAE-D"].open_connect("SAE-A", "SAE-D", ksid=ksid)["status"] == 4  # the source never opened it


def test_ksid_in_use_is_status_5(saes):
    ksid = open_pair(saes, "SAE-A", "SAE-D")
    assert saes["SAE-D"].open_connect("SAE-A", "SAE-D", ksid=ksid)["status"] == 5
    assert saes["SAE-A"].open_connect("SAE-A", "SAE-D", ksid=ksid)["status"] == 5
    proposed = str(uuid.uuid4())
    assert saes["SAE-A"].open_connect("SAE-A", "SAE-C", ksid=proposed) == {
        "status": 1,
        "message": "Successful connection, but peer not connected",
        "KSID": proposed,
        "qos": saes["SAE-A"].open_connect("SAE-A", "SAE-C")["qos"],
    }
    assert saes["SAE-A"].open_connect("SAE-A", "SAE-C", ksid=proposed)["status"] == 5


def test_qos_that_cannot_be_met_is_status_7_with_a_counter_proposal(saes):
    answer = saes["SAE-A"].open_connect(
        "SAE-A",
        "SAE-D",
        {"min_bps": 2 * _RATE_BPS, "key_chunk_size": 4096, "metadata_mimetype": "text/plain", "timeout": 120_000},
    )
    assert answer["status"] == 7 and "KSID" not in answer
    counter = answer["qos"]
    assert counter["key_chunk_size"] == 1024 and counter["metadata_mimetype"] == "application/json"
    assert counter["min_bps"] <= _RATE_BPS and counter["timeout"] == 60_000 and counter["jitter"] == 0
    accepted = saes["SAE-A"].open_connect("SAE-A", "SAE-D", counter)
    assert accepted["status"] == 1 and accepted["qos"] == counter


def test_max_bps_limits_each_end_with_status_2(saes):
    ksid = open_pair(saes, "SAE-A", "SAE-D", key_chunk_size=32, max_bps=8.0)  # one chunk per 32 s after the first
    assert saes["SAE-A"].get_key(ksid)["status"] == 0
    second = saes["SAE-A"].get_key(ksid)
    assert second["status"] == 2 and "max_bps" in second["message"]
    assert saes["SAE-D"].get_key(ksid, 0)["status"] == 0  # the other end has its own allowance


def test_small_metadata_buffer_is_status_8_and_keeps_the_key(saes):
    ksid = open_pair(saes, "SAE-A", "SAE-D")
    short = saes["SAE-A"].get_key(ksid, 0, metadata_size=8)
    assert short["status"] == 8 and short["metadata_size"] > 8 and "key_buffer" not in short
    full = saes["SAE-A"].get_key(ksid, 0, metadata_size=short["metadata_size"])
    assert full["status"] == 0 and len(full["metadata"].encode()) == short["metadata_size"]
    assert f'"KSID":"{ksid}"' in full["metadata"]
    assert saes["SAE-D"].get_key(ksid, 0)["key_buffer"] == full["key_buffer"]


def test_wrong_sae_is_refused(saes):
    with pytest.raises(KMEError) as foreign_source:  # SAE-D cannot open a stream in SAE-A's name
        saes["SAE-D"].open_connect("SAE-A", "SAE-C")
    assert foreign_source.value.status_code == 401
    ksid = open_pair(saes, "SAE-A", "SAE-D")
    with pytest.raises(KMEError) as neither_end:  # SAE-C is neither source nor destination
        saes["SAE-C"].open_connect("SAE-A", "SAE-D", ksid=ksid)
    assert neither_end.value.status_code == 401
    # SAE-C joining as destination of a stream opened for SAE-D: the source's KME has no such stream.
    assert saes["SAE-C"].open_connect("SAE-A", "SAE-C", ksid=ksid)["status"] == 4
    assert saes["SAE-C"].get_key(ksid, 0)["status"] == 4  # nor does SAE-C's KME hold an end of it
    assert saes["SAE-C"].close_stream(ksid)["status"] == 4
    assert saes["SAE-A"].get_key(ksid, 0)["status"] == 0 and saes["SAE-D"].get_key(ksid, 0)["status"] == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"source": "SAE-A", "destination": "SAE-D", "qos": {"key_chunk_size": 0}}, "qos.key_chunk_size"),
        ({"source": "SAE-A", "destination": "SAE-D", "qos": {"min_bps": 10, "max_bps": 5}}, "qos"),
        ({"source": "SAE-A", "destination": "SAE-D", "KSID": "not-a-uuid"}, "KSID"),
        ({"source": "SAE-A", "destination": "SAE-D", "qos": {"colour": 1}}, "qos.colour"),
        ({"source": "SAE-A", "destination": "SAE-A"}, "destination"),
        ({"source": "SAE-A", "destination": "SAE-Z"}, "SAE-Z"),
        ({"source": "SAE-A"}, "destination"),
    ],
)
def test_bad_open_connect_is_400_naming_the_field(net, body, field):
    plan = net.plan
    with httpx.Client(base_url=plan.url("KME-A"), transport=net.transport("SAE-A")) as http:
        answer = http.post("/api/v1/ksid/open_connect", json=body)
    assert answer.status_code == 400, answer.text
    assert field in answer.text


def test_bad_get_key_is_400(net):
    with httpx.Client(base_url=net.plan.url("KME-A"), transport=net.transport("SAE-A")) as http:
        for body in ({"KSID": str(uuid.uuid4()), "index": -1}, {"index": 0}, {"KSID": 5}, "not json"):
            answer = http.post("/api/v1/ksid/get_key", json=body)
            assert answer.status_code == 400, answer.text
        destination_without_ksid = http.post(
            "/api/v1/ksid/open_connect", json={"source": "SAE-D", "destination": "SAE-A"}
        )
    assert destination_without_ksid.status_code == 400 and "KSID" in destination_without_ksid.text


def test_drained_pool_is_status_6_with_a_timeout_and_2_without(saes):
    """Chunks of 1024 bytes (32 units of 256 bits) drain KME-A's half of the A-B pool faster than
    1e5 bit/s refill it (about 6 chunks/s): a GET_KEY that waits 100 ms then fails with status 6,
    one that may not wait fails with status 2, and one that may wait 10 s gets its key."""
    ksid = open_pair(saes, "SAE-A", "SAE-C", key_chunk_size=1024, timeout=100)
    statuses = []
    for index in range(200):
        answer = saes["SAE-A"].get_key(ksid, index)
        statuses.append(answer["status"])
        if answer["status"] == 6:
            assert "timeout = 100 ms" in answer["message"]
            break
        assert answer["status"] == 0, answer
        assert saes["SAE-C"].get_key(ksid, index)["key_buffer"] == answer["key_buffer"]
    assert statuses[-1] == 6 and set(statuses[:-1]) <= {0}, statuses
    no_wait = open_pair(saes, "SAE-A", "SAE-C", key_chunk_size=1024)
    answers = []
    while len(answers) < 40 and 2 not in answers:
        answers.append(saes["SAE-A"].get_key(no_wait, len(answers))["status"])
    assert answers[-1] == 2 and set(answers) <= {0, 2}, answers
    patient = open_pair(saes, "SAE-A", "SAE-C", key_chunk_size=1024, timeout=10_000)
    waited = saes["SAE-A"].get_key(patient, 0)  # waits for the pool to refill
    assert waited["status"] == 0 and saes["SAE-C"].get_key(patient, 0)["key_buffer"] == waited["key_buffer"]


def test_the_binding_publishes_its_own_openapi_document(net):
    with httpx.Client(transport=net.transport("SAE-A")) as http:
        document = http.get(net.url("KME-A") + "/api/v1/ksid/openapi.json").json()
        kme_document = http.get(net.url("KME-A") + "/openapi.json").json()
    assert set(document["paths"]) == {f"/api/v1/ksid/{call}" for call in ("open_connect", "get_key", "close")}
    qos = document["components"]["schemas"]["QoS"]["properties"]
    assert set(qos) == {
        "key_chunk_size",
        "max_bps",
        "min_bps",
        "jitter",
        "priority",
        "timeout",
        "ttl",
        "metadata_mimetype",
    }
    assert not any(path.startswith("/api/v1/ksid") for path in kme_document["paths"])  # that one stays ETSI 014


def test_both_ends_asking_at_once_get_one_key_per_index(net, saes):
    """The first GET_KEY of an index makes its key at the source's KME once, whichever end asks."""
    from concurrent.futures import ThreadPoolExecutor

    # the test before drained A-B; each key spends 4 units per hop (the key, 3 for its authentication)
    net.wait_for_keys("SAE-A", "SAE-C", 20)
    ksid = open_pair(saes, "SAE-A", "SAE-C")
    with ThreadPoolExecutor(max_workers=2) as pool:
        for index in range(5):
            source, dest = pool.map(lambda sae, i: saes[sae].get_key(ksid, i), ["SAE-A", "SAE-C"], [index, index])
            assert source["status"] == dest["status"] == 0 and source["key_buffer"] == dest["key_buffer"]


def test_ttl_closes_the_stream(saes):
    ksid = open_pair(saes, "SAE-A", "SAE-D", ttl=1)
    assert saes["SAE-A"].get_key(ksid)["status"] == 0
    time.sleep(1.1)
    expired = saes["SAE-D"].get_key(ksid, 0)
    assert expired["status"] == 4 and "ttl = 1 s" in expired["message"]


def test_stream_state_is_private(net):
    for kme_id, config in net.plan.configs.items():
        path = config.database.with_name(config.database.name + ".streams")
        assert path.stat().st_mode & 0o777 == 0o600, kme_id


def two_sae_plan(tmp_path):
    """KME-A with SAE-A and SAE-X attached, linked to KME-D (SAE-D)."""
    from qit4n.kms.pki import ensure_certs, entities_of
    from qit4n.scenario import scenario_from_dict

    scenario = scenario_from_dict(
        {
            "name": "etsi004-pair",
            "nodes": [{"id": "A"}, {"id": "D"}],
            "links": [{"id": "A-D", "endpoints": ["A", "D"], "key_rate_bps": 1e6, "pool_capacity_bits": 1e5}],
        }
    )
    plan = write_kme_plan(scenario, tmp_path)
    for kme_id, config in list(plan.configs.items()):
        update = {"directory": config.directory | {"SAE-X": "KME-A"}}
        if kme_id == "KME-A":
            update["sae_ids"] = [*config.sae_ids, "SAE-X"]
        plan.configs[kme_id] = config.model_copy(update=update)
    ensure_certs(plan.state_dir / "certs", entities_of(plan.configs.values()))
    return plan


def test_one_kme_serves_both_ends_and_a_restart_keeps_open_streams(tmp_path, live_network):
    plan = two_sae_plan(tmp_path)
    with InProcessNetwork(plan):
        live = live_network(plan)
        live.wait_for_keys("SAE-A", "SAE-D", 10)
        clients = {sae: stream_client(live, sae) for sae in ("SAE-A", "SAE-X", "SAE-D")}
        local = open_pair(clients, "SAE-A", "SAE-X", key_chunk_size=16)  # both ends on KME-A
        for index in range(3):
            first, second = clients["SAE-X"].get_key(local, index), clients["SAE-A"].get_key(local, index)
            assert first["status"] == second["status"] == 0 and first["key_buffer"] == second["key_buffer"]
        linked = open_pair(clients, "SAE-A", "SAE-D")
        before = clients["SAE-A"].get_key(linked, 0)  # made now; SAE-D takes it after the restart
        with pytest.raises(KMEError) as foreign:  # SAE-X shares KME-A but is no end of this stream
            clients["SAE-X"].get_key(linked, 1)
        assert foreign.value.status_code == 401
        waiting = clients["SAE-X"].open_connect("SAE-X", "SAE-D")["KSID"]  # its peer joins after the restart
        for client in clients.values():
            client.close()
    with InProcessNetwork(plan):
        clients = {sae: stream_client(live, sae) for sae in ("SAE-A", "SAE-X", "SAE-D")}
        assert clients["SAE-D"].get_key(linked, 0)["key_buffer"] == before["key_buffer"]
        assert clients["SAE-A"].get_key(linked, 1)["key_buffer"] == clients["SAE-D"].get_key(linked, 1)["key_buffer"]
        with pytest.raises(KMEError):  # delivered before the restart: never again
            clients["SAE-A"].get_key(linked, 0)
        assert clients["SAE-D"].open_connect("SAE-X", "SAE-D", ksid=waiting)["status"] == 0
        assert clients["SAE-X"].get_key(waiting, 0)["key_buffer"] == clients["SAE-D"].get_key(waiting, 0)["key_buffer"]
        assert clients["SAE-A"].get_key(local, 3)["status"] == 0
        for client in clients.values():
            client.close()


def test_cli_stream_prints_the_keys_both_ends_got(net):
    import json

    from typer.testing import CliRunner

    from qit4n.cli import app, failure_message

    state = str(net.plan.state_dir)
    runner = CliRunner()
    args = ["kms", "stream", "--state", state, "--source", "SAE-A", "--destination", "SAE-C", "--count", "3"]
    result = runner.invoke(app, [*args, "--chunk-bytes", "16", "--json"])
    assert result.exit_code == 0, result.output
    answer = json.loads(result.output)
    assert [row["index"] for row in answer["keys"]] == [0, 1, 2] and uuid.UUID(answer["KSID"])
    assert runner.invoke(app, [*args, "--chunk-bytes", "0"]).exit_code == 2
    unknown = runner.invoke(app, ["kms", "stream", "--state", state, "--source", "SAE-A", "--destination", "SAE-Q"])
    message, status = failure_message(unknown.exception)  # what `python -m qit4n` prints, and its exit status
    assert status == 2 and "'SAE-Q': not an SAE of this network" in message
    table = runner.invoke(app, args)
    assert table.exit_code == 0 and "KSID" in table.output and "key (base64)" in table.output
