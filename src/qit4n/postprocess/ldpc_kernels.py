"""Compiled inner loops of the quasi-cyclic LDPC decoders, vectorised across the lift.

A quasi-cyclic code is a base graph whose every edge ``e`` (block row ``b``, block column ``c``,
shift ``s``) stands for ``Z`` edges: check ``b Z + k`` meets variable ``c Z + (k + s) mod Z`` for
``k = 0 .. Z-1``. The ``Z`` checks of one block row share no variable, so a layered decoder may
update them at once: each kernel copies the ``Z`` rotated posteriors of an edge into a contiguous
row (two contiguous runs), works on ``Z`` lanes, and writes them back. Every loop over the lanes
is contiguous and branch-free, so LLVM turns it into SIMD code (16 float32 lanes with AVX-512).
Indices are cast to unsigned integers so that numba emits no negative-index wraparound (which
would turn contiguous loads into gathers). Check-to-variable messages are stored edge-major:
message ``e Z + k`` belongs to lane ``k`` of base edge ``e``.

The sum-product check rule is the tanh rule written with ``r = coth(|t| / 2) = (1 + u) / (1 - u)``,
``u = exp(-|t|)``, carrying the sign of ``t``: a check multiplies the signed ``r`` of its incoming
messages (and its syndrome sign) into ``P``, and the message to edge ``e`` is
``sign(w) ln((1 + |w|) / (1 - |w|))`` with ``w = r_e / P`` (the syndrome sign times the product of
``tanh(t / 2)`` over the other edges). That is one exponential and one logarithm per edge;
both are evaluated with an exponent-bit split and a short polynomial (errors below 3e-6 relative and 1.3e-5 absolute),
which, unlike calls to libm, vectorise. Magnitudes are clamped to ``[1e-3, 30]`` on input (so
``r`` stays finite) and saturate near 17 on output (float32 resolution of ``1 - w``).

References
----------
Hocevar, D. E., IEEE SIPS 2004, 107, doi:10.1109/SIPS.2004.1363033 (layered decoding).
Chen, J. and Fossorier, M. P. C., IEEE Trans. Commun. 50, 406 (2002), doi:10.1109/26.990903
(normalised min-sum).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal, TypedDict, cast

import numba
import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic

__all__ = ["MIN_SUM", "SUM_PRODUCT", "accumulate_posterior", "layered_decode", "satisfied", "syndrome_bits"]

#: Check rules of :func:`layered_decode`.
SUM_PRODUCT, MIN_SUM = 0, 1


class _JitOptions(TypedDict, total=False):
    cache: bool
    fastmath: bool
    error_model: Literal["python", "numpy"]
    inline: Literal["never", "always"]


_JIT: _JitOptions = {"cache": True, "fastmath": True, "error_model": "numpy"}
_INLINE: _JitOptions = {"fastmath": True, "error_model": "numpy", "inline": "always"}
_LOG2_E = np.float32(1.4426950408889634)
_LN_2 = np.float32(0.6931471805599453)
_ONE = np.float32(1.0)
_SMALLEST_MAGNITUDE = np.float32(1e-3)
_LARGEST_MAGNITUDE = np.float32(30.0)
_BELOW_ONE = np.float32(0.99999994)


def _float_bits_typing(typingctx, value):
    """The IEEE-754 bits of a float32, as an int32 (a bit cast, no conversion)."""

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.IntType(32))

    return types.int32(types.float32), codegen


def _bits_float_typing(typingctx, value):
    """The float32 whose IEEE-754 bits are the int32 ``value``."""

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.FloatType())

    return types.float32(types.int32), codegen


# Jitted code calls an intrinsic without ``typingctx`` (numba supplies it), but numba's stub types the
# call with the typing function's parameters; the casts declare the signature jitted code sees.
_float_bits = cast("Callable[[np.float32], np.int32]", intrinsic(_float_bits_typing))
_bits_float = cast("Callable[[np.int32], np.float32]", intrinsic(_bits_float_typing))


@numba.njit(**_INLINE)
def _exp2(power):
    """``2 ** power`` for ``-126 < power <= 0``: integer part into the exponent bits, fractional
    part ``f`` in (-1, 0] by a degree-4 polynomial with ``p(0) = 1`` fitted for least maximum
    relative error on [-1, 0] (relative error < 3e-6, and -> 0 as ``f -> 0``)."""
    whole = np.int32(power)
    f = power - np.float32(whole)
    poly = _ONE + f * (
        np.float32(0.6930636)
        + f * (np.float32(0.23945686) + f * (np.float32(0.05322382) + f * np.float32(0.006832033)))
    )
    return poly * _bits_float((whole + np.int32(127)) << 23)


@numba.njit(**_INLINE)
def _ln(value):
    """Natural logarithm of a positive normal float32: exponent bits plus ``2 atanh(z)`` of the
    mantissa ``m`` in [1, 2), ``z = (m - 1) / (m + 1) <= 1/3``, to z^7 (absolute error < 1.3e-5)."""
    bits = _float_bits(value)
    exponent = ((bits >> 23) & 255) - 127
    mantissa = _bits_float((bits & 0x7FFFFF) | 0x3F800000)
    z = (mantissa - _ONE) / (mantissa + _ONE)
    z2 = z * z
    series = z * (np.float32(2.0) + z2 * (np.float32(2.0 / 3.0) + z2 * (np.float32(0.4) + z2 * np.float32(2.0 / 7.0))))
    return np.float32(exponent) * _LN_2 + series


@numba.njit(**_INLINE)
def _load_rotated(posterior, base, shift, lift, messages, message_offset, out, out_offset):
    """``out[k] = posterior[base + (k + shift) mod lift] - messages[k]`` for the lanes of one edge."""
    for k in range(lift - shift):
        out[np.uint64(out_offset + k)] = (
            posterior[np.uint64(base + shift + k)] - messages[np.uint64(message_offset + k)]
        )
    for k in range(lift - shift, lift):
        out[np.uint64(out_offset + k)] = (
            posterior[np.uint64(base + shift + k - lift)] - messages[np.uint64(message_offset + k)]
        )


@numba.njit(**_INLINE)
def _store_rotated(values, offset, posterior, base, shift, lift):
    """Inverse of :func:`_load_rotated` without the messages: write the lanes back."""
    for k in range(lift - shift):
        posterior[np.uint64(base + shift + k)] = values[np.uint64(offset + k)]
    for k in range(lift - shift, lift):
        posterior[np.uint64(base + shift + k - lift)] = values[np.uint64(offset + k)]


@numba.njit(cache=True)
def _row_width(row_start):
    width = 0
    for row in range(row_start.size - 1):
        width = max(width, row_start[row + 1] - row_start[row])
    return width


@numba.njit(**_JIT)
def syndrome_bits(bits, row_start, block_column, block_shift, lift):
    """``H x`` over GF(2) for a uint8 bit array ``x``."""
    rows = row_start.size - 1
    out = np.zeros(rows * lift, np.uint8)
    for row in range(rows):
        offset = row * lift
        for edge in range(row_start[row], row_start[row + 1]):
            base = block_column[edge] * lift
            shift = block_shift[edge]
            for k in range(lift - shift):
                out[np.uint64(offset + k)] ^= bits[np.uint64(base + shift + k)]
            for k in range(lift - shift, lift):
                out[np.uint64(offset + k)] ^= bits[np.uint64(base + shift + k - lift)]
    return out


@numba.njit(**_JIT)
def satisfied(posterior, target_sign, row_start, block_column, block_shift, lift):
    """Whether the hard decisions of ``posterior`` (negative means 1) meet every check's syndrome
    sign (``+1`` for a 0 syndrome bit, ``-1`` for a 1)."""
    parity = np.empty(lift, np.float32)
    for row in range(row_start.size - 1):
        for k in range(lift):
            parity[np.uint64(k)] = target_sign[np.uint64(row * lift + k)]
        for edge in range(row_start[row], row_start[row + 1]):
            base = block_column[edge] * lift
            shift = block_shift[edge]
            for k in range(lift - shift):
                value = posterior[np.uint64(base + shift + k)]
                parity[np.uint64(k)] = parity[np.uint64(k)] if value >= 0 else -parity[np.uint64(k)]
            for k in range(lift - shift, lift):
                value = posterior[np.uint64(base + shift + k - lift)]
                parity[np.uint64(k)] = parity[np.uint64(k)] if value >= 0 else -parity[np.uint64(k)]
        for k in range(lift):
            if parity[np.uint64(k)] < 0:
                return False
    return True


@numba.njit(**_JIT)
def accumulate_posterior(llr, messages, row_start, block_column, block_shift, lift):
    """Channel LLRs plus every incoming check-to-variable message, float32."""
    posterior = llr.astype(np.float32)
    for row in range(row_start.size - 1):
        for edge in range(row_start[row], row_start[row + 1]):
            base = block_column[edge] * lift
            shift = block_shift[edge]
            offset = edge * lift
            for k in range(lift - shift):
                posterior[np.uint64(base + shift + k)] += messages[np.uint64(offset + k)]
            for k in range(lift - shift, lift):
                posterior[np.uint64(base + shift + k - lift)] += messages[np.uint64(offset + k)]
    return posterior


@numba.njit(**_JIT)
def _sum_product_row(
    row, posterior, target_sign, row_start, block_column, block_shift, lift, messages, incoming, ratios, product, parity
):
    """One block row by the tanh rule; flips ``parity`` (preset to the syndrome signs) by each new hard decision."""
    first = row_start[row]
    degree = row_start[row + 1] - first
    for k in range(lift):
        product[np.uint64(k)] = target_sign[np.uint64(row * lift + k)]
    for j in range(degree):
        edge = first + j
        lane0 = j * lift
        _load_rotated(
            posterior, block_column[edge] * lift, block_shift[edge], lift, messages, edge * lift, incoming, lane0
        )
        for k in range(lift):
            value = incoming[np.uint64(lane0 + k)]
            magnitude = min(max(abs(value), _SMALLEST_MAGNITUDE), _LARGEST_MAGNITUDE)
            u = _exp2(-magnitude * _LOG2_E)
            ratio = (_ONE + u) / (_ONE - u)
            ratio = ratio if value >= 0 else -ratio
            ratios[np.uint64(lane0 + k)] = ratio
            product[np.uint64(k)] *= ratio
    for k in range(lift):
        product[np.uint64(k)] = _ONE / product[np.uint64(k)]
    for j in range(degree):
        edge = first + j
        lane0 = j * lift
        message0 = edge * lift
        for k in range(lift):
            w = ratios[np.uint64(lane0 + k)] * product[np.uint64(k)]
            others = min(abs(w), _BELOW_ONE)
            magnitude = _ln((_ONE + others) / (_ONE - others))
            message = magnitude if w >= 0 else -magnitude
            messages[np.uint64(message0 + k)] = message
            value = incoming[np.uint64(lane0 + k)] + message
            incoming[np.uint64(lane0 + k)] = value
            parity[np.uint64(k)] = parity[np.uint64(k)] if value >= 0 else -parity[np.uint64(k)]
        _store_rotated(incoming, lane0, posterior, block_column[edge] * lift, block_shift[edge], lift)


@numba.njit(**_JIT)
def _min_sum_row(
    row,
    posterior,
    target_sign,
    row_start,
    block_column,
    block_shift,
    lift,
    messages,
    incoming,
    alpha,
    lowest,
    second,
    where,
    sign,
    parity,
):
    """One block row by the normalised min-sum rule; flips ``parity`` as :func:`_sum_product_row` does."""
    first = row_start[row]
    degree = row_start[row + 1] - first
    for k in range(lift):
        lowest[np.uint64(k)] = np.float32(3e38)
        second[np.uint64(k)] = np.float32(3e38)
        where[np.uint64(k)] = -1
        sign[np.uint64(k)] = target_sign[np.uint64(row * lift + k)]
    for j in range(degree):
        edge = first + j
        lane0 = j * lift
        _load_rotated(
            posterior, block_column[edge] * lift, block_shift[edge], lift, messages, edge * lift, incoming, lane0
        )
        for k in range(lift):
            value = incoming[np.uint64(lane0 + k)]
            sign[np.uint64(k)] = sign[np.uint64(k)] if value >= 0 else -sign[np.uint64(k)]
            magnitude = abs(value)
            low = lowest[np.uint64(k)]
            second[np.uint64(k)] = low if magnitude < low else min(second[np.uint64(k)], magnitude)
            where[np.uint64(k)] = np.int32(j) if magnitude < low else where[np.uint64(k)]
            lowest[np.uint64(k)] = min(low, magnitude)
    for j in range(degree):
        edge = first + j
        lane0 = j * lift
        message0 = edge * lift
        for k in range(lift):
            value = incoming[np.uint64(lane0 + k)]
            magnitude = alpha * (second[np.uint64(k)] if where[np.uint64(k)] == j else lowest[np.uint64(k)])
            message = magnitude if (value >= 0) == (sign[np.uint64(k)] > 0) else -magnitude
            messages[np.uint64(message0 + k)] = message
            value += message
            incoming[np.uint64(lane0 + k)] = value
            parity[np.uint64(k)] = parity[np.uint64(k)] if value >= 0 else -parity[np.uint64(k)]
        _store_rotated(incoming, lane0, posterior, block_column[edge] * lift, block_shift[edge], lift)


@numba.njit(**_JIT)
def layered_decode(
    posterior, target_sign, row_start, block_column, block_shift, lift, max_iterations, messages, patience, rule, alpha
):
    """Layered decoding in place by block rows, check rule ``SUM_PRODUCT`` or ``MIN_SUM`` (normalised
    by ``alpha``): ``(iterations, converged)``.

    Gives up when the number of unsatisfied checks (counted as each block row is updated) has not
    reached a new low for ``patience`` iterations.
    """
    rows = row_start.size - 1
    width = _row_width(row_start)
    incoming = np.empty(width * lift, np.float32)
    ratios = np.empty(width * lift if rule == SUM_PRODUCT else 0, np.float32)
    lowest = np.empty(lift, np.float32)
    second = np.empty(lift, np.float32)
    where = np.empty(lift, np.int32)
    sign = np.empty(lift, np.float32)
    parity = np.empty(lift, np.float32)
    best = rows * lift + 1
    best_iteration = 0
    for iteration in range(max_iterations):
        unsatisfied = 0
        for row in range(rows):
            for k in range(lift):
                parity[np.uint64(k)] = target_sign[np.uint64(row * lift + k)]
            if rule == SUM_PRODUCT:
                _sum_product_row(
                    row,
                    posterior,
                    target_sign,
                    row_start,
                    block_column,
                    block_shift,
                    lift,
                    messages,
                    incoming,
                    ratios,
                    lowest,
                    parity,
                )
            else:
                _min_sum_row(
                    row,
                    posterior,
                    target_sign,
                    row_start,
                    block_column,
                    block_shift,
                    lift,
                    messages,
                    incoming,
                    alpha,
                    lowest,
                    second,
                    where,
                    sign,
                    parity,
                )
            for k in range(lift):
                unsatisfied += 1 if parity[np.uint64(k)] < 0 else 0
        if unsatisfied == 0 and satisfied(posterior, target_sign, row_start, block_column, block_shift, lift):
            return iteration + 1, True
        if unsatisfied < best:
            best = unsatisfied
            best_iteration = iteration
        elif iteration - best_iteration >= patience:
            return iteration + 1, False
    return max_iterations, False
