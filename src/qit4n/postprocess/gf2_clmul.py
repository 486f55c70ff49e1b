"""Carry-less multiplication of 64-bit words and GF(2^64) arithmetic for numba kernels.

A carry-less product is the product of two polynomials over GF(2) whose coefficients are the
bits of the words: ``clmul(a, b) = XOR of (b << i) over the set bits i of a``, 128 bits wide.
x86 processors compute it in one instruction (PCLMULQDQ; VPCLMULQDQ does 2 or 4 at once on
256- or 512-bit registers). numba has no binding for it, so the intrinsics below emit LLVM's
``llvm.x86.pclmulqdq`` (``.256``, ``.512``) directly, and fall back to a branch-free shift-and-XOR
loop (64 steps, vectorised by LLVM) where the processor lacks the instruction or where the
caller asks for it (tests compare the two). The width used is the widest the host supports,
read from numba's target (so ``NUMBA_CPU_NAME=generic`` builds portable code without it).

GF(2^64) is GF(2)[x] / (x^64 + x^4 + x^3 + x + 1); a product is reduced by folding the high
word back with shifts (``x^64 = x^4 + x^3 + x + 1``).

References
----------
Gueron, S. and Kounavis, M. E., "Intel carry-less multiplication instruction and its usage for
computing the GCM mode", Intel white paper 323640 (2010).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

import numba
import numpy as np
import numpy.typing as npt
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

__all__ = ["HARDWARE_CLMUL", "HARDWARE_LANES", "clmul", "gf64_multiply"]


def _target_features() -> set[str]:
    """CPU features numba compiles for: its configured CPU name and features, else the host's."""
    import llvmlite.binding as llvm

    # numba.config sets its attributes from the environment at import time (globals().update),
    # which its stub cannot declare.
    if numba.config.CPU_NAME:  # type: ignore[attr-defined]
        listed = numba.config.CPU_FEATURES or ""  # type: ignore[attr-defined]
        return {item[1:] for item in listed.split(",") if item.startswith("+")}
    return {name for name, enabled in llvm.get_host_cpu_features().items() if enabled}


def _widest_lanes(features: set[str]) -> int:
    if {"vpclmulqdq", "avx512f"} <= features:
        return 8
    if {"vpclmulqdq", "avx"} <= features:
        return 4
    if "pclmul" in features:
        return 2
    return 0


#: Words per carry-less multiply instruction on this machine (8, 4 or 2), 0 without PCLMULQDQ.
HARDWARE_LANES = _widest_lanes(_target_features())
#: Whether the hardware path exists here.
HARDWARE_CLMUL = HARDWARE_LANES > 0

_I8 = ir.IntType(8)
_I32 = ir.IntType(32)
_I64 = ir.IntType(64)
_NAMES = {2: "llvm.x86.pclmulqdq", 4: "llvm.x86.pclmulqdq.256", 8: "llvm.x86.pclmulqdq.512"}


def _splat(builder: ir.IRBuilder, value: ir.Value, lanes: int) -> ir.Value:
    vector = ir.VectorType(_I64, lanes)
    single = builder.insert_element(ir.Constant(vector, ir.Undefined), value, ir.Constant(_I32, 0))
    return builder.shuffle_vector(
        single, ir.Constant(vector, ir.Undefined), ir.Constant(ir.VectorType(_I32, lanes), [0] * lanes)
    )


def _lane_constant(value: int, lanes: int) -> ir.Constant:
    return ir.Constant(ir.VectorType(_I64, lanes), [value] * lanes)


def _pick(builder: ir.IRBuilder, first: ir.Value, second: ir.Value, indices: list[int]) -> ir.Value:
    return builder.shuffle_vector(first, second, ir.Constant(ir.VectorType(_I32, len(indices)), indices))


def _clmul_hardware(builder: ir.IRBuilder, x: ir.Value, y: ir.Value, lanes: int) -> tuple[ir.Value, ir.Value]:
    """Low and high words of the lane-wise products, with instructions at most ``HARDWARE_LANES`` wide."""
    width = max(2, min(lanes, HARDWARE_LANES))
    if lanes < width:  # one word: widen to a pair
        x, y = (_pick(builder, v, v, [0, 0]) for v in (x, y))
    vector = ir.VectorType(_I64, width)
    fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(vector, [vector, vector, _I8]), _NAMES[width])
    lows, highs = [], []
    for start in range(0, max(lanes, width), width):
        part = list(range(start, start + width))
        px, py = (_pick(builder, v, v, part) if lanes > width else v for v in (x, y))
        even = builder.call(fn, [px, py, ir.Constant(_I8, 0x00)])  # lanes 0, 2, ...: 128-bit products
        odd = builder.call(fn, [px, py, ir.Constant(_I8, 0x11)])  # lanes 1, 3, ...
        lows.append(_pick(builder, even, odd, [k + (width if k % 2 else 0) - k % 2 for k in range(width)]))
        highs.append(_pick(builder, even, odd, [k + (width if k % 2 else 0) - k % 2 + 1 for k in range(width)]))
    while len(lows) > 1:  # concatenate the parts
        size = 2 * len(lows[0].type)
        lows = [_pick(builder, lows[k], lows[k + 1], list(range(size))) for k in range(0, len(lows), 2)]
        highs = [_pick(builder, highs[k], highs[k + 1], list(range(size))) for k in range(0, len(highs), 2)]
    low, high = lows[0], highs[0]
    if lanes < width:
        low, high = (_pick(builder, v, v, [0]) for v in (low, high))
    return low, high


def _clmul_software(builder: ir.IRBuilder, x: ir.Value, y: ir.Value, lanes: int) -> tuple[ir.Value, ir.Value]:
    """Lane-wise carry-less products by 64 masked shift-and-XOR steps (no branches)."""
    low = high = _lane_constant(0, lanes)
    one = _lane_constant(1, lanes)
    for bit in range(64):
        mask = builder.sub(_lane_constant(0, lanes), builder.and_(builder.lshr(x, _lane_constant(bit, lanes)), one))
        term = builder.and_(y, mask)
        low = builder.xor(low, builder.shl(term, _lane_constant(bit, lanes)))
        if bit:
            high = builder.xor(high, builder.lshr(term, _lane_constant(64 - bit, lanes)))
    return low, high


def _gf64_reduce(builder: ir.IRBuilder, low: ir.Value, high: ir.Value, lanes: int) -> ir.Value:
    """``low + x^64 high`` modulo ``x^64 + x^4 + x^3 + x + 1``."""
    over = builder.xor(
        builder.xor(builder.lshr(high, _lane_constant(60, lanes)), builder.lshr(high, _lane_constant(61, lanes))),
        builder.lshr(high, _lane_constant(63, lanes)),
    )
    folded = builder.xor(high, over)
    for shift in (1, 3, 4):
        folded = builder.xor(folded, builder.shl(builder.xor(high, over), _lane_constant(shift, lanes)))
    return builder.xor(low, folded)


def _gf64_lanes(builder: ir.IRBuilder, x: ir.Value, y: ir.Value, lanes: int, hardware: bool) -> ir.Value:
    low, high = (_clmul_hardware if hardware else _clmul_software)(builder, x, y, lanes)
    return _gf64_reduce(builder, low, high, lanes)


def _literal(value: types.Type, name: str) -> int:
    if not isinstance(value, types.IntegerLiteral):
        raise numba.errors.TypingError(f"{name} must be a compile-time integer constant")
    return value.literal_value


def _lane_pointer(context, builder, array_type, array, index, lanes: int) -> ir.Value:
    data = context.make_array(array_type)(context, builder, array).data
    return builder.bitcast(builder.gep(data, [index]), ir.VectorType(_I64, lanes).as_pointer())


def _load(builder: ir.IRBuilder, pointer: ir.Value) -> ir.Value:
    return builder.load(pointer, align=8)


def _store(builder: ir.IRBuilder, value: ir.Value, pointer: ir.Value) -> None:
    builder.store(value, pointer, align=8)


def _butterflies_typing(typingctx, f, low, high, c, lanes, hardware, mode):
    """``lanes`` additive-FFT butterflies on ``a = f[low + k]``, ``b = f[high + k]`` with constant
    ``c`` (GF(2^64), ``+`` is XOR): ``mode`` 0 forward ``a += c b; b += a``, 1 inverse
    ``b += a; a += c b``, 2 only ``a += c b``."""
    count, use_hardware, kind = (_literal(v, n) for v, n in ((lanes, "lanes"), (hardware, "hardware"), (mode, "mode")))
    if use_hardware and not HARDWARE_CLMUL:
        raise numba.errors.TypingError("this processor has no carry-less multiply instruction")

    def codegen(context, builder, signature, args):
        array, first, second, constant = args[:4]
        first_pointer = _lane_pointer(context, builder, signature.args[0], array, first, count)
        second_pointer = _lane_pointer(context, builder, signature.args[0], array, second, count)
        a, b = _load(builder, first_pointer), _load(builder, second_pointer)
        splat = _splat(builder, constant, count)
        if kind == 1:
            b = builder.xor(b, a)
        a = builder.xor(a, _gf64_lanes(builder, b, splat, count, bool(use_hardware)))
        if kind == 0:
            b = builder.xor(b, a)
        _store(builder, a, first_pointer)
        if kind != 2:
            _store(builder, b, second_pointer)
        return context.get_dummy_value()

    return types.void(f, low, high, types.uint64, lanes, hardware, mode), codegen


def _multiply_lanes_typing(typingctx, f, g, index, lanes, hardware):
    """``f[index + k] = f[index + k] g[index + k]`` in GF(2^64) for ``k < lanes``."""
    count, use_hardware = _literal(lanes, "lanes"), _literal(hardware, "hardware")
    if use_hardware and not HARDWARE_CLMUL:
        raise numba.errors.TypingError("this processor has no carry-less multiply instruction")

    def codegen(context, builder, signature, args):
        f_pointer = _lane_pointer(context, builder, signature.args[0], args[0], args[2], count)
        g_pointer = _lane_pointer(context, builder, signature.args[1], args[1], args[2], count)
        product = _gf64_lanes(builder, _load(builder, f_pointer), _load(builder, g_pointer), count, bool(use_hardware))
        _store(builder, product, f_pointer)
        return context.get_dummy_value()

    return types.void(f, g, index, lanes, hardware), codegen


def _clmul_words_typing(typingctx, a, b, hardware):
    use_hardware = _literal(hardware, "hardware")
    if use_hardware and not HARDWARE_CLMUL:
        raise numba.errors.TypingError("this processor has no carry-less multiply instruction")

    def codegen(context, builder, signature, args):
        x, y = (_splat(builder, value, 1) for value in args[:2])
        low, high = (_clmul_hardware if use_hardware else _clmul_software)(builder, x, y, 1)
        first = ir.Constant(_I32, 0)
        return context.make_tuple(
            builder, signature.return_type, [builder.extract_element(low, first), builder.extract_element(high, first)]
        )

    return types.UniTuple(types.uint64, 2)(types.uint64, types.uint64, hardware), codegen


# Jitted code calls an intrinsic without ``typingctx`` (numba supplies it), but numba's stub types the
# call with the typing function's parameters; the casts declare the signatures jitted code sees.
_Words = npt.NDArray[np.uint64]
butterflies = cast("Callable[[_Words, int, int, np.uint64 | int, int, int, int], None]", intrinsic(_butterflies_typing))
multiply_lanes = cast("Callable[[_Words, _Words, int, int, int], None]", intrinsic(_multiply_lanes_typing))
_clmul_words = cast(
    "Callable[[np.uint64, np.uint64, int], tuple[np.uint64, np.uint64]]", intrinsic(_clmul_words_typing)
)


@numba.njit(cache=True)
def _clmul(a, b, hardware):
    numba.literally(hardware)
    return _clmul_words(a, b, hardware)


def clmul(a: int, b: int, *, hardware: bool = HARDWARE_CLMUL) -> tuple[int, int]:
    """Carry-less product of two 64-bit words as ``(low word, high word)``.

    >>> clmul(0b11, 0b11)  # (x + 1)^2 = x^2 + 1 over GF(2)
    (5, 0)
    >>> clmul(2**63, 2)
    (0, 1)
    """
    low, high = _clmul(np.uint64(a), np.uint64(b), int(hardware))
    return int(low), int(high)


def gf64_multiply(a: int, b: int, *, hardware: bool = HARDWARE_CLMUL) -> int:
    """Product in GF(2^64) = GF(2)[x] / (x^64 + x^4 + x^3 + x + 1).

    >>> gf64_multiply(2**63, 2)  # x^64 = x^4 + x^3 + x + 1
    27
    """
    low, high = clmul(a, b, hardware=hardware)
    for shift in (0, 1, 3, 4):
        low ^= (high << shift) & 0xFFFFFFFFFFFFFFFF
    over = (high >> 60) ^ (high >> 61) ^ (high >> 63)
    return low ^ over ^ (over << 1) ^ (over << 3) ^ (over << 4)
