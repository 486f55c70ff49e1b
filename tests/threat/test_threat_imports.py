"""Assets from real files: PEM/DER certificates, SSH public keys, CycloneDX CBOMs; CBOM export validated."""

from __future__ import annotations

import json

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from qit4n.errors import InputError, ServiceError
from qit4n.threat import assess_inventory, inventory_from_dict, inventory_from_file, load_catalog
from qit4n.threat.cbom import cbom_json, validate_cbom


def test_pem_chain_gives_one_asset_per_certificate(pki, tmp_path):
    path = tmp_path / "chain.pem"
    path.write_bytes(pki["chain"].read_bytes() + pki["root"].cert_path.read_bytes())
    inventory = inventory_from_file(path)
    leaf, intermediate, root = inventory.assets
    assert (leaf.name, leaf.category, leaf.algorithms[0].name, leaf.algorithms[0].use) == (
        "CN=ec.test",
        "certificate",
        "ecdsa-p256",
        "signature",
    )
    assert (intermediate.category, intermediate.algorithms[0].name) == ("pki-root", "ecdsa-p256")
    assert (root.name, root.category, root.algorithms[0].name) == ("CN=Test Root CA", "pki-root", "ecdsa-p384")
    # The root is valid for 3650 days: its trust lifetime is about 10 years.
    assert root.trust_lifetime_years == pytest.approx(3650 / 365.25, abs=0.01)
    assert leaf.trust_lifetime_years == 0.0


def test_der_certificate(pki, tmp_path):
    path = tmp_path / "server.der"
    path.write_bytes(pki["rsa"].certificate.public_bytes(serialization.Encoding.DER))
    (asset,) = inventory_from_file(path).assets
    assert (asset.name, asset.algorithms[0].name) == ("CN=rsa.test", "rsa-2048")


def test_ml_dsa_certificate_is_quantum_safe(pki, tmp_path):
    (asset,) = inventory_from_file(pki["pq"].cert_path).assets
    assert asset.algorithms[0].name == "ml-dsa-65"
    result = assess_inventory(inventory_from_file(pki["pq"].cert_path), now_year=2026)
    assert not result.risks[0].vulnerable


def _ssh_line(key, comment: str) -> str:
    return (
        key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode()
        + f" {comment}"
    )


def test_ssh_public_keys(tmp_path):
    lines = [
        "# authorized_keys",
        _ssh_line(rsa.generate_private_key(public_exponent=65537, key_size=3072), "alice@host"),
        _ssh_line(ed25519.Ed25519PrivateKey.generate(), "bob@host"),
        _ssh_line(ec.generate_private_key(ec.SECP256R1()), "carol@host"),
    ]
    path = tmp_path / "authorized_keys"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assets = inventory_from_file(path).assets
    assert [(a.name, a.category, a.algorithms[0].name) for a in assets] == [
        ("ssh alice@host", "ssh", "rsa-3072"),
        ("ssh bob@host", "ssh", "ed25519"),
        ("ssh carol@host", "ssh", "ecdsa-p256"),
    ]


def test_bad_ssh_line_names_the_line(tmp_path):
    path = tmp_path / "keys.pub"
    path.write_text("ssh-ed25519 AAAAnotbase64\n", encoding="utf-8")
    with pytest.raises(InputError, match="line 1: not an SSH public key"):
        inventory_from_file(path)


def test_cbom_export_validates_and_reads_back(tmp_path):
    inventory = inventory_from_dict(
        {
            "name": "svc",
            "assets": [
                {
                    "name": "web",
                    "algorithms": [
                        {"name": "x25519", "use": "key-exchange"},
                        {"name": "ecdsa-p256", "use": "signature"},
                        "aes-128",
                    ],
                },
                {"name": "pq", "algorithms": ["ml-kem-768", "ml-dsa-65"]},
            ],
        }
    )
    result = assess_inventory(inventory, now_year=2026)
    text = cbom_json(result)
    document = json.loads(text)
    assert document["specVersion"] == "1.6" and document["bomFormat"] == "CycloneDX"
    components = {c["name"]: c for c in document["components"]}
    kem = components["ml-kem-768"]["cryptoProperties"]["algorithmProperties"]
    assert (kem["primitive"], kem["nistQuantumSecurityLevel"], kem["classicalSecurityLevel"]) == ("kem", 3, 192)
    ecdsa = components["ecdsa-p256"]["cryptoProperties"]["algorithmProperties"]
    assert (ecdsa["primitive"], ecdsa["nistQuantumSecurityLevel"]) == ("signature", 0)
    web = {p["name"]: p["value"] for p in components["web"]["properties"] if p["name"] != "qit4n:reason"}
    assert web["qit4n:vulnerable"] == "true" and web["qit4n:recommendation"] == "hybrid"
    assert float(web["qit4n:exposure-probability"]) == pytest.approx(result.risks[0].exposure_probability, rel=1e-5)
    path = tmp_path / "svc.cdx.json"
    path.write_text(text, encoding="utf-8")
    # Read back: each asset again holds its own algorithms (the CBOM dependencies), not one merged asset.
    reread = {asset.name: sorted(a.name for a in asset.algorithms) for asset in inventory_from_file(path).assets}
    assert reread == {"web": ["aes-128", "ecdsa-p256", "x25519"], "pq": ["ml-dsa-65", "ml-kem-768"]}


def _algorithm(reference: str, name: str, primitive: str) -> dict:
    return {
        "type": "cryptographic-asset",
        "bom-ref": reference,
        "name": name,
        "cryptoProperties": {"assetType": "algorithm", "algorithmProperties": {"primitive": primitive}},
    }


def test_cbom_keeps_unknown_algorithms_and_separate_assets(tmp_path):
    document = {
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "components": [
            {"type": "application", "bom-ref": "app/wallet", "name": "wallet"},
            {"type": "application", "bom-ref": "app/vpn", "name": "vpn"},
            _algorithm("alg/k1", "secp256k1", "signature"),
            _algorithm("alg/dh", "DH-4096", "key-agree"),
            _algorithm("alg/gost", "GOST R 34.10-2012", "signature"),
            _algorithm("alg/aes", "AES-256-GCM", "ae"),
            _algorithm("alg/mlkem", "ML-KEM-768", "kem"),
        ],
        "dependencies": [
            {"ref": "app/wallet", "dependsOn": ["alg/k1", "alg/gost"]},
            {"ref": "app/vpn", "dependsOn": ["alg/dh", "alg/aes"]},
        ],
    }
    path = tmp_path / "estate.cdx.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    assets = {asset.name: asset for asset in inventory_from_file(path).assets}
    assert set(assets) == {"wallet", "vpn", "ml-kem-768 (alg/mlkem)"}
    wallet, vpn = assets["wallet"], assets["vpn"]
    assert [(u.name, u.use) for u in wallet.algorithms] == [("secp256k1", "signature")]
    assert [u.name for u in wallet.unassessed_algorithms] == ["GOST R 34.10-2012"]
    assert [(u.name, u.use) for u in vpn.algorithms] == [("ffdhe-4096", "key-exchange"), ("aes-256", "symmetric")]
    result = assess_inventory(inventory_from_file(path), now_year=2026)
    risks = {risk.asset.name: risk for risk in result.risks}
    assert risks["wallet"].signature_vulnerable and risks["vpn"].key_exchange_vulnerable
    assert any("GOST R 34.10-2012: not in threat catalog" in reason for reason in risks["wallet"].reasons)
    assert not risks["ml-kem-768 (alg/mlkem)"].vulnerable


def test_cbom_with_unknown_algorithms_only_keeps_them_and_warns(tmp_path):
    from typer.testing import CliRunner

    from qit4n.cli import app

    document = {"bomFormat": "CycloneDX", "specVersion": "1.6", "components": [_algorithm("a", "FancyCipher", "ae")]}
    path = tmp_path / "x.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    (asset,) = inventory_from_file(path).assets
    assert (asset.algorithms, [u.name for u in asset.unassessed_algorithms]) == ([], ["FancyCipher"])
    result = CliRunner().invoke(app, ["threat", "assess", str(path), "--json", "--year", "2026"])
    assert result.exit_code == 0, result.output
    assert "warning: not in threat catalog" in result.stderr and "FancyCipher" in result.stderr
    (entry,) = json.loads(result.stdout)["assets"]
    assert entry["inputs"]["unassessed_algorithms"] == ["FancyCipher"]


def test_invalid_cbom_fails_schema_validation():
    document = {
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "version": 1,
        "components": [
            {
                "type": "cryptographic-asset",
                "name": "x",
                "cryptoProperties": {"assetType": "algorithm", "algorithmProperties": {"nistQuantumSecurityLevel": 9}},
            }
        ],
    }
    with pytest.raises(ServiceError, match=r"CycloneDX 1\.6"):
        validate_cbom(json.dumps(document))


def test_catalog_is_default_for_cbom_import():
    assert load_catalog().algorithm("ML-KEM-768").id == "ml-kem-768"


def test_shipped_example_inventory_is_read_by_name_from_any_folder(tmp_path, monkeypatch):
    from importlib import resources
    from pathlib import Path

    from qit4n.threat import example_inventories

    checkout_copy = Path(__file__).resolve().parents[2] / "examples" / "inventory.yaml"
    shipped = resources.files("qit4n.threat").joinpath("data", "inventories", "secoqc-vienna-example.yaml")
    assert shipped.read_text(encoding="utf-8") == checkout_copy.read_text(encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert example_inventories() == ["secoqc-vienna-example"]
    by_name = inventory_from_file("secoqc-vienna-example")
    assert by_name == inventory_from_file(checkout_copy)
    assert by_name.scenario == "secoqc-vienna-2008" and len(by_name.assets) >= 2
    with pytest.raises(InputError, match=r"nope: no such file \(shipped examples: secoqc-vienna-example\)"):
        inventory_from_file("nope")
