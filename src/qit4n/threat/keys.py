"""Public keys (from certificates, SSH, TLS) mapped to catalog algorithms."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["KeyDescription", "describe_key"]

_CURVES = {"secp256r1": "ecdsa-p256", "secp384r1": "ecdsa-p384", "secp521r1": "ecdsa-p521"}


@dataclass(frozen=True)
class KeyDescription:
    """A public key's type, size or curve, and the catalog algorithm it signs with (if known).

    RSA keys map to the catalog's RSA sizes rounded up (1024 -> rsa-2048, 4096 -> rsa-4096);
    ``key_bits`` keeps the real size.
    """

    key_type: str
    key_bits: int | None
    curve: str | None
    catalog_algorithm: str | None

    @property
    def label(self) -> str:
        """E.g. ``RSA 2048 bits`` or ``EC secp256r1``."""
        return (
            f"{self.key_type} {self.curve}"
            if self.curve
            else f"{self.key_type} {self.key_bits} bits"
            if self.key_bits
            else self.key_type
        )


def describe_key(key) -> KeyDescription:
    """Describe a ``cryptography`` public key."""
    from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, mldsa, rsa

    if isinstance(key, rsa.RSAPublicKey):
        bits = key.key_size
        return KeyDescription(
            "RSA", bits, None, "rsa-2048" if bits <= 2048 else "rsa-3072" if bits <= 3072 else "rsa-4096"
        )
    if isinstance(key, ec.EllipticCurvePublicKey):
        return KeyDescription("EC", key.curve.key_size, key.curve.name, _CURVES.get(key.curve.name))
    if isinstance(key, ed25519.Ed25519PublicKey):
        return KeyDescription("Ed25519", 256, None, "ed25519")
    if isinstance(key, ed448.Ed448PublicKey):
        return KeyDescription("Ed448", 456, None, "ed448")
    for level, public_class in (
        ("44", mldsa.MLDSA44PublicKey),
        ("65", mldsa.MLDSA65PublicKey),
        ("87", mldsa.MLDSA87PublicKey),
    ):
        if isinstance(key, public_class):
            return KeyDescription(f"ML-DSA-{level}", None, None, f"ml-dsa-{level}")
    return KeyDescription(type(key).__name__, getattr(key, "key_size", None), None, None)
