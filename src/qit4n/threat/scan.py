"""Probe a TLS server: version, cipher suite, key-exchange group (ML-KEM hybrids included), certificates.

The probe uses pyOpenSSL over the OpenSSL that the ``cryptography`` wheel bundles (3.5 or later
negotiates X25519MLKEM768 and SecP256r1MLKEM768), not the system OpenSSL of Python's ``ssl``.
Groups and signature algorithms are offered one at a time, each on a fresh connection, to learn
which the server accepts. pyOpenSSL has no public call to set groups, so the probe calls
``SSL_CTX_set1_curves_list`` (``set1_groups_list`` under its older name) from the bindings of
``cryptography`` on the context pyOpenSSL wraps. Certificates are not verified: the probe
reports what the server presents, it does not trust it.
"""

from __future__ import annotations

import contextlib
import socket
import struct
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from qit4n.errors import ParameterError, ServiceError
from qit4n.threat.inventory import AlgorithmUse, Asset
from qit4n.threat.keys import describe_key

__all__ = ["DEFAULT_GROUPS", "DEFAULT_SIGNATURE_ALGORITHMS", "CertificateInfo", "TlsScan", "parse_target", "scan_tls"]

#: Key-exchange groups offered one at a time (OpenSSL names).
DEFAULT_GROUPS = (
    "X25519MLKEM768",
    "SecP256r1MLKEM768",
    "SecP384r1MLKEM1024",
    "x25519",
    "secp256r1",
    "secp384r1",
    "x448",
    "ffdhe2048",
)
#: Signature algorithms offered one at a time (TLS 1.3 SignatureScheme names).
DEFAULT_SIGNATURE_ALGORITHMS = (
    "ecdsa_secp256r1_sha256",
    "ecdsa_secp384r1_sha384",
    "rsa_pss_rsae_sha256",
    "rsa_pkcs1_sha256",
    "ed25519",
    "mldsa65",
)
_VERSIONS = ("TLSv1.2", "TLSv1.3")


@dataclass(frozen=True)
class CertificateInfo:
    """One certificate of the presented chain, leaf first."""

    subject: str
    issuer: str
    key_type: str
    key_bits: int | None
    curve: str | None
    signature_algorithm: str
    not_after: str
    expires_in_days: float
    catalog_algorithm: str | None


@dataclass(frozen=True)
class TlsScan:
    """What a TLS server negotiated and accepted."""

    host: str
    port: int
    protocol_version: str
    cipher_suite: str
    negotiated_group: str | None
    accepted_groups: tuple[str, ...]
    rejected_groups: tuple[str, ...]
    unsupported_groups: tuple[str, ...]
    accepted_versions: tuple[str, ...]
    accepted_signature_algorithms: tuple[str, ...]
    certificates: tuple[CertificateInfo, ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON-compatible form."""
        return asdict(self)

    def to_asset(self, **fields: Any) -> Asset:
        """An inventory asset for this endpoint: its key exchange, certificate keys and cipher."""
        uses = []
        if self.negotiated_group is not None:
            uses.append(AlgorithmUse(name=self.negotiated_group, use="key-exchange", detail="negotiated group"))
        elif "DHE" not in self.cipher_suite and self.certificates and self.certificates[0].catalog_algorithm:
            uses.append(
                AlgorithmUse(
                    name=self.certificates[0].catalog_algorithm, use="key-exchange", detail="RSA key transport"
                )
            )
        for certificate in self.certificates:
            if certificate.catalog_algorithm is not None:
                uses.append(
                    AlgorithmUse(
                        name=certificate.catalog_algorithm, use="signature", detail=f"certificate {certificate.subject}"
                    )
                )
        symmetric = _cipher_algorithm(self.cipher_suite)
        if symmetric is not None:
            uses.append(AlgorithmUse(name=symmetric, use="symmetric", detail=self.cipher_suite))
        return Asset.model_validate(
            {"name": f"{self.host}:{self.port}", "category": "tls-service", "algorithms": uses, **fields}
        )


def _cipher_algorithm(cipher_suite: str) -> str | None:
    name = cipher_suite.upper().replace("-", "_")
    for marker, algorithm in (
        ("AES_256", "aes-256"),
        ("AES256", "aes-256"),
        ("AES_128", "aes-128"),
        ("AES128", "aes-128"),
        ("CHACHA20", "chacha20-poly1305"),
    ):
        if marker in name:
            return algorithm
    return None


def parse_target(target: str) -> tuple[str, int]:
    """Split ``HOST:PORT`` (``[v6]:PORT`` for IPv6) into host and port.

    >>> parse_target("127.0.0.1:8443")
    ('127.0.0.1', 8443)
    """
    host, separator, port_text = target.rpartition(":")
    if not separator or not host or not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise ParameterError(f"target = {target!r}: must be HOST:PORT with 0 < PORT < 65536")
    return host.strip("[]"), int(port_text)


def _signature_names() -> dict[str, str]:
    from cryptography.x509.oid import SignatureAlgorithmOID

    return {
        value.dotted_string: name.lower()
        for name, value in vars(SignatureAlgorithmOID).items()
        if not name.startswith("_")
    }


def _certificate_info(certificate, now: datetime, names: dict[str, str]) -> CertificateInfo:
    key = describe_key(certificate.public_key())
    not_after = certificate.not_valid_after_utc
    oid = certificate.signature_algorithm_oid.dotted_string
    return CertificateInfo(
        subject=certificate.subject.rfc4514_string(),
        issuer=certificate.issuer.rfc4514_string(),
        key_type=key.key_type,
        key_bits=key.key_bits,
        curve=key.curve,
        signature_algorithm=names.get(oid, oid),
        not_after=not_after.isoformat(),
        expires_in_days=(not_after - now).total_seconds() / 86_400.0,
        catalog_algorithm=key.catalog_algorithm,
    )


@dataclass(frozen=True)
class _Handshake:
    version: str
    cipher: str
    group: str | None
    chain: list


def _handshake(
    host: str,
    port: int,
    timeout_s: float,
    *,
    group: str | None = None,
    sigalg: str | None = None,
    version: str | None = None,
):
    """One handshake; ``None`` if the server refused the offer, ``False`` if this OpenSSL cannot offer it."""
    from cryptography.hazmat.bindings.openssl.binding import Binding
    from OpenSSL import SSL

    context = SSL.Context(SSL.TLS_METHOD)
    context.set_verify(SSL.VERIFY_NONE, lambda *args: True)
    if version is not None:
        code = {"TLSv1.2": SSL.TLS1_2_VERSION, "TLSv1.3": SSL.TLS1_3_VERSION}[version]
        context.set_min_proto_version(code)
        context.set_max_proto_version(code)
    if group is not None and Binding.lib.SSL_CTX_set1_curves_list(context._context, group.encode()) != 1:
        return False
    if sigalg is not None and Binding.lib.SSL_CTX_set1_sigalgs_list(context._context, sigalg.encode()) != 1:
        return False
    try:
        raw = socket.create_connection((host, port), timeout=timeout_s)
    except OSError as error:
        raise ServiceError(f"{host}:{port}: cannot connect ({error})") from None
    with raw:
        # pyOpenSSL needs a blocking socket; the operating system enforces the timeout instead.
        raw.settimeout(None)
        timeval = struct.pack("ll", int(timeout_s), int((timeout_s % 1.0) * 1e6))
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, timeval)
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, timeval)
        connection = SSL.Connection(context, raw)
        connection.set_connect_state()
        with contextlib.suppress(UnicodeError, ValueError):
            connection.set_tlsext_host_name(host.encode("idna"))
        try:
            connection.do_handshake()
        except (SSL.Error, OSError):
            return None
        result = _Handshake(
            connection.get_protocol_version_name(),
            connection.get_cipher_name() or "",
            connection.get_group_name(),
            connection.get_peer_cert_chain(as_cryptography=True) or [],
        )
        with contextlib.suppress(SSL.Error, OSError):
            connection.shutdown()
        return result


def scan_tls(
    host: str,
    port: int,
    *,
    timeout_s: float = 5.0,
    groups: tuple[str, ...] = DEFAULT_GROUPS,
    signature_algorithms: tuple[str, ...] = DEFAULT_SIGNATURE_ALGORITHMS,
    now: datetime | None = None,
) -> TlsScan:
    """Probe the TLS server at ``host:port``.

    Raises
    ------
    ServiceError
        When no TCP connection can be made, or the server completes no handshake at all.
    """
    first = _handshake(host, port, timeout_s)
    if not first:
        raise ServiceError(f"{host}:{port}: no TLS handshake with default settings")
    accepted: list[str] = []
    rejected: list[str] = []
    unsupported: list[str] = []
    for group in groups:
        outcome = _handshake(host, port, timeout_s, group=group)
        (unsupported if outcome is False else rejected if outcome is None else accepted).append(group)
    versions = tuple(v for v in _VERSIONS if _handshake(host, port, timeout_s, version=v))
    sigalgs = tuple(s for s in signature_algorithms if _handshake(host, port, timeout_s, sigalg=s))
    names = _signature_names()
    moment = now or datetime.now(UTC)
    return TlsScan(
        host=host,
        port=port,
        protocol_version=first.version,
        cipher_suite=first.cipher,
        negotiated_group=first.group,
        accepted_groups=tuple(accepted),
        rejected_groups=tuple(rejected),
        unsupported_groups=tuple(unsupported),
        accepted_versions=versions,
        accepted_signature_algorithms=sigalgs,
        certificates=tuple(_certificate_info(certificate, moment, names) for certificate in first.chain),
    )
