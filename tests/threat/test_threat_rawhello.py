"""Hand-built ClientHellos (SSL 3.0, X25519Kyber768Draft00) against real servers on 127.0.0.1.

No server here accepts either offer: Debian's OpenSSL 3.0 is built without SSL 3.0 and neither it nor
the OpenSSL bundled with ``cryptography`` knows X25519Kyber768Draft00 (0x6399). So the real-server
tests check refusals, and the same builders are checked on offers the servers do accept (a TLS 1.0
hello to a TLS 1.0 server, an X25519MLKEM768 share to a hybrid server). The accepting answers for
SSL 3.0 and 0x6399 are checked only on ServerHello bytes built here from RFC 6101 / RFC 8446.
"""

from __future__ import annotations

import os
import socket
import struct

from qit4n.threat import load_catalog
from qit4n.threat.rawhello import (
    GROUP_CODEPOINTS,
    client_hello_tls13,
    parse_reply,
    probe_group,
    probe_legacy_version,
)
from qit4n.threat.scan import KeyExchange, scan_tls


def _connect(port: int):
    return lambda: socket.create_connection(("127.0.0.1", port), timeout=5.0)


def test_sslv3_offer_is_refused_by_debian_openssl(openssl_server):
    server = openssl_server("-cipher", "ALL:@SECLEVEL=0")
    probe = probe_legacy_version(_connect(server.port))
    assert probe.offer == "SSLv3" and not probe.accepted
    assert probe.detail in ("alert handshake_failure (40)", "alert protocol_version (70)")


def test_the_same_legacy_hello_at_tls10_is_accepted_by_a_tls10_server(openssl_server):
    """Control for the SSL 3.0 builder: only the version field differs, and a TLS 1.0 server answers it."""
    server = openssl_server("-tls1", "-cipher", "ALL:@SECLEVEL=0")
    probe = probe_legacy_version(_connect(server.port), 0x0301)
    assert (probe.offer, probe.accepted, probe.detail) == ("TLSv1", True, "ServerHello TLSv1")
    assert probe.cipher_suite in ("0x0035", "0x002f", "0x0039", "0x0033", "0x000a", "0x0016")


def test_kyber_draft_is_not_accepted_by_a_hybrid_server_that_lacks_it(hybrid_server):
    """The bundled OpenSSL offers X25519MLKEM768 and x25519, not 0x6399: it asks for x25519 (HelloRetryRequest)."""
    probe = probe_group(_connect(hybrid_server.port), "X25519Kyber768Draft00", "ec.test")
    assert not probe.accepted
    assert probe.detail == "HelloRetryRequest TLSv1.3, group x25519"


def test_kyber_draft_on_a_tls12_only_server_is_a_protocol_version_alert(openssl_server):
    server = openssl_server("-tls1_2")
    probe = probe_group(_connect(server.port), "X25519Kyber768Draft00", None)
    assert not probe.accepted and probe.detail == "alert protocol_version (70)"


def test_the_same_tls13_builder_with_x25519mlkem768_is_accepted(hybrid_server):
    """Control for the TLS 1.3 builder: a well-formed ML-KEM-768 + X25519 share (0x11ec) is accepted."""
    probe = probe_group(_connect(hybrid_server.port), "X25519MLKEM768", "ec.test")
    assert (probe.accepted, probe.detail) == (True, "ServerHello TLSv1.3, group X25519MLKEM768")
    assert probe.cipher_suite in ("TLS_AES_256_GCM_SHA384", "TLS_AES_128_GCM_SHA256", "TLS_CHACHA20_POLY1305_SHA256")


def test_kyber_draft_hello_layout():
    """draft-tls-westerbaan-xyber768d00-02: group 0x6399 first, one key share of 32 + 1184 bytes."""
    hello = client_hello_tls13("X25519Kyber768Draft00", "a.test")
    assert hello[:3] == bytes.fromhex("160301") and hello[5] == 1
    share = struct.pack("!HH", 0x6399, 1216)
    assert share in hello and hello.index(share) + 4 + 1216 == len(hello)
    assert struct.pack("!HHH", 10, 8, 6) + struct.pack("!HHH", 0x6399, 0x001D, 0x0017) in hello
    assert b"a.test" in hello and b"127.0.0.1" not in client_hello_tls13("x25519", "127.0.0.1")


def _server_hello(version: int, suite: int, extensions: bytes, random: bytes | None = None) -> bytes:
    """A ServerHello record laid out as RFC 6101 5.6.1.3 / RFC 8446 4.1.3 give it."""
    body = struct.pack("!H", version) + (random or os.urandom(32)) + b"\x00" + struct.pack("!HB", suite, 0)
    if extensions:
        body += struct.pack("!H", len(extensions)) + extensions
    message = bytes([2]) + len(body).to_bytes(3, "big") + body
    return struct.pack("!BHH", 22, min(version, 0x0303), len(message)) + message


def test_accepting_answers_parse_as_accepted():
    sslv3 = parse_reply(_server_hello(0x0300, 0x000A, b""))
    assert sslv3 is not None and (sslv3.kind, sslv3.version, sslv3.cipher_suite) == ("server-hello", 0x0300, 0x000A)
    server_share = struct.pack("!HH", 0x6399, 1120) + os.urandom(1120)
    extensions = struct.pack("!HHH", 43, 2, 0x0304) + struct.pack("!HH", 51, len(server_share)) + server_share
    kyber = parse_reply(_server_hello(0x0303, 0x1301, extensions))
    assert kyber is not None and kyber.describe() == "ServerHello TLSv1.3, group X25519Kyber768Draft00"
    retry_random = bytes.fromhex("cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c")
    retry = struct.pack("!HHH", 43, 2, 0x0304) + struct.pack("!HHH", 51, 2, GROUP_CODEPOINTS["x25519"])
    reply = parse_reply(_server_hello(0x0303, 0x1301, retry, retry_random))
    assert reply is not None and reply.describe() == "HelloRetryRequest TLSv1.3, group x25519"
    # A record cut short waits for more bytes; plain text is not TLS.
    assert parse_reply(_server_hello(0x0300, 0x000A, b"")[:20]) is None
    plain = parse_reply(b"HTTP/1.1 400 Bad Request\r\n")
    assert plain is not None and plain.kind == "not-tls"


def test_kyber_draft_is_a_post_quantum_hybrid_in_the_catalog():
    algorithm = load_catalog().algorithm("X25519Kyber768Draft00")
    assert (algorithm.id, algorithm.quantum_vulnerable, algorithm.nist_category) == ("x25519kyber768draft00", False, 3)
    assert KeyExchange("TLSv1.3", "TLS_AES_128_GCM_SHA256", "tls13", "X25519Kyber768Draft00", None).post_quantum


def test_scan_reports_both_raw_probes(hybrid_server):
    result = scan_tls("127.0.0.1", hybrid_server.port)
    assert [(p.offer, p.accepted) for p in result.raw_probes] == [("SSLv3", False), ("X25519Kyber768Draft00", False)]
    assert "SSLv3" not in result.accepted_versions and "X25519Kyber768Draft00" not in result.accepted_groups
    assert result.to_dict()["raw_probes"][1]["detail"] == "HelloRetryRequest TLSv1.3, group x25519"
