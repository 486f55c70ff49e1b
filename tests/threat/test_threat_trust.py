"""Trust paths against a trust store, checked on real servers (system ``openssl s_server``, and pyOpenSSL
on the bundled OpenSSL for ML-DSA) with chains made here: valid, unknown root, expired leaf, wrong name."""

from __future__ import annotations

import datetime
import ipaddress
import json
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, mldsa, rsa
from cryptography.x509.oid import NameOID
from typer.testing import CliRunner

from qit4n.cli import app
from qit4n.errors import ParameterError
from qit4n.threat import assess_asset, load_catalog
from qit4n.threat.findings import scan_findings
from qit4n.threat.scan import scan_tls
from qit4n.threat.scandiff import diff_scans
from qit4n.threat.targets import TargetResult
from qit4n.threat.trust import TrustStore, check_server_name

from .conftest import _pyopenssl_server

NOW = datetime.datetime.now(datetime.UTC)


def _certificate(tmp: Path, label: str, key, subject: str, issuer=None, *, ca=False, names=(), days=(-1, 30)):
    """A certificate (PEM at ``tmp/label.crt``, key at ``.key``) valid from ``days[0]`` to ``days[1]`` from now."""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    signer_key, signer_name = (key, name) if issuer is None else (issuer[1], issuer[0].subject)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(signer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW + datetime.timedelta(days=days[0]))
        .not_valid_after(NOW + datetime.timedelta(days=days[1]))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if names:
        entries = [x509.IPAddress(ipaddress.ip_address(n)) if n[0].isdigit() else x509.DNSName(n) for n in names]
        builder = builder.add_extension(x509.SubjectAlternativeName(entries), critical=False)
    algorithm = None if isinstance(signer_key, mldsa.MLDSA65PrivateKey) else hashes.SHA256()
    certificate = builder.sign(signer_key, algorithm)
    (tmp / f"{label}.crt").write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    (tmp / f"{label}.key").write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return certificate, key


@pytest.fixture(scope="module")
def chains(tmp_path_factory) -> Path:
    """RSA-3072 root -> P-256 intermediate -> P-256 leaves for good.test and 127.0.0.1 (valid and expired);
    a second, unrelated root; an ML-DSA-65 leaf under a P-384 root; stores: the root alone in a folder."""
    tmp = tmp_path_factory.mktemp("trust")
    root = _certificate(tmp, "root", rsa.generate_private_key(65537, 3072), "Trust Test Root", ca=True, days=(-1, 3650))
    inter = _certificate(
        tmp, "inter", ec.generate_private_key(ec.SECP256R1()), "Trust Test Intermediate", root, ca=True, days=(-1, 900)
    )
    _certificate(
        tmp, "leaf", ec.generate_private_key(ec.SECP256R1()), "good.test", inter, names=("good.test", "127.0.0.1")
    )
    _certificate(
        tmp,
        "expired",
        ec.generate_private_key(ec.SECP256R1()),
        "good.test",
        inter,
        names=("good.test",),
        days=(-30, -2),
    )
    _certificate(tmp, "other-root", ec.generate_private_key(ec.SECP256R1()), "Unrelated Root", ca=True, days=(-1, 365))
    pq_root = _certificate(tmp, "pq-root", ec.generate_private_key(ec.SECP384R1()), "EC Root", ca=True, days=(-1, 365))
    _certificate(tmp, "pq-leaf", mldsa.MLDSA65PrivateKey.generate(), "pq.test", pq_root, names=("pq.test",))
    all_pq_root = _certificate(
        tmp, "all-pq-root", mldsa.MLDSA65PrivateKey.generate(), "ML-DSA Root", ca=True, days=(-1, 365)
    )
    _certificate(tmp, "all-pq-leaf", mldsa.MLDSA65PrivateKey.generate(), "pq.test", all_pq_root, names=("pq.test",))
    (tmp / "store").mkdir()
    (tmp / "store" / "root.pem").write_bytes((tmp / "root.crt").read_bytes())
    (tmp / "store" / "README").write_text("not a certificate\n")
    for leaf, root_label in (("pq-leaf", "pq-root"), ("all-pq-leaf", "all-pq-root")):
        (tmp / f"{leaf}-chain.crt").write_bytes(
            (tmp / f"{leaf}.crt").read_bytes() + (tmp / f"{root_label}.crt").read_bytes()
        )
    return tmp


def _serve(openssl_server, chains: Path, leaf: str):
    return openssl_server(
        "-cert_chain", str(chains / "inter.crt"), cert=chains / f"{leaf}.crt", key=chains / f"{leaf}.key"
    )


def test_valid_chain_path_ends_at_the_store_root_and_names_every_vulnerable_key(openssl_server, chains):
    server = _serve(openssl_server, chains, "leaf")
    store = TrustStore.open(chains / "store")
    result = scan_tls("127.0.0.1", server.port, server_name="good.test", trust_store=store)
    trust = result.trust
    assert trust is not None and trust.valid and trust.errors == ()
    assert [(e.certificate.subject, e.from_trust_store) for e in trust.path] == [
        ("CN=good.test", False),
        ("CN=Trust Test Intermediate", False),
        ("CN=Trust Test Root", True),
    ]
    assert [e.certificate.catalog_algorithm for e in trust.path] == ["ecdsa-p256", "ecdsa-p256", "rsa-3072"]
    assert trust.path[2].certificate.key_bits == 3072
    assert trust.quantum_vulnerable_keys == (
        "ecdsa-p256 (CN=good.test)",
        "ecdsa-p256 (CN=Trust Test Intermediate)",
        "rsa-3072 (CN=Trust Test Root)",
    )
    assert trust.verdict.startswith("trusted; hostname matches; quantum-vulnerable keys in path: ecdsa-p256")
    # The anchor was not sent by the server, but it signs the path: it is in the asset.
    anchors = [use for use in result.to_asset().algorithms if use.detail and use.detail.startswith("trust anchor")]
    assert [(use.name, use.use) for use in anchors] == [("rsa-3072", "signature")]
    # The IP address SAN matches when the host is scanned by address.
    by_address = scan_tls("127.0.0.1", server.port, trust_store=store).trust
    assert by_address is not None and by_address.valid and by_address.server_name == "127.0.0.1"


def test_unknown_root_is_not_trusted(openssl_server, chains):
    server = _serve(openssl_server, chains, "leaf")
    trust = scan_tls(
        "127.0.0.1", server.port, server_name="good.test", trust_store=TrustStore.open(chains / "other-root.crt")
    ).trust
    assert trust is not None and not trust.chain_trusted and trust.hostname_matches and not trust.valid
    assert trust.errors[0] == "unable to get local issuer certificate (depth 1)"
    assert [e.from_trust_store for e in trust.path] == [False, False]
    assert trust.verdict.startswith("not trusted: unable to get local issuer certificate (depth 1); hostname matches")


def test_expired_leaf_is_not_trusted(openssl_server, chains):
    server = _serve(openssl_server, chains, "expired")
    result = scan_tls("127.0.0.1", server.port, server_name="good.test", trust_store=TrustStore.open(chains / "store"))
    trust = result.trust
    assert trust is not None and not trust.chain_trusted and trust.hostname_matches
    assert trust.errors == ("certificate has expired (depth 0)",)
    assert len(trust.path) == 3 and trust.path[2].from_trust_store
    assert result.certificates[0].expires_in_days < -1.9


def test_wrong_host_chain_trusted_but_name_mismatch(openssl_server, chains):
    server = _serve(openssl_server, chains, "leaf")
    store = TrustStore.open(chains / "store")
    for name in ("wrong.test", "sub.good.test", "127.0.0.2"):
        trust = scan_tls("127.0.0.1", server.port, server_name=name, trust_store=store).trust
        assert trust is not None and trust.chain_trusted and not trust.hostname_matches, name
        assert trust.verdict.startswith(f"trusted; hostname does not match {name};")


def test_pq_leaf_under_an_ecdsa_root_is_still_forgeable(chains):
    """ML-DSA-65 leaf signed by a P-384 root: the root's key signs the path, so forgery stays possible."""
    server = _pyopenssl_server(chains / "pq-leaf-chain.crt", chains / "pq-leaf.key", b"X25519MLKEM768")
    try:
        result = scan_tls(
            "127.0.0.1", server.port, server_name="pq.test", trust_store=TrustStore.open(chains / "pq-root.crt")
        )
    finally:
        server.close()
    trust = result.trust
    assert trust is not None and trust.valid
    assert [e.certificate.catalog_algorithm for e in trust.path] == ["ml-dsa-65", "ecdsa-p384"]
    assert trust.quantum_vulnerable_keys == ("ecdsa-p384 (CN=EC Root)",)
    catalog = load_catalog()
    risk = assess_asset(result.to_asset(), catalog, catalog.timeline("gri-2023"), [], now_year=2026)
    assert risk.signature_vulnerable and risk.forgery_probability > 0.0


def test_all_ml_dsa_path_has_no_vulnerable_key(chains):
    server = _pyopenssl_server(chains / "all-pq-leaf-chain.crt", chains / "all-pq-leaf.key", b"X25519MLKEM768")
    try:
        trust = scan_tls(
            "127.0.0.1", server.port, server_name="pq.test", trust_store=TrustStore.open(chains / "all-pq-root.crt")
        ).trust
    finally:
        server.close()
    assert trust is not None and trust.valid
    assert trust.quantum_vulnerable_keys == ()
    assert trust.verdict == "trusted; hostname matches; no quantum-vulnerable key in path"


def test_trust_store_errors_name_the_option(tmp_path):
    with pytest.raises(ParameterError, match=r"--trust-store = .*missing: no such file or folder"):
        TrustStore.open(tmp_path / "missing")
    (tmp_path / "empty.pem").write_text("no certificate here\n")
    with pytest.raises(ParameterError, match="no PEM certificate in the file"):
        TrustStore.open(tmp_path / "empty.pem")
    assert TrustStore.open(tmp_path).files == ()


def test_cli_trust_store_and_servername(openssl_server, chains):
    server = _serve(openssl_server, chains, "leaf")
    runner = CliRunner()
    target = f"127.0.0.1:{server.port}"
    store = str(chains / "store")
    result = runner.invoke(app, ["threat", "scan", target, "--trust-store", store, "--servername", "x.test", "--json"])
    assert result.exit_code == 0, result.output
    (scan,) = json.loads(result.stdout)
    trust = scan["trust"]
    assert (trust["chain_trusted"], trust["hostname_matches"], trust["valid"]) == (True, False, False)
    assert [entry["from_trust_store"] for entry in trust["path"]] == [False, False, True]
    table = runner.invoke(app, ["threat", "scan", target, "--trust-store", store, "--servername", "good.test"])
    assert "trusted; hostname matches" in table.stdout and "CN=Trust Test Root (trust store)" in table.stdout
    missing = runner.invoke(app, ["threat", "scan", target, "--trust-store", str(chains / "nope")])
    assert isinstance(missing.exception, ParameterError) and "no such file or folder" in str(missing.exception)


def test_untrusted_chain_is_a_finding_and_a_scan_diff(openssl_server, chains):
    server = _serve(openssl_server, chains, "expired")
    target = f"127.0.0.1:{server.port}"
    store = TrustStore.open(chains / "store")
    outcome = TargetResult(
        target, scan_tls("127.0.0.1", server.port, server_name="good.test", trust_store=store), None, 0.1
    )
    (finding,) = [f for f in scan_findings([outcome], load_catalog()) if f.rule == "untrusted-certificate"]
    assert finding.level == "error" and finding.message.startswith("not trusted: certificate has expired (depth 0)")
    before = {target: {**outcome.to_dict(), "trust": None}}
    (change,) = diff_scans(before, {target: outcome.to_dict()})
    assert (change.field, change.old) == ("trust", None) and change.new.startswith("not trusted")


@pytest.mark.parametrize("name", ["a b.test", "x" * 254, "-bad.test", ""])
def test_bad_servername_is_refused(name):
    with pytest.raises(ParameterError, match=r"--servername = .*must be a DNS name"):
        check_server_name(name)
