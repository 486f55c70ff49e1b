"""Hybrid key combiner against published test vectors and sizes.

- RFC 5869 (HKDF), Appendix A.3, test case 3: SHA-256, IKM = 0x0b * 22, empty salt and info,
  L = 42; the OKM below is the RFC's. Tolerance: exact (bytes).
- NIST FIPS 203 (ML-KEM), Table 3: ML-KEM-768 encapsulation key 1184 bytes, ciphertext
  1088 bytes, shared secret 32 bytes. Tolerance: exact.
- RFC 7748 (X25519), clause 6.1: Alice's and Bob's key pairs and their shared secret.
  Tolerance: exact.
"""

from __future__ import annotations

from qit4n.kms.certs import create_ca, issue_certificate
from qit4n.kms.hybrid import Answer, Finished, HybridPolicy, Initiator, Offer, Responder, SAEIdentity, cat_kdf

RFC5869_A3_OKM = "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8"


def test_cat_kdf_with_one_secret_is_hkdf_sha256_rfc5869_case_3():
    assert cat_kdf([bytes([0x0B]) * 22], b"", 42).hex() == RFC5869_A3_OKM


def test_cat_kdf_hashes_the_concatenation_in_order():
    a, b = bytes([0x0B]) * 11, bytes([0x0B]) * 11
    assert cat_kdf([a, b], b"", 42).hex() == RFC5869_A3_OKM
    assert cat_kdf([b"\x01", b"\x02"], b"") != cat_kdf([b"\x02", b"\x01"], b"")


def test_ml_kem_768_message_sizes_match_fips_203_table_3(tmp_path):
    ca = create_ca(tmp_path)
    paths = [issue_certificate(ca, tmp_path, sae_id, server=False) for sae_id in ("SAE-A", "SAE-B")]
    alice, bob = (SAEIdentity.from_files(path.cert, path.key, path.ca) for path in paths)
    initiator = Initiator(alice, "SAE-B", qkd_key=None, key_id=None, policy=HybridPolicy.PQC)
    assert len(initiator.offer.mlkem_encapsulation_key) == 1184
    responder = Responder(bob, Offer.from_json(initiator.offer.to_json()), qkd_key=None, policy=HybridPolicy.PQC)
    assert len(responder.answer.mlkem_ciphertext) == 1088
    key, finished = initiator.finish(Answer.from_json(responder.answer.to_json()))
    assert responder.finish(Finished.from_json(finished.to_json())) == key


def test_x25519_reproduces_rfc7748_section_6_1():
    from cryptography.hazmat.primitives.asymmetric import x25519

    alice = x25519.X25519PrivateKey.from_private_bytes(
        bytes.fromhex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a")
    )
    bob = x25519.X25519PrivateKey.from_private_bytes(
        bytes.fromhex("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb")
    )
    assert (
        alice.public_key().public_bytes_raw().hex()
        == "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"
    )
    assert (
        bob.public_key().public_bytes_raw().hex() == "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f"
    )
    assert alice.exchange(bob.public_key()).hex() == "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742"
