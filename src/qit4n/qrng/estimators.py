"""The ten min-entropy estimators of NIST SP 800-90B section 6.3 (non-IID track).

Each function takes the samples as a 1-D integer array (symbols ``0 .. alphabet - 1``) and returns
an :class:`Estimate`: the min-entropy per sample in bits and the intermediate values the standard
names (``p_u``, ``X-bar``, ``C``, ``r`` ...), so a result can be checked line by line against
NIST's reference tool. The collision, Markov and compression estimators apply to binary data only
(the standard runs them on the bitstring of non-binary samples).

References
----------
NIST SP 800-90B, "Recommendation for the Entropy Sources Used for Random Bit Generation" (2018),
section 6.3, doi:10.6028/NIST.SP.800-90B.
Kelsey, J., McKay, K. A. and Sonmez Turan, M., CHES 2015, LNCS 9293, 373,
doi:10.1007/978-3-662-48324-4_19 (predictors).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numba
import numpy as np
from scipy.optimize import brentq

from qit4n.errors import ParameterError
from qit4n.qrng.predictors import lag_correct, lz78y_correct, multi_mcw_correct, multi_mmc_correct
from qit4n.qrng.tuples import TupleCounts, tuple_counts

__all__ = [
    "Estimate",
    "collision_estimate",
    "compression_estimate",
    "lag_estimate",
    "lrs_estimate",
    "lz78y_estimate",
    "markov_estimate",
    "most_common_value_estimate",
    "multi_mcw_estimate",
    "multi_mmc_estimate",
    "t_tuple_estimate",
]

#: The upper 99.5% point of the standard normal distribution (the standard rounds it to 2.576; the
#: reference tool uses the exact quantile, and so do we).
Z_995 = 2.5758293035489004
_TUPLE_CUTOFF = 35
_COMPRESSION_BLOCK_BITS = 6
_COMPRESSION_DICTIONARY = 1000
_COMPRESSION_C = 0.5907
_MARKOV_LENGTH = 128


@dataclass(frozen=True)
class Estimate:
    """One estimator's result: ``min_entropy`` in bits per sample and its named intermediate values."""

    name: str
    min_entropy: float
    values: dict[str, float] = field(default_factory=dict)


def _upper(p_hat: float, count: int) -> float:
    return min(1.0, p_hat + Z_995 * math.sqrt(p_hat * (1.0 - p_hat) / (count - 1)))


def _require_binary(symbols: np.ndarray, estimator: str) -> None:
    if symbols.size and int(symbols.max()) > 1:
        raise ParameterError(
            f"{estimator}: samples = {int(symbols.max())}: this estimator takes binary samples (0 or 1)"
        )


def most_common_value_estimate(symbols: np.ndarray) -> Estimate:
    """Section 6.3.1: ``p_u`` bounds the most common value's probability at 99% confidence."""
    counts = np.bincount(symbols)
    p_hat = float(counts.max()) / symbols.size
    p_u = _upper(p_hat, symbols.size)
    return Estimate(
        "most common value", -math.log2(p_u), {"mode_count": float(counts.max()), "p_hat": p_hat, "p_u": p_u}
    )


@numba.njit(cache=True, nogil=True)
def _collision_times(bits):
    """Numbers of collisions after two and after three bits, walking from the first bit."""
    twos = 0
    threes = 0
    index = 0
    n = bits.size
    while index + 1 < n:
        if bits[index] == bits[index + 1]:
            twos += 1
            index += 2
        elif index + 2 < n:
            threes += 1
            index += 3
        else:
            break
    return twos, threes


def collision_estimate(symbols: np.ndarray) -> Estimate:
    """Section 6.3.2 (binary): mean time to the first repeat within a run of samples.

    For bits a collision comes after two samples (``00`` or ``11``) or three, so ``t`` is 2 or 3
    and the expected ``t`` is ``2 + 2 p q``; the standard's bound ``X-bar'`` gives ``p``.
    """
    _require_binary(symbols, "collision estimate")
    twos, threes = _collision_times(np.ascontiguousarray(symbols, dtype=np.uint8))
    v = twos + threes
    mean = (2.0 * twos + 3.0 * threes) / v
    sigma = math.sqrt((twos * (2.0 - mean) ** 2 + threes * (3.0 - mean) ** 2) / (v - 1))
    bound = mean - Z_995 * sigma / math.sqrt(v)
    if bound >= 2.5:
        p = 0.5
    else:
        pq = max(bound - 2.0, 0.0) / 2.0
        p = 0.5 + math.sqrt(max(0.25 - pq, 0.0))
    return Estimate(
        "collision", -math.log2(p), {"v": v, "x_bar": mean, "sigma_hat": sigma, "x_bar_prime": bound, "p": p}
    )


def markov_estimate(symbols: np.ndarray) -> Estimate:
    """Section 6.3.3 (binary): the most likely 128-bit sequence under a first-order Markov model."""
    _require_binary(symbols, "Markov estimate")
    bits = symbols.astype(np.int64)
    n = bits.size
    p1 = float(bits.sum()) / n
    p0 = 1.0 - p1
    pairs = np.bincount(2 * bits[:-1] + bits[1:], minlength=4).astype(float)
    zeros_before, ones_before = pairs[0] + pairs[1], pairs[2] + pairs[3]
    p00 = pairs[0] / zeros_before if zeros_before else 0.0
    p01 = pairs[1] / zeros_before if zeros_before else 0.0
    p10 = pairs[2] / ones_before if ones_before else 0.0
    p11 = pairs[3] / ones_before if ones_before else 0.0
    length = _MARKOV_LENGTH
    with np.errstate(divide="ignore"):
        logs = np.log2(np.array([p0, p1, p00, p01, p10, p11]))
    l0, l1, l00, l01, l10, l11 = logs
    half = length // 2
    paths = [
        l0 + (length - 1) * l00,
        l0 + half * l01 + (half - 1) * l10,
        l0 + l01 + (length - 2) * l11,
        l1 + l10 + (length - 2) * l00,
        l1 + half * l10 + (half - 1) * l01,
        l1 + (length - 1) * l11,
    ]
    log_max = float(np.nanmax(np.where(np.isfinite(paths), paths, -np.inf)))
    entropy = min(-log_max / length, 1.0)
    values = {"p_0": p0, "p_1": p1, "p_00": p00, "p_01": p01, "p_10": p10, "p_11": p11, "p_hat_max": 2.0**log_max}
    return Estimate("Markov", entropy, {key: float(value) for key, value in values.items()})


def _compression_g(z: float, log_u: np.ndarray, weights: np.ndarray, tail_log: np.ndarray, v: int) -> float:
    """``G(z)`` of section 6.3.4 summed in closed form over ``t`` (``weights[u-1]`` = number of
    ``t > u`` in the test range; ``tail_log`` = ``log2 t`` over the test range)."""
    if z >= 1.0:
        return 0.0
    u = np.arange(1, log_u.size + 1, dtype=float)
    powers = np.exp((u - 1.0) * math.log1p(-z))
    inner = z * z * float(np.sum(log_u * powers * weights))
    first = log_u.size - tail_log.size
    ends = z * float(np.sum(tail_log * powers[first:]))
    return (inner + ends) / v


def compression_estimate(symbols: np.ndarray) -> Estimate:
    """Section 6.3.4 (binary): Maurer's universal statistic on 6-bit blocks, 1000 to prime the dictionary."""
    _require_binary(symbols, "compression estimate")
    b, d = _COMPRESSION_BLOCK_BITS, _COMPRESSION_DICTIONARY
    num_blocks = symbols.size // b
    v = num_blocks - d
    if v < 2:
        raise ParameterError(f"compression estimate: samples = {symbols.size}: needs at least {b * (d + 2)}")
    blocks = symbols[: num_blocks * b].astype(np.int64).reshape(num_blocks, b) @ (1 << np.arange(b - 1, -1, -1))
    positions = np.arange(1, num_blocks + 1, dtype=np.int64)
    last_seen = np.zeros(1 << b, dtype=np.int64)
    distances = np.empty(v, dtype=np.int64)
    for value in range(1 << b):
        where = positions[blocks == value]
        if where.size == 0:
            continue
        gaps = np.diff(where, prepend=0)
        gaps[0] = where[0]
        keep = where > d
        distances[where[keep] - d - 1] = gaps[keep]
        last_seen[value] = where[-1]
    logs = np.log2(distances.astype(float))
    mean = float(logs.mean())
    sigma = _COMPRESSION_C * math.sqrt(max(float(np.sum(logs * logs)) / (v - 1) - mean * mean, 0.0))
    bound = mean - Z_995 * sigma / math.sqrt(v)
    log_u = np.log2(np.arange(1, num_blocks, dtype=float))
    weights = (num_blocks - np.maximum(np.arange(1, num_blocks), d)).astype(float)
    tail_log = np.log2(np.arange(d + 1, num_blocks + 1, dtype=float))
    alphabet = (1 << b) - 1

    def excess(p: float) -> float:
        q = (1.0 - p) / alphabet
        return (
            _compression_g(p, log_u, weights, tail_log, v)
            + alphabet * _compression_g(q, log_u, weights, tail_log, v)
            - bound
        )

    low = 2.0**-b
    values = {"x_bar": mean, "sigma_hat": sigma, "x_bar_prime": bound}
    if excess(low) <= 0.0:
        return Estimate("compression", 1.0, values | {"p": low})
    high = 1.0 - 1e-12
    p = 1.0 if excess(high) > 0.0 else brentq(excess, low, high, xtol=1e-15, rtol=1e-15)
    return Estimate("compression", -math.log2(p) / b, values | {"p": p})


def t_tuple_estimate(symbols: np.ndarray, counts: TupleCounts | None = None) -> Estimate:
    """Section 6.3.5: the most common ``i``-tuples for every ``i`` up to the longest seen 35 times."""
    counts = counts or tuple_counts(symbols)
    n = symbols.size
    largest = counts.largest
    lengths = np.flatnonzero(largest >= _TUPLE_CUTOFF)
    lengths = lengths[lengths > 0]
    if lengths.size == 0:
        return Estimate("t-tuple", math.inf, {"t": 0})  # no tuple seen 35 times: the estimate does not apply
    t = int(lengths.max())
    i = np.arange(1, t + 1)
    p_max = float(np.max((largest[1 : t + 1] / (n - i + 1)) ** (1.0 / i)))
    p_u = _upper(p_max, n)
    return Estimate("t-tuple", -math.log2(p_u), {"t": t, "p_hat_max": p_max, "p_u": p_u})


def lrs_estimate(symbols: np.ndarray, counts: TupleCounts | None = None) -> Estimate:
    """Section 6.3.6: collision probabilities of the tuples too long for the t-tuple estimate."""
    counts = counts or tuple_counts(symbols)
    n = symbols.size
    below = np.flatnonzero(counts.largest[1:] < _TUPLE_CUTOFF)
    u = int(below[0]) + 1 if below.size else counts.longest_repeat + 1
    v = counts.longest_repeat
    if v < u:
        return Estimate("LRS", math.inf, {"u": u, "v": v})  # no repeat long enough: the estimate does not apply
    w = np.arange(u, v + 1)
    totals = (n - w + 1).astype(float)
    p_w = counts.pairs[u : v + 1].astype(float) / (totals * (totals - 1.0) / 2.0)
    p_hat = float(np.max(p_w ** (1.0 / w)))
    p_u = _upper(p_hat, n)
    return Estimate("LRS", -math.log2(p_u), {"u": u, "v": v, "p_hat": p_hat, "p_u": p_u})


def _longest_run(flags: np.ndarray) -> int:
    if not flags.any():
        return 0
    padded = np.concatenate(([0], flags.astype(np.int8), [0]))
    edges = np.flatnonzero(np.diff(padded))
    return int(np.max(edges[1::2] - edges[::2]))


def _local_probability(r: int, n: int) -> float:
    """``p`` at which a run of ``r`` correct predictions among ``n`` is seen with probability 1%
    (section 6.3.7 step 7)."""

    def miss(p: float) -> float:
        q = 1.0 - p
        x = 1.0
        for _ in range(10):
            x = 1.0 + q * p**r * x ** (r + 1)
        ratio = (1.0 - p * x) / ((r + 1.0 - r * x) * q)
        if ratio <= 0.0:
            return -0.99
        return math.exp(math.log(ratio) - (n + 1) * math.log(x)) - 0.99

    low, high = 0.0, 1.0
    for _ in range(200):
        middle = (low + high) / 2.0
        if middle <= 0.0 or middle >= 1.0:
            break
        if miss(middle) > 0.0:
            low = middle
        else:
            high = middle
    return low


def _prediction_estimate(name: str, correct: np.ndarray, alphabet: int) -> Estimate:
    n = correct.size
    hits = int(correct.sum())
    r = _longest_run(correct) + 1
    p_global = hits / n
    p_prime = 1.0 - 0.01 ** (1.0 / n) if hits == 0 else _upper(p_global, n)
    p_local = _local_probability(r, n)
    p = max(p_prime, p_local, 1.0 / alphabet)
    values = {"C": hits, "r": r, "N": n, "p_global": p_global, "p_global_prime": p_prime, "p_local": p_local}
    return Estimate(name, -math.log2(p), values)


def _radix(symbols: np.ndarray) -> int:
    """One more than the largest symbol: the kernels' table width (the alphabet may have gaps)."""
    return int(symbols.max()) + 1 if symbols.size else 1


def multi_mcw_estimate(symbols: np.ndarray, alphabet: int) -> Estimate:
    """Section 6.3.7: the most common value in windows of 63, 255, 1023 and 4095 samples."""
    data = symbols.astype(np.int64)
    return _prediction_estimate("MultiMCW", multi_mcw_correct(data, _radix(data)), alphabet)


def lag_estimate(symbols: np.ndarray, alphabet: int) -> Estimate:
    """Section 6.3.8: the sample 1 to 128 positions back."""
    return _prediction_estimate("lag", lag_correct(symbols.astype(np.int64)), alphabet)


def multi_mmc_estimate(symbols: np.ndarray, alphabet: int) -> Estimate:
    """Section 6.3.9: Markov models of orders 1 to 16."""
    return _prediction_estimate("MultiMMC", multi_mmc_correct(symbols, _radix(symbols)), alphabet)


def lz78y_estimate(symbols: np.ndarray, alphabet: int) -> Estimate:
    """Section 6.3.10: an LZ78-like dictionary of contexts up to 16 samples."""
    data = symbols.astype(np.int64)
    return _prediction_estimate("LZ78Y", lz78y_correct(data, _radix(data)), alphabet)
