"""Does a presented TLS chain validate to a trust store, for the name the client asked for?

The check is OpenSSL's own path building and verification (RFC 5280 Section 6 as OpenSSL implements
it, what ``curl`` and most TLS clients run), done during the probe's first handshake: the client
context loads the trust store, asks for the peer's chain with ``SSL_VERIFY_PEER``, sets the expected
name with ``X509_VERIFY_PARAM_set1_host`` (or ``set1_ip`` for an address literal; RFC 6125 matching,
no partial wildcards) and records every verification error instead of aborting, so an expired,
untrusted or misnamed chain is still scanned. The verified path runs from the leaf to the trust
anchor, which usually comes from the store, not from the server. Every key on the path signs
something a client relies on (the handshake, a certificate below it), so a quantum-vulnerable key
anywhere on it is named in the verdict.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from qit4n.errors import ParameterError
from qit4n.threat.certificates import CertificateInfo, certificate_info

__all__ = [
    "DEFAULT_TRUST_STORE",
    "PathCertificate",
    "TrustPath",
    "TrustStore",
    "check_server_name",
    "expect_name",
    "trust_path",
]

#: Debian's system trust store (package ``ca-certificates``): one PEM file per anchor, hashed links.
DEFAULT_TRUST_STORE = Path("/etc/ssl/certs")
_HASHED_NAME = re.compile(r"[0-9a-f]{8}\.r?\d+")
_NAME_ERRORS = frozenset({62, 63, 64})  # X509_V_ERR_HOSTNAME_MISMATCH, _EMAIL_MISMATCH, _IP_ADDRESS_MISMATCH


@dataclass(frozen=True)
class TrustStore:
    """A trust store: a PEM file of anchors, or a folder (``c_rehash`` links, or PEM files read one by one)."""

    path: Path
    files: tuple[Path, ...] = field(default=())
    hashed_folder: bool = False

    @classmethod
    def open(cls, path: str | Path) -> TrustStore:
        """Check ``path`` holds certificates; :class:`ParameterError` naming it otherwise.

        An empty folder is a valid store that trusts nothing.
        """
        from cryptography import x509

        store = Path(path)
        if store.is_file():
            if not _pem_certificates(store, x509):
                raise ParameterError(f"--trust-store = {store}: no PEM certificate in the file")
            return cls(store, (store,))
        if not store.is_dir():
            raise ParameterError(f"--trust-store = {store}: no such file or folder")
        entries = sorted(store.iterdir())
        if any(_HASHED_NAME.fullmatch(entry.name) for entry in entries):
            return cls(store, (), hashed_folder=True)
        return cls(store, tuple(entry for entry in entries if entry.is_file() and _pem_certificates(entry, x509)))

    def configure(self, context) -> list[tuple[int, int]]:
        """Load the anchors into a pyOpenSSL client ``context`` and verify the peer without aborting.

        Returns the list that collects ``(depth, X509 error code)`` of every failed check.
        """
        from OpenSSL import SSL

        if self.hashed_folder:
            context.load_verify_locations(None, str(self.path))
        for file in self.files:
            context.load_verify_locations(str(file))
        errors: list[tuple[int, int]] = []

        def record(connection, certificate, error_code: int, depth: int, ok: int) -> bool:
            if error_code:
                errors.append((depth, error_code))
            return True

        context.set_verify(SSL.VERIFY_PEER, record)
        return errors


def _pem_certificates(path: Path, x509) -> bool:
    try:
        return bool(x509.load_pem_x509_certificates(path.read_bytes()))
    except (OSError, ValueError):
        return False


def check_server_name(name: str) -> str:
    """``name`` if it is a DNS name (IDNA, at most 253 characters) or an IP address; :class:`ParameterError` otherwise.

    >>> check_server_name("www.example.test"), check_server_name("127.0.0.1")
    ('www.example.test', '127.0.0.1')
    """
    try:
        ipaddress.ip_address(name)
        return name
    except ValueError:
        pass
    try:
        encoded = name.encode("idna")
    except UnicodeError:
        encoded = b""
    if not 0 < len(encoded) <= 253 or not re.fullmatch(rb"[A-Za-z0-9*]([A-Za-z0-9.-]*[A-Za-z0-9])?", encoded):
        raise ParameterError(f"--servername = {name!r}: must be a DNS name (at most 253 characters) or an IP address")
    return name


def expect_name(connection, server_name: str) -> None:
    """Make OpenSSL check the peer certificate against ``server_name`` (a DNS name or an IP literal)."""
    from cryptography.hazmat.bindings.openssl.binding import Binding

    param = Binding.lib.SSL_get0_param(connection._ssl)
    try:
        packed = ipaddress.ip_address(server_name).packed
    except ValueError:
        Binding.lib.X509_VERIFY_PARAM_set_hostflags(param, Binding.lib.X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS)
        name = server_name.encode("idna")
        Binding.lib.X509_VERIFY_PARAM_set1_host(param, name, len(name))
        return
    Binding.lib.X509_VERIFY_PARAM_set1_ip(param, packed, len(packed))


def _error_text(error_code: int) -> str:
    from cryptography.hazmat.bindings.openssl.binding import Binding

    return Binding.ffi.string(Binding.lib.X509_verify_cert_error_string(error_code)).decode()


@dataclass(frozen=True)
class PathCertificate:
    """One certificate of the verified path, leaf first; ``from_trust_store`` for an anchor the server did not send."""

    certificate: CertificateInfo
    from_trust_store: bool
    quantum_vulnerable: bool | None


@dataclass(frozen=True)
class TrustPath:
    """The outcome of validating a presented chain against a trust store for one server name."""

    trust_store: str
    server_name: str
    chain_trusted: bool
    hostname_matches: bool
    errors: tuple[str, ...]
    path: tuple[PathCertificate, ...]

    @property
    def valid(self) -> bool:
        """Trusted chain and matching name: what a browser or ``curl`` accepts."""
        return self.chain_trusted and self.hostname_matches

    @property
    def quantum_vulnerable_keys(self) -> tuple[str, ...]:
        """``catalog id (subject)`` of every key on the path that Shor's algorithm breaks."""
        return tuple(
            f"{entry.certificate.catalog_algorithm} ({entry.certificate.subject})"
            for entry in self.path
            if entry.quantum_vulnerable
        )

    @property
    def verdict(self) -> str:
        """E.g. ``trusted; hostname matches; quantum-vulnerable keys in path: ecdsa-p256 (CN=a), ...``."""
        chain_errors = [error for error in self.errors if not error.startswith("hostname")]
        trust = "trusted" if self.chain_trusted else f"not trusted: {', '.join(chain_errors)}"
        name = "hostname matches" if self.hostname_matches else f"hostname does not match {self.server_name}"
        vulnerable = self.quantum_vulnerable_keys
        keys = (
            f"quantum-vulnerable keys in path: {', '.join(vulnerable)}"
            if vulnerable
            else "no quantum-vulnerable key in path"
        )
        return f"{trust}; {name}; {keys}"

    def to_dict(self) -> dict[str, Any]:
        """JSON-compatible form with ``valid``, ``quantum_vulnerable_keys`` and ``verdict``."""
        return {
            **asdict(self),
            "valid": self.valid,
            "quantum_vulnerable_keys": list(self.quantum_vulnerable_keys),
            "verdict": self.verdict,
        }


def trust_path(
    store: TrustStore,
    server_name: str,
    errors: list[tuple[int, int]],
    verified: list | None,
    presented: list,
    now: datetime,
) -> TrustPath:
    """Assemble the outcome of one verifying handshake.

    ``verified`` is OpenSSL's verified chain (leaf to anchor, ``cryptography`` certificates) when it
    built one, ``presented`` the server's chain; ``errors`` the ``(depth, code)`` pairs recorded.
    """
    from cryptography.hazmat.primitives.serialization import Encoding

    from qit4n.threat.catalog import load_catalog

    catalog = load_catalog()
    sent = {certificate.public_bytes(Encoding.DER) for certificate in presented}
    path = []
    for certificate in verified or presented:
        info = certificate_info(certificate, now)
        algorithm = catalog.find_algorithm(info.catalog_algorithm) if info.catalog_algorithm else None
        path.append(
            PathCertificate(
                certificate=info,
                from_trust_store=certificate.public_bytes(Encoding.DER) not in sent,
                quantum_vulnerable=None if algorithm is None else algorithm.quantum_vulnerable,
            )
        )
    seen: list[tuple[int, int]] = []
    for error in errors:
        if error not in seen:
            seen.append(error)
    messages = tuple(
        f"hostname: {_error_text(code)}" if code in _NAME_ERRORS else f"{_error_text(code)} (depth {depth})"
        for depth, code in seen
    )
    return TrustPath(
        trust_store=str(store.path),
        server_name=server_name,
        chain_trusted=not any(code not in _NAME_ERRORS for _, code in seen),
        hostname_matches=not any(code in _NAME_ERRORS for _, code in seen),
        errors=messages,
        path=tuple(path),
    )
