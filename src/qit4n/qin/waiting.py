"""Exact waiting times of the abstract repeater model used by the waiting-time literature.

The model (Shchukin, Schmidt, van Loock 2019): a chain of ``N = 2^n`` segments; time is counted in
link attempts, every idle segment attempts once per step and succeeds with probability ``p``;
memories are perfect; a swap happens at the end of the step in which both of its pairs are ready
and succeeds with probability ``a``; a failed swap regenerates all the pairs below it. Under the
doubling (nested) policy the chain is a Markov chain whose states are the ready/not-ready pattern
of the swap tree; the mean waiting time is the mean time to absorption (fundamental matrix).

References
----------
E. Shchukin, F. Schmidt, P. van Loock, "Waiting time in quantum repeaters with probabilistic
entanglement swapping", Phys. Rev. A 100, 032322 (2019), doi:10.1103/PhysRevA.100.032322,
arXiv:1710.06214 (two-segment closed form, Markov-chain method).
S. E. Vinay, P. Kok, Phys. Rev. A 95, 052336 (2017) and N. K. Bernardes, L. Praxmeyer,
P. van Loock, Phys. Rev. A 83, 012323 (2011) (deterministic swapping: maximum of geometric times).
"""

from __future__ import annotations

from math import comb

import numpy as np

from qit4n.errors import ParameterError

__all__ = [
    "MAX_EXACT_SEGMENTS",
    "check_probabilities",
    "doubling_levels",
    "doubling_mean_waiting_time",
    "doubling_transition_matrix",
    "doubling_waiting_time_cdf",
    "mean_waiting_time_deterministic_swaps",
    "mean_waiting_time_two_segments",
]

#: Largest chain (segments) solved exactly as a Markov chain (256 states); longer chains are sampled.
MAX_EXACT_SEGMENTS = 8


def check_probabilities(link_success_probability: float, swap_success_probability: float) -> None:
    """Raise :class:`ParameterError` unless both probabilities lie in (0, 1]."""
    for name, value in (
        ("link_success_probability", link_success_probability),
        ("swap_success_probability", swap_success_probability),
    ):
        if not 0.0 < value <= 1.0:
            raise ParameterError(f"{name} = {value:g}: must be in (0, 1]")


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
    """Mean of the maximum of ``N`` geometric times, ``sum_k (-1)^(k+1) C(N,k) / (1 - (1-p)^k)``.

    With ``a = 1`` every policy delivers when the last segment succeeds.

    >>> round(mean_waiting_time_deterministic_swaps(2, 0.5), 6)
    2.666667
    """
    check_probabilities(link_success_probability, 1.0)
    q = 1.0 - link_success_probability
    return float(sum((-1) ** (k + 1) * comb(segments, k) / (1.0 - q**k) for k in range(1, segments + 1)))


def doubling_transition_matrix(
    segments: int, link_success_probability: float, swap_success_probability: float
) -> np.ndarray:
    """One-step transition matrix of the doubling chain; the last state is "end-to-end pair ready".

    Level-k states are pairs of level-(k-1) states; the pair (ready, ready) is never occupied (its
    swap resolves in the same step), so its index stands for "level-k pair ready". State 0 is
    all-idle. The size is ``2^(2^n)``.
    """
    check_probabilities(link_success_probability, swap_success_probability)
    levels = doubling_levels(segments)
    if segments > MAX_EXACT_SEGMENTS:
        raise ParameterError(f"segments = {segments}: exact solution available up to {MAX_EXACT_SEGMENTS} segments")
    p, a = link_success_probability, swap_success_probability
    matrix = np.array([[1.0 - p, p], [0.0, 1.0]])
    for _ in range(levels):
        matrix = np.kron(matrix, matrix)
        ready = matrix.shape[0] - 1
        arriving = matrix[:, ready].copy()
        matrix[:, ready] = a * arriving
        matrix[:, 0] += (1.0 - a) * arriving
        matrix[ready, :] = 0.0
        matrix[ready, ready] = 1.0
    return matrix


def doubling_mean_waiting_time(
    segments: int, link_success_probability: float, swap_success_probability: float
) -> float:
    """Exact mean waiting time (in attempts) of the doubling policy, by the fundamental matrix.

    >>> round(doubling_mean_waiting_time(2, 0.5, 0.5), 6)
    5.333333
    """
    matrix = doubling_transition_matrix(segments, link_success_probability, swap_success_probability)
    transient = matrix[:-1, :-1]
    times = np.linalg.solve(np.eye(transient.shape[0]) - transient, np.ones(transient.shape[0]))
    return float(times[0])


def doubling_waiting_time_cdf(
    segments: int, link_success_probability: float, swap_success_probability: float, max_attempts: int
) -> np.ndarray:
    """``P(T <= t)`` for ``t = 0 .. max_attempts`` (exact, by propagating the state distribution)."""
    matrix = doubling_transition_matrix(segments, link_success_probability, swap_success_probability)
    distribution = np.zeros(matrix.shape[0])
    distribution[0] = 1.0
    cdf = np.empty(max_attempts + 1)
    for step in range(max_attempts + 1):
        cdf[step] = distribution[-1]
        distribution = distribution @ matrix
    return cdf
