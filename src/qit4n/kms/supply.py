"""Key supply of the QKD links: identical key units with identical IDs at both ends of a link.

A link's key is a stream of *units* (``unit_bits`` each) numbered 0, 1, 2, ...; the unit's index on
its link is its ID, the same at both KMEs. :class:`KeySupply` is the interface, with two
implementations. :class:`SeededLinkSupply` (the default, ``--supply modelled``) models the link:
the units are the ChaCha20 keystream under a 256-bit secret drawn from ``os.urandom`` and shared by
the two ends, so both ends produce the same units without talking to each other.
:class:`LinkFiller` releases its units into a KME's pool at the link's key rate, up to the pool
capacity, and never releases an index twice. ``--supply emulated`` serves key distilled by the
emulator and post-processing stack instead (:mod:`qit4n.kms.emulated_supply`).

References
----------
ITU-T Y.3803 (2020), key management for QKD networks (key supply from the QKD module).
D. J. Bernstein, ChaCha, a variant of Salsa20 (2008); RFC 8439.
"""

from __future__ import annotations

import os
from typing import Protocol

__all__ = ["KeySupply", "LinkFiller", "SeededLinkSupply", "new_link_secret"]

_CHACHA_BLOCK_BYTES = 64
_COUNTER_SPAN = 1 << 32


def new_link_secret() -> str:
    """A fresh 256-bit link secret (hex) from the operating system's CSPRNG."""
    return os.urandom(32).hex()


class KeySupply(Protocol):
    """A source of key units that yields the same units at both ends of one link."""

    unit_bytes: int

    def units(self, start: int, count: int) -> list[bytes]:
        """Units ``start .. start+count-1`` (each ``unit_bytes`` long)."""
        ...


class SeededLinkSupply:
    """Modelled QKD key: unit ``n`` is bytes ``[n*u, (n+1)*u)`` of the ChaCha20 keystream.

    >>> a = SeededLinkSupply("11" * 32, unit_bytes=32)
    >>> b = SeededLinkSupply("11" * 32, unit_bytes=32)
    >>> a.units(5, 3) == b.units(5, 3) and a.units(6, 1)[0] == b.units(5, 3)[1]
    True
    """

    def __init__(self, secret_hex: str, *, unit_bytes: int) -> None:
        self._secret = bytes.fromhex(secret_hex)
        self.unit_bytes = unit_bytes

    def _keystream(self, offset: int, length: int) -> bytes:
        from cryptography.hazmat.primitives.ciphers import Cipher, algorithms

        out = bytearray()
        while length > 0:
            block = offset // _CHACHA_BLOCK_BYTES
            skip = offset % _CHACHA_BLOCK_BYTES
            room = (_COUNTER_SPAN - block % _COUNTER_SPAN) * _CHACHA_BLOCK_BYTES - skip
            take = min(length, room)
            nonce = (block % _COUNTER_SPAN).to_bytes(4, "little") + (block // _COUNTER_SPAN).to_bytes(12, "little")
            encryptor = Cipher(algorithms.ChaCha20(self._secret, nonce), mode=None).encryptor()
            out += encryptor.update(bytes(skip + take))[skip:]
            offset += take
            length -= take
        return bytes(out)

    def units(self, start: int, count: int) -> list[bytes]:
        """Units ``start .. start+count-1``."""
        size = self.unit_bytes
        stream = self._keystream(start * size, count * size)
        return [stream[i * size : (i + 1) * size] for i in range(count)]


class LinkFiller:
    """Releases a link's units into one KME's store at ``key_rate_bps``, up to the pool capacity.

    Parameters
    ----------
    link_id : str
    supply : KeySupply
    key_rate_bps : float
        Secret key rate of the link (bit/s).
    capacity_bits : float
        Pool capacity at this end (bits); the link drops key while the pool is full.
    """

    def __init__(self, link_id: str, supply: KeySupply, *, key_rate_bps: float, capacity_bits: float) -> None:
        self.link_id = link_id
        self.supply = supply
        self.key_rate_bps = key_rate_bps
        self.capacity_units = int(capacity_bits // (8 * supply.unit_bytes))
        self._credit_units = 0.0

    def tick(self, store, elapsed_s: float) -> int:
        """Add the units due after ``elapsed_s`` seconds of key generation; returns how many.

        Side effect: records the units in ``store`` (a :class:`~qit4n.kms.store.KeyStore`).
        """
        self._credit_units += elapsed_s * self.key_rate_bps / (8 * self.supply.unit_bytes)
        due = int(self._credit_units)
        if due <= 0:
            return 0
        self._credit_units -= due
        room = self.capacity_units - store.unit_count(self.link_id)
        count = min(due, max(room, 0))
        if count > 0:
            store.supply_units(self.link_id, count)
        return count
