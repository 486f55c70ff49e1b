"""Privacy amplification with two-universal hash families, computed as fast polynomial products.

* Toeplitz hashing: ``y = T x`` over GF(2) with an ``m x n`` Toeplitz matrix given by ``n + m - 1``
  seed bits. The product is a window of the carry-less (GF(2)[x]) product of the key and seed
  polynomials, computed in O(n log n) by :func:`qit4n.postprocess.gf2_polynomial.multiply`
  (additive FFT over GF(2^64) on the processor's carry-less multiply instruction, or portable
  shift-and-XOR kernels where it is missing), never as a dense product.
* Modular hashing: ``h(x) = ((a x + b) mod p) mod 2^m`` with the Mersenne prime ``p = 2^k - 1``
  (``k`` the smallest Mersenne exponent above ``n``) and ``a, b`` uniform. Carter and Wegman's
  argument gives collision probability at most ``2^-m``; reduction modulo ``2^k - 1`` is a shift
  and an addition, so the cost is one GMP multiplication.

References
----------
Carter, J. L. and Wegman, M. N., J. Comput. Syst. Sci. 18, 143 (1979), doi:10.1016/0022-0000(79)90044-8.
Krawczyk, H., CRYPTO '94, LNCS 839, 129 (1994), doi:10.1007/3-540-48658-5_15 (Toeplitz hashing).
Bennett, C. H., Brassard, G., Crepeau, C. and Maurer, U. M., IEEE Trans. Inf. Theory 41, 1915 (1995),
doi:10.1109/18.476316 (privacy amplification).
Tang, B.-Y. et al., Sci. Rep. 9, 15733 (2019), doi:10.1038/s41598-019-50290-1 (fast Toeplitz PA).
"""

from __future__ import annotations

from dataclasses import dataclass

import gmpy2
import numpy as np

from qit4n.errors import ParameterError
from qit4n.postprocess.channel import Message, MessageKind, PublicChannel, Role
from qit4n.postprocess.families import HashFamily
from qit4n.postprocess.gf2_polynomial import bits_to_words, multiply, packed_to_words
from qit4n.randomness import RandomnessSource

__all__ = [
    "MERSENNE_EXPONENTS",
    "MODULAR",
    "TOEPLITZ",
    "ModularHashing",
    "ToeplitzHashing",
    "amplify",
    "mersenne_exponent_above",
    "mersenne_hash",
    "toeplitz_hash",
]

#: Exponents ``k`` of the Mersenne primes ``2^k - 1`` from 2^521 - 1 to the largest known in 2024.
MERSENNE_EXPONENTS = (
    521,
    607,
    1279,
    2203,
    2281,
    3217,
    4253,
    4423,
    9689,
    9941,
    11213,
    19937,
    21701,
    23209,
    44497,
    86243,
    110503,
    132049,
    216091,
    756839,
    859433,
    1257787,
    1398269,
    2976221,
    3021377,
    6972593,
    13466917,
    20996011,
    24036583,
    25964951,
    30402457,
    32582657,
    37156667,
    42643801,
    43112609,
    57885161,
    74207281,
    77232917,
    82589933,
    136279841,
)


def mersenne_exponent_above(num_bits: int) -> int:
    """Smallest Mersenne exponent ``k > num_bits`` (so every ``num_bits``-bit key is below ``2^k - 1``).

    >>> mersenne_exponent_above(10**6)
    1257787
    """
    for exponent in MERSENNE_EXPONENTS:
        if exponent > num_bits:
            return exponent
    raise ParameterError(
        f"key length = {num_bits} bits: modular hashing supports at most {MERSENNE_EXPONENTS[-1] - 1} bits"
    )


def _to_mpz(bits: np.ndarray) -> gmpy2.mpz:
    return gmpy2.mpz.from_bytes(np.packbits(np.asarray(bits, dtype=np.uint8), bitorder="little").tobytes(), "little")


def _from_mpz(value: gmpy2.mpz, num_bits: int) -> np.ndarray:
    raw = np.frombuffer(value.to_bytes((num_bits + 7) // 8, "little"), dtype=np.uint8)
    return np.unpackbits(raw, bitorder="little", count=num_bits)


def toeplitz_hash(key: np.ndarray, seed: np.ndarray, output_bits: int) -> np.ndarray:
    """``T x`` for the Toeplitz matrix ``T[i, j] = seed[i - j + n - 1]`` (``n + m - 1`` seed bits).

    Output bit ``i`` is coefficient ``n - 1 + i`` of the GF(2)[x] product of the key and seed
    polynomials (bit ``j`` the coefficient of ``x^j``).

    >>> key = np.array([1, 0, 1], dtype=np.uint8)
    >>> seed = np.array([1, 1, 0, 1], dtype=np.uint8)  # n + m - 1 = 4 for m = 2
    >>> toeplitz_hash(key, seed, 2).tolist()  # rows [0, 1, 1] and [1, 0, 1]
    [1, 0]
    """
    return _toeplitz_words(bits_to_words(key), key.size, bits_to_words(seed), seed.size, output_bits)


def _toeplitz_words(
    key_words: np.ndarray, key_bits: int, seed_words: np.ndarray, seed_bits: int, output_bits: int
) -> np.ndarray:
    """:func:`toeplitz_hash` on key and seed packed as words (:func:`gf2_polynomial.bits_to_words`)."""
    if seed_bits != key_bits + output_bits - 1:
        raise ParameterError(
            f"seed length = {seed_bits}: must be key length + output length - 1 = {key_bits + output_bits - 1}"
        )
    if output_bits <= 0:
        return np.zeros(0, dtype=np.uint8)
    if key_bits == 0:
        return np.zeros(output_bits, dtype=np.uint8)
    product = multiply(key_words, seed_words).astype("<u8", copy=False).view(np.uint8)
    first, last = key_bits - 1, key_bits - 1 + output_bits
    window = np.unpackbits(product[first // 8 : -(-last // 8)], bitorder="little")
    return window[first % 8 : first % 8 + output_bits]


def mersenne_hash(key: np.ndarray, multiplier: gmpy2.mpz, offset: gmpy2.mpz, output_bits: int) -> np.ndarray:
    """``((a x + b) mod (2^k - 1)) mod 2^m`` with ``k`` the Mersenne exponent above the key length.

    >>> key = np.array([1, 1, 0, 1, 0, 0, 0, 0], dtype=np.uint8)  # x = 11, k = 521
    >>> mersenne_hash(key, gmpy2.mpz(3), gmpy2.mpz(4), 6).tolist()  # 3 * 11 + 4 = 37 = 0b100101
    [1, 0, 1, 0, 0, 1]
    """
    exponent = mersenne_exponent_above(key.size)
    if output_bits > key.size:
        raise ParameterError(f"output_bits = {output_bits}: must be <= key length {key.size}")
    prime = gmpy2.bit_mask(exponent)
    value = multiplier * _to_mpz(key) + offset
    while value > prime:
        value = (value & prime) + (value >> exponent)
    if value == prime:
        value = gmpy2.mpz(0)
    return _from_mpz(gmpy2.f_mod_2exp(value, output_bits), output_bits)


@dataclass(frozen=True)
class ToeplitzHashing:
    """:class:`~qit4n.postprocess.families.HashFamily` of Toeplitz matrices (:func:`toeplitz_hash`)."""

    def seed_bits(self, key_bits: int, output_bits: int) -> int:
        """``n + m - 1`` bits: the first column and row of the matrix.

        >>> TOEPLITZ.seed_bits(1000, 200)
        1199
        """
        return key_bits + output_bits - 1

    def apply(self, key: np.ndarray, packed_seed: np.ndarray, seed_bits: int, output_bits: int) -> np.ndarray:
        """``T x`` with the matrix given by the packed seed."""
        return _toeplitz_words(
            bits_to_words(key), key.size, packed_to_words(packed_seed, seed_bits), seed_bits, output_bits
        )


@dataclass(frozen=True)
class ModularHashing:
    """:class:`~qit4n.postprocess.families.HashFamily` ``((a x + b) mod p) mod 2^m`` (:func:`mersenne_hash`)."""

    def seed_bits(self, key_bits: int, output_bits: int) -> int:
        """``2 k`` bits for ``a`` and ``b``, ``k`` the Mersenne exponent above ``key_bits``."""
        return 2 * mersenne_exponent_above(key_bits)

    def apply(self, key: np.ndarray, packed_seed: np.ndarray, seed_bits: int, output_bits: int) -> np.ndarray:
        """The first ``k`` seed bits give ``a`` and the next ``k`` give ``b`` (each reduced modulo
        ``2^k - 1``; ``a = 0`` becomes 1)."""
        exponent = mersenne_exponent_above(key.size)
        prime = gmpy2.bit_mask(exponent)
        seed = gmpy2.f_mod_2exp(gmpy2.mpz.from_bytes(packed_seed.tobytes(), "little"), seed_bits)
        multiplier = (seed & prime) % prime
        offset = (seed >> exponent) % prime
        if multiplier == 0:
            multiplier = gmpy2.mpz(1)
        return mersenne_hash(key, multiplier, offset, output_bits)


#: The registered members ``toeplitz`` and ``modular`` of :data:`~qit4n.postprocess.HASH_FAMILIES`.
TOEPLITZ = ToeplitzHashing()
MODULAR = ModularHashing()


def amplify(
    alice_key: np.ndarray,
    bob_key: np.ndarray,
    output_bits: int,
    family: HashFamily,
    channel: PublicChannel,
    rng: np.random.Generator,
    *,
    seeds: RandomnessSource | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Alice draws the hash seed (from ``seeds`` if given, else ``rng``) and sends it (public); both
    compress their keys to ``output_bits``.

    >>> from qit4n.postprocess.bits import random_bits
    >>> key = random_bits(4096, np.random.default_rng(0))
    >>> a, b = amplify(key, key.copy(), 1000, MODULAR, PublicChannel(), np.random.default_rng(1))
    >>> a.size, bool(np.array_equal(a, b))
    (1000, True)
    """
    if not 0 <= output_bits <= alice_key.size:
        raise ParameterError(f"output_bits = {output_bits}: must be in [0, {alice_key.size}]")
    if output_bits == 0:
        return np.zeros(0, np.uint8), np.zeros(0, np.uint8)
    seed_bits = family.seed_bits(alice_key.size, output_bits)
    seed_bytes = (seed_bits + 7) // 8
    packed = np.frombuffer(rng.bytes(seed_bytes) if seeds is None else seeds.random_bytes(seed_bytes), dtype=np.uint8)
    received = channel.send(
        Message(
            MessageKind.AMPLIFY_SEED,
            Role.ALICE,
            public={"seed": packed, "seed_bits": np.array([seed_bits], dtype=np.uint64)},
        )
    )
    bob_bits = int(received.public["seed_bits"][0])
    return (
        family.apply(alice_key, packed, seed_bits, output_bits),
        family.apply(bob_key, received.public["seed"], bob_bits, output_bits),
    )
