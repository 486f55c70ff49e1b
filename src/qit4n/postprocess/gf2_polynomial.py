"""Products of long binary polynomials (GF(2)[x]) in O(n log n), by an additive FFT over GF(2^64).

A polynomial of ``n`` bits is cut into ``n / 32`` pieces of 32 coefficients, each read as an
element of GF(2^64) = GF(2)[x] / (x^64 + x^4 + x^3 + x + 1). Two pieces multiply to a polynomial
of degree at most 62, so the field's reduction never acts and the product of the two piece
sequences, as polynomials over GF(2^64), is exact; adding each product piece into place (shifts
of 32 bits, XOR) gives the GF(2)[x] product. The piece sequences are multiplied by evaluating both
at the ``2^K`` points of a subspace of GF(2^64), multiplying pointwise and interpolating: the
additive FFT of Lin, Chung and Han in their "novel polynomial basis", built on a Cantor basis
``v_0 = 1, v_i^2 + v_i = v_(i-1)``. With that basis the subspace polynomials are iterates of
``x^2 + x`` with coefficients in GF(2), so converting between the monomial and the novel basis
takes XORs only, and each FFT layer ``i`` needs one constant per block (``s_i`` at the block's
offset). Cost: ``K 2^(K-1)`` GF(2^64) products per transform, each a carry-less multiply
(``gf2_clmul``) and a shift-and-XOR reduction.

Why not Karatsuba on 64-bit words: its ``n^1.58`` work needs about 3e10 word products for 1e8-bit
operands (seconds), the FFT about 3e8; Brent et al. (gf2x) likewise switch from Karatsuba and
Toom-Cook to FFT methods above some thousands of words.

References
----------
Lin, S.-J., Chung, W.-H. and Han, Y. S., "Novel polynomial basis and its application to
Reed-Solomon erasure codes", FOCS 2014, 316, doi:10.1109/FOCS.2014.41.
Cantor, D. G., "On arithmetical algorithms over finite fields", J. Comb. Theory A 50, 285 (1989),
doi:10.1016/0097-3165(89)90020-4.
Chen, M.-S., Cheng, C.-M., Kuo, P.-C., Li, W.-D. and Yang, B.-Y., "Faster multiplication for long
binary polynomials", arXiv:1708.09746 (2017) (additive FFT for GF(2)[x] products).
Brent, R. P., Gaudry, P., Thome, E. and Zimmermann, P., "Faster multiplication in GF(2)[x]",
ANTS VIII, LNCS 5011, 153 (2008), doi:10.1007/978-3-540-79456-1_10.
Karatsuba, A. and Ofman, Yu., Dokl. Akad. Nauk SSSR 145, 293 (1962).
"""

from __future__ import annotations

import numba
import numpy as np

from qit4n.errors import ParameterError
from qit4n.postprocess.gf2_clmul import HARDWARE_CLMUL, butterflies, multiply_lanes

__all__ = ["CANTOR_BASIS", "MAX_DEPTH", "multiply", "bits_to_words", "packed_to_words"]

#: Largest transform: ``2^MAX_DEPTH`` pieces of 32 bits.
MAX_DEPTH = 32
_PIECE_BITS = 32
_LANES = 8
_BLOCK_DEPTH = 13  # blocks of 2^13 words (64 KiB) finish their low layers in cache
_ROW_DEPTH = 16  # basis conversion above 2^16 words: Taylor expansion into rows of 2^16 words


def _gf64_square(value: int) -> int:
    spread = 0
    for bit in range(64):
        if value >> bit & 1:
            spread |= 1 << (2 * bit)
    for bit in range(127, 63, -1):
        if spread >> bit & 1:
            spread ^= ((1 << 64) | 0x1B) << (bit - 64)  # x^64 = x^4 + x^3 + x + 1
    return spread


def _cantor_basis(depth: int) -> tuple[int, ...]:
    """``v_0 = 1`` and ``v_i`` solving ``v_i^2 + v_i = v_(i-1)`` (the solution with bit 0 clear).

    ``x -> x^2 + x`` is GF(2)-linear with kernel {0, 1}; its images of ``x^1 .. x^63`` are reduced
    to echelon form with the combination of inputs that makes each one.
    """
    echelon: dict[int, tuple[int, int]] = {}
    for bit in range(1, 64):
        image, combination = _gf64_square(1 << bit) ^ (1 << bit), 1 << bit
        while image:
            lead = image.bit_length() - 1
            if lead not in echelon:
                echelon[lead] = (image, combination)
                break
            image, combination = image ^ echelon[lead][0], combination ^ echelon[lead][1]
    basis = [1]
    while len(basis) < depth:
        target, solution = basis[-1], 0
        while target:
            lead = target.bit_length() - 1
            if lead not in echelon:
                raise ArithmeticError(f"x^2 + x = {target:#x} has no solution in GF(2^64)")
            target, solution = target ^ echelon[lead][0], solution ^ echelon[lead][1]
        basis.append(solution)
    return tuple(basis)


#: Cantor basis of GF(2^64): the FFT evaluates at the points ``sum of v_i over the bits i of t``.
CANTOR_BASIS = _cantor_basis(MAX_DEPTH)


def _point_tables(basis: tuple[int, ...]) -> np.ndarray:
    """``tables[b, p]`` = sum of ``basis[8 b + j]`` over the set bits ``j`` of ``p``."""
    tables = np.zeros((len(basis) // 8, 256), dtype=np.uint64)
    for byte in range(len(basis) // 8):
        for bit in range(8):
            with_bit = (np.arange(256) >> bit) & 1 == 1
            tables[byte, with_bit] ^= np.uint64(basis[8 * byte + bit])
    return tables


_POINT_TABLES = _point_tables(CANTOR_BASIS)


@numba.njit(cache=True, inline="always")
def _point(tables, index):
    """The evaluation point ``sum of v_j over the bits j of index``."""
    return (tables[0, index & 255] ^ tables[1, (index >> 8) & 255] ^ tables[2, (index >> 16) & 255]
            ^ tables[3, (index >> 24) & 255])


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
        constant = _point(tables, start >> layer)
        if half >= _LANES:
            _butterfly_run(f, start, start + half, half, constant, hardware, inverse)
        elif half == 4:
            butterflies(f, start, start + 4, constant, 4, hardware, inverse)
        elif half == 2:
            butterflies(f, start, start + 2, constant, 2, hardware, inverse)
        else:
            butterflies(f, start, start + 1, constant, 1, hardware, inverse)


@numba.njit(cache=True)
def _divide(f, first, last, half, shifts, inverse, extent, stride):
    """Divide every block of ``2 half`` elements in ``[first, last)`` by ``x^half + sum of
    x^(half - shift)`` (or multiply back), keeping remainder low and quotient high. An element is
    ``stride`` consecutive words; elements from ``extent`` on are zero, and a block with a zero
    high half is left as it is. Long division runs from the top in chunks of at most
    ``min(shifts)`` elements, so that a chunk never writes into itself."""
    numba.literally(inverse)
    chunk = shifts.min()
    for block in range(first, last, 2 * half):
        if block + half >= extent:
            break
        edge = block + 2 * half if not inverse else block + half
        while (edge > block + half) if not inverse else (edge < block + 2 * half):
            low, high = (max(block + half, edge - chunk), edge) if not inverse else (edge, min(block + 2 * half, edge + chunk))
            for shift in shifts:
                offset = np.uint64(shift * stride)
                for index in range(np.uint64(low * stride), np.uint64(high * stride)):
                    f[index - offset] ^= f[index]
            edge = low if not inverse else high


@numba.njit(cache=True)
def _basis_shifts(level):
    """``s_(level-1) = x^half + sum of x^(2^j)`` over the proper submasks ``j`` of ``level - 1``,
    as the shifts ``half - 2^j``."""
    mask = level - 1
    shifts = np.empty(1 << _popcount(mask), dtype=np.int64)
    count, sub = 0, mask
    while sub:
        sub = (sub - 1) & mask
        shifts[count] = (1 << mask) - (1 << sub)
        count += 1
    return shifts[:count]


@numba.njit(cache=True, inline="always")
def _popcount(value):
    count = 0
    while value:
        value &= value - 1
        count += 1
    return count


@numba.njit(cache=True)
def _basis_level(f, level, first, last, inverse, extent, stride):
    """Split every block of ``2^level`` elements in ``[first, last)`` as ``g_0 + s_(level-1) g_1``
    (or join it back), ``g_0`` in the low half and ``g_1`` in the high half."""
    numba.literally(inverse)
    if level >= 2:
        _divide(f, first, last, 1 << (level - 1), _basis_shifts(level), inverse, extent, stride)


def _small_block_operations(depth: int) -> np.ndarray:
    """The XORs ``(target, source)`` that :func:`_basis_level` performs on one block of
    ``2^depth`` words for levels ``depth .. 2``, in order: run from a list, they skip the loop
    overhead that dominates on blocks of a few words."""
    operations = []
    for level in range(depth, 1, -1):
        mask = level - 1
        half = 1 << mask
        chunk = half - (1 << ((mask - 1) & mask))
        for block in range(0, 1 << depth, 2 * half):
            edge = block + 2 * half
            while edge > block + half:
                low = max(block + half, edge - chunk)
                sub = (mask - 1) & mask
                while True:
                    shift = half - (1 << sub)
                    operations += [(index - shift, index) for index in range(low, edge)]
                    if sub == 0:
                        break
                    sub = (sub - 1) & mask
                edge = low
    return np.array(operations, dtype=np.uint64)


_SMALL_DEPTH = 5
_SMALL_OPERATIONS = _small_block_operations(_SMALL_DEPTH)
_SMALL_OPERATIONS_REVERSED = np.ascontiguousarray(_SMALL_OPERATIONS[::-1])


@numba.njit(cache=True)
def _small_levels(f, first, last, operations):
    """Levels ``_SMALL_DEPTH .. 2`` of the basis conversion (``operations`` reversed: back)."""
    for block in range(np.uint64(first), np.uint64(last), np.uint64(1 << _SMALL_DEPTH)):
        for k in range(operations.shape[0]):
            f[block + operations[k, 0]] ^= f[block + operations[k, 1]]


@numba.njit(cache=True)
def _to_novel_direct(f, first, depth, extent):
    """Monomial to novel basis on the ``2^depth`` words from ``first`` (zero from ``extent`` on),
    level by level, the low levels one cache block at a time; returns the new zero extent."""
    last = first + (1 << depth)
    block_depth = min(depth, _BLOCK_DEPTH)
    for level in range(depth, block_depth, -1):
        _basis_level(f, level, first, last, 0, extent, 1)
        extent = min(last, first + (-(-(extent - first) >> level) << level))
    for block in range(first, min(last, extent), 1 << block_depth):
        for level in range(block_depth, _SMALL_DEPTH, -1):
            _basis_level(f, level, block, block + (1 << block_depth), 0, last, 1)
        _small_levels(f, block, block + (1 << block_depth), _SMALL_OPERATIONS)
    return min(last, first + (-(-(extent - first) >> block_depth) << block_depth))


@numba.njit(cache=True)
def _from_novel_direct(f, first, depth, extent):
    """Inverse of :func:`_to_novel_direct`; words from ``extent`` on are zero (and stay zero)."""
    last = first + (1 << depth)
    block_depth = min(depth, _BLOCK_DEPTH)
    for block in range(first, min(last, extent), 1 << block_depth):
        _small_levels(f, block, block + (1 << block_depth), _SMALL_OPERATIONS_REVERSED)
        for level in range(_SMALL_DEPTH + 1, block_depth + 1):
            _basis_level(f, level, block, block + (1 << block_depth), 1, extent, 1)
    for level in range(block_depth + 1, depth + 1):
        _basis_level(f, level, first, last, 1, extent, 1)


@numba.njit(cache=True)
def _taylor_level(f, step, row_depth, inverse, extent):
    """Divide blocks of ``2^(row_depth + step)`` words by ``y^t = x^(T t) + x^t``, ``y = x^T + x``,
    ``T = 2^row_depth``, ``t = 2^(step - 1)`` (Frobenius makes ``y^t`` a binomial)."""
    numba.literally(inverse)
    half = 1 << (row_depth + step - 1)
    _divide(f, 0, f.size, half, np.array([half - (1 << (step - 1))]), inverse, extent, 1)


@numba.njit(cache=True)
def _to_novel(f, depth, extent):
    """Monomial to novel basis on all of ``f`` (``2^depth`` words, zero from ``extent`` on).

    Above ``_ROW_DEPTH`` the split follows ``X_j(x) = X_(j mod T)(x) X_(j / T)(y)`` with
    ``y = s_(log2 T)(x) = x^T + x`` (Cantor basis: ``s_(i + k) = s_i o s_k``): a Taylor expansion
    in ``y`` (one binomial division per level) leaves rows ``h_k(x)`` of ``T`` words with
    ``f = sum h_k(x) y^k``; converting the columns (rows as elements) in ``y`` and then each row in
    ``x`` gives the coefficients. It needs ``depth - 16`` passes plus the columns' levels over the
    whole array, instead of one per term of every ``s_i`` above the cache block. Returns the
    new zero extent.
    """
    if depth <= _ROW_DEPTH:
        return _to_novel_direct(f, 0, depth, extent)
    steps = depth - _ROW_DEPTH
    for step in range(steps, 0, -1):
        _taylor_level(f, step, _ROW_DEPTH, 0, extent)
        extent = min(f.size, -(-extent >> (_ROW_DEPTH + step)) << (_ROW_DEPTH + step))
    rows = -(-extent >> _ROW_DEPTH)
    for level in range(steps, 1, -1):
        _basis_level(f, level, 0, 1 << steps, 0, rows, 1 << _ROW_DEPTH)
        rows = min(1 << steps, -(-rows >> level) << level)
    for row in range(rows):
        _to_novel_direct(f, row << _ROW_DEPTH, _ROW_DEPTH, (row + 1) << _ROW_DEPTH)
    return rows << _ROW_DEPTH


@numba.njit(cache=True)
def _from_novel(f, depth, extent):
    """Inverse of :func:`_to_novel` for a polynomial of degree below ``extent``."""
    if depth <= _ROW_DEPTH:
        _from_novel_direct(f, 0, depth, extent)
        return
    steps = depth - _ROW_DEPTH
    rows = -(-extent >> _ROW_DEPTH)
    for row in range(rows):
        _from_novel_direct(f, row << _ROW_DEPTH, _ROW_DEPTH, extent)
    for level in range(2, steps + 1):
        _basis_level(f, level, 0, 1 << steps, 1, rows, 1 << _ROW_DEPTH)
    for step in range(1, steps + 1):
        _taylor_level(f, step, _ROW_DEPTH, 1, rows << _ROW_DEPTH)


@numba.njit(cache=True)
def _forward_top(f, depth, block_depth, tables, hardware, extent, limit):
    """Monomial to novel basis, then the FFT layers above ``block_depth``, on the whole array
    whose words from ``extent`` on are zero, evaluating only at the points below ``limit``."""
    numba.literally(hardware)
    extent = _to_novel(f, depth, extent)
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
        constant = _point(tables, start >> layer)
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
        constant = _point(tables, block >> layer)
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
    _from_novel(f, depth, known)


@numba.njit(cache=True)
def _to_pieces(words, depth):
    """Words cut into 32-bit pieces, one per GF(2^64) element, zero padded to ``2^depth``."""
    pieces = np.zeros(1 << depth, dtype=np.uint64)
    for index in range(words.size):
        pieces[2 * index] = words[index] & np.uint64(0xFFFFFFFF)
        pieces[2 * index + 1] = words[index] >> np.uint64(32)
    return pieces


@numba.njit(cache=True)
def _from_pieces(pieces, num_words):
    """Sum of the (up to 63-bit) product pieces placed 32 bits apart, as ``num_words`` words."""
    words = np.empty(num_words, dtype=np.uint64)
    carry = np.uint64(0)
    for index in range(num_words):
        low, high = pieces[2 * index], pieces[2 * index + 1]
        words[index] = (low ^ carry) ^ (high << np.uint64(32))
        carry = high >> np.uint64(32)
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
    depth = max(_SMALL_DEPTH, (known - 1).bit_length())
    if depth > MAX_DEPTH:
        raise ParameterError(f"operand length = {a.size + b.size} words: at most {2 ** (MAX_DEPTH - 1)} words")
    return (_multiply_hardware if hardware else _multiply_portable)(a, b, depth, known, _POINT_TABLES)
