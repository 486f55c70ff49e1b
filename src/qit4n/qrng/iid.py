"""The IID track of SP 800-90B: permutation tests (5.1), chi-square tests (5.2.1, 5.2.2) and the
longest-repeated-substring test (5.2.4), and the IID entropy estimate (most common value).

The 19 permutation statistics are computed by one numba kernel on the data and on shuffles
drawn from the caller's generator. A statistic's verdict is settled once at least six shuffles
rank at or above the data and six at or below it (then neither failure condition of 5.1, ``C0 +
C1 <= 5`` nor ``C0 >= 9995``, can still occur), and it is no longer computed; the verdicts are
those of all 10,000 shuffles. For binary data the directional-run, increase/decrease, periodicity
and covariance statistics read the Hamming weights of 8-bit blocks (conversion I) and the
collision statistics the blocks' values (conversion II), as 5.1 prescribes.

References
----------
NIST SP 800-90B (2018), sections 5.1, 5.2 and 6.3.1, doi:10.6028/NIST.SP.800-90B.
"""

from __future__ import annotations

import bz2
import math
from dataclasses import dataclass

import numba
import numpy as np
from scipy.stats import chi2

from qit4n.errors import ParameterError
from qit4n.qrng.assessment import to_bitstring
from qit4n.qrng.estimators import most_common_value_estimate
from qit4n.qrng.tuples import tuple_counts
from qit4n.workload import ProgressCallback

__all__ = [
    "PERMUTATION_STATISTICS",
    "IidAssessment",
    "assess_iid",
    "chi_square_goodness_of_fit",
    "chi_square_independence",
    "lrs_test",
    "permutation_statistics",
]

PERMUTATION_STATISTICS = (
    "excursion",
    "numDirectionalRuns",
    "lenDirectionalRuns",
    "numIncreasesDecreases",
    "numRunsMedian",
    "lenRunsMedian",
    "avgCollision",
    "maxCollision",
    *(f"periodicity({lag})" for lag in (1, 2, 8, 16, 32)),
    *(f"covariance({lag})" for lag in (1, 2, 8, 16, 32)),
    "compression",
)
_LAGS = (1, 2, 8, 16, 32)
_COMPRESSION = len(PERMUTATION_STATISTICS) - 1
_SHUFFLES = 10_000
_SETTLED = 6
_P_VALUE_CUTOFF = 0.001


@numba.njit(cache=True, nogil=True)
def _runs(signs):
    """Number of runs and longest run of a +-1 sequence."""
    if signs.size == 0:
        return 0, 0
    count, longest, length = 1, 1, 1
    for i in range(1, signs.size):
        if signs[i] == signs[i - 1]:
            length += 1
        else:
            count += 1
            length = 1
        longest = max(longest, length)
    return count, longest


@numba.njit(cache=True, nogil=True)
def _statistics(raw, weights, values, median, active, out):
    """The 18 numeric permutation statistics (all but compression) where ``active`` is set."""
    n = raw.size
    if active[0]:
        mean = 0.0
        for i in range(n):
            mean += raw[i]
        mean /= n
        total, worst = 0.0, 0.0
        for i in range(n):
            total += raw[i]
            worst = max(worst, abs(total - (i + 1) * mean))
        out[0] = worst
    m = weights.size
    if active[1] or active[2] or active[3]:
        signs = np.empty(m - 1, dtype=np.int8)
        ups = 0
        for i in range(m - 1):
            signs[i] = -1 if weights[i] > weights[i + 1] else 1
            ups += signs[i] == 1
        count, longest = _runs(signs)
        out[1], out[2], out[3] = count, longest, max(ups, m - 1 - ups)
    if active[4] or active[5]:
        signs = np.empty(n, dtype=np.int8)
        for i in range(n):
            signs[i] = -1 if raw[i] < median else 1
        count, longest = _runs(signs)
        out[4], out[5] = count, longest
    if active[6] or active[7]:
        seen = np.full(256 if values.size == 0 else int(values.max()) + 1, -1, dtype=np.int64)
        start, collisions, total, longest = 0, 0, 0, 0
        for j in range(values.size):
            if seen[values[j]] >= start:
                length = j - start + 1
                collisions += 1
                total += length
                longest = max(longest, length)
                start = j + 1
            else:
                seen[values[j]] = j
        out[6] = total / collisions if collisions else 0.0
        out[7] = longest
    for k in range(5):
        lag = (1, 2, 8, 16, 32)[k]
        if active[8 + k] or active[13 + k]:
            same, product = 0, np.int64(0)
            for i in range(m - lag):
                same += weights[i] == weights[i + lag]
                product += weights[i] * weights[i + lag]
            out[8 + k], out[13 + k] = same, product


def _compressed_length(raw: np.ndarray) -> int:
    return len(bz2.compress(" ".join(map(str, raw.tolist())).encode(), 5))


def _views(samples: np.ndarray, binary: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    raw = samples.astype(np.int64)
    if not binary:
        return raw, raw, raw, float(np.median(raw))
    blocks = samples[: samples.size // 8 * 8].reshape(-1, 8).astype(np.int64)
    return raw, blocks.sum(axis=1), blocks @ (1 << np.arange(7, -1, -1)), 0.5


def permutation_statistics(samples: np.ndarray, binary: bool, active: np.ndarray | None = None) -> np.ndarray:
    """The 19 statistics of section 5.1 (order :data:`PERMUTATION_STATISTICS`; NaN where inactive)."""
    flags = np.ones(len(PERMUTATION_STATISTICS), dtype=np.bool_) if active is None else active
    out = np.full(len(PERMUTATION_STATISTICS), np.nan)
    raw, weights, values, median = _views(samples, binary)
    _statistics(raw, weights, values, median, flags, out)
    if flags[_COMPRESSION]:
        out[_COMPRESSION] = _compressed_length(raw)
    return out


def _chi_bins(expected: np.ndarray) -> np.ndarray:
    """Bin index of each cell: cells taken by increasing expectation until a bin expects >= 5
    (a short last bin joins the one before)."""
    order = np.argsort(expected, kind="stable")
    labels = np.empty(expected.size, dtype=np.int64)
    current, running = 0, 0.0
    for cell in order:
        labels[cell] = current
        running += expected[cell]
        if running >= 5.0:
            current, running = current + 1, 0.0
    if running > 0.0 and current > 0:
        labels[labels == current] = current - 1
    return labels


def chi_square_independence(samples: np.ndarray, binary: bool) -> tuple[float, int, float]:
    """Section 5.2.1: ``(T, df, p-value)``; non-overlapping pairs of samples (non-binary) or ``m``-bit
    words (binary, ``m`` the largest up to 11 whose rarest word still expects 5)."""
    n = samples.size
    if binary:
        p1 = float(samples.mean())
        rare = min(p1, 1.0 - p1)
        m = 1
        while m < 11 and rare ** (m + 1) * (n // (m + 1)) >= 5.0:
            m += 1
        if m < 2:
            return 0.0, 0, 1.0
        words = samples[: n // m * m].reshape(-1, m).astype(np.int64) @ (1 << np.arange(m - 1, -1, -1))
        observed = np.bincount(words, minlength=1 << m).astype(float)
        ones = np.array([bin(w).count("1") for w in range(1 << m)])
        expected = p1**ones * (1.0 - p1) ** (m - ones) * (n // m)
        statistic = float(np.sum((observed - expected) ** 2 / expected))
        df = (1 << m) - 2
        return statistic, df, float(chi2.sf(statistic, df))
    symbols, inverse = np.unique(samples, return_inverse=True)
    k = symbols.size
    p = np.bincount(inverse) / n
    expected = np.outer(p, p).ravel() * (n // 2)
    pairs = inverse[: n // 2 * 2].reshape(-1, 2)
    observed = np.bincount(pairs[:, 0] * k + pairs[:, 1], minlength=k * k).astype(float)
    labels = _chi_bins(expected)
    binned_e, binned_o = np.bincount(labels, weights=expected), np.bincount(labels, weights=observed)
    statistic = float(np.sum((binned_o - binned_e) ** 2 / binned_e))
    df = binned_e.size - k
    return statistic, df, float(chi2.sf(statistic, df)) if df > 0 else 1.0


def chi_square_goodness_of_fit(samples: np.ndarray, binary: bool) -> tuple[float, int, float]:
    """Section 5.2.2: ``(T, df, p-value)`` of the symbol counts in ten equal parts against the whole."""
    n = samples.size
    part = n // 10
    parts = samples[: part * 10].reshape(10, part).astype(np.int64)
    symbols, inverse = np.unique(samples, return_inverse=True)
    expected = np.bincount(inverse, minlength=symbols.size) / 10.0
    labels = np.arange(symbols.size) if binary else _chi_bins(expected)
    lookup = np.searchsorted(symbols, parts)
    binned_e = np.bincount(labels, weights=expected)
    statistic = 0.0
    for row in lookup:
        observed = np.bincount(labels[row], minlength=binned_e.size).astype(float)
        statistic += float(np.sum((observed - binned_e) ** 2 / binned_e))
    df = 9 * (binned_e.size - 1)
    return statistic, df, float(chi2.sf(statistic, df)) if df > 0 else 1.0


def lrs_test(samples: np.ndarray) -> tuple[float, int, float]:
    """Section 5.2.4: ``(P_col, W, Pr(X >= 1))`` for the longest repeated substring of length ``W``."""
    counts = np.bincount(samples) / samples.size
    p_col = float(np.sum(counts**2))
    w = tuple_counts(samples).longest_repeat
    pairs = math.comb(samples.size - w + 1, 2)
    probability = -math.expm1(pairs * math.log1p(-(p_col**w))) if p_col**w < 1.0 else 1.0
    return p_col, w, probability


@dataclass(frozen=True)
class IidAssessment:
    """Results of the IID track: the tests' verdicts and the MCV entropy estimate (bits per sample)."""

    bits_per_symbol: int
    statistics: dict[str, float]
    counts: dict[str, tuple[int, int, int]]
    chi_square: dict[str, tuple[float, int, float]]
    lrs: tuple[float, int, float]
    h_original: float
    h_bitstring: float

    @property
    def permutation_passed(self) -> bool:
        return all(c0 + c1 > 5 and c1 + c2 > 5 for c0, c1, c2 in self.counts.values())

    @property
    def chi_square_passed(self) -> bool:
        return all(p >= _P_VALUE_CUTOFF for _, _, p in self.chi_square.values())

    @property
    def lrs_passed(self) -> bool:
        return self.lrs[2] >= _P_VALUE_CUTOFF

    @property
    def iid(self) -> bool:
        return self.permutation_passed and self.chi_square_passed and self.lrs_passed

    @property
    def min_entropy(self) -> float:
        if math.isnan(self.h_bitstring):
            return self.h_original
        return min(self.h_original, self.bits_per_symbol * self.h_bitstring)

    def as_dict(self) -> dict[str, object]:
        return {
            "bits_per_symbol": self.bits_per_symbol,
            "iid": self.iid,
            "permutation_passed": self.permutation_passed,
            "chi_square_passed": self.chi_square_passed,
            "lrs_passed": self.lrs_passed,
            "statistics": self.statistics,
            "counts": {name: list(c) for name, c in self.counts.items()},
            "chi_square": {name: list(v) for name, v in self.chi_square.items()},
            "lrs": list(self.lrs),
            "h_original": self.h_original,
            "h_bitstring": None if math.isnan(self.h_bitstring) else self.h_bitstring,
            "min_entropy": self.min_entropy,
        }


def assess_iid(
    samples: np.ndarray,
    bits_per_symbol: int,
    rng: np.random.Generator,
    *,
    shuffles: int = _SHUFFLES,
    on_progress: ProgressCallback | None = None,
) -> IidAssessment:
    """The IID track. A statistic fails when at most 5 shuffles rank at or above the data, or at most 5
    at or below it (with the standard's 10,000 shuffles exactly its rule ``C0 + C1 <= 5 or
    C0 >= 9995``; fewer shuffles make a quicker, stricter test). ``on_progress(shuffles_done, shuffles)``
    is called every 100 shuffles (the test may settle, and stop, before the last).

    >>> result = assess_iid(np.random.default_rng(2).integers(0, 16, 5000, dtype=np.uint8), 4, np.random.default_rng(3))
    >>> result.iid, round(result.min_entropy, 2)
    (True, 3.71)
    """
    if not 1 <= bits_per_symbol <= 8:
        raise ParameterError(f"bits_per_symbol = {bits_per_symbol}: must be in [1, 8]")
    if shuffles < 1:
        raise ParameterError(f"shuffles = {shuffles}: must be >= 1")
    data = np.ascontiguousarray(samples, dtype=np.uint8)
    if data.size < 16:
        raise ParameterError(f"samples = {data.size}: the IID tests need at least 16")
    binary = bits_per_symbol == 1
    original = permutation_statistics(data, binary)
    tallies = np.zeros((len(PERMUTATION_STATISTICS), 3), dtype=np.int64)
    active = np.ones(len(PERMUTATION_STATISTICS), dtype=np.bool_)
    for shuffle in range(shuffles):
        if on_progress is not None and shuffle % 100 == 0:
            on_progress(shuffle, shuffles)
        shuffled = permutation_statistics(rng.permutation(data), binary, active)
        greater = active & (shuffled > original)
        equal = active & (shuffled == original)
        tallies[greater, 0] += 1
        tallies[equal, 1] += 1
        tallies[active & ~greater & ~equal, 2] += 1
        active &= ~((tallies[:, 0] + tallies[:, 1] >= _SETTLED) & (tallies[:, 1] + tallies[:, 2] >= _SETTLED))
        if not active.any():
            break
    h_bitstring = math.nan
    if not binary:
        h_bitstring = most_common_value_estimate(to_bitstring(data, bits_per_symbol)).min_entropy
    return IidAssessment(
        bits_per_symbol=bits_per_symbol,
        statistics={name: float(v) for name, v in zip(PERMUTATION_STATISTICS, original)},
        counts={name: (int(a), int(b), int(c)) for name, (a, b, c) in zip(PERMUTATION_STATISTICS, tallies)},
        chi_square={
            "independence": chi_square_independence(data, binary),
            "goodness_of_fit": chi_square_goodness_of_fit(data, binary),
        },
        lrs=lrs_test(data),
        h_original=most_common_value_estimate(data).min_entropy,
        h_bitstring=h_bitstring,
    )
