"""Catalog sizes of ML-KEM, ML-DSA and SLH-DSA against the FIPS size formulas and a real implementation.

References: NIST FIPS 203 (2024) Sections 7.1-7.3 and Table 2 (parameters k, du, dv; sizes
ek = 384k + 32, dk = 768k + 96, c = 32 (du k + dv) bytes); FIPS 204 (2024) Table 1 (k, l, gamma1,
omega, lambda) and Table 2 (pk = 32 + 32 k (bitlen(q - 1) - d), sig = lambda/4 + 32 l (1 +
bitlen(gamma1 - 1)) + omega + k bytes, q = 8380417, d = 13); FIPS 205 (2024) Table 2 (n, h, d, a,
k; sig = n (1 + k (1 + a) + h + d len) bytes with len = 2n + 3 for lg_w = 4; pk = 2n).
Tolerance: exact (sizes are integers). The implementation check uses the ML-KEM and ML-DSA of
the OpenSSL bundled with ``cryptography``.
"""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric import mldsa, mlkem

from qit4n.threat import load_catalog

CATALOG = load_catalog()

ML_KEM = {"ml-kem-512": (2, 10, 4), "ml-kem-768": (3, 10, 4), "ml-kem-1024": (4, 11, 5)}
# k, l, gamma1 exponent, omega, lambda
ML_DSA = {"ml-dsa-44": (4, 4, 17, 80, 128), "ml-dsa-65": (6, 5, 19, 55, 192), "ml-dsa-87": (8, 7, 19, 75, 256)}
# n, h, d, a, k
SLH_DSA = {
    "slh-dsa-128s": (16, 63, 7, 12, 14),
    "slh-dsa-128f": (16, 66, 22, 6, 33),
    "slh-dsa-192s": (24, 63, 7, 14, 17),
    "slh-dsa-192f": (24, 66, 22, 8, 33),
    "slh-dsa-256s": (32, 64, 8, 14, 22),
    "slh-dsa-256f": (32, 68, 17, 9, 35),
}


@pytest.mark.parametrize("name", ML_KEM)
def test_ml_kem_sizes_follow_fips_203(name):
    k, du, dv = ML_KEM[name]
    entry = CATALOG.algorithm(name)
    assert entry.public_key_bytes == 384 * k + 32
    assert entry.private_key_bytes == 768 * k + 96
    assert entry.ciphertext_bytes == 32 * (du * k + dv)
    assert entry.shared_secret_bytes == 32


@pytest.mark.parametrize("name", ML_DSA)
def test_ml_dsa_sizes_follow_fips_204(name):
    k, ell, gamma1_bits, omega, strength = ML_DSA[name]
    entry = CATALOG.algorithm(name)
    assert entry.public_key_bytes == 32 + 32 * k * ((8380417 - 1).bit_length() - 13)
    assert entry.signature_bytes == strength // 4 + 32 * ell * (1 + gamma1_bits) + omega + k


@pytest.mark.parametrize("name", SLH_DSA)
def test_slh_dsa_sizes_follow_fips_205(name):
    n, h, d, a, k = SLH_DSA[name]
    entry = CATALOG.algorithm(name)
    assert entry.public_key_bytes == 2 * n
    assert entry.private_key_bytes == 4 * n
    assert entry.signature_bytes == n * (1 + k * (1 + a) + h + d * (2 * n + 3))


@pytest.mark.parametrize(
    ("name", "cls"), [("ml-kem-768", mlkem.MLKEM768PrivateKey), ("ml-kem-1024", mlkem.MLKEM1024PrivateKey)]
)
def test_ml_kem_sizes_match_an_implementation(name, cls):
    public = cls.generate().public_key()
    shared, ciphertext = public.encapsulate()
    entry = CATALOG.algorithm(name)
    assert (len(public.public_bytes_raw()), len(ciphertext), len(shared)) == (
        entry.public_key_bytes,
        entry.ciphertext_bytes,
        entry.shared_secret_bytes,
    )


@pytest.mark.parametrize(
    ("name", "cls"),
    [
        ("ml-dsa-44", mldsa.MLDSA44PrivateKey),
        ("ml-dsa-65", mldsa.MLDSA65PrivateKey),
        ("ml-dsa-87", mldsa.MLDSA87PrivateKey),
    ],
)
def test_ml_dsa_sizes_match_an_implementation(name, cls):
    key = cls.generate()
    entry = CATALOG.algorithm(name)
    assert (len(key.public_key().public_bytes_raw()), len(key.sign(b"qit4n"))) == (
        entry.public_key_bytes,
        entry.signature_bytes,
    )


def test_hybrid_key_shares_are_the_concatenation_of_their_components():
    """draft-ietf-tls-ecdhe-mlkem Section 3: X25519MLKEM768 shares are ML-KEM-768 || X25519;
    SecP256r1MLKEM768 and SecP384r1MLKEM1024 are ECDH || ML-KEM."""
    for hybrid in ("x25519mlkem768", "secp256r1mlkem768", "secp384r1mlkem1024"):
        entry = CATALOG.algorithm(hybrid)
        classical, kem = (CATALOG.algorithm(part) for part in entry.components)
        assert entry.public_key_bytes == classical.public_key_bytes + kem.public_key_bytes
        assert entry.ciphertext_bytes == classical.public_key_bytes + kem.ciphertext_bytes
