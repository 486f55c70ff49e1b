"""SSH key-exchange and host-key scanning against Debian's OpenSSH ``sshd`` started on 127.0.0.1.

OpenSSH 9.2 (Debian 12) offers sntrup761x25519-sha512 (hybrid Streamlined NTRU Prime + X25519,
default since OpenSSH 9.0) and classical exchanges; mlkem768x25519-sha256 needs OpenSSH 9.9, so it
is covered by the name table only. Expected verdicts follow from each server's KexAlgorithms line.
"""

from __future__ import annotations

import socket

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from qit4n.errors import ServiceError
from qit4n.threat import assess_asset, load_catalog
from qit4n.threat.ssh import SSH_KEX_CATALOG, scan_ssh

CATALOG = load_catalog()
GRI = CATALOG.timeline("gri-2023")


def _risk(scan):
    return assess_asset(scan.to_asset(secrecy_lifetime_years=10), CATALOG, GRI, [], now_year=2026)


def test_classical_sshd_with_rsa_and_ecdsa_host_keys(sshd):
    server = sshd(
        "curve25519-sha256,diffie-hellman-group14-sha256",
        {
            "rsa": rsa.generate_private_key(public_exponent=65537, key_size=3072),
            "ec": ec.generate_private_key(ec.SECP256R1()),
        },
    )
    scan = scan_ssh("127.0.0.1", server.port, timeout_s=5.0)
    assert scan.banner.startswith("SSH-2.0-OpenSSH_")
    assert scan.kex_algorithms == ("curve25519-sha256", "diffie-hellman-group14-sha256")
    keys = {(key.key_type, key.key_bits, key.catalog_algorithm) for key in scan.host_keys}
    assert keys == {("RSA", 3072, "rsa-3072"), ("ecdsa-sha2-nistp256", 256, "ecdsa-p256")}
    assert scan.verdict == "classical key exchange only"
    risk = _risk(scan)
    assert {f.algorithm.id for f in risk.findings if f.use == "key-exchange"} == {"x25519", "ffdhe-2048"}
    assert risk.hndl_probability > 0.0 and risk.signature_vulnerable


def test_sntrup_only_sshd_is_not_harvestable(sshd):
    server = sshd("sntrup761x25519-sha512@openssh.com", {"ed": ed25519.Ed25519PrivateKey.generate()})
    scan = scan_ssh("127.0.0.1", server.port, timeout_s=5.0)
    assert scan.kex_algorithms == ("sntrup761x25519-sha512@openssh.com",)
    assert scan.verdict == "post-quantum key exchange only"
    # No curve25519/ECDH exchange to borrow, so the host key is known by its algorithm only.
    assert [(k.algorithm, k.catalog_algorithm) for k in scan.host_keys] == [("ssh-ed25519", "ed25519")]
    risk = _risk(scan)
    assert risk.hndl_probability == 0.0 and risk.signature_vulnerable


def test_default_sshd_offers_hybrid_with_classical_fallback(sshd):
    server = sshd(None, {"ed": ed25519.Ed25519PrivateKey.generate()})
    scan = scan_ssh("127.0.0.1", server.port, timeout_s=5.0)
    assert scan.kex_algorithms[0].startswith("sntrup761x25519-sha512")
    assert "curve25519-sha256" in scan.kex_algorithms
    assert scan.verdict == "hybrid offered, classical accepted"
    assert [(k.key_type, k.key_bits) for k in scan.host_keys] == [("ssh-ed25519", 256)]
    assert _risk(scan).hndl_probability > 0.0


def test_every_ssh_kex_name_is_in_the_catalog():
    for name, catalog_id in SSH_KEX_CATALOG.items():
        assert CATALOG.find_algorithm(catalog_id) is not None, name
    assert CATALOG.algorithm("mlkem768x25519-sha256").id == "x25519mlkem768"


def test_tls_server_is_not_ssh(python_ssl_server):
    with pytest.raises(ServiceError, match="no SSH key-exchange offer"):
        scan_ssh("127.0.0.1", python_ssl_server.port, timeout_s=2.0)


def test_closed_port_is_a_service_error():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(ServiceError, match="cannot connect"):
        scan_ssh("127.0.0.1", port, timeout_s=1.0)
