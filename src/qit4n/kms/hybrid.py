"""Hybrid keys: a QKD key from ETSI GS QKD 014, an ML-KEM-768 secret and an X25519 secret, combined,
in an exchange that each SAE authenticates with its mutual-TLS certificate.

Two SAEs run one and a half round trips. The initiator (master SAE) sends a signed :class:`Offer`
(the QKD key ID, its X25519 public key, its ML-KEM-768 encapsulation key, a nonce and its
certificate); the responder (slave SAE) checks the certificate (issued by the network CA, valid
now, common name = the claimed SAE ID, client authentication) and the signature, and answers with
a signed :class:`Answer` (its X25519 public key, an ML-KEM ciphertext, its certificate) that
carries a key confirmation; the initiator checks them and sends its own confirmation
(:class:`Finished`), which the responder checks before it uses the key. Both feed the secrets that
the :class:`HybridPolicy` asks for into :func:`cat_kdf`: HKDF-SHA256 over the concatenated secrets
(QKD key, ML-KEM secret, X25519 secret, in that order), with a context that hashes the policy,
whether the QKD key is used, the key ID, both SAE IDs, both certificates, both nonces and every
public value, in the manner of the CatKDF of ETSI TS 103 744. The first 32 bytes are the hybrid
key, the next 32 the confirmation key (HMAC-SHA256 over the transcript hash and the role).

What this stops: an SAE without a certificate of the network CA cannot complete an exchange under
any policy (:class:`HybridAuthenticationError`), and neither can one whose certificate names
another SAE. Each signature covers every field its sender sent and saw, so removing the QKD share
(``key_ID``) or changing the policy, a public key or a ciphertext fails a signature, and the
confirmations fail too because the two sides' contexts differ: a downgrade from ``both`` (or
``either`` with a QKD key) to one share is noticed by the peer. Under ``qkd``, ``both`` and
``either`` with a QKD key, the confirmations are also keyed by the QKD key, which only the two
SAEs' KMEs deliver, so the exchange stays authenticated even against an attacker who can forge the
classical (ECDSA) signatures. The result stays secret while at least one combined secret does.

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
H. Krawczyk, SIGMA, CRYPTO 2003, doi:10.1007/978-3-540-45146-4_24 (sign the transcript, MAC the identities).
NIST FIPS 203 (2024), ML-KEM. RFC 7748 (2016), X25519. RFC 5869 (2010), HKDF. RFC 2104 (1997), HMAC.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as _dt
import hashlib
import hmac
import json
import os
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qit4n.errors import InsufficientKeyError, ParameterError, ServiceError

if TYPE_CHECKING:
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes

__all__ = [
    "HYBRID_KEY_BYTES",
    "Answer",
    "Finished",
    "HybridAuthenticationError",
    "HybridPolicy",
    "Initiator",
    "Offer",
    "Responder",
    "SAEIdentity",
    "cat_kdf",
]

HYBRID_KEY_BYTES = 32
_NONCE_BYTES = 32
_LABEL = b"qit4n hybrid key v2"


class HybridAuthenticationError(ServiceError):
    """A hybrid exchange message that fails authentication: certificate, signature or confirmation."""


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


def _hash(*parts: bytes) -> bytes:
    return hashlib.sha256(b"".join(_field(part) for part in parts)).digest()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(data: dict[str, Any], name: str) -> bytes:
    try:
        return base64.b64decode(data[name], validate=True)
    except (KeyError, TypeError, ValueError) as error:
        raise HybridAuthenticationError(f"{name}: missing or not base64 ({error})") from None


def _sign(key: CertificateIssuerPrivateKeyTypes, data: bytes) -> bytes:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519

    if isinstance(key, ec.EllipticCurvePrivateKey):
        return key.sign(data, ec.ECDSA(hashes.SHA256()))
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return key.sign(data)
    raise ParameterError(f"SAE key type {type(key).__name__}: must be ECDSA or Ed25519")


def _verify_signature(public: object, signature: bytes, data: bytes) -> bool:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519

    try:
        if isinstance(public, ec.EllipticCurvePublicKey):
            public.verify(signature, data, ec.ECDSA(hashes.SHA256()))
        elif isinstance(public, ed25519.Ed25519PublicKey):
            public.verify(signature, data)
        else:
            return False
    except InvalidSignature:
        return False
    return True


@dataclasses.dataclass(frozen=True)
class SAEIdentity:
    """What an SAE presents in mutual TLS: its certificate (PEM), private key, the network CA, and
    optionally the CA's revocation list.

    The hybrid exchange signs with the same key, so the peer authenticates the same identity the
    KMEs do. Build it with :meth:`from_files` (the paths ``qit4n kms certs`` writes).
    """

    sae_id: str
    certificate_pem: bytes
    private_key: CertificateIssuerPrivateKeyTypes
    ca: x509.Certificate
    crl: x509.CertificateRevocationList | None = None

    @classmethod
    def from_files(cls, cert: Path, key: Path, ca: Path, crl: Path | None = None) -> SAEIdentity:
        """Load an SAE's certificate, key and CA certificate (PEM files), and the CA's CRL if given;
        the SAE ID is the certificate's common name."""
        from cryptography import x509
        from cryptography.hazmat.primitives import serialization
        from cryptography.x509.oid import NameOID

        certificate = x509.load_pem_x509_certificate(cert.read_bytes())
        names = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        if not names:
            raise ParameterError(f"{cert}: the certificate has no common name (the SAE ID)")
        private_key = serialization.load_pem_private_key(key.read_bytes(), password=None)
        authority = x509.load_pem_x509_certificate(ca.read_bytes())
        revoked = None if crl is None else x509.load_pem_x509_crl(crl.read_bytes())
        if revoked is not None and not revoked.is_signature_valid(authority.public_key()):  # type: ignore[arg-type]
            raise ParameterError(f"{crl}: the CRL is not signed by the CA of {ca}")
        return cls(
            str(names[0].value),
            certificate.public_bytes(serialization.Encoding.PEM),
            private_key,  # type: ignore[arg-type]
            authority,
            revoked,
        )

    def sign(self, data: bytes) -> bytes:
        """Signature of ``data`` with this SAE's key (ECDSA P-256 with SHA-256, or Ed25519)."""
        return _sign(self.private_key, data)

    def check_peer(self, certificate_pem: bytes, signature: bytes, data: bytes, *, peer_sae_id: str) -> None:
        """Raise :class:`HybridAuthenticationError` unless ``certificate_pem`` is a valid client
        certificate of the network CA for ``peer_sae_id``, not revoked by :attr:`crl` when one is
        loaded, and ``signature`` signs ``data`` with it."""
        from cryptography import x509
        from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

        try:
            certificate = x509.load_pem_x509_certificate(certificate_pem)
            certificate.verify_directly_issued_by(self.ca)
        except (ValueError, TypeError) as error:
            raise HybridAuthenticationError(
                f"{peer_sae_id}: certificate not issued by this network's CA ({error})"
            ) from None
        except Exception as error:  # noqa: BLE001 - InvalidSignature and friends from cryptography
            raise HybridAuthenticationError(
                f"{peer_sae_id}: certificate not issued by this network's CA ({type(error).__name__})"
            ) from None
        now = _dt.datetime.now(_dt.UTC)
        if not certificate.not_valid_before_utc <= now <= certificate.not_valid_after_utc:
            raise HybridAuthenticationError(f"{peer_sae_id}: certificate not valid now")
        if self.crl is not None and self.crl.get_revoked_certificate_by_serial_number(certificate.serial_number):
            raise HybridAuthenticationError(
                f"{peer_sae_id}: certificate revoked (serial {certificate.serial_number:x})"
            )
        names = [str(name.value) for name in certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
        if names != [peer_sae_id]:
            raise HybridAuthenticationError(f"certificate names {names}, the message claims {peer_sae_id!r}")
        try:
            usages = certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        except x509.ExtensionNotFound:
            usages = None
        if usages is None or ExtendedKeyUsageOID.CLIENT_AUTH not in usages:
            raise HybridAuthenticationError(f"{peer_sae_id}: certificate not valid for client authentication")
        if not _verify_signature(certificate.public_key(), signature, data):
            raise HybridAuthenticationError(f"{peer_sae_id}: signature does not verify (message altered or forged)")


@dataclasses.dataclass(frozen=True)
class Offer:
    """Initiator -> responder: QKD key ID (or None), SAE IDs, policy, X25519 and ML-KEM-768 public
    keys, a nonce, the master's certificate and its signature over all of them."""

    key_id: str | None
    master_sae_id: str
    slave_sae_id: str
    policy: HybridPolicy
    x25519_public: bytes
    mlkem_encapsulation_key: bytes
    nonce: bytes
    certificate_pem: bytes
    signature: bytes = b""

    def transcript(self) -> bytes:
        """Hash of every field but the signature (what the master signs)."""
        return _hash(
            _LABEL + b" offer",
            self.policy.value.encode(),
            b"-" if self.key_id is None else b"K" + self.key_id.encode(),
            self.master_sae_id.encode(),
            self.slave_sae_id.encode(),
            self.x25519_public,
            self.mlkem_encapsulation_key,
            self.nonce,
            self.certificate_pem,
        )

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
                "nonce": _b64(self.nonce),
                "certificate": self.certificate_pem.decode("ascii"),
                "signature": _b64(self.signature),
            }
        )

    @classmethod
    def from_json(cls, text: str) -> Offer:
        """Parse :meth:`to_json` output (:class:`HybridAuthenticationError` if a field is missing)."""
        data = json.loads(text)
        try:
            return cls(
                data["key_ID"],
                data["master_SAE_ID"],
                data["slave_SAE_ID"],
                HybridPolicy(data["policy"]),
                _unb64(data, "x25519_public"),
                _unb64(data, "mlkem_encapsulation_key"),
                _unb64(data, "nonce"),
                str(data["certificate"]).encode("ascii"),
                _unb64(data, "signature"),
            )
        except (KeyError, ValueError) as error:
            raise HybridAuthenticationError(f"offer: missing or bad field ({error})") from None


@dataclasses.dataclass(frozen=True)
class Answer:
    """Responder -> initiator: X25519 public key, ML-KEM-768 ciphertext, nonce, the slave's
    certificate, its signature over the offer and the answer, and its key confirmation."""

    x25519_public: bytes
    mlkem_ciphertext: bytes
    nonce: bytes
    certificate_pem: bytes
    signature: bytes = b""
    confirmation: bytes = b""

    def transcript(self, offer: Offer) -> bytes:
        """Hash of the offer (its signature included) and every answer field the slave signs."""
        return _hash(
            _LABEL + b" answer",
            offer.transcript(),
            offer.signature,
            self.x25519_public,
            self.mlkem_ciphertext,
            self.nonce,
            self.certificate_pem,
        )

    def to_json(self) -> str:
        """Wire form (JSON, binary fields base64)."""
        return json.dumps(
            {
                "x25519_public": _b64(self.x25519_public),
                "mlkem_ciphertext": _b64(self.mlkem_ciphertext),
                "nonce": _b64(self.nonce),
                "certificate": self.certificate_pem.decode("ascii"),
                "signature": _b64(self.signature),
                "confirmation": _b64(self.confirmation),
            }
        )

    @classmethod
    def from_json(cls, text: str) -> Answer:
        """Parse :meth:`to_json` output (:class:`HybridAuthenticationError` if a field is missing)."""
        data = json.loads(text)
        try:
            return cls(
                _unb64(data, "x25519_public"),
                _unb64(data, "mlkem_ciphertext"),
                _unb64(data, "nonce"),
                str(data["certificate"]).encode("ascii"),
                _unb64(data, "signature"),
                _unb64(data, "confirmation"),
            )
        except KeyError as error:
            raise HybridAuthenticationError(f"answer: missing field {error}") from None


@dataclasses.dataclass(frozen=True)
class Finished:
    """Initiator -> responder: the initiator's key confirmation (the responder uses the key only after it)."""

    confirmation: bytes

    def to_json(self) -> str:
        """Wire form (JSON, base64)."""
        return json.dumps({"confirmation": _b64(self.confirmation)})

    @classmethod
    def from_json(cls, text: str) -> Finished:
        """Parse :meth:`to_json` output."""
        return cls(_unb64(json.loads(text), "confirmation"))


def _keys(secrets: list[bytes], policy: HybridPolicy, use_qkd: bool, transcript: bytes) -> tuple[bytes, bytes]:
    """(hybrid key, confirmation key) from the secrets and the signed transcript."""
    context = _hash(_LABEL, policy.value.encode(), b"Q" if use_qkd else b"-", transcript)
    material = cat_kdf(secrets, context, 2 * HYBRID_KEY_BYTES)
    return material[:HYBRID_KEY_BYTES], material[HYBRID_KEY_BYTES:]


def _confirmation(confirm_key: bytes, role: bytes, transcript: bytes) -> bytes:
    return hmac.new(confirm_key, role + transcript, hashlib.sha256).digest()


class Initiator:
    """The master SAE's side: holds its ephemeral X25519 and ML-KEM-768 private keys.

    Parameters
    ----------
    identity : SAEIdentity
        The master SAE's certificate and key (the ones it uses towards its KME).
    slave_sae_id : str
    qkd_key : bytes or None
        The key that Get key returned (None when the policy allows PQC alone).
    key_id : str or None
        Its key_ID, sent to the responder so it can fetch the same key (Get key with key IDs).
    policy : HybridPolicy
    """

    def __init__(
        self,
        identity: SAEIdentity,
        slave_sae_id: str,
        *,
        qkd_key: bytes | None,
        key_id: str | None,
        policy: HybridPolicy,
    ) -> None:
        from cryptography.hazmat.primitives.asymmetric import mlkem, x25519

        self.identity = identity
        self.policy = HybridPolicy(policy)
        self._use_qkd, self._use_pqc = self.policy.components(qkd_key is not None)
        self._qkd_key = qkd_key
        self._x25519 = x25519.X25519PrivateKey.generate()
        self._mlkem = mlkem.MLKEM768PrivateKey.generate()
        unsigned = Offer(
            key_id if self._use_qkd else None,
            identity.sae_id,
            slave_sae_id,
            self.policy,
            self._x25519.public_key().public_bytes_raw(),
            self._mlkem.public_key().public_bytes_raw(),
            os.urandom(_NONCE_BYTES),
            identity.certificate_pem,
        )
        self.offer = dataclasses.replace(unsigned, signature=identity.sign(unsigned.transcript()))

    def finish(self, answer: Answer) -> tuple[bytes, Finished]:
        """Check the responder's certificate, signature and confirmation; (hybrid key, :class:`Finished`).

        Raises :class:`HybridAuthenticationError` if any check fails: the key must not be used.
        """
        from cryptography.hazmat.primitives.asymmetric import x25519

        transcript = answer.transcript(self.offer)
        self.identity.check_peer(
            answer.certificate_pem, answer.signature, transcript, peer_sae_id=self.offer.slave_sae_id
        )
        secrets = [self._qkd_key] if self._use_qkd and self._qkd_key is not None else []
        if self._use_pqc:
            try:
                secrets.append(self._mlkem.decapsulate(answer.mlkem_ciphertext))
                peer = x25519.X25519PublicKey.from_public_bytes(answer.x25519_public)
                secrets.append(self._x25519.exchange(peer))
            except ValueError as error:
                raise HybridAuthenticationError(f"answer: bad public value ({error})") from None
        key, confirm_key = _keys(secrets, self.policy, self._use_qkd, transcript)
        if not hmac.compare_digest(answer.confirmation, _confirmation(confirm_key, b"responder", transcript)):
            raise HybridAuthenticationError(
                f"{self.offer.slave_sae_id}: key confirmation fails (the two sides hold different secrets or "
                "transcripts: a changed message or a different QKD key)"
            )
        return key, Finished(_confirmation(confirm_key, b"initiator", transcript))


class Responder:
    """The slave SAE's side of one exchange: checks the offer and answers it.

    Parameters
    ----------
    identity : SAEIdentity
        The slave SAE's certificate and key.
    offer : Offer
    qkd_key : bytes or None
        The key fetched with ``offer.key_id`` (Get key with key IDs, for ``offer.master_sae_id``).
    policy : HybridPolicy
        This SAE's own policy; it must equal the offer's (a downgrade is refused).

    Raises
    ------
    HybridAuthenticationError
        The offer is not signed by a certificate of the network CA for ``offer.master_sae_id``, or
        is meant for another SAE.
    """

    def __init__(self, identity: SAEIdentity, offer: Offer, *, qkd_key: bytes | None, policy: HybridPolicy) -> None:
        from cryptography.hazmat.primitives.asymmetric import mlkem, x25519

        identity.check_peer(offer.certificate_pem, offer.signature, offer.transcript(), peer_sae_id=offer.master_sae_id)
        if offer.slave_sae_id != identity.sae_id:
            raise HybridAuthenticationError(
                f"offer.slave_SAE_ID = {offer.slave_sae_id!r}: this SAE is {identity.sae_id!r}"
            )
        policy = HybridPolicy(policy)
        if offer.policy is not policy:
            raise ParameterError(
                f"offer.policy = {offer.policy.value!r}: must equal this SAE's policy {policy.value!r}"
            )
        if offer.key_id is None:
            qkd_key = None
        elif qkd_key is None:
            raise InsufficientKeyError(
                f"offer.key_id = {offer.key_id!r}: the initiator used a QKD key, none was delivered here"
            )
        self.peer_sae_id = offer.master_sae_id
        use_qkd, use_pqc = policy.components(qkd_key is not None)
        private = x25519.X25519PrivateKey.generate()
        secrets = [qkd_key] if use_qkd and qkd_key is not None else []
        ciphertext = b""
        if use_pqc:
            try:
                encapsulation_key = mlkem.MLKEM768PublicKey.from_public_bytes(offer.mlkem_encapsulation_key)
                shared, ciphertext = encapsulation_key.encapsulate()
                secrets.append(shared)
                secrets.append(private.exchange(x25519.X25519PublicKey.from_public_bytes(offer.x25519_public)))
            except ValueError as error:
                raise HybridAuthenticationError(f"offer: bad public value ({error})") from None
        unsigned = Answer(
            private.public_key().public_bytes_raw(), ciphertext, os.urandom(_NONCE_BYTES), identity.certificate_pem
        )
        transcript = unsigned.transcript(offer)
        self._key, confirm_key = _keys(secrets, policy, use_qkd, transcript)
        self._expected = _confirmation(confirm_key, b"initiator", transcript)
        self.answer = Answer(
            unsigned.x25519_public,
            unsigned.mlkem_ciphertext,
            unsigned.nonce,
            unsigned.certificate_pem,
            identity.sign(transcript),
            _confirmation(confirm_key, b"responder", transcript),
        )

    def finish(self, finished: Finished) -> bytes:
        """The hybrid key, once the initiator's confirmation checks; :class:`HybridAuthenticationError` if not."""
        if not hmac.compare_digest(finished.confirmation, self._expected):
            raise HybridAuthenticationError(f"{self.peer_sae_id}: key confirmation fails; the key must not be used")
        return self._key
