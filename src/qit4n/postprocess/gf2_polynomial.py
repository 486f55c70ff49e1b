"""Products of long binary polynomials (GF(2)[x]) in O(n log n), by an additive FFT over GF(2^64).

A polynomial of ``n`` bits is cut into ``n / 32`` pieces of 32 coefficients, each read as an
element of GF(2^64) = GF(2)[x] / (x^64 + x^4 + x^3 + x + 1). Two pieces multiply to a polynomial
of degree at most 62, so the field's reduction never acts and the product of the two piece
sequences, as polynomials over GF(2^64), is exact; adding each product piece into place (shifts
of 32 bits, XOR) gives the GF(2)[x] product. The piece sequences are multiplied by evaluation and
interpolation with the additive FFT of Lin, Chung and Han: both factors are converted to their
novel polynomial basis (XORs only, :mod:`gf2_basis`), evaluated at the points of a subspace of
GF(2^64) spanned by a Cantor basis, multiplied pointwise, interpolated and converted back. Layer
``i`` of the FFT splits a block as ``g_0 + s_i g_1`` and costs one GF(2^64) product per pair of
words (a carry-less multiply, :mod:`gf2_clmul`, and a shift-and-XOR reduction), with one constant
per block. The transforms are truncated (van der Hoeven's TFT): only as many points as the
product has pieces are evaluated, and the inverse recovers the coefficients from those values
and the known zero coefficients above, so the cost follows the length, not the next power of two.

Why not Karatsuba on 64-bit words: its ``n^1.58`` work needs about 3e10 word products for 1e8-bit
operands (seconds), the FFT about 3e8; Brent et al. (gf2x) likewise switch from Karatsuba and
Toom-Cook to FFT methods above some thousands of words, and Chen et al. found the additive FFT
faster still for long operands.

References
----------
Lin, S.-J., Chung, W.-H. and Han, Y. S., "Novel polynomial basis and its application to
Reed-Solomon erasure codes", FOCS 2014, 316, doi:10.1109/FOCS.2014.41.
Chen, M.-S., Cheng, C.-M., Kuo, P.-C., Li, W.-D. and Yang, B.-Y., "Faster multiplication for long
binary polynomials", arXiv:1708.09746 (2017) (additive FFT for GF(2)[x] products).
van der Hoeven, J., "The truncated Fourier transform and applications", ISSAC 2004 (ACM).
Brent, R. P., Gaudry, P., Thome, E. and Zimmermann, P., "Faster multiplication in GF(2)[x]",
ANTS VIII, LNCS 5011, 153 (2008), doi:10.1007/978-3-540-79456-1_10.
Karatsuba, A. and Ofman, Yu., Dokl. Akad. Nauk SSSR 145, 293 (1962).
"""

from __future__ import annotations

import numba
import numpy as np

from qit4n.errors import ParameterError
from qit4n.postprocess.gf2_basis import (
    MAX_DEPTH,
    MIN_DEPTH,
    POINT_TABLES,
    from_novel,
    point,
    to_novel,
)
from qit4n.postprocess.gf2_clmul import HARDWARE_CLMUL, butterflies, multiply_lanes

__all__ = ["bits_to_words", "multiply", "packed_to_words"]

_PIECE_BITS = 32
_LANES = 8
_BLOCK_DEPTH = 13  # blocks of 2^13 words (64 KiB) finish their low layers in cache


@numba.njit(cache=True)
def _butterfly_run(f, low, high, count, constant, hardware, mode):
    """``count`` butterflies (``mode`` as in :func:`gf2_clmul.butterflies`) on the word pairs
    ``(low + k, high + k)``, eight at a time."""
    numba.literally(hardware)
    numba.literally(mode)
    done = 0
    while done + _LANES <= count:
        butterflies(f, low + done, high + done, constant, 8, hardware, mode)
        done += _LANES
    while done < count:
        butterflies(f, low + done, high + done, constant, 1, hardware, mode)
        done += 1


@numba.njit(cache=True)
def _fft_layer(f, layer, first, last, tables, hardware, inverse, extent, limit):
    """Layer ``layer`` of the (inverse) FFT on the blocks starting in ``[first, min(last, limit))``.
    A block at offset ``t`` splits ``g_0 + s_layer g_1`` and uses the constant
    ``s_layer(point(t)) = point(t >> layer)``. Words from ``extent`` on are zero: a forward block
    whose ``g_1`` is zero copies ``g_0`` up."""
    numba.literally(hardware)
    numba.literally(inverse)
    half = 1 << layer
    for start in range(first, min(last, limit), 2 * half):
        if not inverse and start + half >= extent:
            if start < extent:
                f[start + half : start + 2 * half] = f[start : start + half]
            continue
        constant = point(tables, start >> layer)
        if half >= _LANES:
            _butterfly_run(f, start, start + half, half, constant, hardware, inverse)
        elif half == 4:
            butterflies(f, start, start + 4, constant, 4, hardware, inverse)
        elif half == 2:
            butterflies(f, start, start + 2, constant, 2, hardware, inverse)
        else:
            butterflies(f, start, start + 1, constant, 1, hardware, inverse)


@numba.njit(cache=True)
def _forward_top(f, depth, block_depth, tables, hardware, extent, limit):
    """Monomial to novel basis, then the FFT layers above ``block_depth``, on the whole array
    whose words from ``extent`` on are zero, evaluating only at the points below ``limit``."""
    numba.literally(hardware)
    extent = to_novel(f, depth, extent)
    for layer in range(depth - 1, block_depth - 1, -1):
        _fft_layer(f, layer, 0, f.size, tables, hardware, 0, extent, limit)
        extent = min(f.size, -(-extent >> (layer + 1)) << (layer + 1))


@numba.njit(cache=True)
def _forward_block(f, block, block_depth, tables, hardware, limit):
    numba.literally(hardware)
    for layer in range(block_depth - 1, -1, -1):
        _fft_layer(f, layer, block, block + (1 << block_depth), tables, hardware, 0, f.size, limit)


@numba.njit(cache=True)
def _inverse_range(f, first, depth, tables, hardware):
    """Inverse FFT of the ``2^depth`` evaluations from ``first`` (layers below the cache block
    one block at a time)."""
    numba.literally(hardware)
    block_depth = min(depth, _BLOCK_DEPTH)
    last = first + (1 << depth)
    for block in range(first, last, 1 << block_depth):
        for layer in range(block_depth):
            _fft_layer(f, layer, block, block + (1 << block_depth), tables, hardware, 1, last, last)
    for layer in range(block_depth, depth):
        _fft_layer(f, layer, first, last, tables, hardware, 1, last, last)


@numba.njit(cache=True)
def _inverse_truncated(f, depth, known, tables, hardware):
    """Novel-basis coefficients from the evaluations at the first ``known`` points, the
    coefficients from ``known`` on being zero (truncated inverse FFT, van der Hoeven 2004).

    A block of ``2 h`` words holds values at its first ``l`` points and known coefficients after.
    Its forward butterfly made ``A = g_0 + c g_1`` (low half) and ``B = A + g_1`` (high half).
    If ``l <= h``, every ``g_1`` coefficient is known: adding ``c g_1`` to the known ``g_0`` gives
    the tail of ``A``, the low half is solved alone, and ``g_0 = A + c g_1``. Otherwise the low
    half is a full inverse FFT (``A``), the known ``g_1`` plus ``A`` give the tail of ``B``, the
    high half is solved alone, and an inverse butterfly returns ``g_0, g_1``. The recursion
    follows a single path, so it runs as a loop down and a loop back up.
    """
    numba.literally(hardware)
    path_start = np.empty(depth, dtype=np.int64)
    path_high = np.empty(depth, dtype=np.bool_)
    steps, start, known_here = 0, 0, known
    for layer in range(depth - 1, -1, -1):
        half = 1 << layer
        if known_here == 0:
            break
        if known_here >= 2 * half:
            _inverse_range(f, start, layer + 1, tables, hardware)
            break
        constant = point(tables, start >> layer)
        path_start[steps] = start
        if known_here <= half:
            _butterfly_run(f, start + known_here, start + half + known_here, half - known_here, constant, hardware, 2)
            path_high[steps] = False
        else:
            _inverse_range(f, start, layer, tables, hardware)
            for index in range(start + known_here, start + 2 * half):
                f[index] ^= f[index - half]
            path_high[steps] = True
            start += half
            known_here -= half
        steps += 1
    for step in range(steps - 1, -1, -1):
        layer = depth - 1 - step
        half = 1 << layer
        block = path_start[step]
        constant = point(tables, block >> layer)
        if path_high[step]:
            _butterfly_run(f, block, block + half, half, constant, hardware, 1)
        else:
            _butterfly_run(f, block, block + half, half, constant, hardware, 2)


@numba.njit(cache=True)
def _product(f, g, depth, tables, hardware, f_extent, g_extent, known):
    """``f <- f g`` for piece sequences ``f``, ``g`` (``2^depth`` words each, ``depth >= 5``,
    zero from ``f_extent``, ``g_extent`` on, product degree below ``known``, a multiple of 8):
    both are evaluated at the first ``known`` points only; ``g`` is overwritten."""
    numba.literally(hardware)
    block_depth = min(depth, _BLOCK_DEPTH)
    block_size = 1 << block_depth
    _forward_top(f, depth, block_depth, tables, hardware, f_extent, known)
    _forward_top(g, depth, block_depth, tables, hardware, g_extent, known)
    for block in range(0, known, block_size):
        _forward_block(f, block, block_depth, tables, hardware, known)
        _forward_block(g, block, block_depth, tables, hardware, known)
        for index in range(block, min(block + block_size, known), _LANES):
            multiply_lanes(f, g, index, 8, hardware)
    f[known:] = 0
    _inverse_truncated(f, depth, known, tables, hardware)
    from_novel(f, depth, known)


@numba.njit(cache=True)
def _to_pieces(words, depth):
    """Words cut into 32-bit pieces, one per GF(2^64) element, zero padded to ``2^depth``."""
    pieces = np.zeros(1 << depth, dtype=np.uint64)
    for index in range(words.size):
        pieces[2 * index] = words[index] & np.uint64(0xFFFFFFFF)
        pieces[2 * index + 1] = words[index] >> np.uint64(_PIECE_BITS)
    return pieces


@numba.njit(cache=True)
def _from_pieces(pieces, num_words):
    """Sum of the (up to 63-bit) product pieces placed 32 bits apart, as ``num_words`` words."""
    words = np.empty(num_words, dtype=np.uint64)
    carry = np.uint64(0)
    for index in range(num_words):
        low, high = pieces[2 * index], pieces[2 * index + 1]
        words[index] = (low ^ carry) ^ (high << np.uint64(_PIECE_BITS))
        carry = high >> np.uint64(_PIECE_BITS)
    return words


@numba.njit(cache=True)
def _multiply_hardware(a, b, depth, known, tables):
    f, g = _to_pieces(a, depth), _to_pieces(b, depth)
    _product(f, g, depth, tables, 1, 2 * a.size, 2 * b.size, known)
    return _from_pieces(f, a.size + b.size)


@numba.njit(cache=True)
def _multiply_portable(a, b, depth, known, tables):
    f, g = _to_pieces(a, depth), _to_pieces(b, depth)
    _product(f, g, depth, tables, 0, 2 * a.size, 2 * b.size, known)
    return _from_pieces(f, a.size + b.size)


def bits_to_words(bits: np.ndarray) -> np.ndarray:
    """0/1 coefficients (lowest degree first) packed into uint64 words, bit ``i`` of word ``k``
    holding the coefficient of ``x^(64 k + i)``.

    >>> bits_to_words(np.array([1, 0, 1], dtype=np.uint8)).tolist()
    [5]
    """
    return packed_to_words(np.packbits(np.asarray(bits, dtype=np.uint8), bitorder="little"), bits.size)


def packed_to_words(packed: np.ndarray, num_bits: int) -> np.ndarray:
    """The first ``num_bits`` bits of little-endian packed bytes (``numpy.packbits(...,
    bitorder="little")``) as uint64 words; missing bytes count as zero, bits past ``num_bits`` are cleared.

    >>> packed_to_words(np.array([0xFF, 0x01], dtype=np.uint8), 10).tolist()
    [511]
    """
    num_bytes = -(-num_bits // 8)
    padded = np.zeros(-(-num_bytes // 8) * 8, dtype=np.uint8)
    head = np.asarray(packed, dtype=np.uint8)[:num_bytes]
    padded[: head.size] = head
    if num_bits % 8:
        padded[num_bytes - 1] &= np.uint8((1 << (num_bits % 8)) - 1)
    return padded.view("<u8").astype(np.uint64)


def multiply(a: np.ndarray, b: np.ndarray, *, hardware: bool = HARDWARE_CLMUL) -> np.ndarray:
    """Carry-less product of two binary polynomials packed as uint64 words (see :func:`bits_to_words`).

    Parameters
    ----------
    a, b : numpy.ndarray of uint64
        The factors, lowest-degree word first.
    hardware : bool
        Use the processor's carry-less multiply (default where it exists) or the portable
        shift-and-XOR kernels; both give the same product.

    Returns
    -------
    numpy.ndarray of uint64, shape (a.size + b.size,)

    >>> multiply(np.array([0b11], np.uint64), np.array([0b101], np.uint64)).tolist()  # (x + 1)(x^2 + 1)
    [15, 0]
    """
    if hardware and not HARDWARE_CLMUL:
        raise ParameterError("hardware = True: this processor has no carry-less multiply instruction (PCLMULQDQ)")
    a, b = (np.ascontiguousarray(v, dtype=np.uint64) for v in (a, b))
    if a.size == 0 or b.size == 0:
        return np.zeros(a.size + b.size, dtype=np.uint64)
    known = -(-2 * (a.size + b.size) // _LANES) * _LANES  # product pieces, rounded up
    depth = max(MIN_DEPTH, (known - 1).bit_length())
    if depth > MAX_DEPTH:
        raise ParameterError(f"operand length = {a.size + b.size} words: at most {2 ** (MAX_DEPTH - 1)} words")
    return (_multiply_hardware if hardware else _multiply_portable)(a, b, depth, known, POINT_TABLES)
