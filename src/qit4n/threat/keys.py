"""Public keys (from certificates, SSH, TLS) mapped to catalog algorithms."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["KeyDescription", "describe_key", "dh_catalog_id", "rsa_catalog_id"]

_CURVES = {"secp256r1": "ecdsa-p256", "secp384r1": "ecdsa-p384", "secp521r1": "ecdsa-p521"}


def rsa_catalog_id(bits: int) -> str:
    """The catalog RSA entry of a ``bits``-bit modulus: the largest catalog size it reaches (rounded down).

    >>> [rsa_catalog_id(bits) for bits in (512, 1024, 2047, 2048, 3072, 4095, 4096, 8192)]
    ['rsa-1024', 'rsa-1024', 'rsa-1024', 'rsa-2048', 'rsa-3072', 'rsa-3072', 'rsa-4096', 'rsa-4096']
    """
    return "rsa-4096" if bits >= 4096 else "rsa-3072" if bits >= 3072 else "rsa-2048" if bits >= 2048 else "rsa-1024"


def dh_catalog_id(bits: int) -> str:
    """The catalog finite-field Diffie-Hellman entry of a ``bits``-bit prime, rounded down like RSA.

    >>> [dh_catalog_id(bits) for bits in (768, 1024, 2048, 3072, 4096, 8192)]
    ['dh-1024', 'dh-1024', 'ffdhe-2048', 'ffdhe-3072', 'ffdhe-4096', 'ffdhe-4096']
    """
    return (
        "ffdhe-4096" if bits >= 4096 else "ffdhe-3072" if bits >= 3072 else "ffdhe-2048" if bits >= 2048 else "dh-1024"
    )


@dataclass(frozen=True)
class KeyDescription:
    """A public key's type, size or curve, and the catalog algorithm it signs with (if known).

    RSA keys map to the largest catalog RSA size they reach, so a key gets the classical strength of
    the size below it (NIST SP 800-57 Part 1 Rev. 5, Table 2): 1024 to 2047 bits -> rsa-1024 (80
    bits, disallowed), 2048 -> rsa-2048, 3072 -> rsa-3072, 4096 and larger -> rsa-4096. Moduli under
    1024 bits also map to rsa-1024, the weakest entry; ``key_bits`` keeps the real size.
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
        return KeyDescription("RSA", bits, None, rsa_catalog_id(bits))
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
