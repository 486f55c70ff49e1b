"""Bit arrays: correlated key pairs with an exact error count, and conversions to big integers.

Keys are numpy ``uint8`` arrays holding 0 or 1, one bit per element; big-integer hashing packs them
little-endian (bit ``i`` of the array is bit ``i`` of the integer).
"""

from __future__ import annotations

import numpy as np

from qit4n.errors import ParameterError

__all__ = ["bits_to_int", "count_errors", "int_to_bits", "noisy_copy", "random_bits"]


def random_bits(num_bits: int, rng: np.random.Generator) -> np.ndarray:
    """``num_bits`` uniform random bits (uint8 0/1), drawn from whole random bytes.

    >>> random_bits(10, np.random.default_rng(1)).shape
    (10,)
    """
    if num_bits < 0:
        raise ParameterError(f"num_bits = {num_bits}: must be >= 0")
    raw = np.frombuffer(rng.bytes((num_bits + 7) // 8), dtype=np.uint8)
    return np.unpackbits(raw, bitorder="little")[:num_bits].copy()


def noisy_copy(key: np.ndarray, qber: float, rng: np.random.Generator, *, exact: bool = True) -> np.ndarray:
    """A copy of ``key`` with errors: exactly ``round(qber * n)`` flipped bits when ``exact``,
    otherwise independent flips with probability ``qber`` (a binary symmetric channel).

    >>> key = random_bits(1000, np.random.default_rng(2))
    >>> int(count_errors(key, noisy_copy(key, 0.02, np.random.default_rng(3))))
    20
    """
    if not 0.0 <= qber <= 0.5:
        raise ParameterError(f"qber = {qber}: must be in [0, 0.5]")
    noisy = key.copy()
    if exact:
        flips = rng.choice(key.size, size=int(round(qber * key.size)), replace=False)
        noisy[flips] ^= 1
    else:
        noisy ^= (rng.random(key.size) < qber).astype(np.uint8)
    return noisy


def count_errors(first: np.ndarray, second: np.ndarray) -> int:
    """Number of positions where two bit arrays differ."""
    return int(np.count_nonzero(first != second))


def bits_to_int(bits: np.ndarray) -> int:
    """The integer whose binary digits (least significant first) are ``bits``.

    >>> bits_to_int(np.array([1, 0, 1], dtype=np.uint8))
    5
    """
    packed = np.packbits(np.asarray(bits, dtype=np.uint8), bitorder="little")
    return int.from_bytes(packed.tobytes(), "little")


def int_to_bits(value: int, num_bits: int) -> np.ndarray:
    """The ``num_bits`` least significant bits of ``value`` as a uint8 array (inverse of :func:`bits_to_int`).

    >>> int_to_bits(5, 4).tolist()
    [1, 0, 1, 0]
    """
    num_bytes = (num_bits + 7) // 8
    raw = np.frombuffer(int(value % (1 << (8 * num_bytes))).to_bytes(num_bytes, "little"), dtype=np.uint8)
    return np.unpackbits(raw, bitorder="little")[:num_bits].copy()
