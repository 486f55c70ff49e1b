"""TLS probing against real servers on 127.0.0.1 with known configurations, checked field by field."""

from __future__ import annotations

import socket
import threading

import pytest

from qit4n.errors import ParameterError, ServiceError
from qit4n.threat import assess_asset, load_catalog
from qit4n.threat.scan import DEFAULT_GROUPS, parse_target, scan_tls


def test_python_ssl_server_tls12_p256_rsa(python_ssl_server, pki):
    result = scan_tls("127.0.0.1", python_ssl_server.port, timeout_s=5.0)
    assert result.protocol_version == "TLSv1.2"
    assert result.cipher_suite == "ECDHE-RSA-AES128-GCM-SHA256"
    assert result.negotiated_group == "secp256r1"
    assert result.accepted_groups == ("secp256r1",)
    assert set(result.rejected_groups) == set(DEFAULT_GROUPS) - {"secp256r1"}
    assert result.unsupported_groups == ()
    assert result.accepted_versions == ("TLSv1.2",)
    assert "rsa_pss_rsae_sha256" in result.accepted_signature_algorithms
    assert "ecdsa_secp256r1_sha256" not in result.accepted_signature_algorithms
    (certificate,) = result.certificates
    assert certificate.subject == "CN=rsa.test"
    assert certificate.issuer == "CN=rsa.test"
    assert (certificate.key_type, certificate.key_bits, certificate.curve) == ("RSA", 2048, None)
    assert certificate.signature_algorithm == "rsa_with_sha256"
    assert certificate.not_after == pki["rsa"].certificate.not_valid_after_utc.isoformat()
    assert 29.0 < certificate.expires_in_days <= 30.0
    assert certificate.catalog_algorithm == "rsa-2048"


def test_pyopenssl_server_negotiates_x25519mlkem768(hybrid_server):
    result = scan_tls("127.0.0.1", hybrid_server.port, timeout_s=5.0)
    assert result.protocol_version == "TLSv1.3"
    assert result.negotiated_group == "X25519MLKEM768"
    assert result.accepted_groups == ("X25519MLKEM768", "x25519")
    assert "SecP256r1MLKEM768" in result.rejected_groups and "secp256r1" in result.rejected_groups
    assert result.accepted_versions == ("TLSv1.3",)
    assert result.accepted_signature_algorithms == ("ecdsa_secp256r1_sha256",)
    leaf, intermediate = result.certificates
    assert (leaf.subject, leaf.issuer) == ("CN=ec.test", "CN=Test Intermediate CA")
    assert (leaf.key_type, leaf.curve, leaf.catalog_algorithm) == ("EC", "secp256r1", "ecdsa-p256")
    assert leaf.signature_algorithm == "ecdsa_with_sha256"
    assert 89.0 < leaf.expires_in_days <= 90.0
    assert (intermediate.subject, intermediate.issuer) == ("CN=Test Intermediate CA", "CN=Test Root CA")
    assert 999.0 < intermediate.expires_in_days <= 1000.0


def test_pyopenssl_server_negotiates_secp256r1mlkem768(p256_hybrid_server):
    result = scan_tls("127.0.0.1", p256_hybrid_server.port, timeout_s=5.0)
    assert (result.protocol_version, result.negotiated_group) == ("TLSv1.3", "SecP256r1MLKEM768")
    assert result.accepted_groups == ("SecP256r1MLKEM768", "secp384r1")
    assert "X25519MLKEM768" in result.rejected_groups and "x25519" in result.rejected_groups
    assert result.to_asset().algorithms[0].name == "SecP256r1MLKEM768"


def test_hybrid_only_key_exchange_is_not_harvestable_but_ecdsa_chain_is_forgeable(hybrid_only_server):
    catalog = load_catalog()
    asset = scan_tls("127.0.0.1", hybrid_only_server.port).to_asset(secrecy_lifetime_years=10)
    risk = assess_asset(asset, catalog, catalog.timeline("gri-2023"), [], now_year=2026)
    assert risk.vulnerable
    assert not risk.key_exchange_vulnerable and risk.hndl_probability == 0.0
    assert risk.signature_vulnerable and risk.forgery_probability > 0.0


def test_pq_only_server_is_not_vulnerable(pq_server):
    result = scan_tls("127.0.0.1", pq_server.port)
    assert result.negotiated_group == "X25519MLKEM768"
    assert result.accepted_signature_algorithms == ("mldsa65",)
    assert result.certificates[0].key_type == "ML-DSA-65"
    assert result.certificates[0].catalog_algorithm == "ml-dsa-65"
    catalog = load_catalog()
    risk = assess_asset(
        result.to_asset(secrecy_lifetime_years=30), catalog, catalog.timeline("gri-2023"), [], now_year=2026
    )
    assert not risk.vulnerable and risk.exposure_probability == 0.0


def test_closed_port_raises_service_error():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(ServiceError, match="cannot connect"):
        scan_tls("127.0.0.1", port, timeout_s=1.0)


@pytest.mark.parametrize("target", ["localhost", "host:0", "host:70000", ":443", "host:http"])
def test_bad_targets_name_the_target(target):
    with pytest.raises(ParameterError, match="must be HOST:PORT"):
        parse_target(target)


def test_plain_tcp_server_is_not_tls():
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]

        def refuse() -> None:
            connection, _ = listener.accept()
            connection.sendall(b"HTTP/1.0 400 Bad Request\r\n\r\n")
            connection.close()

        thread = threading.Thread(target=refuse, daemon=True)
        thread.start()
        with pytest.raises(ServiceError, match="no TLS handshake"):
            scan_tls("127.0.0.1", port, timeout_s=2.0)
        thread.join(timeout=5)


def test_every_probed_group_is_in_the_catalog():
    catalog = load_catalog()
    for group in DEFAULT_GROUPS:
        assert catalog.find_algorithm(group) is not None, group
