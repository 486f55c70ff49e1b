"""ETSI GS QKD 014 V1.1.1 behaviour over real HTTPS servers with mutual TLS on 127.0.0.1."""

from __future__ import annotations

import base64
import uuid

import httpx
import pytest

from qit4n.kms.client import KMEError, sae_transport

STATUS_FIELDS = {
    "source_KME_ID",
    "target_KME_ID",
    "master_SAE_ID",
    "slave_SAE_ID",
    "key_size",
    "stored_key_count",
    "max_key_count",
    "max_key_per_request",
    "max_key_size",
    "min_key_size",
    "max_SAE_ID_count",
}


def _raw(live, sae_id: str, kme_id: str) -> httpx.Client:
    return httpx.Client(base_url=live.url(kme_id), transport=live.transport(sae_id), timeout=10)


def test_get_status_has_every_spec_field(star_network):
    with star_network.client("SAE-A") as client:
        status = client.status("SAE-C")
        assert client.kme_id() == status["source_KME_ID"] == "KME-A"
    assert set(status) == STATUS_FIELDS
    assert status["source_KME_ID"] == "KME-A" and status["target_KME_ID"] == "KME-C"
    assert status["master_SAE_ID"] == "SAE-A" and status["slave_SAE_ID"] == "SAE-C"
    assert status["key_size"] == 256 and status["max_key_per_request"] == 200 and status["max_SAE_ID_count"] == 2
    assert status["min_key_size"] <= status["key_size"] <= status["max_key_size"]
    assert 0 < status["stored_key_count"] <= status["max_key_count"]


@pytest.mark.parametrize("slave", ["SAE-D", "SAE-C"])
def test_get_key_then_key_ids_gives_the_same_key_once(star_network, slave):
    with star_network.client("SAE-A") as master, star_network.client(slave) as peer:
        keys = master.get_key(slave, number=3, size_bits=512)
        assert len(keys) == 3 and all(len(key.key) == 64 for key in keys)
        assert all(str(uuid.UUID(key.key_id)) == key.key_id for key in keys)
        fetched = peer.get_key_with_ids("SAE-A", [key.key_id for key in keys])
        assert [k.key for k in fetched] == [k.key for k in keys]
        with pytest.raises(KMEError) as again:
            peer.get_key_with_ids("SAE-A", [keys[0].key_id])
    assert again.value.status_code == 400
    assert again.value.body["message"] == "one or more keys specified are not found on KME"


def test_get_variants_with_query_parameters(star_network):
    with _raw(star_network, "SAE-A", "KME-A") as master, _raw(star_network, "SAE-D", "KME-D") as slave:
        default = master.get("/api/v1/keys/SAE-D/enc_keys")
        assert default.status_code == 200 and len(default.json()["keys"]) == 1
        assert len(base64.b64decode(default.json()["keys"][0]["key"])) == 32
        response = master.get("/api/v1/keys/SAE-D/enc_keys", params={"number": 2, "size": 128})
        keys = response.json()["keys"]
        assert len(keys) == 2 and len(base64.b64decode(keys[0]["key"])) == 16
        one = slave.get("/api/v1/keys/SAE-A/dec_keys", params={"key_ID": keys[1]["key_ID"]})
        assert one.status_code == 200 and one.json() == {"keys": [keys[1]]}
        assert set(response.json()) == {"keys"} and set(keys[0]) == {"key_ID", "key"}
        assert response.headers["content-type"].startswith("application/json")


def test_post_without_body_uses_defaults(star_network):
    with _raw(star_network, "SAE-A", "KME-A") as master:
        response = master.post("/api/v1/keys/SAE-D/enc_keys")
    assert response.status_code == 200 and len(response.json()["keys"]) == 1


def test_multicast_delivers_to_every_named_slave_once(star_network):
    with star_network.client("SAE-A") as master, star_network.client("SAE-C") as c, star_network.client("SAE-D") as d:
        keys = master.get_key("SAE-D", number=2, additional_slave_sae_ids=["SAE-C"])
        ids = [key.key_id for key in keys]
        assert [k.key for k in d.get_key_with_ids("SAE-A", ids)] == [k.key for k in keys]
        assert [k.key for k in c.get_key_with_ids("SAE-A", ids)] == [k.key for k in keys]
        for client in (c, d):
            with pytest.raises(KMEError):
                client.get_key_with_ids("SAE-A", ids[:1])


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"size": 100}, "size shall be a multiple of 8"),
        (
            {"extension_mandatory": [{"abc_route_type": "direct"}]},
            "not all extension_mandatory parameters are supported",
        ),
        ({"size": 8}, "size = 8: must lie in [min_key_size, max_key_size] = [64, 8192]"),
        ({"number": 201}, "number = 201: must be <= max_key_per_request = 200"),
        ({"number": 0}, "bad request format"),
        ({"number": "2"}, "bad request format"),
        ({"colour": "blue"}, "bad request format"),
        (
            {"additional_slave_SAE_IDs": ["SAE-C", "SAE-C"]},
            "additional_slave_SAE_IDs must be distinct and differ from the master and slave_SAE_ID",
        ),
        (
            {"additional_slave_SAE_IDs": ["SAE-C", "SAE-X", "SAE-Y"]},
            "additional_slave_SAE_IDs: 3 given, must be <= max_SAE_ID_count = 2",
        ),
    ],
)
def test_get_key_bad_requests_answer_400(star_network, body, message):
    with _raw(star_network, "SAE-A", "KME-A") as master:
        response = master.post("/api/v1/keys/SAE-D/enc_keys", json=body)
    assert response.status_code == 400
    assert response.json()["message"] == message
    assert set(response.json()) <= {"message", "details"}


def test_mandatory_extension_details_name_the_unsupported_parameters(star_network):
    with _raw(star_network, "SAE-A", "KME-A") as master:
        body = master.post(
            "/api/v1/keys/SAE-D/enc_keys", json={"extension_mandatory": [{"abc_route_type": "direct"}]}
        ).json()
        optional = master.post("/api/v1/keys/SAE-D/enc_keys", json={"extension_optional": [{"abc_x": 1}]})
    assert body["details"] == [{"extension_mandatory_unsupported": [{"abc_route_type": "direct"}]}]
    assert optional.status_code == 200


def test_malformed_json_and_unknown_slave_answer_400(star_network):
    with _raw(star_network, "SAE-A", "KME-A") as master:
        broken = master.post(
            "/api/v1/keys/SAE-D/enc_keys", content=b"{not json", headers={"content-type": "application/json"}
        )
        unknown = master.get("/api/v1/keys/SAE-NOPE/status")
        itself = master.get("/api/v1/keys/SAE-A/status")
        empty_ids = master.post("/api/v1/keys/SAE-D/dec_keys", json={"key_IDs": []})
    assert broken.status_code == 400 and broken.json()["message"] == "bad request format"
    assert unknown.status_code == 400 and "SAE-NOPE" in unknown.json()["message"]
    assert itself.status_code == 400 and empty_ids.status_code == 400


def test_a_key_is_only_obtainable_by_its_pair(star_network):
    with star_network.client("SAE-A") as master, star_network.client("SAE-C") as c, star_network.client("SAE-D") as d:
        keys = master.get_key("SAE-C")
        with pytest.raises(KMEError) as wrong_slave:
            d.get_key_with_ids("SAE-A", [keys[0].key_id])
        assert wrong_slave.value.status_code == 400
        with pytest.raises(KMEError) as wrong_master:
            c.get_key_with_ids("SAE-D", [keys[0].key_id])
        assert wrong_master.value.status_code == 401
        with pytest.raises(KMEError) as mixed:
            c.get_key_with_ids("SAE-A", [keys[0].key_id, str(uuid.uuid4())])
        assert mixed.value.status_code == 400
        assert c.get_key_with_ids("SAE-A", [keys[0].key_id])[0].key == keys[0].key


def test_an_sae_calling_a_kme_it_is_not_attached_to_gets_401(star_network):
    with _raw(star_network, "SAE-C", "KME-A") as stranger:
        status = stranger.get("/api/v1/keys/SAE-D/status")
        enc = stranger.post("/api/v1/keys/SAE-D/enc_keys", json={})
    assert status.status_code == 401 and enc.status_code == 401
    assert set(status.json()) <= {"message", "details"}


def test_tls_handshake_fails_without_or_with_a_foreign_client_certificate(star_network, tls_probe, tmp_path):
    from qit4n.kms.certs import create_ca, issue_certificate

    url, (cert, key, ca) = star_network.url("KME-A"), star_network.plan.sae_cert("SAE-A")
    assert tls_probe(url, ca, cert=cert, key=key) == ("X25519MLKEM768", 200)
    assert tls_probe(url, ca)[1] is None
    rogue_ca = create_ca(tmp_path / "rogue")
    rogue = issue_certificate(rogue_ca, tmp_path / "rogue", "SAE-A", server=False)
    assert tls_probe(url, ca, cert=rogue.cert, key=rogue.key)[1] is None
    with (
        httpx.Client(transport=sae_transport(rogue.cert, rogue.key, ca), timeout=5) as client,
        pytest.raises(httpx.HTTPError),
    ):
        client.get(url + "/api/v1/keys/SAE-D/status")


def test_tls_1_3_is_the_minimum(star_network, tls_probe):
    url, (cert, key, ca) = star_network.url("KME-A"), star_network.plan.sae_cert("SAE-A")
    assert tls_probe(url, ca, cert=cert, key=key, max_version="TLSv1.2", groups="X25519MLKEM768:x25519") == (None, None)


def test_the_kme_to_kme_api_refuses_saes(star_network):
    with _raw(star_network, "SAE-A", "KME-B") as client:
        response = client.post("/kme/v1/void", json={"batch_IDs": ["x"]})
    assert response.status_code == 401


def test_a_slave_not_named_on_the_same_kme_gets_401(tmp_path, make_star, live_network):
    """Two SAEs behind KME-D: the one not named when the key was issued is refused with 401; keys
    between them stay on KME-D (and a multicast copy is relayed to SAE-A's KME)."""
    from qit4n.kms.certs import create_ca, issue_certificate
    from qit4n.kms.launcher import NetworkPlan, write_kme_plan
    from qit4n.kms.ops import InProcessNetwork

    plan = write_kme_plan(make_star(capacity_bits=1e5), tmp_path, ca_dir=create_ca(tmp_path / "ca").cert.parent)
    issue_certificate(create_ca(tmp_path / "ca"), tmp_path / "certs", "SAE-D2", server=False)
    directory = {**plan.directory, "SAE-D2": "KME-D"}
    configs = {
        kme_id: config.model_copy(
            update={"directory": directory, "sae_ids": config.sae_ids + (["SAE-D2"] if kme_id == "KME-D" else [])}
        )
        for kme_id, config in plan.configs.items()
    }
    plan = NetworkPlan(tmp_path, configs)
    with InProcessNetwork(plan):
        live = live_network(plan)
        live.wait_for_keys("SAE-A", "SAE-D", 1)
        live.wait_for_keys("SAE-D", "SAE-A", 3)  # KME-D's own units of link A-D pad the multicast copy below
        with live.client("SAE-A") as master, live.client("SAE-D") as named, live.client("SAE-D2") as other:
            key = master.get_key("SAE-D")[0]
            with pytest.raises(KMEError) as refused:
                other.get_key_with_ids("SAE-A", [key.key_id])
            assert refused.value.status_code == 401
            assert named.get_key_with_ids("SAE-A", [key.key_id])[0].key == key.key
            local = other.get_key("SAE-D", number=3, additional_slave_sae_ids=["SAE-A"])
            assert [k.key for k in named.get_key_with_ids("SAE-D2", [k.key_id for k in local])] == [
                k.key for k in local
            ]
            assert [k.key for k in master.get_key_with_ids("SAE-D2", [k.key_id for k in local])] == [
                k.key for k in local
            ]


def test_a_key_id_in_another_spelling_is_the_same_key_and_echoed_as_valid_json(star_network):
    with star_network.client("SAE-A") as master, _raw(star_network, "SAE-D", "KME-D") as slave:
        key = master.get_key("SAE-D")[0]
        spelled = "\t" + key.key_id.replace("-", "")[1:].upper()
        assert len(spelled) == 32
        response = slave.post(
            "/api/v1/keys/SAE-A/dec_keys", json={"key_IDs": [{"key_ID": "{" + key.key_id.upper() + "}"}]}
        )
        assert response.status_code == 200
        assert base64.b64decode(response.json()["keys"][0]["key"]) == key.key
        again = slave.post("/api/v1/keys/SAE-A/dec_keys", json={"key_IDs": [{"key_ID": spelled}]})
        assert again.status_code == 400 and again.json()["message"] == "one or more keys specified are not found on KME"


def test_an_sae_never_obtains_a_key_issued_for_another_pair(star_network):
    """Property: dec_keys succeeds exactly when the caller is the named slave and names the master."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    saes = ["SAE-A", "SAE-C", "SAE-D"]
    clients = {sae: star_network.client(sae) for sae in saes}
    triples = st.tuples(st.sampled_from(saes), st.sampled_from(saes), st.sampled_from(saes), st.sampled_from(saes))

    @settings(max_examples=30, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
    @given(triples.filter(lambda t: t[0] != t[1]))
    def attempt(triple):
        master, slave, caller, claimed_master = triple
        key = clients[master].get_key(slave)[0]
        allowed = caller == slave and claimed_master == master
        try:
            got = clients[caller].get_key_with_ids(claimed_master, [key.key_id])
        except KMEError as error:
            assert not allowed and error.status_code in (400, 401)
        else:
            assert allowed and got[0].key == key.key
        if not allowed:
            assert clients[slave].get_key_with_ids(master, [key.key_id])[0].key == key.key

    try:
        attempt()
    finally:
        for client in clients.values():
            client.close()
