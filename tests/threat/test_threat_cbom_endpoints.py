"""CBOM protocol, certificate and public-key components of real scans, checked against the CycloneDX 1.6
schema (``cbom_json`` validates) and read back; and a CBOM shaped like other tools' read as assets."""

from __future__ import annotations

import json

from cryptography.hazmat.primitives.asymmetric import ed25519

from qit4n.threat import assess_inventory, inventory_from_file, load_catalog
from qit4n.threat.cbom import cbom_json
from qit4n.threat.imports import assets_from_cbom
from qit4n.threat.inventory import Inventory
from qit4n.threat.scan import scan_tls
from qit4n.threat.ssh import scan_ssh
from qit4n.threat.trust import TrustStore


def test_scan_cbom_protocols_certificates_keys_and_round_trip(hybrid_tls12_fallback_server, pki, tmp_path):
    """X25519MLKEM768 then P-256 (TLS 1.2 and 1.3), EC chain leaf (P-256) -> intermediate (P-256) -> root (P-384)."""
    port = hybrid_tls12_fallback_server.port
    scan = scan_tls("127.0.0.1", port, trust_store=TrustStore.open(pki["root"].cert_path))
    asset = scan.to_asset()
    text = cbom_json(assess_inventory(Inventory(name="scan", assets=[asset]), now_year=2026), [scan])
    document = json.loads(text)
    by_ref = {component["bom-ref"]: component for component in document["components"]}

    def name(reference: str) -> str:
        return by_ref[reference]["name"]

    protocols = {
        c["name"]: c["cryptoProperties"]["protocolProperties"]
        for c in document["components"]
        if c.get("cryptoProperties", {}).get("assetType") == "protocol"
    }
    assert set(protocols) == {"TLS 1.2", "TLS 1.3"}
    tls13, tls12 = protocols["TLS 1.3"], protocols["TLS 1.2"]
    assert (tls13["type"], tls13["version"], tls12["version"]) == ("tls", "1.3", "1.2")
    # cyclonedx-python-lib writes the suites sorted by name; the server's order stays in the scan JSON.
    assert sorted(suite["name"] for suite in tls13["cipherSuites"]) == sorted(scan.cipher_suites["TLSv1.3"])
    assert sorted(suite["name"] for suite in tls12["cipherSuites"]) == sorted(scan.cipher_suites["TLSv1.2"])
    assert {name(ref) for ref in tls13["cryptoRefArray"]} == {"x25519mlkem768", "ecdh-p256"}
    assert {name(ref) for ref in tls12["cryptoRefArray"]} == {"ecdh-p256"}
    default_suite = next(s for s in tls13["cipherSuites"] if s["name"] == scan.cipher_suite)
    assert [name(ref) for ref in default_suite["algorithms"]] == ["aes-256"]

    certificates = [  # bom-refs crypto/certificate/0/<position on the path>; the library sorts components
        c["cryptoProperties"]["certificateProperties"]
        for c in sorted(document["components"], key=lambda c: c["bom-ref"])
        if c.get("cryptoProperties", {}).get("assetType") == "certificate"
    ]
    assert [c["subjectName"] for c in certificates] == ["CN=ec.test", "CN=Test Intermediate CA", "CN=Test Root CA"]
    assert [c["issuerName"] for c in certificates] == ["CN=Test Intermediate CA", "CN=Test Root CA", "CN=Test Root CA"]
    # Signed by the issuer's key: the leaf by the intermediate's P-256, the intermediate and root by the root's P-384.
    assert [name(c["signatureAlgorithmRef"]) for c in certificates] == ["ecdsa-p256", "ecdsa-p384", "ecdsa-p384"]
    assert all(c["certificateFormat"] == "X.509" for c in certificates)
    assert certificates[0]["notValidAfter"][:19] == pki["leaf"].certificate.not_valid_after_utc.isoformat()[:19]
    keys = [by_ref[c["subjectPublicKeyRef"]]["cryptoProperties"] for c in certificates]
    assert {key["assetType"] for key in keys} == {"related-crypto-material"}
    material = [key["relatedCryptoMaterialProperties"] for key in keys]
    assert [m["type"] for m in material] == ["public-key"] * 3
    assert [m["size"] for m in material] == [256, 256, 384]
    assert material[0]["id"] == f"sha256:{scan.certificates[0].public_key_sha256}"
    assert [name(m["algorithmRef"]) for m in material] == ["ecdsa-p256", "ecdsa-p256", "ecdsa-p384"]

    # Read back: the one endpoint asset again, with the same algorithms and uses.
    path = tmp_path / "scan.cdx.json"
    path.write_text(text, encoding="utf-8")
    (reread,) = inventory_from_file(path).assets
    assert reread.name == asset.name
    assert {(use.name, use.use) for use in reread.algorithms} == {
        (load_catalog().algorithm(use.name).id, use.use) for use in asset.algorithms
    }


def _component(reference: str, name: str, crypto: dict) -> dict:
    return {"type": "cryptographic-asset", "bom-ref": reference, "name": name, "cryptoProperties": crypto}


def test_standalone_protocol_certificate_and_key_components_become_assets():
    """A CBOM listing a protocol and a certificate that no application depends on (as inventory tools
    emit them): each becomes an asset holding the algorithms it refers to; the key stays the certificate's."""
    algorithm = {"assetType": "algorithm"}
    document = {
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "components": [
            _component(
                "key-1",
                "RSA public key",
                {
                    "assetType": "related-crypto-material",
                    "relatedCryptoMaterialProperties": {"type": "public-key", "algorithmRef": "alg-rsa", "size": 2048},
                },
            ),
            _component("alg-rsa", "rsa-2048", {**algorithm, "algorithmProperties": {"primitive": "signature"}}),
            _component("alg-ecdh", "ecdh-p256", {**algorithm, "algorithmProperties": {"primitive": "key-agree"}}),
            _component("alg-aes", "aes-128", {**algorithm, "algorithmProperties": {"primitive": "ae"}}),
            _component("alg-sha", "sha-256", {**algorithm, "algorithmProperties": {"primitive": "hash"}}),
            _component(
                "cert-1",
                "CN=www.example",
                {
                    "assetType": "certificate",
                    "certificateProperties": {
                        "subjectName": "CN=www.example",
                        "signatureAlgorithmRef": "alg-rsa",
                        "subjectPublicKeyRef": "key-1",
                    },
                },
            ),
            _component(
                "tls-1",
                "TLS 1.2",
                {
                    "assetType": "protocol",
                    "protocolProperties": {
                        "type": "tls",
                        "version": "1.2",
                        "cryptoRefArray": ["alg-ecdh"],
                        "cipherSuites": [
                            {"name": "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "algorithms": ["alg-ecdh", "alg-aes"]}
                        ],
                    },
                },
            ),
        ],
    }
    assets, unknown = assets_from_cbom(document, load_catalog())
    found = {(a.name, a.category): sorted((u.name, u.use) for u in a.algorithms) for a in assets}
    assert found == {
        ("CN=www.example (cert-1)", "certificate"): [("rsa-2048", "signature")],
        ("TLS 1.2 (tls-1)", "protocol"): [("aes-128", "symmetric"), ("ecdh-p256", "key-exchange")],
        ("sha-256 (alg-sha)", "cryptographic-asset"): [("sha-256", "hash")],
    }
    assert unknown == []


def test_ssh_scan_cbom_has_an_ssh_protocol_component(sshd):
    server = sshd("sntrup761x25519-sha512@openssh.com,curve25519-sha256", {"ed": ed25519.Ed25519PrivateKey.generate()})
    scan = scan_ssh("127.0.0.1", server.port)
    document = json.loads(
        cbom_json(assess_inventory(Inventory(name="ssh", assets=[scan.to_asset()]), now_year=2026), [scan])
    )
    by_ref = {component["bom-ref"]: component for component in document["components"]}
    (protocol,) = [
        c["cryptoProperties"]["protocolProperties"]
        for c in document["components"]
        if c.get("cryptoProperties", {}).get("assetType") == "protocol"
    ]
    assert (protocol["type"], protocol["version"]) == ("ssh", "2.0")
    assert {by_ref[ref]["name"] for ref in protocol["cryptoRefArray"]} == {"sntrup761x25519", "x25519", "ed25519"}
