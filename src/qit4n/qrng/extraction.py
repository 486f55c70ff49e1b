"""Seeded Toeplitz extraction with the output length from the leftover hash lemma.

A block of ``n`` raw bits holding ``k`` bits of min-entropy is multiplied by an ``m x n`` Toeplitz
matrix drawn from a uniform seed of ``n + m - 1`` bits; Toeplitz matrices form a two-universal
family, so by the leftover hash lemma the ``m = floor(k - 2 log2(1 / epsilon))`` output bits are
``epsilon``-close to uniform (statistical distance), also against side information that the
min-entropy is conditioned on (quantum side information included, Tomamichel et al. 2011). The
matrix-vector product is a slice of a GF(2)[x] polynomial product, done in O(n log n) by the
additive FFT of :mod:`qit4n.postprocess.gf2_polynomial`; bits stay packed in 64-bit words.

References
----------
Impagliazzo, R., Levin, L. A. and Luby, M., STOC 1989, 12, doi:10.1145/73007.73009 (leftover hash lemma).
Krawczyk, H., CRYPTO 1994, LNCS 839, 129, doi:10.1007/3-540-48658-5_15 (Toeplitz hashing).
Tomamichel, M., Schaffner, C., Smith, A. and Renner, R., IEEE Trans. Inf. Theory 57, 5524 (2011),
doi:10.1109/TIT.2011.2158473 (leftover hashing against quantum side information).
Ma, X. et al., Phys. Rev. A 87, 062327 (2013), doi:10.1103/PhysRevA.87.062327 (QRNG post-processing).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import numpy as np

from qit4n.errors import ParameterError
from qit4n.postprocess.gf2_polynomial import multiply, packed_to_words

__all__ = ["ToeplitzExtractor", "leftover_hash_output_bits", "samples_to_packed_bits"]


def leftover_hash_output_bits(input_bits: int, min_entropy_per_bit: float, epsilon: float) -> int:
    """``m = floor(n h - 2 log2(1 / epsilon))``, at least 0.

    >>> leftover_hash_output_bits(1_000_000, 0.9, 2.0**-100)
    899800
    """
    if input_bits <= 0:
        raise ParameterError(f"input_bits = {input_bits}: must be > 0")
    if not 0.0 <= min_entropy_per_bit <= 1.0:
        raise ParameterError(f"min_entropy_per_bit = {min_entropy_per_bit}: must be in [0, 1]")
    if not 0.0 < epsilon < 1.0:
        raise ParameterError(f"epsilon = {epsilon}: must be in (0, 1)")
    return max(0, math.floor(input_bits * min_entropy_per_bit - 2.0 * math.log2(1.0 / epsilon)))


def samples_to_packed_bits(samples: np.ndarray, bits_per_sample: int) -> np.ndarray:
    """The low ``bits_per_sample`` bits of each sample, least significant first, packed little-endian
    (``numpy.packbits(..., bitorder="little")``)."""
    data = np.asarray(samples)
    if bits_per_sample == 8 and data.dtype == np.uint8:
        return data.copy()
    planes = (data[:, None].astype(np.uint64) >> np.arange(bits_per_sample, dtype=np.uint64)) & np.uint64(1)
    return np.packbits(planes.astype(np.uint8).ravel(), bitorder="little")


def _shifted_words(words: np.ndarray, shift_bits: int, num_bits: int) -> np.ndarray:
    """Bits ``shift_bits .. shift_bits + num_bits`` of a word array, as packed little-endian bytes."""
    first = shift_bits // 64
    offset = np.uint64(shift_bits % 64)
    count = -(-num_bits // 64)
    low = words[first : first + count]
    if offset:
        high = np.zeros(count, dtype=np.uint64)
        tail = words[first + 1 : first + 1 + count]
        high[: tail.size] = tail
        low = (low >> offset) | (high << (np.uint64(64) - offset))
    out = low.astype("<u8").view(np.uint8)[: -(-num_bits // 8)].copy()
    if num_bits % 8:
        out[-1] &= np.uint8((1 << (num_bits % 8)) - 1)
    return out


@dataclass(frozen=True)
class ToeplitzExtractor:
    """The Toeplitz hash ``T x`` of ``input_bits`` raw bits to ``output_bits`` bits, for one seed.

    ``seed`` holds the ``input_bits + output_bits - 1`` seed bits packed little-endian; draw it
    with :meth:`from_generator`. Output bit ``i`` is coefficient ``n - 1 + i`` of the GF(2)[x]
    product of the input and seed polynomials, the same convention as
    :func:`qit4n.postprocess.toeplitz_hash`.
    """

    input_bits: int
    output_bits: int
    seed: np.ndarray
    _seed_words: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.input_bits <= 0:
            raise ParameterError(f"input_bits = {self.input_bits}: must be > 0")
        if not 0 < self.output_bits <= self.input_bits:
            raise ParameterError(f"output_bits = {self.output_bits}: must be in [1, input_bits = {self.input_bits}]")
        needed = -(-self.seed_bits // 8)
        if self.seed.size < needed:
            raise ParameterError(f"seed = {self.seed.size} bytes: needs {needed} bytes ({self.seed_bits} bits)")
        object.__setattr__(self, "_seed_words", packed_to_words(self.seed, self.seed_bits))

    @property
    def seed_bits(self) -> int:
        return self.input_bits + self.output_bits - 1

    @classmethod
    def from_generator(cls, input_bits: int, output_bits: int, rng: np.random.Generator) -> ToeplitzExtractor:
        """An extractor with a seed of uniform bytes from ``rng``."""
        seed = rng.integers(0, 256, size=-(-(input_bits + output_bits - 1) // 8), dtype=np.uint8)
        return cls(input_bits=input_bits, output_bits=output_bits, seed=seed)

    def extract(self, packed: np.ndarray) -> np.ndarray:
        """Hash one block of ``input_bits`` bits (packed little-endian bytes); returns
        ``output_bits`` bits packed the same way."""
        if packed.size * 8 < self.input_bits:
            raise ParameterError(
                f"block = {packed.size * 8} bits: needs input_bits = {self.input_bits} (packed little-endian bytes)"
            )
        words = packed_to_words(packed, self.input_bits)
        product = multiply(words, self._seed_words)
        return _shifted_words(product, self.input_bits - 1, self.output_bits)

    def stream(self, packed_chunks: Iterable[np.ndarray]) -> Iterator[np.ndarray]:
        """Re-block a stream of packed bytes into ``input_bits`` blocks and yield each block's output
        (a final partial block is dropped)."""
        block_bytes = -(-self.input_bits // 8)
        if self.input_bits % 8:
            raise ParameterError(f"input_bits = {self.input_bits}: streaming needs a multiple of 8")
        pending = np.zeros(0, dtype=np.uint8)
        for chunk in packed_chunks:
            pending = np.concatenate((pending, np.asarray(chunk, dtype=np.uint8)))
            while pending.size >= block_bytes:
                yield self.extract(pending[:block_bytes])
                pending = pending[block_bytes:]
