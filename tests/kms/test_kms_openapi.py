"""The published OpenAPI document, field by field against ETSI GS QKD 014 V1.1.1 clauses 5 and 6."""

from __future__ import annotations

import httpx
import pytest

from qit4n.kms.app import etsi_openapi

#: Clause 6 data formats: field -> JSON type; optional fields marked with a trailing "?".
SPEC_SCHEMAS = {
    "Status": {
        "source_KME_ID": "string",
        "target_KME_ID": "string",
        "master_SAE_ID": "string",
        "slave_SAE_ID": "string",
        "key_size": "integer",
        "stored_key_count": "integer",
        "max_key_count": "integer",
        "max_key_per_request": "integer",
        "max_key_size": "integer",
        "min_key_size": "integer",
        "max_SAE_ID_count": "integer",
        "status_extension?": "object",
    },
    "KeyRequest": {
        "number?": "integer",
        "size?": "integer",
        "additional_slave_SAE_IDs?": "array",
        "extension_mandatory?": "array",
        "extension_optional?": "array",
    },
    "KeyContainer": {"keys": "array", "key_container_extension?": "object"},
    "Key": {"key_ID": "string", "key_ID_extension?": "object", "key": "string", "key_extension?": "object"},
    "KeyIDs": {"key_IDs": "array", "key_IDs_extension?": "object"},
    "KeyIDItem": {"key_ID": "string", "key_ID_extension?": "object"},
    "ErrorBody": {"message": "string", "details?": "array"},
}

#: Clause 5: path -> methods, and the response codes every method documents.
SPEC_PATHS = {
    "/api/v1/keys/{slave_SAE_ID}/status": {"get"},
    "/api/v1/keys/{slave_SAE_ID}/enc_keys": {"get", "post"},
    "/api/v1/keys/{master_SAE_ID}/dec_keys": {"get", "post"},
}


def _type_of(schema: dict) -> str:
    if "type" in schema:
        return schema["type"]
    options = [option.get("type") for option in schema.get("anyOf", []) if option.get("type") != "null"]
    if "$ref" in schema or any("$ref" in option for option in schema.get("anyOf", [])):
        return "object"
    return options[0] if len(options) == 1 else "?"


@pytest.fixture(scope="module")
def document() -> dict:
    return etsi_openapi()


def test_paths_and_methods_are_exactly_the_spec(document):
    assert {path: set(operations) for path, operations in document["paths"].items()} == SPEC_PATHS


@pytest.mark.parametrize("name", sorted(SPEC_SCHEMAS))
def test_schema_fields_types_and_optionality(document, name):
    schema = document["components"]["schemas"][name]
    expected = SPEC_SCHEMAS[name]
    assert set(schema["properties"]) == {field.rstrip("?") for field in expected}
    assert set(schema.get("required", [])) == {field for field in expected if not field.endswith("?")}
    for field, kind in expected.items():
        assert _type_of(schema["properties"][field.rstrip("?")]) == kind, field


def test_every_operation_documents_200_400_401_503(document):
    for operations in document["paths"].values():
        for operation in operations.values():
            assert set(operation["responses"]) == {"200", "400", "401", "503"}
            for code in ("400", "401", "503"):
                assert operation["responses"][code]["content"]["application/json"]["schema"]["$ref"].endswith(
                    "/ErrorBody"
                )


def test_query_parameters_of_the_get_variants(document):
    enc = {p["name"]: p for p in document["paths"]["/api/v1/keys/{slave_SAE_ID}/enc_keys"]["get"]["parameters"]}
    dec = {p["name"]: p for p in document["paths"]["/api/v1/keys/{master_SAE_ID}/dec_keys"]["get"]["parameters"]}
    assert {name: p["in"] for name, p in enc.items()} == {"slave_SAE_ID": "path", "number": "query", "size": "query"}
    assert {name: p["in"] for name, p in dec.items()} == {"master_SAE_ID": "path", "key_ID": "query"}
    assert dec["key_ID"]["required"] and not enc["number"].get("required", False)


def test_post_bodies(document):
    enc = document["paths"]["/api/v1/keys/{slave_SAE_ID}/enc_keys"]["post"]["requestBody"]
    dec = document["paths"]["/api/v1/keys/{master_SAE_ID}/dec_keys"]["post"]["requestBody"]
    assert not enc.get("required", False)
    assert dec["required"] and dec["content"]["application/json"]["schema"]["$ref"].endswith("/KeyIDs")


def test_the_running_kme_publishes_the_same_document(star_network):
    with httpx.Client(transport=star_network.transport("SAE-A"), timeout=5) as client:
        published = client.get(star_network.url("KME-A") + "/openapi.json").json()
    assert published["paths"] == etsi_openapi()["paths"]
