"""Polynomial hashing over the binary field GF(2^64), compiled with numba.

A message of ``L`` 64-bit words ``m_1 .. m_L`` hashes to ``((m_1 k + m_2) k + ... + m_L) k`` in
GF(2^64) = GF(2)[x] / (x^64 + x^4 + x^3 + x + 1). Two different messages of at most ``L`` words
collide for at most ``L`` keys ``k`` (a nonzero polynomial of degree ``L`` has at most ``L`` roots),
so the family is ``L / 2^64``-almost-universal; XOR with a one-time pad makes it almost strongly
universal (Wegman-Carter). Multiplication by the fixed key uses eight 256-entry tables.

References
----------
Wegman, M. N. and Carter, J. L., J. Comput. Syst. Sci. 22, 265 (1981), doi:10.1016/0022-0000(81)90033-7.
Shoup, V., "On fast and provably secure message authentication based on universal hashing",
CRYPTO 1996, doi:10.1007/3-540-68697-5_24.
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["WORD_BITS", "bits_to_framed_words", "bytes_to_framed_words", "key_tables", "poly_hash_words"]

#: Bits per field element.
WORD_BITS = 64

_REDUCTION = np.uint64(0x1B)  # x^4 + x^3 + x + 1


@numba.njit(cache=True)
def _key_tables(key: np.uint64) -> np.ndarray:
    powers = np.empty(64, dtype=np.uint64)
    value = np.uint64(key)
    for index in range(64):
        powers[index] = value
        carry = value >> np.uint64(63)
        value = value << np.uint64(1)
        if carry:
            value ^= np.uint64(0x1B)
    tables = np.zeros((8, 256), dtype=np.uint64)
    for byte in range(8):
        for pattern in range(256):
            acc = np.uint64(0)
            for bit in range(8):
                if (pattern >> bit) & 1:
                    acc ^= powers[8 * byte + bit]
            tables[byte, pattern] = acc
    return tables


def key_tables(key: int) -> np.ndarray:
    """Tables ``T[b, v] = key * (v x^(8b))`` used to multiply any field element by ``key``."""
    return _key_tables(np.uint64(key))


@numba.njit(cache=True)
def _times(tables: np.ndarray, value: np.uint64) -> np.uint64:
    acc = np.uint64(0)
    for byte in range(8):
        acc ^= tables[byte, (value >> np.uint64(8 * byte)) & np.uint64(0xFF)]
    return acc


@numba.njit(cache=True)
def _horner(tables: np.ndarray, words: np.ndarray, state: np.uint64) -> np.uint64:
    acc = state
    for index in range(words.size):
        acc = _times(tables, acc ^ words[index])
    return acc


def poly_hash_words(tables: np.ndarray, words: np.ndarray, state: int = 0) -> int:
    """Continue the Horner evaluation from ``state`` over ``words`` (uint64); returns the new state.

    >>> tables = key_tables(0x1234)
    >>> poly_hash_words(tables, np.array([1], dtype=np.uint64)) == 0x1234
    True
    """
    return int(_horner(tables, np.ascontiguousarray(words, dtype=np.uint64), np.uint64(state)))


def bits_to_framed_words(bits: np.ndarray) -> np.ndarray:
    """Pack a 0/1 array into 64-bit words (little-endian, zero padded) followed by its length.

    The trailing length word makes the encoding injective across lengths.
    """
    packed = np.packbits(np.asarray(bits, dtype=np.uint8), bitorder="little")
    padded = np.zeros(-(-packed.size // 8) * 8, dtype=np.uint8)
    padded[: packed.size] = packed
    return np.concatenate([padded.view("<u8").astype(np.uint64), np.array([bits.size], dtype=np.uint64)])


def bytes_to_framed_words(data: bytes) -> np.ndarray:
    """Bytes as 64-bit words (zero padded) followed by the byte length (an injective encoding)."""
    padded = np.zeros(-(-len(data) // 8) * 8, dtype=np.uint8)
    padded[: len(data)] = np.frombuffer(data, dtype=np.uint8)
    return np.concatenate([padded.view("<u8").astype(np.uint64), np.array([len(data)], dtype=np.uint64)])
