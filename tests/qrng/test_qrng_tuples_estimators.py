"""Tuple counts against brute force; estimator conventions and input checks."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pytest

from qit4n.errors import ParameterError
from qit4n.qrng.estimators import (
    collision_estimate,
    compression_estimate,
    lag_estimate,
    markov_estimate,
    most_common_value_estimate,
    multi_mcw_estimate,
)
from qit4n.qrng.tuples import suffix_array, tuple_counts


@pytest.mark.parametrize(
    "symbols",
    [
        np.array([0, 1, 0, 1, 0], dtype=np.uint8),
        np.zeros(40, dtype=np.uint8),
        np.array([7], dtype=np.uint8),
        np.random.default_rng(1).integers(0, 2, 400).astype(np.uint8),
        np.random.default_rng(2).integers(0, 3, 300).astype(np.uint8),
        np.random.default_rng(3).integers(0, 256, 300).astype(np.uint8),
    ],
)
def test_tuple_counts_match_brute_force(symbols: np.ndarray) -> None:
    order, _ = suffix_array(symbols)
    assert [bytes(symbols[i:]) for i in order] == sorted(bytes(symbols[i:]) for i in range(symbols.size))
    counts = tuple_counts(symbols)
    for w in range(1, counts.longest_repeat + 2):
        tally = Counter(bytes(symbols[i : i + w]) for i in range(symbols.size - w + 1))
        if w <= counts.longest_repeat:
            assert counts.largest[w] == max(tally.values())
            assert counts.pairs[w] == sum(c * (c - 1) // 2 for c in tally.values())
        else:
            assert not tally or max(tally.values()) == 1


def test_most_common_value_is_the_standards_formula() -> None:
    symbols = np.array([0] * 60 + [1] * 40, dtype=np.uint8)
    p_u = 0.6 + 2.5758293035489004 * math.sqrt(0.6 * 0.4 / 99)
    assert most_common_value_estimate(symbols).min_entropy == pytest.approx(-math.log2(p_u), rel=1e-12)


@pytest.mark.parametrize("estimator", [collision_estimate, markov_estimate, compression_estimate])
def test_binary_estimators_reject_wider_samples(estimator) -> None:
    with pytest.raises(ParameterError, match="binary"):
        estimator(np.array([0, 1, 2] * 3000, dtype=np.uint8))


def test_constant_data_has_no_entropy_and_fair_bits_nearly_one() -> None:
    rng = np.random.default_rng(4)
    fair = rng.integers(0, 2, 50_000).astype(np.uint8)
    assert 0.95 < markov_estimate(fair).min_entropy <= 1.0
    assert 0.9 < multi_mcw_estimate(fair, 2).min_entropy <= 1.0
    periodic = np.tile(np.array([0, 1, 1], dtype=np.uint8), 5000)
    assert lag_estimate(periodic, 2).min_entropy < 0.01
