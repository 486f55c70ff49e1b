"""Fluid key pools, one per pair of neighbouring key managers, updated lazily at event times.

Each pair of nodes joined by QKD links keeps one store of shared key (the key manager at each end
holds an identical copy; parallel systems between the same two sites feed the same store, as a key
management entity keeps one store per peer). Between events a pool fills linearly at its current
rate and stops at its capacity, the excess counted as discarded, so no event is needed per key bit
or at "pool full" crossings: every read brings the touched pools up to date first.

Bit accounting is exact (up to float rounding): ``initial + generated = delivered + relay +
level + discarded``, where a delivery of ``K`` end-to-end bits over ``h`` hops counts ``K`` as
delivered and ``(h - 1) K`` as consumed by relaying.
"""

from __future__ import annotations

import numpy as np

__all__ = ["PairPools"]


class PairPools:
    """Levels, rates and capacities of all pair pools (arrays indexed by pair), with bit counters.

    >>> pools = PairPools(np.array([100.0]), np.array([10.0]))
    >>> pools.advance(np.array([0]), 25.0)
    >>> float(pools.level_bits[0]), pools.discarded_bits
    (100.0, 150.0)
    """

    def __init__(self, capacity_bits: np.ndarray, rate_bps: np.ndarray, initial_bits: np.ndarray | None = None) -> None:
        self.capacity_bits = np.asarray(capacity_bits, dtype=float)
        self.rate_bps = np.asarray(rate_bps, dtype=float).copy()
        self.level_bits = np.zeros_like(self.capacity_bits) if initial_bits is None else np.minimum(initial_bits, self.capacity_bits)
        self.initial_bits = float(self.level_bits.sum())
        self.updated_s = np.zeros_like(self.capacity_bits)
        self.generated_bits = 0.0
        self.discarded_bits = 0.0
        self.delivered_bits = 0.0
        self.relay_bits = 0.0

    def advance(self, pairs: np.ndarray, now_s: float) -> None:
        """Bring ``pairs`` up to ``now_s``: add generated key, discard what exceeds capacity."""
        generated = self.rate_bps[pairs] * (now_s - self.updated_s[pairs])
        level = self.level_bits[pairs] + generated
        excess = np.maximum(level - self.capacity_bits[pairs], 0.0)
        self.level_bits[pairs] = level - excess
        self.updated_s[pairs] = now_s
        self.generated_bits += float(generated.sum())
        self.discarded_bits += float(excess.sum())

    def set_rate(self, pair: int, rate_bps: float, now_s: float) -> None:
        """Change a pool's fill rate from ``now_s`` on (after accounting for the old rate)."""
        self.advance(np.array([pair]), now_s)
        self.rate_bps[pair] = rate_bps

    def take(self, pairs: np.ndarray, need_bits: np.ndarray, delivered_bits: float) -> None:
        """Consume ``need_bits`` from ``pairs`` (already advanced and checked) for ``delivered_bits`` of end-to-end key."""
        self.level_bits[pairs] -= need_bits
        consumed = float(need_bits.sum())
        self.delivered_bits += delivered_bits
        self.relay_bits += consumed - delivered_bits

    def wait_s(self, pairs: np.ndarray, need_bits: np.ndarray) -> float:
        """Time until every pool in ``pairs`` holds its need at current rates (``inf`` if one never will)."""
        deficit = need_bits - self.level_bits[pairs]
        short = deficit > 0
        if not short.any():
            return 0.0
        rates = self.rate_bps[pairs][short]
        if np.any(rates <= 0):
            return float("inf")
        return float(np.max(deficit[short] / rates))

    def balance_bits(self) -> float:
        """``initial + generated - (delivered + relay + level + discarded)``: zero up to rounding."""
        return self.initial_bits + self.generated_bits - (self.delivered_bits + self.relay_bits + float(self.level_bits.sum()) + self.discarded_bits)
