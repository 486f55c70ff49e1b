"""Post-quantum mutual TLS of the KMS: contexts, key-exchange groups, revocation, rotation, sessions.

Why not Python's ``ssl``: it is built on the system OpenSSL (3.0 here), which has no ML-KEM. The
``cryptography`` wheel bundles a current OpenSSL (3.5 or later: X25519MLKEM768, RFC draft
draft-ietf-tls-ecdhe-mlkem), and pyOpenSSL drives it. pyOpenSSL has no public call to choose the
key-exchange groups, so :func:`build_context` calls ``SSL_CTX_set1_curves_list`` from the bindings
of ``cryptography`` (as :mod:`qit4n.threat.scan` does). Granian (rustls) was tried as a server: it
negotiated x25519 against a client offering X25519MLKEM768 and does not expose the client
certificate, so the KMS keeps uvicorn and httpx and terminates TLS itself over memory BIOs
(:mod:`qit4n.kms.tls_server`, :mod:`qit4n.kms.tls_client`), driven by :class:`TlsEngine`.

* Groups: ``tls_groups`` of a KME; the default offers ML-KEM hybrids only, so a classical client
  is refused unless a classical group (``x25519``) is configured. TLS 1.3 only.
* Revocation: with a CRL file (PEM or DER), the peer's certificate is checked against its issuer's
  CRL during the handshake (no CRL for that issuer: refused); open connections of a certificate
  that a replaced CRL lists are closed by the server (:mod:`qit4n.kms.tls_server`).
* Rotation: :class:`ContextSource` stats the certificate, key, CA and CRL files at each new
  connection and rebuilds the context when one was replaced; open connections keep their context.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from qit4n.errors import ServiceError

if TYPE_CHECKING:
    from cryptography import x509
    from OpenSSL import SSL

__all__ = [
    "CLASSICAL_TLS_GROUPS",
    "DEFAULT_TLS_GROUPS",
    "PQ_TLS_GROUPS",
    "ContextSource",
    "TlsEngine",
    "TlsFiles",
    "TlsSession",
    "build_context",
]

#: ML-KEM hybrid groups (OpenSSL names), strongest classical half last.
PQ_TLS_GROUPS = ("X25519MLKEM768", "SecP256r1MLKEM768", "SecP384r1MLKEM1024")
#: Classical ECDHE groups, accepted only where configured.
CLASSICAL_TLS_GROUPS = ("x25519", "secp256r1", "secp384r1", "x448")
#: What a KME and the KMS clients offer unless configured otherwise: hybrids only.
DEFAULT_TLS_GROUPS = ("X25519MLKEM768", "SecP256r1MLKEM768")
_BIO_CHUNK_BYTES = 1 << 16
_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TlsFiles:
    """The PEM files of one TLS end: its certificate chain and key, the CA bundle, an optional CRL."""

    cert: Path
    key: Path
    ca: Path
    crl: Path | None = None

    def signature(self) -> tuple[tuple[int, int, int], ...]:
        """(inode, mtime, size) of each file: changes when a file is replaced."""
        paths = [self.cert, self.key, self.ca, *([self.crl] if self.crl is not None else [])]
        stats = [os.stat(path) for path in paths]
        return tuple((stat.st_ino, stat.st_mtime_ns, stat.st_size) for stat in stats)


def _load_crls(path: Path) -> list[x509.CertificateRevocationList]:
    """Every CRL in ``path`` (PEM blocks, or one DER CRL)."""
    from cryptography import x509

    data = path.read_bytes()
    marker = b"-----BEGIN X509 CRL-----"
    if marker not in data:
        return [x509.load_der_x509_crl(data)]
    return [x509.load_pem_x509_crl(marker + block) for block in data.split(marker)[1:]]


def build_context(files: TlsFiles, groups: Sequence[str], *, server: bool) -> SSL.Context:
    """A TLS 1.3 context with mutual authentication against ``files.ca`` offering only ``groups``.

    Raises
    ------
    ServiceError
        A file cannot be read, the key does not match the certificate, or a group is unknown.
    """
    from cryptography.hazmat.bindings.openssl.binding import Binding
    from OpenSSL import SSL, crypto

    context = SSL.Context(SSL.TLS_METHOD)
    context.set_min_proto_version(SSL.TLS1_3_VERSION)
    try:
        context.use_certificate_chain_file(str(files.cert))
        context.use_privatekey_file(str(files.key))
        context.check_privatekey()
        context.load_verify_locations(str(files.ca))
        crls = _load_crls(files.crl) if files.crl is not None else []
    except (OSError, ValueError, SSL.Error) as error:
        raise ServiceError(f"TLS files {files}: {error}") from None
    if Binding.lib.SSL_CTX_set1_curves_list(context._context, ":".join(groups).encode()) != 1:
        raise ServiceError(f"tls_groups = {list(groups)}: this OpenSSL knows none or not all of them")
    if crls:
        store = context.get_cert_store()
        if store is None:  # pragma: no cover - OpenSSL always gives a context a store
            raise ServiceError("TLS context has no certificate store")
        for crl in crls:
            store.add_crl(crl)
        store.set_flags(crypto.X509StoreFlags.CRL_CHECK)  # the peer's own certificate, against its issuer's CRL
    if server:
        context.set_verify(SSL.VERIFY_PEER | SSL.VERIFY_FAIL_IF_NO_PEER_CERT)
        # No resumption: every connection presents (and has checked) a certificate, so a revoked
        # client cannot come back on a ticket.
        context.set_options(SSL.OP_NO_TICKET)
        context.set_session_cache_mode(SSL.SESS_CACHE_OFF)
    else:
        context.set_verify(SSL.VERIFY_PEER)
    return context


class ContextSource:
    """The current context of one TLS end, rebuilt when one of its files was replaced.

    A rebuild that fails (e.g. a certificate replaced before its key) keeps the previous context
    and is retried at the next connection. :attr:`generation` counts the rebuilds, so that open
    connections can check their peer against a replaced CRL (:meth:`is_revoked`).
    """

    def __init__(self, files: TlsFiles, groups: Sequence[str], *, server: bool) -> None:
        self.files = files
        self.groups = tuple(groups)
        self.server = server
        self.generation = 0
        self._lock = threading.Lock()
        self._signature = files.signature()
        self._context = build_context(files, self.groups, server=server)
        self._crls = _load_crls(files.crl) if files.crl is not None else []

    def current(self) -> SSL.Context:
        """The context for a new connection (rebuilt first if a file was replaced)."""
        try:
            signature = self.files.signature()
        except OSError:
            return self._context
        if signature != self._signature:
            with self._lock:
                if signature != self._signature:
                    try:
                        context = build_context(self.files, self.groups, server=self.server)
                        crls = _load_crls(self.files.crl) if self.files.crl is not None else []
                    except (ServiceError, OSError, ValueError) as error:
                        _log.warning("TLS files changed but cannot be loaded (keeping the previous ones): %s", error)
                        return self._context
                    self._signature, self._context, self._crls = signature, context, crls
                    self.generation += 1
        return self._context

    def is_revoked(self, certificate: x509.Certificate) -> bool:
        """Whether the current CRL of ``certificate``'s issuer lists it."""
        return any(
            crl.issuer == certificate.issuer
            and crl.get_revoked_certificate_by_serial_number(certificate.serial_number) is not None
            for crl in self._crls
        )


class TlsSession:
    """What one connection negotiated; ``get_extra_info("ssl_object")`` of the KMS's TLS streams."""

    def __init__(self, connection: SSL.Connection) -> None:
        self._connection = connection

    @property
    def group(self) -> str | None:
        """Negotiated key-exchange group, e.g. ``X25519MLKEM768``."""
        return self._connection.get_group_name()

    @property
    def version(self) -> str:
        """Protocol version, e.g. ``TLSv1.3``."""
        return self._connection.get_protocol_version_name()

    @property
    def cipher(self) -> str | None:
        """Cipher suite, e.g. ``TLS_AES_256_GCM_SHA384``."""
        return self._connection.get_cipher_name()

    @property
    def peer_certificate(self) -> x509.Certificate | None:
        """The peer's (verified) leaf certificate."""
        return self._connection.get_peer_certificate(as_cryptography=True)

    @property
    def peer_common_name(self) -> str | None:
        """Subject common name of the peer's certificate."""
        from cryptography.x509.oid import NameOID

        certificate = self.peer_certificate
        if certificate is None:
            return None
        names = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        return str(names[0].value) if names else None

    def selected_alpn_protocol(self) -> str | None:
        """No ALPN is negotiated (HTTP/1.1); httpcore asks."""
        return None


class TlsEngine:
    """One TLS connection over memory BIOs: feed it network bytes, take the bytes it wants sent.

    Parameters
    ----------
    context : OpenSSL.SSL.Context
    server_hostname : str or None
        Client side: the name or IP address the server's certificate must carry (checked during
        the handshake).
    """

    def __init__(self, context: SSL.Context, *, server: bool, server_hostname: str | None = None) -> None:
        from OpenSSL import SSL

        self.connection = SSL.Connection(context, None)
        self.session = TlsSession(self.connection)
        self.handshake_done = False
        self.closed = False
        if server:
            self.connection.set_accept_state()
        else:
            self.connection.set_connect_state()
            if server_hostname:
                _expect_peer_name(self.connection, server_hostname)

    def do_handshake(self) -> bool:
        """Advance the handshake; True once it is complete. Raises ``OpenSSL.SSL.Error`` when it fails."""
        from OpenSSL import SSL

        if not self.handshake_done:
            try:
                self.connection.do_handshake()
            except SSL.WantReadError:
                return False
            self.handshake_done = True
        return True

    def receive(self, data: bytes) -> None:
        """Give the engine bytes from the network."""
        if data:
            self.connection.bio_write(data)

    def read(self) -> bytes:
        """Decrypted application bytes available now (empty when none); sets :attr:`closed` on close_notify."""
        from OpenSSL import SSL

        chunks = []
        while True:
            try:
                chunks.append(self.connection.recv(_BIO_CHUNK_BYTES))
            except SSL.WantReadError:
                break
            except SSL.ZeroReturnError:
                self.closed = True
                break
        return b"".join(chunks)

    def send(self, data: bytes) -> None:
        """Encrypt application bytes (take them with :meth:`outgoing`)."""
        if data:
            self.connection.sendall(data)

    def outgoing(self) -> bytes:
        """Bytes the engine wants sent to the peer."""
        from OpenSSL import SSL

        chunks = []
        while True:
            try:
                chunks.append(self.connection.bio_read(_BIO_CHUNK_BYTES))
            except SSL.WantReadError:
                return b"".join(chunks)

    def close_notify(self) -> bytes:
        """The close_notify alert to send (empty if it cannot be made)."""
        from OpenSSL import SSL

        try:
            self.connection.shutdown()
        except SSL.Error:
            return b""
        return self.outgoing()


def _expect_peer_name(connection: SSL.Connection, name: str) -> None:
    """Make the handshake fail unless the server certificate carries ``name`` (IP address or DNS SAN)."""
    from cryptography.hazmat.bindings.openssl.binding import Binding

    lib, ffi = Binding.lib, Binding.ffi
    param = lib.SSL_get0_param(connection._ssl)
    try:
        packed = ipaddress.ip_address(name.strip("[]")).packed
    except ValueError:
        encoded = name.encode("idna")
        ok = lib.X509_VERIFY_PARAM_set1_host(param, encoded, len(encoded))
        connection.set_tlsext_host_name(encoded)
    else:
        ok = lib.X509_VERIFY_PARAM_set1_ip(param, ffi.from_buffer(packed), len(packed))
    if ok != 1:
        raise ServiceError(f"server name {name!r}: cannot be checked against the certificate")
