"""Toeplitz hashing on carry-less products: word products, GF(2^64), the additive-FFT polynomial
product and the Toeplitz window, each against an independent reference (Python integers, the
dense matrix product, the former GMP Kronecker-substitution path)."""

from __future__ import annotations

import itertools

import gmpy2
import numba
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qit4n.errors import ParameterError
from qit4n.postprocess import gf2_clmul
from qit4n.postprocess.amplification import TOEPLITZ, toeplitz_hash
from qit4n.postprocess.bits import random_bits
from qit4n.postprocess.gf2_basis import (
    CANTOR_BASIS,
    POINT_TABLES,
    _basis_level,
    _small_block_operations,
)
from qit4n.postprocess.gf2_clmul import (
    HARDWARE_CLMUL,
    butterflies,
    clmul,
    gf64_multiply,
    multiply_lanes,
)
from qit4n.postprocess.gf2_polynomial import (
    _forward_block,
    _inverse_truncated,
    bits_to_words,
    multiply,
    packed_to_words,
)

#: Kernels to check: the portable one always, the hardware one where the processor has it.
MODES = [False, True] if HARDWARE_CLMUL else [False]
_MASK = 2**64 - 1


def clmul_reference(a: int, b: int) -> int:
    """Carry-less product bit by bit."""
    product = 0
    for bit in range(a.bit_length()):
        if a >> bit & 1:
            product ^= b << bit
    return product


def gf64_reference(a: int, b: int) -> int:
    product = clmul_reference(a, b)
    for bit in range(127, 63, -1):
        if product >> bit & 1:
            product ^= ((1 << 64) | 0x1B) << (bit - 64)
    return product


def words_to_int(words: np.ndarray) -> int:
    return int.from_bytes(np.asarray(words, dtype="<u8").tobytes(), "little")


def dense_toeplitz(key: np.ndarray, seed: np.ndarray, output_bits: int) -> np.ndarray:
    size = key.size
    rows = np.arange(output_bits)[:, None] - np.arange(size)[None, :] + size - 1
    return (seed[rows].astype(np.int64) @ key.astype(np.int64) % 2).astype(np.uint8)


def kronecker_toeplitz(key: np.ndarray, seed: np.ndarray, output_bits: int) -> np.ndarray:
    """The former implementation: one GMP product with every bit spread into a byte-aligned field
    wide enough for any column sum, then the low bit of fields ``n - 1 .. n + m - 2``."""
    size = key.size
    field_bytes = max(1, (size.bit_length() + 7) // 8)

    def spread(bits: np.ndarray) -> gmpy2.mpz:
        wide = np.zeros(bits.size * field_bytes, dtype=np.uint8)
        wide[::field_bytes] = bits
        return gmpy2.mpz.from_bytes(wide.tobytes(), "little")

    product = spread(key) * spread(seed)
    raw = np.frombuffer(product.to_bytes((size + seed.size) * field_bytes, "little"), dtype=np.uint8)
    return raw[(size - 1) * field_bytes : (size - 1 + output_bits) * field_bytes : field_bytes] & np.uint8(1)


def random_words(size: int, rng: np.random.Generator) -> np.ndarray:
    return rng.integers(0, 2**64, size, dtype=np.uint64)


@pytest.mark.parametrize("hardware", MODES)
def test_clmul_of_two_words_matches_bitwise_reference(hardware):
    rng = np.random.default_rng(11)
    pairs = [(0, 0), (1, 1), (_MASK, _MASK), (2**63, 2**63), (_MASK, 1), (3, 3)]
    pairs += [(int(a), int(b)) for a, b in random_words(400, rng).reshape(200, 2)]
    for a, b in pairs:
        low, high = clmul(a, b, hardware=hardware)
        assert low | high << 64 == clmul_reference(a, b), (a, b)


@pytest.mark.parametrize("hardware", MODES)
def test_gf64_multiply_matches_reduction_by_hand(hardware):
    rng = np.random.default_rng(12)
    for a, b in random_words(200, rng).reshape(100, 2):
        assert gf64_multiply(int(a), int(b), hardware=hardware) == gf64_reference(int(a), int(b))


def test_cantor_basis_is_a_basis_with_squares_plus_self_down_the_chain():
    assert CANTOR_BASIS[0] == 1
    for lower, upper in itertools.pairwise(CANTOR_BASIS):
        assert gf64_reference(upper, upper) ^ upper == lower
    echelon: dict[int, int] = {}
    for vector in CANTOR_BASIS:  # linearly independent over GF(2)
        while vector and vector.bit_length() in echelon:
            vector ^= echelon[vector.bit_length()]
        assert vector
        echelon[vector.bit_length()] = vector


@pytest.mark.parametrize("hardware", MODES)
@pytest.mark.parametrize(
    "sizes", [(1, 1), (1, 2), (2, 3), (3, 1), (5, 7), (17, 40), (64, 64), (100, 3), (257, 511), (1500, 2200)]
)
def test_multiply_matches_python_integers(hardware, sizes):
    rng = np.random.default_rng(sum(sizes))
    a, b = random_words(sizes[0], rng), random_words(sizes[1], rng)
    product = multiply(a, b, hardware=hardware)
    assert product.size == a.size + b.size
    assert words_to_int(product) == clmul_reference(words_to_int(a), words_to_int(b))


def test_multiply_by_empty_or_zero_polynomials():
    words = random_words(9, np.random.default_rng(3))
    assert multiply(words, np.zeros(0, np.uint64)).tolist() == [0] * 9
    assert not multiply(words, np.zeros(4, np.uint64)).any()
    one = np.array([1], np.uint64)
    assert np.array_equal(multiply(words, one)[:9], words)


def test_portable_kernels_equal_hardware_kernels_on_a_large_product():
    rng = np.random.default_rng(5)
    a, b = random_words(20_000, rng), random_words(31_000, rng)
    products = [multiply(a, b, hardware=mode) for mode in MODES]
    assert all(np.array_equal(products[0], other) for other in products[1:])
    assert np.array_equal(multiply(b, a), products[0])  # commutative


@pytest.mark.parametrize("instruction_lanes", [2, 4, 8])
def test_every_instruction_width_gives_the_same_lanes(monkeypatch, instruction_lanes):
    """Kernels built for processors with narrower carry-less multiply instructions (PCLMULQDQ on
    2 words, VPCLMULQDQ on 4) compute what the portable kernel computes."""
    if instruction_lanes > gf2_clmul.HARDWARE_LANES:
        instruction_lanes = 0  # this processor cannot run wider code: check the portable kernel alone
    monkeypatch.setattr(gf2_clmul, "HARDWARE_LANES", instruction_lanes)
    hardware = int(instruction_lanes > 0)

    @numba.njit
    def lanes(f, g, constant):
        multiply_lanes(f, g, 0, 8, hardware)
        multiply_lanes(f, g, 8, 1, hardware)
        butterflies(f, 0, 8, constant, 4, hardware, 0)
        butterflies(f, 4, 12, constant, 2, hardware, 1)

    rng = np.random.default_rng(instruction_lanes)
    f, g, constant = random_words(16, rng), random_words(16, rng), int(random_words(1, rng)[0])
    expected = [gf64_reference(int(x), int(y)) for x, y in zip(f, g)]
    expected[9:] = [int(x) for x in f[9:]]
    for low in range(4):  # forward butterflies on (0..3, 8..11)
        expected[low] ^= gf64_reference(constant, expected[low + 8])
        expected[low + 8] ^= expected[low]
    for low in (4, 5):  # inverse butterflies on (4, 5, 12, 13)
        expected[low + 8] ^= expected[low]
        expected[low] ^= gf64_reference(constant, expected[low + 8])
    lanes(f, g, np.uint64(constant))
    assert [int(x) for x in f] == expected


def test_hardware_kernels_refused_without_the_instruction(monkeypatch):
    from qit4n.postprocess import gf2_polynomial

    monkeypatch.setattr(gf2_polynomial, "HARDWARE_CLMUL", False)
    with pytest.raises(ParameterError, match="hardware = True"):
        gf2_polynomial.multiply(np.ones(2, np.uint64), np.ones(2, np.uint64), hardware=True)


def test_feature_flags_choose_the_widest_instruction(monkeypatch):
    assert gf2_clmul._widest_lanes({"pclmul"}) == 2
    assert gf2_clmul._widest_lanes({"pclmul", "vpclmulqdq", "avx"}) == 4
    assert gf2_clmul._widest_lanes({"pclmul", "vpclmulqdq", "avx", "avx512f"}) == 8
    assert gf2_clmul._widest_lanes({"sse2", "avx2"}) == 0
    monkeypatch.setattr(numba.config, "CPU_NAME", "generic")
    monkeypatch.setattr(numba.config, "CPU_FEATURES", "+pclmul,-avx")
    assert gf2_clmul._target_features() == {"pclmul"}


@pytest.mark.parametrize(
    "size, output_bits",
    [
        (1, 1),
        (1, 3),
        (2, 1),
        (63, 1),
        (64, 64),
        (65, 30),
        (127, 200),
        (128, 1),
        (300, 120),
        (1000, 999),
        (1000, 1000),
        (4097, 2048),
        (10_000, 3),
    ],
)
def test_toeplitz_matches_dense_product_and_former_gmp_path(size, output_bits):
    rng = np.random.default_rng(size + output_bits)
    key = random_bits(size, rng)
    seed = random_bits(size + output_bits - 1, rng)
    hashed = toeplitz_hash(key, seed, output_bits)
    assert hashed.dtype == np.uint8 and hashed.size == output_bits
    assert np.array_equal(hashed, kronecker_toeplitz(key, seed, output_bits))
    if size * output_bits <= 10**7:
        assert np.array_equal(hashed, dense_toeplitz(key, seed, output_bits))


@pytest.mark.parametrize("size, output_bits", [(200_003, 99_999), (6_400, 505_600), (500_000, 3)])
def test_toeplitz_matches_former_gmp_path_on_large_blocks(size, output_bits):
    """Transforms longer than one cache block (2^13 words), with a short key (its pieces fill
    under a quarter of the transform) or a short output."""
    rng = np.random.default_rng(size)
    key = random_bits(size, rng)
    seed = random_bits(size + output_bits - 1, rng)
    assert np.array_equal(toeplitz_hash(key, seed, output_bits), kronecker_toeplitz(key, seed, output_bits))


@pytest.mark.parametrize("sizes", [(40_000, 90_000), (1_000, 150_000), (300_000, 200_000)])
def test_multiply_by_a_sparse_polynomial_above_the_row_depth(sizes):
    """Transforms of 2^18 to 2^21 pieces (Taylor expansion into rows, column conversion): the
    product by a polynomial with a few terms is a sum of shifts."""
    rng = np.random.default_rng(sizes[0])
    a = random_words(sizes[0], rng)
    exponents = rng.choice(64 * sizes[1], size=12, replace=False)
    b = np.zeros(sizes[1], np.uint64)
    np.bitwise_or.at(b, exponents // 64, np.left_shift(np.uint64(1), (exponents % 64).astype(np.uint64)))
    value = words_to_int(a)
    expected = 0
    for exponent in exponents:
        expected ^= value << int(exponent)
    assert words_to_int(multiply(a, b)) == expected
    assert words_to_int(multiply(b, a)) == expected


def test_toeplitz_matches_former_gmp_path_above_the_row_depth():
    """2^18 pieces: Taylor expansion, column and row conversions against the GMP product."""
    rng = np.random.default_rng(18)
    key = random_bits(2_000_000, rng)
    seed = random_bits(2_000_000 + 300_000 - 1, rng)
    assert np.array_equal(toeplitz_hash(key, seed, 300_000), kronecker_toeplitz(key, seed, 300_000))


def test_toeplitz_edge_lengths():
    rng = np.random.default_rng(9)
    key = random_bits(50, rng)
    assert toeplitz_hash(key, random_bits(49, rng), 0).size == 0
    assert toeplitz_hash(np.zeros(0, np.uint8), random_bits(4, rng), 5).tolist() == [0] * 5
    with pytest.raises(ParameterError, match="seed length = 50"):
        toeplitz_hash(key, random_bits(50, rng), 2)


def test_toeplitz_apply_reads_only_the_seed_bits_it_is_given():
    """The packed seed's last byte carries random bits past ``seed_bits`` (as ``amplify`` draws
    whole bytes); they must not enter the hash."""
    rng = np.random.default_rng(10)
    key = random_bits(777, rng)
    seed = random_bits(777 + 300 - 1, rng)
    packed = np.packbits(seed, bitorder="little")
    packed[-1] |= np.uint8(0xFF << (seed.size % 8) & 0xFF)
    extra = np.concatenate([packed, np.full(5, 0xFF, np.uint8)])
    for candidate in (packed, extra):
        assert np.array_equal(TOEPLITZ.apply(key, candidate, seed.size, 300), dense_toeplitz(key, seed, 300))
    with pytest.raises(ParameterError, match="seed length = 1075"):
        TOEPLITZ.apply(key, packed, 1075, 300)


def test_packed_words_clear_bits_past_the_length_and_pad_missing_bytes():
    assert packed_to_words(np.array([0xFF, 0xFF], np.uint8), 12).tolist() == [0xFFF]
    assert packed_to_words(np.array([0xAB], np.uint8), 70).tolist() == [0xAB, 0]
    assert packed_to_words(np.zeros(0, np.uint8), 0).size == 0


@pytest.mark.parametrize("hardware", MODES)
@pytest.mark.parametrize(
    "depth, known", [(6, 1), (6, 5), (6, 31), (6, 32), (6, 33), (6, 63), (6, 64), (9, 300), (14, 9_999)]
)
def test_truncated_inverse_fft_recovers_coefficients_from_the_first_values(hardware, depth, known):
    """Coefficients zero from ``known`` on are recovered from the evaluations at the first
    ``known`` points alone (the others are overwritten with zeros first)."""
    rng = np.random.default_rng(depth * 1000 + known)
    coefficients = random_words(1 << depth, rng)
    coefficients[known:] = 0
    values = coefficients.copy()
    _forward_block(values, 0, depth, POINT_TABLES, int(hardware), values.size)
    values[known:] = 0
    _inverse_truncated(values, depth, known, POINT_TABLES, int(hardware))
    assert np.array_equal(values, coefficients)


def test_operation_list_of_small_blocks_equals_the_level_by_level_division():
    rng = np.random.default_rng(13)
    for depth in (2, 3, 5, 6):
        block = random_words(1 << depth, rng)
        by_level = block.copy()
        for level in range(depth, 1, -1):
            _basis_level(by_level, level, 0, by_level.size, 0, by_level.size, 1)
        listed = block.copy()
        for target, source in _small_block_operations(depth):
            listed[target] ^= listed[source]
        assert np.array_equal(listed, by_level)
        for level in range(2, depth + 1):  # and back
            _basis_level(by_level, level, 0, by_level.size, 1, by_level.size, 1)
        assert np.array_equal(by_level, block)


@settings(max_examples=60, deadline=None)
@given(size=st.integers(1, 300), output_bits=st.integers(1, 300), data=st.data())
def test_toeplitz_is_the_dense_product_and_linear_in_the_key(size, output_bits, data):
    draw_bits = st.lists(st.integers(0, 1), min_size=size, max_size=size)
    key = np.array(data.draw(draw_bits), dtype=np.uint8)
    other = np.array(data.draw(draw_bits), dtype=np.uint8)
    seed = np.array(
        data.draw(st.lists(st.integers(0, 1), min_size=size + output_bits - 1, max_size=size + output_bits - 1)),
        dtype=np.uint8,
    )
    hashed = toeplitz_hash(key, seed, output_bits)
    assert np.array_equal(hashed, dense_toeplitz(key, seed, output_bits))
    assert np.array_equal(
        toeplitz_hash(key ^ other, seed, output_bits), hashed ^ toeplitz_hash(other, seed, output_bits)
    )


@settings(max_examples=40, deadline=None)
@given(a=st.integers(0, 2**700 - 1), b=st.integers(0, 2**500 - 1))
def test_multiply_is_the_carry_less_product_of_integers(a, b):
    def words(value: int, count: int) -> np.ndarray:
        return np.frombuffer(value.to_bytes(8 * count, "little"), dtype="<u8").astype(np.uint64)

    product = multiply(words(a, 11), words(b, 8))
    assert words_to_int(product) == clmul_reference(a, b)
    assert words_to_int(bits_to_words(np.array([a >> k & 1 for k in range(700)], np.uint8))) == a
