"""Hybrid keys: a QKD key from ETSI GS QKD 014, an ML-KEM-768 secret and an X25519 secret, combined.

Two SAEs run one round trip. The initiator (master SAE) sends an :class:`Offer` (the QKD key ID,
its X25519 public key, its ML-KEM-768 encapsulation key); the responder (slave SAE) answers with
its X25519 public key and an ML-KEM ciphertext. Both feed the secrets that the
:class:`HybridPolicy` asks for into :func:`cat_kdf`: HKDF-SHA256 over the concatenated secrets
(QKD key, ML-KEM secret, X25519 secret, in that order), with a context that binds the policy,
the key ID, both SAE IDs and every public message, in the manner of the CatKDF of
ETSI TS 103 744. The result stays secret while at least one of the combined secrets does.

Where a QRNG enters: the ML-KEM and X25519 key pairs and encapsulations draw from the OS through
``cryptography``, which takes no other generator, so a QRNG cannot feed them here. Nor is QRNG
output mixed into the combiner: a value one SAE draws reaches the other only over the public
channel, so it would add nothing secret. The QRNG enters through the QKD key: a KME configured
with ``randomness`` (:class:`~qit4n.kms.config.KMEConfig`) XORs QRNG bytes into the keys it
generates itself (:meth:`qit4n.kms.relay.RelayEngine.fresh_keys`), and an emulated link's choices
and seeds can draw from a QRNG (``qit4n emulate --randomness``).

References
----------
ETSI TS 103 744 V1.1.1 (2020-03), Quantum-safe hybrid key exchanges, clause 8.2 (CatKDF).
NIST FIPS 203 (2024), ML-KEM. RFC 7748 (2016), X25519. RFC 5869 (2010), HKDF.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

from qit4n.errors import InsufficientKeyError, ParameterError

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric import mlkem, x25519

__all__ = ["HYBRID_KEY_BYTES", "Answer", "HybridPolicy", "Initiator", "Offer", "cat_kdf", "respond"]

HYBRID_KEY_BYTES = 32
_LABEL = b"qit4n hybrid key v1"


class HybridPolicy(str, Enum):
    """Which secrets a hybrid key must contain."""

    QKD = "qkd"  #: the QKD key alone
    PQC = "pqc"  #: ML-KEM-768 and X25519, no QKD key
    BOTH = "both"  #: QKD key and ML-KEM-768 and X25519
    EITHER = "either"  #: whatever is available, at least QKD or PQC

    def components(self, have_qkd: bool) -> tuple[bool, bool]:
        """(use QKD, use PQC) under this policy; raises if the policy cannot be met."""
        if self in (HybridPolicy.QKD, HybridPolicy.BOTH) and not have_qkd:
            raise InsufficientKeyError(f"policy = {self.value!r}: needs a QKD key, none was delivered")
        return {
            HybridPolicy.QKD: (True, False),
            HybridPolicy.PQC: (False, True),
            HybridPolicy.BOTH: (True, True),
            HybridPolicy.EITHER: (have_qkd, True),
        }[self]


def cat_kdf(secrets: list[bytes], context: bytes, length: int = HYBRID_KEY_BYTES) -> bytes:
    """HKDF-SHA256 (no salt) over the concatenation of ``secrets`` with ``info = context``.

    >>> cat_kdf([bytes(32)], b"ctx").hex()[:16] == cat_kdf([bytes(32)], b"ctx").hex()[:16]
    True
    """
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    if not secrets:
        raise ParameterError("secrets = []: a hybrid key needs at least one secret")
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=None, info=context).derive(b"".join(secrets))


def _field(data: bytes) -> bytes:
    return len(data).to_bytes(4, "big") + data


def _context(policy: HybridPolicy, use_qkd: bool, offer: Offer, answer: Answer) -> bytes:
    parts = [
        _LABEL,
        policy.value.encode(),
        b"Q" if use_qkd else b"-",
        (offer.key_id or "").encode(),
        offer.master_sae_id.encode(),
        offer.slave_sae_id.encode(),
        offer.x25519_public,
        offer.mlkem_encapsulation_key,
        answer.x25519_public,
        answer.mlkem_ciphertext,
    ]
    return hashlib.sha256(b"".join(_field(part) for part in parts)).digest()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


@dataclass(frozen=True)
class Offer:
    """Initiator -> responder: QKD key ID (or None), SAE IDs, X25519 and ML-KEM-768 public keys."""

    key_id: str | None
    master_sae_id: str
    slave_sae_id: str
    policy: HybridPolicy
    x25519_public: bytes
    mlkem_encapsulation_key: bytes

    def to_json(self) -> str:
        """Wire form (JSON, binary fields base64)."""
        return json.dumps(
            {
                "key_ID": self.key_id,
                "master_SAE_ID": self.master_sae_id,
                "slave_SAE_ID": self.slave_sae_id,
                "policy": self.policy.value,
                "x25519_public": _b64(self.x25519_public),
                "mlkem_encapsulation_key": _b64(self.mlkem_encapsulation_key),
            }
        )

    @classmethod
    def from_json(cls, text: str) -> Offer:
        """Parse :meth:`to_json` output."""
        data = json.loads(text)
        return cls(
            data["key_ID"],
            data["master_SAE_ID"],
            data["slave_SAE_ID"],
            HybridPolicy(data["policy"]),
            base64.b64decode(data["x25519_public"]),
            base64.b64decode(data["mlkem_encapsulation_key"]),
        )


@dataclass(frozen=True)
class Answer:
    """Responder -> initiator: X25519 public key and ML-KEM-768 ciphertext."""

    x25519_public: bytes
    mlkem_ciphertext: bytes

    def to_json(self) -> str:
        """Wire form (JSON, binary fields base64)."""
        return json.dumps({"x25519_public": _b64(self.x25519_public), "mlkem_ciphertext": _b64(self.mlkem_ciphertext)})

    @classmethod
    def from_json(cls, text: str) -> Answer:
        """Parse :meth:`to_json` output."""
        data = json.loads(text)
        return cls(base64.b64decode(data["x25519_public"]), base64.b64decode(data["mlkem_ciphertext"]))


def _raw_public(key: x25519.X25519PublicKey | mlkem.MLKEM768PublicKey) -> bytes:
    return key.public_bytes_raw()


class Initiator:
    """The master SAE's side: holds its ephemeral X25519 and ML-KEM-768 private keys.

    Parameters
    ----------
    master_sae_id, slave_sae_id : str
    qkd_key : bytes or None
        The key that Get key returned (None when the policy allows PQC alone).
    key_id : str or None
        Its key_ID, sent to the responder so it can fetch the same key (Get key with key IDs).
    policy : HybridPolicy
    """

    def __init__(
        self, master_sae_id: str, slave_sae_id: str, *, qkd_key: bytes | None, key_id: str | None, policy: HybridPolicy
    ) -> None:
        from cryptography.hazmat.primitives.asymmetric import mlkem, x25519

        self.policy = HybridPolicy(policy)
        self._use_qkd, self._use_pqc = self.policy.components(qkd_key is not None)
        self._qkd_key = qkd_key
        self._x25519 = x25519.X25519PrivateKey.generate()
        self._mlkem = mlkem.MLKEM768PrivateKey.generate()
        self.offer = Offer(
            key_id if self._use_qkd else None,
            master_sae_id,
            slave_sae_id,
            self.policy,
            _raw_public(self._x25519.public_key()),
            _raw_public(self._mlkem.public_key()),
        )

    def finish(self, answer: Answer) -> bytes:
        """The hybrid key (32 bytes) from the responder's answer."""
        from cryptography.hazmat.primitives.asymmetric import x25519

        secrets = [self._qkd_key] if self._use_qkd and self._qkd_key is not None else []
        if self._use_pqc:
            secrets.append(self._mlkem.decapsulate(answer.mlkem_ciphertext))
            secrets.append(self._x25519.exchange(x25519.X25519PublicKey.from_public_bytes(answer.x25519_public)))
        return cat_kdf(secrets, _context(self.policy, self._use_qkd, self.offer, answer))


def respond(offer: Offer, *, qkd_key: bytes | None, policy: HybridPolicy) -> tuple[Answer, bytes]:
    """The slave SAE's side: its answer and the hybrid key.

    ``qkd_key`` is the key fetched with ``offer.key_id``; ``policy`` is the responder's own policy,
    which must equal the offer's (a downgrade is refused).
    """
    from cryptography.hazmat.primitives.asymmetric import mlkem, x25519

    policy = HybridPolicy(policy)
    if offer.policy is not policy:
        raise ParameterError(f"offer.policy = {offer.policy.value!r}: must equal this SAE's policy {policy.value!r}")
    if offer.key_id is None:
        qkd_key = None
    elif qkd_key is None:
        raise InsufficientKeyError(
            f"offer.key_id = {offer.key_id!r}: the initiator used a QKD key, none was delivered here"
        )
    use_qkd, use_pqc = policy.components(qkd_key is not None)
    private = x25519.X25519PrivateKey.generate()
    secrets = [qkd_key] if use_qkd and qkd_key is not None else []
    ciphertext = b""
    if use_pqc:
        shared, ciphertext = mlkem.MLKEM768PublicKey.from_public_bytes(offer.mlkem_encapsulation_key).encapsulate()
        secrets.append(shared)
        secrets.append(private.exchange(x25519.X25519PublicKey.from_public_bytes(offer.x25519_public)))
    answer = Answer(_raw_public(private.public_key()), ciphertext)
    return answer, cat_kdf(secrets, _context(policy, use_qkd, offer, answer))
