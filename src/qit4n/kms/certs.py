"""A test certificate authority and the certificates of every KME and SAE of a network.

Each KME gets one certificate used both as TLS server (towards SAEs and other KMEs) and as TLS
client (towards other KMEs); each SAE gets a client certificate. The subject common name is the
entity's ID: ETSI GS QKD 014 takes the caller's SAE ID from its client certificate and the KME ID
from the server certificate. Keys are ECDSA P-256 (fast handshakes on loopback).

References
----------
ETSI GS QKD 014 V1.1.1 (2019-02), clause 4.3 (mutual authentication with TLS).
"""

from __future__ import annotations

import datetime as _dt
import ipaddress
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from qit4n.errors import ServiceError
from qit4n.kms.atrest import private_dir, write_private

if TYPE_CHECKING:
    from cryptography import x509

__all__ = ["CertPaths", "common_name_of", "create_ca", "issue_certificate", "issue_entity_certs"]

_VALIDITY_DAYS = 3650


@dataclass(frozen=True)
class CertPaths:
    """Where an entity's PEM files lie: its certificate, its private key and the CA certificate."""

    cert: Path
    key: Path
    ca: Path


def _write_private(path: Path, data: bytes) -> None:
    write_private(path, data)


def _name(common_name: str) -> x509.Name:
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    return x509.Name(
        [x509.NameAttribute(NameOID.ORGANIZATION_NAME, "qit4n"), x509.NameAttribute(NameOID.COMMON_NAME, common_name)]
    )


def create_ca(directory: Path, common_name: str = "qit4n test CA") -> CertPaths:
    """Create a self-signed CA in ``directory`` (``ca.pem``, ``ca.key``); reuse it if present."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    private_dir(directory)
    cert_path, key_path = directory / "ca.pem", directory / "ca.key"
    if cert_path.exists() and key_path.exists():
        return CertPaths(cert_path, key_path, cert_path)
    key = ec.generate_private_key(ec.SECP256R1())
    now = _dt.datetime.now(_dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(_name(common_name))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _dt.timedelta(minutes=5))
        .not_valid_after(now + _dt.timedelta(days=_VALIDITY_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    _write_private(
        key_path,
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()),
    )
    write_private(cert_path, cert.public_bytes(serialization.Encoding.PEM))
    return CertPaths(cert_path, key_path, cert_path)


def issue_certificate(ca: CertPaths, directory: Path, common_name: str, *, server: bool) -> CertPaths:
    """Issue ``<common_name>.pem``/``.key`` signed by ``ca``; reuse them if present.

    ``server=True`` adds serverAuth and a subjectAltName for 127.0.0.1 and localhost (KMEs);
    every certificate carries clientAuth.
    """
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID

    private_dir(directory)
    cert_path, key_path = directory / f"{common_name}.pem", directory / f"{common_name}.key"
    if cert_path.exists() and key_path.exists():
        return CertPaths(cert_path, key_path, ca.cert)
    ca_key = serialization.load_pem_private_key(ca.key.read_bytes(), password=None)
    ca_cert = x509.load_pem_x509_certificate(ca.cert.read_bytes())
    ca_public = ca_cert.public_key()
    if not isinstance(ca_key, ec.EllipticCurvePrivateKey) or not isinstance(ca_public, ec.EllipticCurvePublicKey):
        raise ServiceError(f"{ca.key}: the CA key must be an ECDSA key (as create_ca writes)")
    key = ec.generate_private_key(ec.SECP256R1())
    now = _dt.datetime.now(_dt.UTC)
    usages = [ExtendedKeyUsageOID.CLIENT_AUTH] + ([ExtendedKeyUsageOID.SERVER_AUTH] if server else [])
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _dt.timedelta(minutes=5))
        .not_valid_after(now + _dt.timedelta(days=_VALIDITY_DAYS))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage(usages), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_public), critical=False)
    )
    if server:
        names = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    cert = builder.sign(ca_key, hashes.SHA256())
    _write_private(
        key_path,
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()),
    )
    write_private(cert_path, cert.public_bytes(serialization.Encoding.PEM))
    return CertPaths(cert_path, key_path, ca.cert)


def issue_entity_certs(directory: Path, kme_ids: list[str], sae_ids: list[str]) -> dict[str, CertPaths]:
    """Create the CA (if needed) and a certificate for each KME and SAE; returns them by entity ID."""
    ca = create_ca(directory)
    paths = {kme_id: issue_certificate(ca, directory, kme_id, server=True) for kme_id in kme_ids}
    paths.update({sae_id: issue_certificate(ca, directory, sae_id, server=False) for sae_id in sae_ids})
    return paths


def common_name_of(peer_cert: dict | None) -> str | None:
    """The subject common name from :meth:`ssl.SSLSocket.getpeercert` output, or None."""
    if not peer_cert:
        return None
    for rdn in peer_cert.get("subject", ()):
        for attribute, value in rdn:
            if attribute == "commonName":
                return value
    return None
