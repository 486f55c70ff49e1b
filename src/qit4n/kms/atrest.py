"""Secrets at rest: private files and folders, the state check, and the key-encryption key.

Everything a KMS state folder holds is secret or tied to a secret (link seeds in ``links.json``
and ``kme/*.json``, private keys, key databases and their ``-wal``/``-shm`` files, distilled key
files), so folders are created ``0700`` and files ``0600``. :func:`check_private` walks a state
folder at start and refuses one that other local users can read.

Key material in a KME's database is sealed with AES-256-GCM (:class:`KeySealer`) under a
key-encryption key (KEK) read from a ``0600`` file, the development route, or under a data key
that a PKCS#11 token's key unwraps (:mod:`qit4n.kms.kek`); the associated data binds each sealed
blob to its batch and slave, so a blob moved to another row does not open.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from qit4n.errors import ServiceError

__all__ = ["KEK_BYTES", "KeySealer", "StateModeError", "check_private", "private_dir", "write_private"]

KEK_BYTES = 32
_NONCE_BYTES = 12
_OTHERS = stat.S_IRWXG | stat.S_IRWXO


class StateModeError(ServiceError):
    """A state file or folder that other local users can reach."""


def private_dir(path: Path) -> Path:
    """Create ``path`` and its missing parents with mode 0700; tighten ``path`` if it exists."""
    missing = [folder for folder in (path, *path.parents) if not folder.exists()]
    for folder in reversed(missing):
        folder.mkdir(mode=0o700, exist_ok=True)
        folder.chmod(0o700)
    path.chmod(0o700)
    return path


def write_private(path: Path, data: bytes | str) -> None:
    """Write ``data`` to ``path`` with mode 0600 (the file is never readable by others, not even briefly)."""
    raw = data.encode() if isinstance(data, str) else data
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        os.fchmod(handle.fileno(), 0o600)
        handle.write(raw)


def _mode_error(path: Path, mode: int) -> StateModeError:
    wanted = "0700" if stat.S_ISDIR(mode) else "0600"
    return StateModeError(
        f"{path}: mode {stat.S_IMODE(mode):04o} lets other users read key material; "
        f"refusing to run (expected {wanted}: chmod -R go= {path})"
    )


def check_private(*paths: Path) -> None:
    """Refuse (:class:`StateModeError`) if a path, or anything under a folder among them, is open to
    group or others. Missing paths are skipped, and so are entries that vanish while the folder is
    walked (SQLite's ``-journal`` files come and go while a KME runs); symbolic links are not followed."""
    for root in paths:
        if not root.exists():
            continue
        entries = [root] if not root.is_dir() else [root, *sorted(root.rglob("*"))]
        for entry in entries:
            try:
                mode = entry.lstat().st_mode
            except FileNotFoundError:
                continue
            if stat.S_ISLNK(mode):
                continue
            if mode & _OTHERS:
                raise _mode_error(entry, mode)


class KeySealer:
    """AES-256-GCM sealing of key material under a 32-byte key.

    Parameters
    ----------
    key : bytes
        32 bytes: the KEK of a file (:meth:`from_file`) or a data key unwrapped by a PKCS#11 token
        (:func:`qit4n.kms.kek.open_sealer`).
    """

    def __init__(self, key: bytes) -> None:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        if len(key) != KEK_BYTES:
            raise ServiceError(f"a key-encryption key must be {KEK_BYTES} bytes, found {len(key)}")
        self._aead = AESGCM(key)

    @classmethod
    def from_file(cls, kek_file: Path) -> KeySealer:
        """The sealer of a KEK file (exactly 32 bytes, mode 0600; created with random bytes if missing)."""
        if not kek_file.exists():
            private_dir(kek_file.parent)
            write_private(kek_file, os.urandom(KEK_BYTES))
        check_private(kek_file)
        kek = kek_file.read_bytes()
        if len(kek) != KEK_BYTES:
            raise ServiceError(f"{kek_file}: a key-encryption key must be {KEK_BYTES} bytes, found {len(kek)}")
        return cls(kek)

    def seal(self, material: bytes, *, context: str) -> bytes:
        """Nonce (12 bytes) + ciphertext + tag of ``material``, bound to ``context``."""
        nonce = os.urandom(_NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, material, context.encode())

    def open(self, sealed: bytes, *, context: str) -> bytes:
        """The material sealed by :meth:`seal` under the same ``context``; ServiceError if it was altered."""
        from cryptography.exceptions import InvalidTag

        try:
            return self._aead.decrypt(sealed[:_NONCE_BYTES], sealed[_NONCE_BYTES:], context.encode())
        except InvalidTag:
            raise ServiceError(
                f"sealed key material ({context}): authentication failed (wrong KEK or altered database)"
            ) from None
