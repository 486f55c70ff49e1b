"""Counts of repeated tuples for every tuple length at once, from a suffix array and its LCP array.

The t-tuple and longest-repeated-substring estimates of SP 800-90B (sections 6.3.5 and 6.3.6)
need, for each length ``W``, the count of the most common ``W``-tuple and the number of pairs of
equal ``W``-tuples. Suffixes sharing a ``W``-prefix are adjacent in the suffix array, and the
groups are the LCP intervals of value at least ``W`` (Abouelhoda, Kurtz and Ohlebusch 2004), so
one stack pass over the LCP array gives both quantities for every ``W`` at once.

References
----------
Manber, U. and Myers, G., SIAM J. Comput. 22, 935 (1993), doi:10.1137/0222058 (prefix doubling).
Kasai, T. et al., CPM 2001, LNCS 2089, 181, doi:10.1007/3-540-48194-X_17 (LCP in linear time).
Abouelhoda, M. I., Kurtz, S. and Ohlebusch, E., J. Discrete Algorithms 2, 53 (2004),
doi:10.1016/S1570-8667(03)00065-0 (LCP intervals).
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np

__all__ = ["TupleCounts", "suffix_array", "tuple_counts"]


def _packed_prefixes(symbols: np.ndarray) -> tuple[np.ndarray, int]:
    """Each suffix's first ``K`` symbols packed into an int64 (zero padded) with its length (up to
    ``K``) in the low 6 bits, so integer order is the lexicographic order of those prefixes."""
    n = symbols.size
    width = max(1, int(symbols.max()).bit_length()) if n else 1
    span = max(1, min(n, (62 - 6) // width))
    padded = np.zeros(n + span, dtype=np.int64)
    padded[:n] = symbols
    key = np.zeros(n, dtype=np.int64)
    for j in range(span):
        key = (key << width) | padded[j : j + n]
    lengths = np.minimum(span, n - np.arange(n, dtype=np.int64))
    return (key << 6) | lengths, span


def _dense_ranks(key: np.ndarray) -> tuple[np.ndarray, np.ndarray, bool]:
    order = np.argsort(key)
    sorted_key = key[order]
    fresh = np.empty(key.size, dtype=np.int64)
    fresh[0] = 0
    np.cumsum(sorted_key[1:] != sorted_key[:-1], out=fresh[1:])
    rank = np.empty(key.size, dtype=np.int64)
    rank[order] = fresh
    return order, rank, bool(fresh[-1] == key.size - 1)


def suffix_array(symbols: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Suffix array and inverse (rank of each suffix): ranks of packed prefixes, then prefix doubling."""
    n = symbols.size
    key, span = _packed_prefixes(np.asarray(symbols, dtype=np.int64))
    order, rank, done = _dense_ranks(key)
    while not done and span < n:
        second = np.zeros(n, dtype=np.int64)
        second[: n - span] = rank[span:] + 1
        order, rank, done = _dense_ranks(rank * (n + 1) + second)
        span *= 2
    return order, rank


@numba.njit(cache=True, nogil=True)
def _lcp(symbols, order, rank):
    """Kasai's algorithm: ``lcp[i]`` is the common prefix of suffixes ``order[i-1]`` and ``order[i]``."""
    n = symbols.size
    lcp = np.zeros(n, dtype=np.int64)
    h = 0
    for i in range(n):
        r = rank[i]
        if r > 0:
            j = order[r - 1]
            while i + h < n and j + h < n and symbols[i + h] == symbols[j + h]:
                h += 1
            lcp[r] = h
            if h > 0:
                h -= 1
        else:
            h = 0
    return lcp


@numba.njit(cache=True, nogil=True)
def _intervals(lcp):
    """For every length ``W``: pairs of equal ``W``-tuples and the largest group, from LCP intervals."""
    n = lcp.size
    top = 0
    for i in range(n):
        top = max(top, lcp[i])
    pairs_diff = np.zeros(top + 2, dtype=np.int64)
    largest_at = np.ones(top + 2, dtype=np.int64)
    stack_lcp = np.empty(n + 1, dtype=np.int64)
    stack_lb = np.empty(n + 1, dtype=np.int64)
    depth = 1
    stack_lcp[0] = 0
    stack_lb[0] = 0
    for i in range(1, n + 1):
        current = lcp[i] if i < n else -1
        lb = i - 1
        while depth > 0 and current < stack_lcp[depth - 1]:
            depth -= 1
            value = stack_lcp[depth]
            lb = stack_lb[depth]
            size = i - lb
            parent = current
            if depth > 0 and stack_lcp[depth - 1] > parent:
                parent = stack_lcp[depth - 1]
            if parent < 0:
                parent = 0
            if value > 0:
                pairs = size * (size - 1) // 2
                pairs_diff[parent + 1] += pairs
                pairs_diff[value + 1] -= pairs
                if size > largest_at[value]:
                    largest_at[value] = size
        if depth == 0 or current > stack_lcp[depth - 1]:
            stack_lcp[depth] = max(current, 0)
            stack_lb[depth] = lb
            depth += 1
    pairs = np.cumsum(pairs_diff)[: top + 1]
    largest = largest_at[: top + 1].copy()
    for w in range(top - 1, -1, -1):
        if largest[w + 1] > largest[w]:
            largest[w] = largest[w + 1]
    return pairs, largest


@dataclass(frozen=True)
class TupleCounts:
    """``largest[W]``: count of the most common ``W``-tuple; ``pairs[W]``: pairs of equal ``W``-tuples
    (index 0 unused); ``longest_repeat``: the longest length that occurs at least twice."""

    largest: np.ndarray
    pairs: np.ndarray

    @property
    def longest_repeat(self) -> int:
        return int(self.pairs.size - 1)


def tuple_counts(symbols: np.ndarray) -> TupleCounts:
    """Most-common counts and pair counts of overlapping tuples of every length present twice.

    >>> counts = tuple_counts(np.array([0, 1, 0, 1, 0], dtype=np.uint8))
    >>> counts.largest.tolist()[1:], counts.pairs.tolist()[1:]
    ([3, 2, 2], [4, 2, 1])
    """
    data = np.ascontiguousarray(symbols)
    order, rank = suffix_array(data)
    pairs, largest = _intervals(_lcp(data, order, rank))
    return TupleCounts(largest=largest, pairs=pairs)
