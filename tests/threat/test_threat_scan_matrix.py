"""Verdicts on TLS servers configured as real estates are: ``openssl s_server`` of the system (DHE, RSA
key transport, TLS 1.0/1.1, RSA-1024 with SHA-1) and pyOpenSSL on the bundled OpenSSL (ML-KEM hybrids
with classical fallbacks), all started by the test on 127.0.0.1.

Expected verdicts follow from the server configuration: a session is harvestable (harvest now,
decrypt later) when any key exchange the server accepts is broken by Shor's algorithm, because a
legacy client gets that key exchange; ML-KEM groups exist only in TLS 1.3 (RFC 8446 Section 4.2.7,
draft-ietf-tls-ecdhe-mlkem), so a TLS 1.2-only server cannot accept them.
"""

from __future__ import annotations

import json
import socket

import pytest
from typer.testing import CliRunner

from qit4n.cli import app
from qit4n.threat import assess_asset, load_catalog
from qit4n.threat.scan import PQ_GROUPS, scan_tls

CATALOG = load_catalog()
GRI = CATALOG.timeline("gri-2023")


def _risk(scan, secrecy_years: float = 10.0):
    asset = scan.to_asset(secrecy_lifetime_years=secrecy_years)
    return assess_asset(asset, CATALOG, GRI, [CATALOG.policy("nist-ir-8547")], now_year=2026)


def test_dhe_only_server_is_harvestable(openssl_server):
    server = openssl_server("-tls1_2", "-cipher", "DHE-RSA-AES128-GCM-SHA256")
    scan = scan_tls("127.0.0.1", server.port, timeout_s=5.0)
    assert (scan.protocol_version, scan.cipher_suite) == ("TLSv1.2", "DHE-RSA-AES128-GCM-SHA256")
    assert [(e.method, e.dh_bits) for e in scan.key_exchanges] == [("dhe", 2048)]
    assert scan.accepted_groups == ()
    risk = _risk(scan)
    key_exchange = [f.algorithm.id for f in risk.findings if f.use == "key-exchange"]
    assert key_exchange == ["ffdhe-2048"]
    assert risk.key_exchange_vulnerable and risk.hndl_probability > 0.0
    assert scan.verdict == "classical key exchange only"


@pytest.mark.parametrize(
    ("cipher", "method"), [("AES128-GCM-SHA256", "rsa"), ("DHE-RSA-AES256-GCM-SHA384", "dhe")], ids=["rsa", "dhe"]
)
def test_tls12_only_server_accepts_no_ml_kem_group(openssl_server, cipher, method):
    server = openssl_server("-tls1_2", "-cipher", cipher)
    scan = scan_tls("127.0.0.1", server.port, timeout_s=5.0)
    assert scan.accepted_versions == ("TLSv1.2",)
    assert not set(PQ_GROUPS) & set(scan.accepted_groups)
    assert set(PQ_GROUPS) <= set(scan.rejected_groups)
    assert [e.method for e in scan.key_exchanges] == [method]
    risk = _risk(scan)
    assert risk.key_exchange_vulnerable and risk.hndl_probability > 0.0
    if method == "rsa":
        (transport,) = [f for f in risk.findings if f.use == "key-exchange"]
        assert transport.algorithm.id == "rsa-2048" and "RSA key transport" in transport.detail


@pytest.mark.parametrize(("flag", "version"), [("-tls1", "TLSv1"), ("-tls1_1", "TLSv1.1")])
def test_legacy_only_servers_are_seen(openssl_server, flag, version):
    server = openssl_server(flag, "-cipher", "DEFAULT:@SECLEVEL=0")
    scan = scan_tls("127.0.0.1", server.port, timeout_s=5.0)
    assert (scan.protocol_version, scan.accepted_versions) == (version, (version,))
    methods = {e.method for e in scan.key_exchanges}
    assert methods == {"ecdhe", "dhe", "rsa"}
    assert all(e.version == version for e in scan.key_exchanges)
    assert _risk(scan).hndl_probability > 0.0


def test_server_speaking_every_version_lists_the_legacy_ones(openssl_server):
    server = openssl_server("-cipher", "ALL:@SECLEVEL=0")
    scan = scan_tls("127.0.0.1", server.port, timeout_s=5.0)
    assert scan.protocol_version == "TLSv1.3"
    assert scan.accepted_versions == ("TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3")
    assert {(e.version, e.method) for e in scan.key_exchanges} >= {
        (version, method) for version in ("TLSv1", "TLSv1.1", "TLSv1.2") for method in ("ecdhe", "dhe", "rsa")
    }


def test_hybrid_preferred_with_tls13_x25519_fallback(hybrid_server):
    scan = scan_tls("127.0.0.1", hybrid_server.port, timeout_s=5.0)
    assert scan.negotiated_group == "X25519MLKEM768"
    assert scan.verdict == "hybrid preferred, classical fallback accepted"
    risk = _risk(scan)
    fallback = [f for f in risk.findings if f.use == "key-exchange" and f.shor_vulnerable]
    assert [f.algorithm.id for f in fallback] == ["x25519"] and "legacy clients" in fallback[0].detail
    assert risk.hndl_probability > 0.0


def test_hybrid_preferred_with_tls12_ecdhe_fallback(hybrid_tls12_fallback_server):
    scan = scan_tls("127.0.0.1", hybrid_tls12_fallback_server.port, timeout_s=5.0)
    assert (scan.protocol_version, scan.negotiated_group) == ("TLSv1.3", "X25519MLKEM768")
    assert scan.accepted_versions == ("TLSv1.2", "TLSv1.3")
    assert ("TLSv1.2", "ecdhe", "secp256r1") in {(e.version, e.method, e.group) for e in scan.key_exchanges}
    assert scan.verdict == "hybrid preferred, classical fallback accepted"
    assert _risk(scan).hndl_probability > 0.0


def test_ml_kem_only_server_is_not_harvestable(pq_server):
    scan = scan_tls("127.0.0.1", pq_server.port, timeout_s=5.0)
    assert scan.verdict == "post-quantum key exchange only"
    assert _risk(scan, secrecy_years=50).hndl_probability == 0.0


def test_pure_ml_kem_server(pure_mlkem_server):
    scan = scan_tls("127.0.0.1", pure_mlkem_server.port, timeout_s=5.0)
    assert (scan.negotiated_group, scan.accepted_groups) == ("MLKEM768", ("MLKEM768",))
    assert scan.verdict == "post-quantum key exchange only"
    risk = _risk(scan, secrecy_years=50)
    assert [f.algorithm.id for f in risk.findings if f.use == "key-exchange"] == ["ml-kem-768"]
    assert risk.hndl_probability == 0.0 and risk.signature_vulnerable


def test_rsa_1024_sha1_certificate_is_flagged(openssl_server, legacy_certificate):
    cert_path, key_path = legacy_certificate
    server = openssl_server("-cipher", "DEFAULT:@SECLEVEL=0", cert=cert_path, key=key_path)
    scan = scan_tls("127.0.0.1", server.port, timeout_s=5.0)
    (certificate,) = scan.certificates
    assert (certificate.key_bits, certificate.catalog_algorithm) == (1024, "rsa-1024")
    assert (certificate.signature_algorithm, certificate.signature_hash) == ("rsa_with_sha1", "sha1")
    risk = _risk(scan)
    assert risk.classically_weak
    assert {f.algorithm.id for f in risk.findings} >= {"rsa-1024", "sha-1"}
    # NIST SP 800-131A: below 112 bits of strength is disallowed after 2013.
    assert risk.deadline == 2014
    assert any("sha-1 (hash) is already weak classically" in reason for reason in risk.reasons)


def test_one_unreachable_host_does_not_abort_the_scan(openssl_server):
    server = openssl_server("-tls1_2", "-cipher", "ECDHE-RSA-AES128-GCM-SHA256")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    targets = [f"127.0.0.1:{closed}", f"127.0.0.1:{server.port}"]
    result = CliRunner().invoke(app, ["threat", "scan", *targets, "--json", "--timeout", "2", "--workers", "2"])
    assert result.exit_code == 0, result.output
    first, second = json.loads(result.stdout)
    assert first["target"] == targets[0] and "cannot connect" in first["error"]
    assert second["target"] == targets[1] and second["error"] is None
    assert second["cipher_suite"] == "ECDHE-RSA-AES128-GCM-SHA256"


def test_every_target_unreachable_exits_1():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    result = CliRunner().invoke(app, ["threat", "scan", f"127.0.0.1:{closed}", "--timeout", "1"])
    assert result.exit_code == 1
    assert "cannot connect" in result.output


#: RFC 2409, Section 6.2: the 1024-bit MODP prime of Oakley group 2 (SSH's diffie-hellman-group1).
OAKLEY_GROUP_2 = int(
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DD"
    "EF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED"
    "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE65381FFFFFFFFFFFFFFFF",
    16,
)


def test_dhe_with_a_1024_bit_prime_is_classically_weak(openssl_server, tmp_path):
    import base64

    # PKCS #3 DHParameter, DER: SEQUENCE { INTEGER p (with a leading zero byte), INTEGER g = 2 }.
    prime = b"\x00" + OAKLEY_GROUP_2.to_bytes(128, "big")
    body = b"\x02\x81\x81" + prime + b"\x02\x01\x02"
    der = b"\x30\x81" + bytes([len(body)]) + body
    params = tmp_path / "dh1024.pem"
    params.write_text(
        "-----BEGIN DH PARAMETERS-----\n" + base64.encodebytes(der).decode() + "-----END DH PARAMETERS-----\n"
    )
    server = openssl_server("-tls1_2", "-cipher", "DHE-RSA-AES128-GCM-SHA256:@SECLEVEL=0", "-dhparam", str(params))
    scan = scan_tls("127.0.0.1", server.port, timeout_s=5.0)
    assert [(e.method, e.dh_bits) for e in scan.key_exchanges] == [("dhe", 1024)]
    risk = _risk(scan)
    assert [f.algorithm.id for f in risk.findings if f.use == "key-exchange"] == ["dh-1024"]
    assert risk.classically_weak and risk.deadline == 2014


@pytest.mark.parametrize("server_order", [True, False], ids=["serverpref", "client-order"])
def test_cipher_suites_per_version_and_server_preference(openssl_server, server_order):
    suites12 = "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256:AES128-SHA"
    extra = ("-serverpref",) if server_order else ()
    server = openssl_server("-cipher", f"{suites12}:@SECLEVEL=0", *extra)
    scan = scan_tls("127.0.0.1", server.port, timeout_s=5.0)
    # OpenSSL 3.0's default TLS 1.3 suites (s_server -ciphersuites default).
    assert set(scan.cipher_suites["TLSv1.3"]) == {
        "TLS_AES_256_GCM_SHA384",
        "TLS_CHACHA20_POLY1305_SHA256",
        "TLS_AES_128_GCM_SHA256",
    }
    assert set(scan.cipher_suites["TLSv1.2"]) == set(suites12.split(":"))
    if server_order:
        assert scan.cipher_suites["TLSv1.2"] == tuple(suites12.split(":"))
    assert scan.server_preference["TLSv1.2"] is server_order
