"""The Cantor basis of GF(2^64) and conversion between the monomial and the novel polynomial basis.

The additive FFT (:mod:`gf2_polynomial`) evaluates polynomials over GF(2^64) at the points
``sum of v_i over the bits i of t`` of a Cantor basis ``v_0 = 1, v_i^2 + v_i = v_(i-1)``, with the
polynomials written in the novel basis ``X_j = product of s_i over the bits i of j``, ``s_i`` the
subspace polynomial vanishing on ``span(v_0 .. v_(i-1))``. With a Cantor basis ``s_i`` is the
``i``-fold iterate of ``x^2 + x``: ``s_i = sum of x^(2^j)`` over the submasks ``j`` of ``i``,
``s_i(v_i) = 1`` and ``s_i(v_j) = v_(j-i)``. Its coefficients lie in GF(2), so converting between
bases is long division by sparse polynomials: XORs of words, no field products.

>>> square = np.zeros(32, dtype=np.uint64)
>>> square[2] = 1  # x^2 = (x^2 + x) + x = X_2 + X_1
>>> to_novel(square, 5, 3)  # returns how far the result may be nonzero
32
>>> square[:4].tolist()
[0, 1, 1, 0]
>>> from_novel(square, 5, 32)
>>> square[:4].tolist()
[0, 0, 1, 0]

References
----------
Cantor, D. G., "On arithmetical algorithms over finite fields", J. Comb. Theory A 50, 285 (1989),
doi:10.1016/0097-3165(89)90020-4.
Lin, S.-J., Chung, W.-H. and Han, Y. S., "Novel polynomial basis and its application to
Reed-Solomon erasure codes", FOCS 2014, 316, doi:10.1109/FOCS.2014.41.
Gao, S. and Mateer, T., "Additive fast Fourier transforms over finite fields", IEEE Trans. Inf.
Theory 56, 6265 (2010), doi:10.1109/TIT.2010.2079016 (Taylor expansion in ``x^T + x``).
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["CANTOR_BASIS", "MAX_DEPTH", "MIN_DEPTH", "POINT_TABLES", "from_novel", "point", "to_novel"]

#: Largest transform: ``2^MAX_DEPTH`` points.
MAX_DEPTH = 32
_BLOCK_DEPTH = 13  # blocks of 2^13 words (64 KiB) finish their low levels in cache
_ROW_DEPTH = 16  # above 2^16 words: Taylor expansion into rows of 2^16 words


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


#: ``POINT_TABLES[b, p]``: the point of index ``p << 8 b`` (see :func:`point`).
POINT_TABLES = _point_tables(CANTOR_BASIS)


@numba.njit(cache=True, inline="always")
def point(tables, index):
    """The evaluation point ``sum of v_j over the bits j of index``."""
    return (
        tables[0, index & 255]
        ^ tables[1, (index >> 8) & 255]
        ^ tables[2, (index >> 16) & 255]
        ^ tables[3, (index >> 24) & 255]
    )


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
            low, high = (
                (max(block + half, edge - chunk), edge) if not inverse else (edge, min(block + 2 * half, edge + chunk))
            )
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
#: Smallest transform the conversion handles: ``2^MIN_DEPTH`` words.
MIN_DEPTH = _SMALL_DEPTH
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
def to_novel(f, depth, extent):
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
def from_novel(f, depth, extent):
    """Inverse of :func:`to_novel` for a polynomial of degree below ``extent``."""
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
