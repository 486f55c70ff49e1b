"""Offers the bundled OpenSSL cannot make, sent as hand-built ClientHellos: SSL 3.0 and X25519Kyber768Draft00.

The probe writes the ClientHello bytes itself, reads the server's first answer (a ServerHello, a
HelloRetryRequest, an alert, or nothing) and closes: it never completes a handshake, so the key
share only has to be well formed, not used.

* SSL 3.0: a ClientHello with ``client_version`` 3.0 and SSL 3.0 cipher suites, no extensions (RFC
  6101, Section 5.6.1.2 and Appendix A.6). Accepted only if the ServerHello says 3.0.
* A TLS 1.3 group by codepoint: ``supported_versions`` = TLS 1.3, the group first in
  ``supported_groups`` (then x25519 and secp256r1, so a server without it can ask for another with a
  HelloRetryRequest) and one ``key_share`` entry for it (RFC 8446, Sections 4.1.2, 4.2.7, 4.2.8).
  Accepted only if the ServerHello (not a HelloRetryRequest) selects TLS 1.3 and carries a key share
  of that group. X25519Kyber768Draft00 is codepoint 0x6399, its client share the X25519 public key
  then the Kyber768 public key, 32 + 1184 bytes (draft-tls-westerbaan-xyber768d00-02, Section 3); a
  Kyber768 round-3 public key has the ML-KEM-768 encapsulation-key layout, so an ML-KEM-768 key
  from ``cryptography`` fills it.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import struct
from collections.abc import Callable
from dataclasses import dataclass

__all__ = [
    "GROUP_CODEPOINTS",
    "HelloReply",
    "RawProbe",
    "client_hello_legacy",
    "client_hello_tls13",
    "key_share",
    "parse_reply",
    "probe_group",
    "probe_legacy_version",
]

#: TLS NamedGroup codepoints (IANA TLS Supported Groups registry) of the groups the raw probe can offer.
GROUP_CODEPOINTS = {
    "X25519Kyber768Draft00": 0x6399,
    "X25519MLKEM768": 0x11EC,
    "x25519": 0x001D,
    "secp256r1": 0x0017,
}
_NAMES = {code: name for name, code in GROUP_CODEPOINTS.items()}
#: SSL 3.0 suites (RFC 6101 Appendix A.6, and RFC 3268 AES) plus TLS_EMPTY_RENEGOTIATION_INFO_SCSV.
_SSLV3_SUITES = (0x0035, 0x002F, 0x0039, 0x0033, 0x000A, 0x0016, 0x0013, 0x0005, 0x0004, 0x0009, 0x0015, 0x00FF)
_TLS13_SUITES = {
    0x1301: "TLS_AES_128_GCM_SHA256",
    0x1302: "TLS_AES_256_GCM_SHA384",
    0x1303: "TLS_CHACHA20_POLY1305_SHA256",
}
#: ecdsa P-256/384/521, rsa_pss_rsae 256/384/512, rsa_pkcs1 256/384/512, ed25519, ed448, ML-DSA-44/65/87.
_SIGNATURE_SCHEMES = (
    0x0403,
    0x0503,
    0x0603,
    0x0804,
    0x0805,
    0x0806,
    0x0401,
    0x0501,
    0x0601,
    0x0807,
    0x0808,
    0x0904,
    0x0905,
    0x0906,
)
#: The random of a HelloRetryRequest: SHA-256 of "HelloRetryRequest" (RFC 8446, Section 4.1.3).
_HRR_RANDOM = bytes.fromhex("cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c")
_ALERTS = {
    10: "unexpected_message",
    40: "handshake_failure",
    47: "illegal_parameter",
    50: "decode_error",
    70: "protocol_version",
    71: "insufficient_security",
    80: "internal_error",
    109: "missing_extension",
    112: "unrecognized_name",
}
_VERSIONS = {0x0300: "SSLv3", 0x0301: "TLSv1", 0x0302: "TLSv1.1", 0x0303: "TLSv1.2", 0x0304: "TLSv1.3"}
_HANDSHAKE, _ALERT, _SERVER_HELLO = 22, 21, 2
_MAX_REPLY_BYTES = 1 << 18


def _vector(data: bytes, length_bytes: int) -> bytes:
    return len(data).to_bytes(length_bytes, "big") + data


def _extension(kind: int, body: bytes) -> bytes:
    return struct.pack("!H", kind) + _vector(body, 2)


def _record(body: bytes, record_version: int) -> bytes:
    handshake = bytes([1]) + _vector(body, 3)  # msg_type client_hello
    return struct.pack("!BH", _HANDSHAKE, record_version) + _vector(handshake, 2)


def client_hello_legacy(version: int = 0x0300) -> bytes:
    """A ClientHello record of ``version`` (0x0300 SSL 3.0 by default) with the SSL 3.0 suites, no extensions.

    >>> hello = client_hello_legacy()
    >>> hello[:3].hex(), hello[5], hello[9:11].hex()
    ('160300', 1, '0300')
    """
    suites = b"".join(struct.pack("!H", suite) for suite in _SSLV3_SUITES)
    body = struct.pack("!H", version) + os.urandom(32) + _vector(b"", 1) + _vector(suites, 2) + _vector(b"\x00", 1)
    return _record(body, version)


def key_share(group: str) -> bytes:
    """A well-formed client key share for ``group`` (fresh keys, discarded after the probe)."""
    from cryptography.hazmat.primitives.asymmetric import ec, mlkem, x25519

    def x25519_public() -> bytes:
        return x25519.X25519PrivateKey.generate().public_key().public_bytes_raw()

    def mlkem768_public() -> bytes:
        return mlkem.MLKEM768PrivateKey.generate().public_key().public_bytes_raw()

    if group == "X25519Kyber768Draft00":
        return x25519_public() + mlkem768_public()
    if group == "X25519MLKEM768":
        return mlkem768_public() + x25519_public()  # draft-ietf-tls-ecdhe-mlkem: ML-KEM share first
    if group == "x25519":
        return x25519_public()
    if group == "secp256r1":
        from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

        key = ec.generate_private_key(ec.SECP256R1()).public_key()
        return key.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    raise ValueError(f"group = {group!r}: must be one of {', '.join(GROUP_CODEPOINTS)}")


def _is_address(name: str) -> bool:
    """SNI carries host names only, never address literals (RFC 6066, Section 3)."""
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def client_hello_tls13(group: str, server_name: str | None) -> bytes:
    """A TLS 1.3 ClientHello record offering ``group`` first, with one key share for it."""
    codepoint = GROUP_CODEPOINTS[group]
    groups = [codepoint, *(code for code in (0x001D, 0x0017) if code != codepoint)]
    share = key_share(group)
    extensions = [
        _extension(10, _vector(b"".join(struct.pack("!H", code) for code in groups), 2)),
        _extension(13, _vector(b"".join(struct.pack("!H", scheme) for scheme in _SIGNATURE_SCHEMES), 2)),
        _extension(43, _vector(struct.pack("!H", 0x0304), 1)),
        _extension(45, _vector(b"\x01", 1)),  # psk_dhe_ke
        _extension(51, _vector(struct.pack("!H", codepoint) + _vector(share, 2), 2)),
    ]
    if server_name and not _is_address(server_name):
        name = server_name.encode("idna")
        extensions.insert(0, _extension(0, _vector(b"\x00" + _vector(name, 2), 2)))
    suites = b"".join(struct.pack("!H", suite) for suite in _TLS13_SUITES)
    body = (
        struct.pack("!H", 0x0303)
        + os.urandom(32)
        + _vector(os.urandom(32), 1)
        + _vector(suites, 2)
        + _vector(b"\x00", 1)
        + _vector(b"".join(extensions), 2)
    )
    return _record(body, 0x0301)


@dataclass(frozen=True)
class HelloReply:
    """The server's first answer: ``server-hello``, ``hello-retry-request``, ``alert``, ``closed`` or ``not-tls``."""

    kind: str
    version: int | None = None
    cipher_suite: int | None = None
    group: int | None = None
    alert: int | None = None

    def describe(self) -> str:
        """E.g. ``alert protocol_version (70)`` or ``ServerHello TLSv1.3, group 0x11ec``."""
        if self.kind == "alert":
            return f"alert {_ALERTS.get(self.alert or 0, 'unknown')} ({self.alert})"
        if self.kind in ("server-hello", "hello-retry-request"):
            version = _VERSIONS.get(self.version or 0, f"0x{self.version or 0:04x}")
            group = "" if self.group is None else f", group {_NAMES.get(self.group, f'0x{self.group:04x}')}"
            what = "ServerHello" if self.kind == "server-hello" else "HelloRetryRequest"
            return f"{what} {version}{group}"
        return "connection closed without an answer" if self.kind == "closed" else "not a TLS answer"


def _server_hello(body: bytes) -> HelloReply:
    """Parse a ServerHello body (RFC 5246 7.4.1.3, RFC 8446 4.1.3)."""
    legacy_version = int.from_bytes(body[0:2], "big")
    random = body[2:34]
    offset = 35 + body[34]
    suite = int.from_bytes(body[offset : offset + 2], "big")
    offset += 3
    version, group = legacy_version, None
    if offset + 2 <= len(body):
        end = offset + 2 + int.from_bytes(body[offset : offset + 2], "big")
        offset += 2
        while offset + 4 <= end:
            kind, length = struct.unpack("!HH", body[offset : offset + 4])
            data = body[offset + 4 : offset + 4 + length]
            if kind == 43 and len(data) >= 2:
                version = int.from_bytes(data[:2], "big")
            elif kind == 51 and len(data) >= 2:
                group = int.from_bytes(data[:2], "big")
            offset += 4 + length
    kind = "hello-retry-request" if random == _HRR_RANDOM else "server-hello"
    return HelloReply(kind, version=version, cipher_suite=suite, group=group)


def parse_reply(data: bytes) -> HelloReply | None:
    """The first answer in the server's bytes so far, or ``None`` if more bytes are needed.

    >>> parse_reply(bytes([21, 3, 0, 0, 2, 2, 70])).describe()
    'alert protocol_version (70)'
    """
    handshake = b""
    offset = 0
    while offset + 5 <= len(data):
        content_type = data[offset]
        length = int.from_bytes(data[offset + 3 : offset + 5], "big")
        if content_type not in (_HANDSHAKE, _ALERT, 20) or length > (1 << 14) + 2048:
            return HelloReply("not-tls")
        if offset + 5 + length > len(data):
            return None
        fragment = data[offset + 5 : offset + 5 + length]
        offset += 5 + length
        if content_type == _ALERT and len(fragment) >= 2:
            return HelloReply("alert", alert=fragment[1])
        if content_type == _HANDSHAKE:
            handshake += fragment
            if len(handshake) >= 4:
                size = int.from_bytes(handshake[1:4], "big")
                if handshake[0] != _SERVER_HELLO:
                    return HelloReply("not-tls")
                if len(handshake) >= 4 + size:
                    return _server_hello(handshake[4 : 4 + size])
    if offset < len(data) and data[offset] not in (_HANDSHAKE, _ALERT, 20):
        return HelloReply("not-tls")
    return None


def _exchange(connect: Callable[[], socket.socket], hello: bytes) -> HelloReply:
    """Send ``hello`` on a fresh connection and read the first answer."""
    with connect() as connection:
        received = b""
        try:
            connection.sendall(hello)
            while len(received) < _MAX_REPLY_BYTES:
                data = connection.recv(65536)
                if not data:
                    return HelloReply("closed")
                received += data
                reply = parse_reply(received)
                if reply is not None:
                    return reply
        except OSError:
            return HelloReply("closed")
    return HelloReply("not-tls")


@dataclass(frozen=True)
class RawProbe:
    """One hand-built offer: what was offered, whether the server accepted it, and its answer."""

    offer: str
    accepted: bool
    detail: str
    cipher_suite: str | None = None


def probe_legacy_version(connect: Callable[[], socket.socket], version: int = 0x0300) -> RawProbe:
    """Offer ``version`` only (SSL 3.0 by default), no extensions; accepted if the ServerHello has that version."""
    reply = _exchange(connect, client_hello_legacy(version))
    accepted = reply.kind == "server-hello" and reply.version == version
    suite = f"0x{reply.cipher_suite:04x}" if accepted and reply.cipher_suite is not None else None
    return RawProbe(_VERSIONS.get(version, f"0x{version:04x}"), accepted, reply.describe(), suite)


def probe_group(connect: Callable[[], socket.socket], group: str, server_name: str | None) -> RawProbe:
    """Offer TLS 1.3 with ``group``'s key share; accepted if the ServerHello carries that group's share."""
    reply = _exchange(connect, client_hello_tls13(group, server_name))
    accepted = reply.kind == "server-hello" and reply.version == 0x0304 and reply.group == GROUP_CODEPOINTS[group]
    suite = _TLS13_SUITES.get(reply.cipher_suite or 0) if accepted else None
    return RawProbe(group, accepted, reply.describe(), suite)
