"""Certificates as the scanners report them: key type and size, signature algorithm and hash, expiry, size."""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from datetime import datetime

from qit4n.threat.keys import describe_key

__all__ = ["CertificateInfo", "certificate_info"]


@dataclass(frozen=True)
class CertificateInfo:
    """One certificate: subject, issuer, public key, signature, expiry, DER size and key fingerprint."""

    subject: str
    issuer: str
    key_type: str
    key_bits: int | None
    curve: str | None
    signature_algorithm: str
    signature_hash: str | None
    not_after: str
    expires_in_days: float
    catalog_algorithm: str | None
    der_bytes: int
    public_key_sha256: str


@functools.cache
def _signature_names() -> dict[str, str]:
    from cryptography.x509.oid import SignatureAlgorithmOID

    return {
        value.dotted_string: name.lower()
        for name, value in vars(SignatureAlgorithmOID).items()
        if not name.startswith("_")
    }


def certificate_info(certificate, now: datetime) -> CertificateInfo:
    """Describe a ``cryptography`` certificate as seen at ``now`` (timezone-aware)."""
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    key = describe_key(certificate.public_key())
    not_after = certificate.not_valid_after_utc
    oid = certificate.signature_algorithm_oid.dotted_string
    try:
        hash_algorithm = certificate.signature_hash_algorithm
    except UnsupportedAlgorithm:
        hash_algorithm = None
    return CertificateInfo(
        subject=certificate.subject.rfc4514_string(),
        issuer=certificate.issuer.rfc4514_string(),
        key_type=key.key_type,
        key_bits=key.key_bits,
        curve=key.curve,
        signature_algorithm=_signature_names().get(oid, oid),
        signature_hash=None if hash_algorithm is None else hash_algorithm.name,
        not_after=not_after.isoformat(),
        expires_in_days=(not_after - now).total_seconds() / 86_400.0,
        catalog_algorithm=key.catalog_algorithm,
        der_bytes=len(certificate.public_bytes(Encoding.DER)),
        public_key_sha256=hashlib.sha256(
            certificate.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
        ).hexdigest(),
    )
