"""STARTTLS: the plaintext exchange that upgrades a mail, directory or file-transfer connection to TLS.

Each member of :data:`STARTTLS` takes a connected socket and the server name, speaks the protocol
up to the server's go-ahead, and leaves the socket ready for a ClientHello; a server that does not
offer the upgrade raises :class:`~qit4n.errors.ServiceError` naming its reply. Bytes the server sends
after its go-ahead and before the ClientHello are refused: a server must not send any (the STARTTLS
command-injection flaw, CVE-2011-0411, lives in that gap).

References
----------
RFC 3207 (SMTP, Sections 4 and 5), RFC 9051 Section 6.2.1 (IMAP), RFC 2595 Section 4 (POP3 ``STLS``),
RFC 4217 Section 4 (FTP ``AUTH TLS``), RFC 4511 Section 4.14 (LDAP StartTLS extended operation).
"""

from __future__ import annotations

import socket
from collections.abc import Callable

from qit4n.errors import ServiceError
from qit4n.registry import Registry

__all__ = ["STARTTLS", "StartTls"]

#: ``upgrade(connected socket, server name)``: leaves the socket ready for the TLS ClientHello.
StartTls = Callable[[socket.socket, str], None]
#: The STARTTLS protocols ``threat scan --starttls`` knows, by name.
STARTTLS: Registry[StartTls] = Registry("starttls protocol", entry_point_group="qit4n.starttls")

_MAX_REPLY_BYTES = 65_536
#: The LDAP StartTLS extended operation's OID (RFC 4511, Section 4.14.1).
_LDAP_START_TLS = b"1.3.6.1.4.1.1466.20037"


class _Reader:
    """Reads CRLF lines (or BER elements) from a socket, keeping what follows in a buffer."""

    def __init__(self, connection: socket.socket) -> None:
        self._connection = connection
        self._buffer = b""
        self._total = 0

    def _fill(self) -> None:
        data = self._connection.recv(4096)
        if not data:
            raise ServiceError("the server closed the connection")
        self._total += len(data)
        if self._total > _MAX_REPLY_BYTES:
            raise ServiceError(f"more than {_MAX_REPLY_BYTES} bytes before TLS")
        self._buffer += data

    def line(self) -> str:
        while b"\n" not in self._buffer:
            self._fill()
        line, _, self._buffer = self._buffer.partition(b"\n")
        return line.rstrip(b"\r").decode("latin-1")

    def take(self, count: int) -> bytes:
        while len(self._buffer) < count:
            self._fill()
        data, self._buffer = self._buffer[:count], self._buffer[count:]
        return data

    def done(self) -> None:
        """The upgrade was granted: nothing may be waiting."""
        if self._buffer:
            raise ServiceError(f"the server sent {len(self._buffer)} bytes after its STARTTLS go-ahead")


def _reply(reader: _Reader) -> tuple[int, list[str]]:
    """A numeric multi-line reply (``250-...`` lines, then ``250 ...``) of SMTP or FTP."""
    lines = []
    while True:
        line = reader.line()
        lines.append(line)
        if len(line) < 3 or not line[:3].isdigit():
            raise ServiceError(f"not a numeric reply: {line[:80]!r}")
        if line[3:4] != "-":
            return int(line[:3]), lines


def _send(connection: socket.socket, line: str) -> None:
    connection.sendall(line.encode("ascii") + b"\r\n")


@STARTTLS.register("smtp")
def smtp(connection: socket.socket, server_name: str) -> None:
    """SMTP (RFC 3207): greeting 220, ``EHLO``, the ``STARTTLS`` keyword in the reply, ``STARTTLS`` -> 220."""
    reader = _Reader(connection)
    code, lines = _reply(reader)
    if code != 220:
        raise ServiceError(f"SMTP greeting: {lines[-1][:80]!r}")
    _send(connection, "EHLO qit4n-probe.invalid")
    code, lines = _reply(reader)
    keywords = {line[4:].split(" ")[0].upper() for line in lines}
    if code != 250 or "STARTTLS" not in keywords:
        raise ServiceError(f"SMTP server does not offer STARTTLS (EHLO reply {code}: {', '.join(sorted(keywords))})")
    _send(connection, "STARTTLS")
    code, lines = _reply(reader)
    if code != 220:
        raise ServiceError(f"SMTP STARTTLS refused: {lines[-1][:80]!r}")
    reader.done()


@STARTTLS.register("imap")
def imap(connection: socket.socket, server_name: str) -> None:
    """IMAP (RFC 9051, 6.2.1): ``* OK`` greeting, ``STARTTLS`` -> tagged ``OK``."""
    reader = _Reader(connection)
    greeting = reader.line()
    if not greeting.upper().startswith("* OK"):
        raise ServiceError(f"IMAP greeting: {greeting[:80]!r}")
    _send(connection, "q1 STARTTLS")
    while True:
        line = reader.line()
        if line.startswith("q1 "):
            break
    if not line.upper().startswith("Q1 OK"):
        raise ServiceError(f"IMAP STARTTLS refused: {line[:80]!r}")
    reader.done()


@STARTTLS.register("pop3")
def pop3(connection: socket.socket, server_name: str) -> None:
    """POP3 (RFC 2595, 4): ``+OK`` greeting, ``STLS`` -> ``+OK``."""
    reader = _Reader(connection)
    greeting = reader.line()
    if not greeting.startswith("+OK"):
        raise ServiceError(f"POP3 greeting: {greeting[:80]!r}")
    _send(connection, "STLS")
    answer = reader.line()
    if not answer.startswith("+OK"):
        raise ServiceError(f"POP3 STLS refused: {answer[:80]!r}")
    reader.done()


@STARTTLS.register("ftp")
def ftp(connection: socket.socket, server_name: str) -> None:
    """FTP (RFC 4217, 4): greeting 220, ``AUTH TLS`` -> 234."""
    reader = _Reader(connection)
    code, lines = _reply(reader)
    if code != 220:
        raise ServiceError(f"FTP greeting: {lines[-1][:80]!r}")
    _send(connection, "AUTH TLS")
    code, lines = _reply(reader)
    if code != 234:
        raise ServiceError(f"FTP AUTH TLS refused: {lines[-1][:80]!r}")
    reader.done()


def _ber(tag: int, content: bytes) -> bytes:
    """A BER element with a short or long definite length (X.690, 8.1.3)."""
    if len(content) < 128:
        return bytes([tag, len(content)]) + content
    size = len(content).to_bytes((len(content).bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(size)]) + size + content


def _read_ber(reader: _Reader) -> tuple[int, bytes]:
    tag, first = reader.take(2)
    length = first
    if first & 0x80:
        count = first & 0x7F
        if not 0 < count <= 4:
            raise ServiceError("LDAP reply: unsupported BER length")
        length = int.from_bytes(reader.take(count), "big")
    if length > _MAX_REPLY_BYTES:
        raise ServiceError("LDAP reply too long")
    return tag, reader.take(length)


def _children(content: bytes) -> list[tuple[int, bytes]]:
    """The elements of a constructed BER value's content (short and long lengths)."""
    elements, offset = [], 0
    while offset + 2 <= len(content):
        tag, length, offset = content[offset], content[offset + 1], offset + 2
        if length & 0x80:
            count = length & 0x7F
            length, offset = int.from_bytes(content[offset : offset + count], "big"), offset + count
        elements.append((tag, content[offset : offset + length]))
        offset += length
    return elements


@STARTTLS.register("ldap")
def ldap(connection: socket.socket, server_name: str) -> None:
    """LDAP (RFC 4511, 4.14): an ExtendedRequest for StartTLS; resultCode 0 (success) in the ExtendedResponse."""
    request = _ber(0x77, _ber(0x80, _LDAP_START_TLS))  # [APPLICATION 23] ExtendedRequest, [0] requestName
    connection.sendall(_ber(0x30, _ber(0x02, b"\x01") + request))  # LDAPMessage: messageID 1
    reader = _Reader(connection)
    tag, content = _read_ber(reader)
    parts = _children(content) if tag == 0x30 else []
    response = next((value for element_tag, value in parts if element_tag == 0x78), None)  # [APPLICATION 24]
    fields = _children(response) if response is not None else []
    if not fields or fields[0][0] != 0x0A:
        raise ServiceError("LDAP reply is not an ExtendedResponse")
    result_code = int.from_bytes(fields[0][1], "big")
    if result_code != 0:
        raise ServiceError(f"LDAP StartTLS refused (resultCode {result_code})")
    reader.done()
