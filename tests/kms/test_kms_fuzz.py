"""Property-based fuzzing of the ETSI API from its own OpenAPI document (hypothesis).

Requests are drawn from the published schemas (valid values, wrong types, missing and unknown
fields, junk path and query values) and sent over mutual TLS to real KMEs. Properties: every
answer is 200, 400, 401 or 503 (never 500 or a crash); every error body is the ETSI error format;
every key issued during the run is afterwards delivered exactly once (no key lost).
"""

from __future__ import annotations

import base64

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qit4n.kms.app import etsi_openapi

DOCUMENT = etsi_openapi()
SCHEMAS = DOCUMENT["components"]["schemas"]
SAE_IDS = ["SAE-A", "SAE-C", "SAE-D"]
CALLERS = {"SAE-A": "KME-A", "SAE-D": "KME-D", "SAE-C": "KME-A"}

junk = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**40), 2**40),
    st.floats(allow_nan=False),
    st.text(max_size=12),
    st.lists(st.integers(), max_size=3),
)


def _from_schema(schema: dict, depth: int = 0) -> st.SearchStrategy:
    if "$ref" in schema:
        return _from_schema(SCHEMAS[schema["$ref"].rsplit("/", 1)[1]], depth)
    if "anyOf" in schema:
        return st.one_of(*[_from_schema(option, depth) for option in schema["anyOf"]])
    kind = schema.get("type")
    if kind == "integer":
        return st.integers(min_value=-5, max_value=3000)
    if kind == "string":
        return st.text(max_size=40)
    if kind == "null":
        return st.none()
    if kind == "array":
        return st.lists(_from_schema(schema.get("items", {}), depth + 1) if depth < 3 else junk, max_size=3)
    if kind == "object" and "properties" in schema:
        fields = {name: _from_schema(sub, depth + 1) | junk for name, sub in schema["properties"].items()}
        return st.fixed_dictionaries({}, optional=fields) | st.fixed_dictionaries(
            {}, optional={**fields, "unknown_field": junk}
        )
    return st.dictionaries(st.text(max_size=8), junk, max_size=2)


def _body(operation: dict) -> st.SearchStrategy:
    content = operation.get("requestBody", {}).get("content", {}).get("application/json")
    return st.none() if content is None else st.one_of(_from_schema(content["schema"]), junk)


def _query(operation: dict) -> st.SearchStrategy:
    fields = {
        p["name"]: st.one_of(st.integers(-3, 2000).map(str), st.text(max_size=10), st.uuids().map(str))
        for p in operation.get("parameters", [])
        if p["in"] == "query"
    }
    return st.fixed_dictionaries({}, optional=fields)


OPERATIONS = [
    (path, method, operation) for path, methods in DOCUMENT["paths"].items() for method, operation in methods.items()
]
requests = st.sampled_from(OPERATIONS).flatmap(
    lambda op: st.tuples(
        st.just(op[0]),
        st.just(op[1]),
        st.sampled_from(list(CALLERS)),
        st.one_of(
            st.sampled_from(SAE_IDS),
            st.text(alphabet=st.characters(categories=["L", "N", "P"]), min_size=1, max_size=20),
        ),
        _query(op[2]),
        _body(op[2]),
    )
)


@pytest.fixture(scope="module")
def clients(star_network):
    opened = {
        sae: httpx.Client(base_url=star_network.url(kme), transport=star_network.transport(sae), timeout=10)
        for sae, kme in CALLERS.items()
    }
    yield opened
    for client in opened.values():
        client.close()


def test_fuzzed_requests_never_crash_and_never_lose_a_key(star_network, clients):
    issued: dict[tuple[str, str], dict[str, str]] = {}
    delivered: set[str] = set()

    @settings(max_examples=100, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
    @given(requests)
    def one_request(request):
        path, method, caller, sae_id, query, body = request
        url = path.replace("{slave_SAE_ID}", sae_id).replace("{master_SAE_ID}", sae_id)
        kwargs = {"params": query}
        if method == "post" and body is not None:
            kwargs["json"] = body
        response = clients[caller].request(
            method.upper(), httpx.URL(url.replace("#", "%23").replace("?", "%3F")), **kwargs
        )
        assert response.status_code in (200, 400, 401, 404, 405, 503), response.text
        payload = response.json()
        if response.status_code != 200:
            assert isinstance(payload.get("message"), str) and set(payload) <= {"message", "details"}
            return
        if path.endswith("/enc_keys"):
            for key in payload["keys"]:
                issued.setdefault((caller, sae_id), {})[key["key_ID"]] = key["key"]
                assert len(base64.b64decode(key["key"])) > 0
        elif path.endswith("/dec_keys"):
            for key in payload["keys"]:
                assert key["key_ID"] not in delivered
                delivered.add(key["key_ID"])

    one_request()
    assert issued, "no fuzzed request was valid enough to issue keys"
    for (master, slave), keys in issued.items():
        pending = [key_id for key_id in keys if key_id not in delivered]
        if slave not in CALLERS or not pending:
            continue
        with star_network.client(slave) as client:
            got = {key.key_id: base64.b64encode(key.key).decode() for key in client.get_key_with_ids(master, pending)}
        assert got == {key_id: keys[key_id] for key_id in pending}
