"""Where a KME's key-encryption key comes from: a ``0600`` file, or a PKCS#11 token.

:func:`open_sealer` is the one front door: ``kek: file`` seals the stored keys under the 32 bytes
of ``kek_file`` (the development route, :meth:`~qit4n.kms.atrest.KeySealer.from_file`);
``kek: pkcs11`` keeps the key-encryption key on a token and never takes it out.

PKCS#11 route (envelope encryption). The token holds an AES-256 key (label ``key_label``,
default ``qit4n-kek-KME_ID``) that is sensitive and not extractable: its value never leaves the
token, and a key that could leave it is refused. The KME's store is sealed under a random 32-byte
data key; ``kek_file`` holds only that data key encrypted *inside the token* with AES-GCM
(``CKM_AES_GCM``) under the token's key, bound to the KME ID by the associated data. At start the
KME logs in with the user PIN, has the token decrypt the data key, and logs out: the token is
needed to start, the files alone (database, WAL, ``kek_file``) open nothing. The token's key is
created (in the token) on first use when the label is free. One token call per start, rather
than one per sealed key, keeps a network HSM's latency out of every key request.

The PIN comes from an environment variable or a ``0600`` file; it is never logged or echoed.
A wrong PIN, a missing token or library, or an altered ``kek_file`` is a :class:`KekError`
(``ServiceError``): one line naming the setting, and exit status 2 from the KME process.

References
----------
OASIS PKCS #11 Cryptographic Token Interface Base Specification Version 3.0 (2020), clause 2.13
(``CKM_AES_GCM``, ``CK_GCM_PARAMS``) and clause 4.9 (``CKA_SENSITIVE``, ``CKA_EXTRACTABLE``).
NIST SP 800-38D (2007): GCM.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, cast

from qit4n.errors import ServiceError
from qit4n.kms.atrest import KEK_BYTES, KeySealer, check_private, private_dir, write_private
from qit4n.kms.config import KMEConfig, Pkcs11Kek

if TYPE_CHECKING:
    from pkcs11 import Session

__all__ = ["WRAPPED_FORMAT", "KekError", "default_key_label", "open_sealer", "read_pin", "token_data_key"]

#: ``format`` of a ``kek_file`` that holds a data key wrapped by a PKCS#11 token.
WRAPPED_FORMAT = "qit4n-pkcs11-wrapped-data-key/1"
_NONCE_BYTES = 12
_TAG_BITS = 128


class _TokenKey(Protocol):
    """What this module uses of a python-pkcs11 AES key (its stubs leave out the encrypt/decrypt mix-ins)."""

    label: str

    def encrypt(self, data: bytes, *, mechanism: Any, mechanism_param: Any) -> bytes: ...

    def decrypt(self, data: bytes, *, mechanism: Any, mechanism_param: Any) -> bytes: ...


class KekError(ServiceError):
    """The key-encryption key cannot be had (wrong PIN, no token, altered key file ...)."""


def default_key_label(kme_id: str) -> str:
    """Label of a KME's key on the token when ``key_label`` is not set.

    >>> default_key_label("KME-A")
    'qit4n-kek-KME-A'
    """
    return f"qit4n-kek-{kme_id}"


def open_sealer(config: KMEConfig) -> KeySealer:
    """The sealer of a KME's stored keys, from its ``kek`` source (module docstring)."""
    kek_file = config.kek_file or config.database.with_name(config.database.name + ".kek")
    if config.pkcs11 is None:
        return KeySealer.from_file(kek_file)
    return KeySealer(token_data_key(config.pkcs11, kek_file, kme_id=config.kme_id))


def read_pin(settings: Pkcs11Kek) -> str:
    """The user PIN from ``pin_env`` or ``pin_file`` (which must be private); KekError if missing."""
    path = settings.pin_file
    if path is None:  # then pin_env is set (Pkcs11Kek's validator)
        pin = os.environ.get(str(settings.pin_env))
        if not pin:
            raise KekError(f"pkcs11.pin_env = {settings.pin_env!r}: the environment variable is not set")
        return pin
    if not path.is_file():
        raise KekError(f"pkcs11.pin_file = '{path}': no such file")
    check_private(path)
    pin = path.read_text().strip()
    if not pin:
        raise KekError(f"pkcs11.pin_file = '{path}': the file is empty")
    return pin


def token_data_key(settings: Pkcs11Kek, wrapped_file: Path, *, kme_id: str) -> bytes:
    """The store's data key, unwrapped by the token's key (created wrapped in ``wrapped_file`` if missing)."""
    try:
        import pkcs11
        from pkcs11 import exceptions
    except ImportError:
        raise KekError("kek = 'pkcs11' needs the python-pkcs11 package: pip install 'qit4n[kms]'") from None
    pin = read_pin(settings)
    try:
        library = pkcs11.lib(str(settings.module))
    except RuntimeError as error:
        raise KekError(f"pkcs11.module = '{settings.module}': cannot load the PKCS#11 library ({error})") from None
    try:
        token = library.get_token(token_label=settings.token_label)
    except exceptions.NoSuchToken:
        labels = sorted({slot.get_token().label for slot in library.get_slots(token_present=True)} - {""})
        raise KekError(
            f"pkcs11.token_label = {settings.token_label!r}: no such token in {settings.module} "
            f"(tokens: {', '.join(labels) or 'none'})"
        ) from None
    except exceptions.MultipleTokensReturned:
        raise KekError(f"pkcs11.token_label = {settings.token_label!r}: several tokens carry this label") from None
    try:
        with token.open(user_pin=pin, rw=True) as session:
            key = _token_key(session, settings.key_label or default_key_label(kme_id), settings)
            return _data_key(key, wrapped_file, kme_id=kme_id, settings=settings)
    except exceptions.PinIncorrect:
        raise KekError(
            f"pkcs11: token {settings.token_label!r} refused the user PIN from {_pin_source(settings)} (wrong PIN)"
        ) from None
    except exceptions.PinLocked:
        raise KekError(f"pkcs11: the user PIN of token {settings.token_label!r} is locked") from None
    except exceptions.PKCS11Error as error:
        raise KekError(f"pkcs11: token {settings.token_label!r}: {type(error).__name__} {error}".rstrip()) from None


def _pin_source(settings: Pkcs11Kek) -> str:
    return f"${settings.pin_env}" if settings.pin_env is not None else f"pin_file '{settings.pin_file}'"


def _token_key(session: Session, label: str, settings: Pkcs11Kek) -> _TokenKey:
    """The token's AES key ``label``, created (sensitive, not extractable) if no object has the label."""
    from pkcs11 import Attribute, KeyType, Mechanism, ObjectClass

    if Mechanism.AES_GCM not in session.token.slot.get_mechanisms():
        raise KekError(f"pkcs11.token_label = {settings.token_label!r}: the token does not offer CKM_AES_GCM")
    found = list(session.get_objects({Attribute.CLASS: ObjectClass.SECRET_KEY, Attribute.LABEL: label}))
    if len(found) > 1:
        raise KekError(f"pkcs11.key_label = {label!r}: {len(found)} keys on the token carry this label; keep one")
    if not found:
        template = {
            Attribute.SENSITIVE: True,
            Attribute.EXTRACTABLE: False,
            Attribute.PRIVATE: True,
            Attribute.WRAP: False,
            Attribute.UNWRAP: False,
        }
        return cast(
            _TokenKey, session.generate_key(KeyType.AES, 8 * KEK_BYTES, label=label, store=True, template=template)
        )
    key = found[0]
    if key[Attribute.KEY_TYPE] != KeyType.AES:
        raise KekError(f"pkcs11.key_label = {label!r}: an AES key is needed, found {key[Attribute.KEY_TYPE]!r}")
    if not key[Attribute.SENSITIVE] or key[Attribute.EXTRACTABLE]:
        raise KekError(
            f"pkcs11.key_label = {label!r}: the key could leave the token (CKA_SENSITIVE must be true and "
            "CKA_EXTRACTABLE false); create a key that cannot"
        )
    return cast(_TokenKey, key)


def _data_key(key: _TokenKey, wrapped_file: Path, *, kme_id: str, settings: Pkcs11Kek) -> bytes:
    """Decrypt the data key of ``wrapped_file`` in the token; make and wrap a new one if the file is missing."""
    from pkcs11 import Mechanism
    from pkcs11 import exceptions as p11
    from pkcs11.mechanisms import GCMParams

    aad = f"{WRAPPED_FORMAT}/{kme_id}".encode()
    if not wrapped_file.exists():
        data_key, nonce = os.urandom(KEK_BYTES), os.urandom(_NONCE_BYTES)
        wrapped = key.encrypt(data_key, mechanism=Mechanism.AES_GCM, mechanism_param=GCMParams(nonce, aad, _TAG_BITS))
        record = {"format": WRAPPED_FORMAT, "kme_id": kme_id, "token_label": settings.token_label}
        record |= {"key_label": key.label, "nonce": nonce.hex(), "wrapped": bytes(wrapped).hex()}
        private_dir(wrapped_file.parent)
        write_private(wrapped_file, json.dumps(record, indent=1))
        return data_key
    check_private(wrapped_file)
    record = _read_wrapped(wrapped_file)
    try:
        data_key = key.decrypt(
            bytes.fromhex(record["wrapped"]),
            mechanism=Mechanism.AES_GCM,
            mechanism_param=GCMParams(bytes.fromhex(record["nonce"]), aad, _TAG_BITS),
        )
    except p11.PKCS11Error:
        raise KekError(
            f"{wrapped_file}: token key {key.label!r} cannot unwrap this data key "
            f"(wrapped by key {record.get('key_label')!r} of token {record.get('token_label')!r} for "
            f"{record.get('kme_id')!r}, or altered)"
        ) from None
    if len(data_key) != KEK_BYTES:
        raise KekError(f"{wrapped_file}: the unwrapped data key has {len(data_key)} bytes, expected {KEK_BYTES}")
    return bytes(data_key)


def _read_wrapped(wrapped_file: Path) -> dict[str, Any]:
    raw = wrapped_file.read_bytes()
    try:
        record: dict[str, Any] = json.loads(raw)
        if record.get("format") != WRAPPED_FORMAT:
            raise ValueError(record.get("format"))
        bytes.fromhex(record["nonce"]), bytes.fromhex(record["wrapped"])
    except (ValueError, KeyError, TypeError, AttributeError):
        kind = "a raw key-encryption key (kek: file)" if len(raw) == KEK_BYTES else "not a wrapped data key"
        raise KekError(
            f"{wrapped_file}: {kind}; with kek = 'pkcs11' this file must hold the data key wrapped by the token "
            "(use a new kek_file, or kek = 'file')"
        ) from None
    return record
