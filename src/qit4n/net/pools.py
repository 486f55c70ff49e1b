"""Fluid key pools, one per pair of neighbouring key managers, updated lazily at event times.

Each pair of nodes joined by QKD links keeps one store of shared key (the key manager at each end
holds an identical copy; parallel systems between the same two sites feed the same store, as a key
management entity keeps one store per peer). Between events a pool fills linearly at its current
rate and stops at its capacity, the excess counted as discarded, so no event is needed per key bit
or at "pool full" crossings: every read brings the touched pools up to date first.

Bit accounting is exact (up to float rounding): ``initial + generated = delivered + relay +
level + discarded``, where a delivery of ``K`` end-to-end bits over ``h`` hops counts ``K`` as
delivered and ``(h - 1) K`` as consumed by relaying. The right-hand terms are counted where they
happen (at requests and at clipping to capacity); ``generated`` is counted independently, as the
integral of each pool's rate over its rate epochs, so the balance is a real check.
"""

from __future__ import annotations

import numpy as np

__all__ = ["PairPools"]


class PairPools:
    """Levels, rates and capacities of all pair pools (arrays indexed by pair), with bit counters.

    >>> pools = PairPools(np.array([100.0]), np.array([10.0]))
    >>> pools.close(25.0)
    >>> float(pools.level_bits[0]), pools.generated_bits, pools.discarded_bits
    (100.0, 250.0, 150.0)
    """

    def __init__(self, capacity_bits: np.ndarray, rate_bps: np.ndarray, initial_bits: np.ndarray | None = None) -> None:
        self.capacity_bits = np.asarray(capacity_bits, dtype=float)
        self.rate_bps = np.asarray(rate_bps, dtype=float).copy()
        self.level_bits = (
            np.zeros_like(self.capacity_bits) if initial_bits is None else np.minimum(initial_bits, self.capacity_bits)
        )
        self.initial_bits = float(self.level_bits.sum())
        self.updated_s = np.zeros_like(self.capacity_bits)
        self.epoch_s = np.zeros_like(self.capacity_bits)
        self.generated_bits = 0.0
        self.discarded_bits = 0.0
        self.delivered_bits = 0.0
        self.relay_bits = 0.0

    def advance(self, pairs: np.ndarray, now_s: float) -> None:
        """Bring ``pairs`` up to ``now_s``: add generated key, discard what exceeds capacity."""
        unclipped = self.level_bits[pairs] + self.rate_bps[pairs] * (now_s - self.updated_s[pairs])
        level = np.minimum(unclipped, self.capacity_bits[pairs])
        self.level_bits[pairs] = level
        self.updated_s[pairs] = now_s
        self.discarded_bits += float((unclipped - level).sum())

    def set_rates(self, pairs: np.ndarray, rates_bps: np.ndarray, now_s: float) -> None:
        """Change the fill rates of ``pairs`` from ``now_s`` on, closing their generation epochs at the old rates."""
        self.advance(pairs, now_s)
        self.generated_bits += float((self.rate_bps[pairs] * (now_s - self.epoch_s[pairs])).sum())
        self.epoch_s[pairs] = now_s
        self.rate_bps[pairs] = rates_bps

    def close(self, now_s: float) -> None:
        """Bring every pool to ``now_s`` and count the key generated up to then (end of a run)."""
        everything = np.arange(len(self.level_bits))
        self.set_rates(everything, self.rate_bps[everything], now_s)

    def try_take(
        self, pairs: np.ndarray, need_bits: np.ndarray, need_total_bits: float, delivered_bits: float, now_s: float
    ) -> float:
        """Advance ``pairs`` to ``now_s`` and take ``need_bits`` (``need_total_bits`` in all) if every pool holds it.

        Returns 0 when the key was taken, otherwise the time (s) until the pools would hold it at
        current rates (``inf`` if a pool short of key does not fill). This runs for every request,
        so its loop is compiled with numba (a handful of pools per call: numpy's per-call overhead
        dominated; see benchmarks/bench_net_simulate.py).
        """
        wait_s, discarded = _take_kernel()(
            self.level_bits, self.rate_bps, self.updated_s, self.capacity_bits, pairs, need_bits, now_s
        )
        self.discarded_bits += discarded
        if wait_s == 0.0:
            self.delivered_bits += delivered_bits
            self.relay_bits += need_total_bits - delivered_bits
        return wait_s

    def balance_bits(self) -> float:
        """``initial + generated - (delivered + relay + level + discarded)``: zero up to rounding (after
        :meth:`close`)."""
        return (
            self.initial_bits
            + self.generated_bits
            - (self.delivered_bits + self.relay_bits + float(self.level_bits.sum()) + self.discarded_bits)
        )


_KERNEL: list = []


def _take_kernel():
    """The compiled advance-check-take loop (built on first use; numba caches it on disk)."""
    if not _KERNEL:
        from numba import njit

        @njit(cache=True)
        def take(level, rate, updated, capacity, pairs, need, now_s):  # pragma: no cover - compiled
            discarded = 0.0
            wait = 0.0
            for j in range(pairs.size):
                pair = pairs[j]
                value = level[pair] + rate[pair] * (now_s - updated[pair])
                if value > capacity[pair]:
                    discarded += value - capacity[pair]
                    value = capacity[pair]
                level[pair] = value
                updated[pair] = now_s
                deficit = need[j] - value
                if deficit > 1e-9 * need[j]:
                    if rate[pair] <= 0.0:
                        wait = np.inf
                    elif deficit / rate[pair] > wait:
                        wait = deficit / rate[pair]
            if wait == 0.0:
                for j in range(pairs.size):
                    level[pairs[j]] -= need[j]
            return wait, discarded

        _KERNEL.append(take)
    return _KERNEL[0]
