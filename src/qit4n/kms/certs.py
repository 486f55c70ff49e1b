"""The PKI of a KMS network: a CA kept offline, short-lived certificates, rotation and revocation.

Each KME gets one certificate used both as TLS server (towards SAEs and other KMEs) and as TLS
client (towards other KMEs); each SAE and the operator get a client certificate. The subject
common name is the entity's ID: ETSI GS QKD 014 takes the caller's SAE ID from its client
certificate and the KME ID from the server certificate. Keys are ECDSA P-256 (fast handshakes).

A :class:`CertificateAuthority` lives in a folder of its own (``ca.pem``, ``ca.key``, ``crl.pem``,
``issued.json``, ``revoked.json``), which can sit on a machine that never runs a KME: it is only
needed to issue, rotate and revoke. A state folder holds the CA *certificate* and the CRL, never
the CA key. A throwaway CA (``directory=None``) keeps its key in memory only, for the zero-config
development path.

Certificates and keys are replaced atomically (written to a temporary sibling, then renamed; the
key before the certificate), so a TLS layer that reloads changed files sees either the old or the
new pair (a reader that catches the key already new and the certificate still old fails to load the
pair and keeps its current one).

References
----------
ETSI GS QKD 014 V1.1.1 (2019-02), clause 4.3 (mutual authentication with TLS).
RFC 5280, clauses 4.2.1.6 (subject alternative name) and 5 (CRL profile).
"""

from __future__ import annotations

import datetime as _dt
import ipaddress
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qit4n.errors import InputError, ServiceError
from qit4n.kms.atrest import check_private, private_dir, write_private

if TYPE_CHECKING:
    from collections.abc import Iterable

    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import ec

__all__ = [
    "DEFAULT_CA_DAYS",
    "DEFAULT_CERT_DAYS",
    "DEFAULT_CRL_DAYS",
    "CertInfo",
    "CertPaths",
    "CertificateAuthority",
    "certificate_info",
    "common_name_of",
    "create_ca",
    "issue_certificate",
    "replace_private",
]

#: Lifetime of KME, SAE and operator certificates unless configured (rotate well before it ends).
DEFAULT_CERT_DAYS = 30.0
#: Lifetime of a CA created by ``qit4n kms certs init``.
DEFAULT_CA_DAYS = 1825.0
#: Time until a CRL's nextUpdate: a TLS peer checking revocation refuses everyone once it has passed.
DEFAULT_CRL_DAYS = 7.0
#: Common name of the throwaway CA of the development path.
THROWAWAY_CA_NAME = "qit4n throwaway CA"
_BACKDATE = _dt.timedelta(minutes=5)
_MAX_DAYS = 3650.0


@dataclass(frozen=True)
class CertPaths:
    """Where an entity's PEM files lie: its certificate, its private key and the CA certificate."""

    cert: Path
    key: Path
    ca: Path


@dataclass(frozen=True)
class CertInfo:
    """What a certificate says: its entity, serial, validity end, names, issuer and subject."""

    entity: str
    serial: int
    not_after: _dt.datetime
    names: tuple[str, ...]
    issuer: str
    subject: str

    def expires_within(self, days: float) -> bool:
        """True if the certificate ends less than ``days`` days from now."""
        return self.not_after - _dt.datetime.now(_dt.UTC) < _dt.timedelta(days=days)

    def covers(self, host: str) -> bool:
        """True if ``host`` (a DNS name or an IP address) is among the subject alternative names."""
        return _canonical(host) in self.names


def _canonical(host: str) -> str:
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        return host.lower()


def replace_private(path: Path, data: bytes) -> None:
    """Replace ``path`` atomically by a 0600 file holding ``data`` (readers see the old or the new file)."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    write_private(temporary, data)
    os.replace(temporary, path)


def _check_days(days: float, what: str) -> float:
    if not 0.0 < days <= _MAX_DAYS:
        raise InputError(f"{what} = {days:g}: must lie in (0, {_MAX_DAYS:g}] days")
    return days


def _name(common_name: str) -> x509.Name:
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    return x509.Name(
        [x509.NameAttribute(NameOID.ORGANIZATION_NAME, "qit4n"), x509.NameAttribute(NameOID.COMMON_NAME, common_name)]
    )


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _san(hosts: Iterable[str]) -> x509.SubjectAlternativeName:
    from cryptography import x509

    names: list[x509.GeneralName] = []
    for host in dict.fromkeys(_canonical(host) for host in hosts):
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    return x509.SubjectAlternativeName(names)


def certificate_info(path: Path) -> CertInfo:
    """Read a PEM certificate; InputError if it is missing or not a certificate."""
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    try:
        cert = x509.load_pem_x509_certificate(path.read_bytes())
    except (OSError, ValueError) as error:
        raise InputError(f"{path}: not a readable PEM certificate ({type(error).__name__})") from None
    common = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        names = tuple(
            [str(name) for name in san.get_values_for_type(x509.IPAddress)] + san.get_values_for_type(x509.DNSName)
        )
    except x509.ExtensionNotFound:
        names = ()
    return CertInfo(
        entity=str(common[0].value) if common else "",
        serial=cert.serial_number,
        not_after=cert.not_valid_after_utc,
        names=tuple(_canonical(name) for name in names),
        issuer=cert.issuer.rfc4514_string(),
        subject=cert.subject.rfc4514_string(),
    )


class CertificateAuthority:
    """A CA that issues, rotates and revokes the certificates of a KMS network.

    Build one with :meth:`create` or :meth:`load`. With a ``directory`` it records every issued
    certificate in ``issued.json`` and every revocation in ``revoked.json``, and writes its CRL to
    ``crl.pem``; without one it is a throwaway CA whose key exists only in this process.
    """

    def __init__(self, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey, directory: Path | None) -> None:
        self.cert = cert
        self.key = key
        self.directory = directory

    @classmethod
    def create(
        cls, directory: Path | None, *, common_name: str = "qit4n KMS CA", days: float = DEFAULT_CA_DAYS
    ) -> CertificateAuthority:
        """A new self-signed CA; with ``directory`` its files are written there (refused if a CA is there)."""
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec

        _check_days(days, "--days")
        if directory is not None and (directory / "ca.key").exists():
            raise InputError(f"--ca {directory}: a CA is already there (ca.key); use another folder")
        key = ec.generate_private_key(ec.SECP256R1())
        now = _dt.datetime.now(_dt.UTC)
        usage = x509.KeyUsage(False, False, False, False, False, True, True, False, False)
        cert = (
            x509.CertificateBuilder()
            .subject_name(_name(common_name))
            .issuer_name(_name(common_name))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - _BACKDATE)
            .not_valid_after(now + _dt.timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(usage, critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256())
        )
        authority = cls(cert, key, directory)
        if directory is not None:
            private_dir(directory)
            replace_private(directory / "ca.key", _pem_key(key))
            replace_private(directory / "ca.pem", authority.cert_pem)
            authority.write_crl()
        return authority

    @classmethod
    def load(cls, directory: Path) -> CertificateAuthority:
        """The CA in ``directory`` (as :meth:`create` wrote it); InputError if absent or readable by others."""
        from cryptography import x509
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ec

        if not (directory / "ca.key").is_file() or not (directory / "ca.pem").is_file():
            raise InputError(
                f"--ca {directory}: no CA there (ca.pem and ca.key); "
                f"create one with `qit4n kms certs init --ca {directory}`"
            )
        check_private(directory)
        key = serialization.load_pem_private_key((directory / "ca.key").read_bytes(), password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise InputError(f"{directory / 'ca.key'}: the CA key must be an ECDSA key (as `kms certs init` writes)")
        return cls(x509.load_pem_x509_certificate((directory / "ca.pem").read_bytes()), key, directory)

    @property
    def cert_pem(self) -> bytes:
        """The CA certificate (PEM): what every KME and SAE trusts."""
        from cryptography.hazmat.primitives import serialization

        return self.cert.public_bytes(serialization.Encoding.PEM)

    def issue(
        self,
        directory: Path,
        entity: str,
        *,
        server: bool,
        hosts: Iterable[str] = (),
        days: float = DEFAULT_CERT_DAYS,
    ) -> CertPaths:
        """Issue ``<entity>.pem``/``.key`` into ``directory`` (replacing them atomically) and ``ca.pem``.

        ``server=True`` adds serverAuth and a subjectAltName for each of ``hosts`` (DNS names or IP
        addresses: every name a client uses to reach the KME); every certificate carries clientAuth.
        """
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import ExtendedKeyUsageOID

        _check_days(days, "certificate lifetime")
        names = list(hosts)
        if server and not names:
            raise InputError(f"{entity}: a server certificate needs at least one host name or address")
        private_dir(directory)
        key = ec.generate_private_key(ec.SECP256R1())
        now = _dt.datetime.now(_dt.UTC)
        usages = [ExtendedKeyUsageOID.CLIENT_AUTH] + ([ExtendedKeyUsageOID.SERVER_AUTH] if server else [])
        usage = x509.KeyUsage(True, False, False, False, False, False, False, False, False)
        builder = (
            x509.CertificateBuilder()
            .subject_name(_name(entity))
            .issuer_name(self.cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - _BACKDATE)
            .not_valid_after(min(now + _dt.timedelta(days=days), self.cert.not_valid_after_utc))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(usage, critical=True)
            .add_extension(x509.ExtendedKeyUsage(usages), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.cert.public_key()),  # type: ignore[arg-type]
                critical=False,
            )
        )
        if server:
            builder = builder.add_extension(_san(names), critical=False)
        cert = builder.sign(self.key, hashes.SHA256())

        paths = CertPaths(directory / f"{entity}.pem", directory / f"{entity}.key", directory / "ca.pem")
        if not paths.ca.exists() or paths.ca.read_bytes() != self.cert_pem:
            replace_private(paths.ca, self.cert_pem)
        replace_private(paths.key, _pem_key(key))
        replace_private(paths.cert, cert.public_bytes(serialization.Encoding.PEM))
        record = {"entity": entity, "not_after": cert.not_valid_after_utc.isoformat()}

        def add(book: dict[str, Any]) -> None:  # expired entries go: nothing needs to revoke them any more
            issued = {serial: kept for serial, kept in book.get("issued", {}).items() if _not_after(kept) > now}
            book["issued"] = {**issued, format(cert.serial_number, "x"): record}

        self._record("issued.json", add)
        return paths

    def _book(self, name: str) -> dict[str, Any]:
        if self.directory is None or not (self.directory / name).exists():
            return {}
        book: dict[str, Any] = json.loads((self.directory / name).read_text())
        return book

    def _record(self, name: str, change: Any) -> None:
        if self.directory is None:
            return
        book = self._book(name)
        change(book)
        replace_private(self.directory / name, json.dumps(book, indent=1).encode())

    def revoke(self, *, entities: Iterable[str] = (), serials: Iterable[int] = ()) -> list[int]:
        """Revoke the given serials and every unexpired certificate issued to ``entities``; returns the
        serials newly revoked. Call :meth:`write_crl` to publish them."""
        if self.directory is None:
            raise ServiceError("a throwaway CA keeps no record of what it issued; revoke with an offline CA")
        wanted = set(entities)
        now = _dt.datetime.now(_dt.UTC)
        issued = self._book("issued.json").get("issued", {})
        unknown = wanted - {record["entity"] for record in issued.values()}
        if unknown:
            raise InputError(f"revoke: {', '.join(sorted(unknown))}: this CA issued no certificate to it")
        chosen = {int(serial, 16) for serial in _serials_of(issued, wanted, now)} | set(serials)
        already = {int(serial, 16) for serial in self._book("revoked.json").get("revoked", {})}
        new = sorted(chosen - already)

        def add(book: dict[str, Any]) -> None:
            revoked = book.setdefault("revoked", {})
            for serial in new:
                entity = issued.get(format(serial, "x"), {}).get("entity", "")
                revoked[format(serial, "x")] = {"entity": entity, "revoked_at": now.isoformat()}

        self._record("revoked.json", add)
        return new

    def crl_pem(self, *, days: float = DEFAULT_CRL_DAYS) -> bytes:
        """A CRL (PEM) listing every revoked serial, valid for ``days`` days, numbered one above the last."""
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization

        _check_days(days, "--crl-days")
        book = self._book("revoked.json")
        number = int(book.get("crl_number", 0)) + 1
        now = _dt.datetime.now(_dt.UTC)
        builder = (
            x509.CertificateRevocationListBuilder()
            .issuer_name(self.cert.subject)
            .last_update(now - _BACKDATE)
            .next_update(now + _dt.timedelta(days=days))
            .add_extension(x509.CRLNumber(number), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.cert.public_key()),  # type: ignore[arg-type]
                critical=False,
            )
        )
        for serial, record in sorted(book.get("revoked", {}).items()):
            revoked_at = _dt.datetime.fromisoformat(record["revoked_at"])
            entry = x509.RevokedCertificateBuilder().serial_number(int(serial, 16)).revocation_date(revoked_at)
            builder = builder.add_revoked_certificate(entry.build())
        self._record("revoked.json", lambda stored: stored.__setitem__("crl_number", number))
        return builder.sign(self.key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)

    def write_crl(self, *, days: float = DEFAULT_CRL_DAYS) -> bytes:
        """Sign a fresh CRL and, for a CA with a folder, write it to ``crl.pem``; returns it."""
        crl = self.crl_pem(days=days)
        if self.directory is not None:
            replace_private(self.directory / "crl.pem", crl)
        return crl


def create_ca(directory: Path, common_name: str = "qit4n test CA") -> CertPaths:
    """The CA in ``directory`` (created if absent) as paths: ``ca.pem``, ``ca.key``, ``ca.pem``.

    For tests and one-off tools; a KMS state never holds a CA key (use ``qit4n kms certs``).
    """
    if not (directory / "ca.key").exists():
        CertificateAuthority.create(directory, common_name=common_name)
    return CertPaths(directory / "ca.pem", directory / "ca.key", directory / "ca.pem")


def issue_certificate(
    ca: CertPaths,
    directory: Path,
    common_name: str,
    *,
    server: bool,
    hosts: Iterable[str] = ("127.0.0.1", "localhost"),
    days: float = DEFAULT_CERT_DAYS,
) -> CertPaths:
    """Issue ``<common_name>.pem``/``.key`` into ``directory`` with the CA of :func:`create_ca`."""
    return CertificateAuthority.load(ca.cert.parent).issue(
        directory, common_name, server=server, hosts=hosts, days=days
    )


def _not_after(record: dict[str, str]) -> _dt.datetime:
    return _dt.datetime.fromisoformat(record["not_after"])


def _serials_of(issued: dict[str, dict[str, str]], entities: set[str], now: _dt.datetime) -> list[str]:
    """Hex serials of the certificates in ``issued`` held by ``entities`` and not yet expired at ``now``."""
    return [serial for serial, record in issued.items() if record["entity"] in entities and _not_after(record) > now]


def common_name_of(peer_cert: dict | None) -> str | None:
    """The subject common name from :meth:`ssl.SSLSocket.getpeercert` output, or None."""
    if not peer_cert:
        return None
    for rdn in peer_cert.get("subject", ()):
        for attribute, value in rdn:
            if attribute == "commonName":
                return value
    return None
