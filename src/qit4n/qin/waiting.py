"""Exact waiting times of the abstract repeater model used by the waiting-time literature.

The model (Shchukin, Schmidt, van Loock 2019): a chain of ``N = 2^n`` segments; time is counted in
link attempts, every idle segment attempts once per step and succeeds with probability ``p``;
memories are perfect; a swap happens at the end of the step in which both of its pairs are ready
and succeeds with probability ``a``; a failed swap regenerates all the pairs below it. Under the
doubling (nested) policy the chain is a Markov chain whose states are the ready/not-ready pattern
of the swap tree; the mean waiting time is the mean time to absorption (fundamental matrix).

Numerical form. The one-step matrix is kept as ``I + G`` with the exact increment ``G`` (of order
``p``): written as ``1 - p`` it would lose the digits of a small ``p`` (a relative 1e-4 at
``p = 1e-12``). The mean solves ``-G x = 1``; quantiles come from ``(I + G)^(2^k) = I + G_k``,
``G_(k+1) = 2 G_k + G_k^2``, and a binary descent over the bits of the answer, so the 99th
percentile of a chain with ``p = 1e-12`` (~1e12 attempts) costs ~40 matrix products instead of
1e12 steps. With deterministic swaps the mean of the maximum of ``N`` geometric times is a sum of
positive terms ``sum_t [1 - (1 - q^t)^N]`` (the alternating binomial sum cancels from ~50 segments
on), or, when ``lambda = -ln(1 - p) < 1e-4``, its Euler-Maclaurin form ``H_N / lambda + 1/2``
(error ``O(lambda^3)``, below 1e-15 relative); its quantiles have a closed form.

References
----------
E. Shchukin, F. Schmidt, P. van Loock, "Waiting time in quantum repeaters with probabilistic
entanglement swapping", Phys. Rev. A 100, 032322 (2019), doi:10.1103/PhysRevA.100.032322,
arXiv:1710.06214 (two-segment closed form, Markov-chain method).
S. E. Vinay, P. Kok, Phys. Rev. A 95, 052336 (2017) and N. K. Bernardes, L. Praxmeyer,
P. van Loock, Phys. Rev. A 83, 012323 (2011) (deterministic swapping: maximum of geometric times).
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import digamma

from qit4n.errors import ParameterError

__all__ = [
    "MAX_CDF_ATTEMPTS",
    "MAX_EXACT_SEGMENTS",
    "check_probabilities",
    "deterministic_swaps_waiting_time_quantile",
    "doubling_levels",
    "doubling_mean_waiting_time",
    "doubling_transition_matrix",
    "doubling_waiting_time_cdf",
    "doubling_waiting_time_quantile",
    "mean_waiting_time_deterministic_swaps",
    "mean_waiting_time_two_segments",
]

#: Largest chain (segments) solved exactly as a Markov chain (256 states); longer chains are sampled.
MAX_EXACT_SEGMENTS = 8
#: Longest distribution propagated step by step by :func:`doubling_waiting_time_cdf`.
MAX_CDF_ATTEMPTS = 10_000_000
#: ``-ln(1 - p)`` below which the deterministic-swap mean uses its Euler-Maclaurin form.
_SMALL_RATE = 1e-4
#: Squarings of the one-step matrix tried before a quantile is declared out of reach (2^2000 steps).
_MAX_SQUARINGS = 2000


def check_probabilities(link_success_probability: float, swap_success_probability: float) -> None:
    """Raise :class:`ParameterError` unless both probabilities lie in (0, 1]."""
    for name, value in (
        ("link_success_probability", link_success_probability),
        ("swap_success_probability", swap_success_probability),
    ):
        if not 0.0 < value <= 1.0:
            raise ParameterError(f"{name} = {value:g}: must be in (0, 1]")


def _check_level(level: float) -> None:
    if not 0.0 < level < 1.0:
        raise ParameterError(f"level = {level:g}: must be in (0, 1)")


def doubling_levels(segments: int) -> int:
    """Nesting levels ``n`` of a doubling chain of ``segments = 2^n`` segments."""
    levels = int(segments).bit_length() - 1
    if segments < 1 or 2**levels != segments:
        raise ParameterError(f"segments = {segments}: the doubling policy needs a power of 2 (1, 2, 4, 8, ...)")
    return levels


def mean_waiting_time_two_segments(link_success_probability: float, swap_success_probability: float) -> float:
    """Closed form for two segments, ``(3 - 2p) / (a p (2 - p))`` attempts (Shchukin et al. 2019).

    >>> round(mean_waiting_time_two_segments(0.5, 0.5), 6)
    5.333333
    """
    check_probabilities(link_success_probability, swap_success_probability)
    p, a = link_success_probability, swap_success_probability
    return (3.0 - 2.0 * p) / (a * p * (2.0 - p))


def mean_waiting_time_deterministic_swaps(segments: int, link_success_probability: float) -> float:
    """Mean of the maximum of ``N`` geometric times, ``sum_(t>=0) [1 - (1 - (1-p)^t)^N]`` attempts.

    With ``a = 1`` every policy delivers when the last segment succeeds. Equal to the alternating
    sum ``sum_k (-1)^(k+1) C(N,k) / (1 - (1-p)^k)``, which cancels in floating point for large ``N``.

    >>> round(mean_waiting_time_deterministic_swaps(2, 0.5), 6)
    2.666667
    """
    check_probabilities(link_success_probability, 1.0)
    if segments < 1:
        raise ParameterError(f"segments = {segments}: must be >= 1")
    p = link_success_probability
    if p == 1.0:
        return 1.0
    rate = -math.log1p(-p)
    if segments == 1:
        return 1.0 / p
    if rate < _SMALL_RATE:
        return float((digamma(segments + 1.0) + np.euler_gamma) / rate + 0.5)
    steps = np.arange(1, math.ceil((math.log(segments) + 42.0) / rate) + 1, dtype=float)
    return 1.0 + float(np.sum(-np.expm1(segments * np.log1p(-np.exp(-rate * steps)))))


def deterministic_swaps_waiting_time_quantile(segments: int, link_success_probability: float, level: float) -> int:
    """Smallest ``t`` with ``P(T <= t) = (1 - (1-p)^t)^N >= level`` (closed form).

    >>> deterministic_swaps_waiting_time_quantile(1, 0.5, 0.99)
    7
    """
    check_probabilities(link_success_probability, 1.0)
    _check_level(level)
    if segments < 1:
        raise ParameterError(f"segments = {segments}: must be >= 1")
    if link_success_probability == 1.0:
        return 1
    log_q = math.log1p(-link_success_probability)

    def cdf(steps: int) -> float:
        return math.exp(segments * math.log1p(-math.exp(steps * log_q))) if steps > 0 else 0.0

    steps = max(math.ceil(math.log(-math.expm1(math.log(level) / segments)) / log_q), 1)
    while steps > 1 and cdf(steps - 1) >= level:
        steps -= 1
    while cdf(steps) < level:
        steps += 1
    return steps


def _doubling_increment(segments: int, link_success_probability: float, swap_success_probability: float) -> np.ndarray:
    """``G``: the one-step matrix of the doubling chain less the identity, built without ``1 - p``."""
    check_probabilities(link_success_probability, swap_success_probability)
    levels = doubling_levels(segments)
    if segments > MAX_EXACT_SEGMENTS:
        raise ParameterError(f"segments = {segments}: exact solution available up to {MAX_EXACT_SEGMENTS} segments")
    p, a = link_success_probability, swap_success_probability
    increment = np.array([[-p, p], [0.0, 0.0]])
    for _ in range(levels):
        identity = np.eye(increment.shape[0])
        increment = np.kron(increment, identity) + np.kron(identity, increment) + np.kron(increment, increment)
        ready = increment.shape[0] - 1
        arriving = increment[:, ready].copy()
        increment[:, ready] = a * arriving
        increment[:, 0] += (1.0 - a) * arriving
        increment[ready, :] = 0.0
    return increment


def doubling_transition_matrix(
    segments: int, link_success_probability: float, swap_success_probability: float
) -> np.ndarray:
    """One-step transition matrix of the doubling chain; the last state is "end-to-end pair ready".

    Level-k states are pairs of level-(k-1) states; the pair (ready, ready) is never occupied (its
    swap resolves in the same step), so its index stands for "level-k pair ready". State 0 is
    all-idle. The size is ``2^(2^n)``.
    """
    increment = _doubling_increment(segments, link_success_probability, swap_success_probability)
    return np.eye(increment.shape[0]) + increment


def doubling_mean_waiting_time(
    segments: int, link_success_probability: float, swap_success_probability: float
) -> float:
    """Exact mean waiting time (in attempts) of the doubling policy, by the fundamental matrix.

    >>> round(doubling_mean_waiting_time(2, 0.5, 0.5), 6)
    5.333333
    """
    transient = _doubling_increment(segments, link_success_probability, swap_success_probability)[:-1, :-1]
    times = np.linalg.solve(-transient, np.ones(transient.shape[0]))
    return float(times[0])


def doubling_waiting_time_cdf(
    segments: int, link_success_probability: float, swap_success_probability: float, max_attempts: int
) -> np.ndarray:
    """``P(T <= t)`` for ``t = 0 .. max_attempts`` (exact, by propagating the state distribution)."""
    if not 0 <= max_attempts <= MAX_CDF_ATTEMPTS:
        raise ParameterError(
            f"max_attempts = {max_attempts}: must be in [0, {MAX_CDF_ATTEMPTS}] (use doubling_waiting_time_quantile)"
        )
    increment = _doubling_increment(segments, link_success_probability, swap_success_probability)
    distribution = np.zeros(increment.shape[0])
    distribution[0] = 1.0
    cdf = np.empty(max_attempts + 1)
    for step in range(max_attempts + 1):
        cdf[step] = distribution[-1]
        distribution = distribution + distribution @ increment
    return cdf


def doubling_waiting_time_quantile(
    segments: int, link_success_probability: float, swap_success_probability: float, level: float
) -> int:
    """Smallest ``t`` with ``P(T <= t) >= level`` (exact; ~log2(t) matrix products, any ``p > 0``).

    >>> doubling_waiting_time_quantile(2, 0.5, 0.5, 0.99)
    21
    """
    _check_level(level)
    transient = _doubling_increment(segments, link_success_probability, swap_success_probability)[:-1, :-1]
    start = np.zeros(transient.shape[0])
    start[0] = 1.0
    tail = 1.0 - level
    powers = [transient]  # G_k with (I + G)^(2^k) = I + G_k, restricted to the transient states
    while float(np.sum(start + start @ powers[-1])) > tail:
        if len(powers) > _MAX_SQUARINGS:
            raise ParameterError(f"level = {level:g}: quantile beyond 2^{_MAX_SQUARINGS} attempts")
        powers.append(2.0 * powers[-1] + powers[-1] @ powers[-1])
    survivor, steps = start, 0
    for exponent in range(len(powers) - 1, -1, -1):
        moved = survivor + survivor @ powers[exponent]
        if float(np.sum(moved)) > tail:
            survivor, steps = moved, steps + 2**exponent
    return steps + 1
