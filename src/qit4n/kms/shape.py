"""The shape of a batch of keys: how many, and how long each is in bits (one value, several views).

A key size is held once, in bits; bytes, pool units and the pad layout are derived views, so no
hop re-derives them on its own.

>>> shape = KeyShape(number=3, size_bits=256)
>>> shape.size_bytes, shape.total_bytes, shape.pool_units(unit_bits=128)
(32, 96, 6)
"""

from __future__ import annotations

from dataclasses import dataclass

from qit4n.errors import ParameterError

__all__ = ["KeyShape"]

_BITS_PER_BYTE = 8


@dataclass(frozen=True)
class KeyShape:
    """``number`` keys of ``size_bits`` bits each (a positive multiple of 8).

    Pool units are the link key's units (``unit_bits`` each, a multiple of 8): a key takes
    :meth:`units_per_key` whole units, and uses the first ``size_bytes`` bytes of their pad.
    """

    number: int
    size_bits: int

    def __post_init__(self) -> None:
        if self.number < 1:
            raise ParameterError(f"number = {self.number}: must be >= 1")
        if self.size_bits < _BITS_PER_BYTE or self.size_bits % _BITS_PER_BYTE:
            raise ParameterError(f"size_bits = {self.size_bits}: must be a positive multiple of 8")

    @property
    def size_bytes(self) -> int:
        """Bytes of one key."""
        return self.size_bits // _BITS_PER_BYTE

    @property
    def total_bytes(self) -> int:
        """Bytes of all keys, concatenated."""
        return self.number * self.size_bytes

    def units_per_key(self, *, unit_bits: int) -> int:
        """Pool units of ``unit_bits`` bits that pad one key (rounded up)."""
        return -(-self.size_bits // unit_bits)

    def pool_units(self, *, unit_bits: int) -> int:
        """Pool units that pad all keys."""
        return self.number * self.units_per_key(unit_bits=unit_bits)

    def keys_from_pad(self, pad: bytes, *, unit_bits: int) -> bytes:
        """The keys (concatenated) that the pad of :meth:`pool_units` units yields.

        >>> KeyShape(number=2, size_bits=8).keys_from_pad(b"abcd", unit_bits=16)
        b'ac'
        """
        stride = self.units_per_key(unit_bits=unit_bits) * unit_bits // _BITS_PER_BYTE
        if len(pad) != self.number * stride:
            raise ParameterError(f"pad = {len(pad)} bytes: must be {self.number * stride} for {self}")
        if stride == self.size_bytes:
            return pad
        return b"".join(pad[i * stride : i * stride + self.size_bytes] for i in range(self.number))

    def split(self, keys: bytes) -> list[bytes]:
        """The keys of their concatenation, one by one."""
        if len(keys) != self.total_bytes:
            raise ParameterError(f"keys = {len(keys)} bytes: must be {self.total_bytes} for {self}")
        return [keys[i * self.size_bytes : (i + 1) * self.size_bytes] for i in range(self.number)]
