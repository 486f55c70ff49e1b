"""STARTTLS scans against loopback servers that speak each protocol's upgrade (RFC 3207 SMTP, RFC 9051 IMAP,
RFC 2595 POP3, RFC 4217 FTP, RFC 4511 LDAP) and then a real TLS handshake on the bundled OpenSSL."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable, Iterator

import pytest
from OpenSSL import SSL
from typer.testing import CliRunner

from qit4n.cli import app
from qit4n.errors import ParameterError, ServiceError
from qit4n.threat.scan import scan_tls

from .conftest import LoopbackServer

#: LDAPMessage {messageID 1, ExtendedResponse {resultCode 0 success, matchedDN "", diagnosticMessage ""}}.
_LDAP_SUCCESS = bytes.fromhex("300c02010178070a010004000400")
_LDAP_START_TLS_OID = b"1.3.6.1.4.1.1466.20037"


def _line(connection: socket.socket) -> bytes:
    data = b""
    while not data.endswith(b"\n"):
        byte = connection.recv(1)
        if not byte:
            raise ConnectionError("client closed")
        data += byte
    return data.rstrip(b"\r\n")


def _smtp(connection: socket.socket, *, offer: bool = True, extra: bytes = b"") -> bool:
    connection.sendall(b"220 mail.test ESMTP qit4n-test\r\n")
    if not _line(connection).upper().startswith(b"EHLO "):
        return False
    connection.sendall(
        b"250-mail.test\r\n250-PIPELINING\r\n" + (b"250-STARTTLS\r\n" if offer else b"") + b"250 8BITMIME\r\n"
    )
    if _line(connection).upper() != b"STARTTLS":
        return False
    connection.sendall(b"220 2.0.0 Ready to start TLS\r\n" + extra)
    return True


def _imap(connection: socket.socket) -> bool:
    connection.sendall(b"* OK [CAPABILITY IMAP4rev2 STARTTLS] ready\r\n")
    tag, _, command = _line(connection).partition(b" ")
    if command.upper() != b"STARTTLS":
        return False
    connection.sendall(b"* NOTE untagged lines come first\r\n" + tag + b" OK Begin TLS negotiation now\r\n")
    return True


def _pop3(connection: socket.socket) -> bool:
    connection.sendall(b"+OK POP3 ready\r\n")
    if _line(connection) != b"STLS":
        return False
    connection.sendall(b"+OK Begin TLS negotiation\r\n")
    return True


def _ftp(connection: socket.socket) -> bool:
    connection.sendall(b"220-qit4n test FTP\r\n220 ready\r\n")
    if _line(connection).upper() != b"AUTH TLS":
        return False
    connection.sendall(b"234 AUTH TLS successful\r\n")
    return True


def _ldap(connection: socket.socket) -> bool:
    request = connection.recv(4096)
    if _LDAP_START_TLS_OID not in request or request[5] != 0x77:
        return False
    connection.sendall(_LDAP_SUCCESS)
    return True


def _tls_server(pki, dialogue: Callable[[socket.socket], bool]) -> LoopbackServer:
    """``dialogue`` in clear, then a TLS 1.2/1.3 handshake (groups X25519MLKEM768, x25519, P-256; EC chain)."""
    from cryptography.hazmat.bindings.openssl.binding import Binding

    context = SSL.Context(SSL.TLS_METHOD)
    context.set_min_proto_version(SSL.TLS1_2_VERSION)
    context.use_certificate_chain_file(str(pki["chain"]))
    context.use_privatekey_file(str(pki["leaf"].key_path))
    assert Binding.lib.SSL_CTX_set1_curves_list(context._context, b"X25519MLKEM768:x25519:secp256r1") == 1

    def handshake(connection: socket.socket) -> None:
        if not dialogue(connection):
            return
        connection.settimeout(None)
        tls = SSL.Connection(context, connection)
        tls.set_accept_state()
        tls.do_handshake()
        tls.shutdown()

    return LoopbackServer(handshake)


@pytest.fixture
def starttls_server(pki) -> Iterator[Callable[..., LoopbackServer]]:
    started: list[LoopbackServer] = []

    def start(dialogue: Callable[[socket.socket], bool]) -> LoopbackServer:
        server = _tls_server(pki, dialogue)
        started.append(server)
        return server

    yield start
    for server in started:
        server.close()


@pytest.mark.parametrize(
    ("protocol", "dialogue"), [("smtp", _smtp), ("imap", _imap), ("pop3", _pop3), ("ftp", _ftp), ("ldap", _ldap)]
)
def test_starttls_then_tls_probe(starttls_server, protocol, dialogue):
    server = starttls_server(dialogue)
    result = scan_tls("127.0.0.1", server.port, starttls=protocol, groups=("X25519MLKEM768", "x25519", "secp256r1"))
    assert (result.protocol_version, result.negotiated_group) == ("TLSv1.3", "X25519MLKEM768")
    assert result.accepted_groups == ("X25519MLKEM768", "x25519", "secp256r1")
    assert result.accepted_versions == ("TLSv1.2", "TLSv1.3")
    assert result.verdict == "hybrid preferred, classical fallback accepted"
    assert result.certificates[0].subject == "CN=ec.test"


def test_plain_tls_probe_of_a_starttls_server_finds_no_handshake(starttls_server):
    server = starttls_server(_smtp)
    with pytest.raises(ServiceError, match="no TLS handshake"):
        scan_tls("127.0.0.1", server.port, timeout_s=2.0)


def test_smtp_server_without_starttls_is_one_clear_error(starttls_server):
    server = starttls_server(lambda connection: _smtp(connection, offer=False))
    with pytest.raises(ServiceError, match=r"STARTTLS \(smtp\) failed: SMTP server does not offer STARTTLS"):
        scan_tls("127.0.0.1", server.port, starttls="smtp")


def test_bytes_after_the_go_ahead_are_refused(starttls_server):
    """CVE-2011-0411: anything between the server's 220 and the ClientHello is refused, not read as TLS."""
    server = starttls_server(lambda connection: _smtp(connection, extra=b"250 injected\r\n"))
    with pytest.raises(ServiceError, match="sent 14 bytes after its STARTTLS go-ahead"):
        scan_tls("127.0.0.1", server.port, starttls="smtp")


def test_cli_starttls(starttls_server):
    server = starttls_server(_pop3)
    result = CliRunner().invoke(app, ["threat", "scan", f"127.0.0.1:{server.port}", "--starttls", "pop3", "--json"])
    assert result.exit_code == 0, result.output
    (scan,) = json.loads(result.stdout)
    assert scan["negotiated_group"] == "X25519MLKEM768" and scan["error"] is None
    bad = CliRunner().invoke(app, ["threat", "scan", "127.0.0.1:25", "--starttls", "xmpp"])
    assert isinstance(bad.exception, ParameterError)  # exit 2 through qit4n.cli.main
    assert str(bad.exception) == "--starttls = 'xmpp': must be one of smtp, imap, pop3, ftp, ldap"
