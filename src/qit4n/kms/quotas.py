"""Per-SAE quotas of a KME: request rate, request size and share of each link pool.

An SAE's :class:`~qit4n.kms.config.SAEQuota` (``KMEConfig.quotas[SAE]``, else ``KMEConfig.default_quota``) bounds:

- ``requests_per_s`` / ``burst_requests``: a token bucket over every ETSI call of that SAE;
- ``max_keys_per_request``: keys asked for in one Get key, or key_IDs named in one Get key with
  key IDs;
- ``pool_share``: the share of a link pool's capacity the SAE may hold out of it at once, and of
  the link's key rate it may draw on average (a bucket of ``pool_share * capacity`` bits refilled
  at ``pool_share * key rate``), so one SAE cannot drain a pool shared with others.

Over-limit calls get the ETSI GS QKD 014 error bodies: 400 for a request larger than allowed (the
SAE must change it), 503 for a rate or pool share spent now (it may retry later).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from qit4n.kms.config import SAEQuota
from qit4n.kms.errors import EtsiError

__all__ = ["QuotaBook"]


@dataclass
class _Bucket:
    """A token bucket: ``capacity`` tokens, refilled at ``rate_per_s``."""

    capacity: float
    rate_per_s: float
    level: float = field(init=False)
    at_s: float = field(default_factory=time.monotonic)

    def __post_init__(self) -> None:
        self.level = self.capacity

    def take(self, amount: float) -> bool:
        """Take ``amount`` tokens if there are that many now."""
        now = time.monotonic()
        self.level = min(self.capacity, self.level + (now - self.at_s) * self.rate_per_s)
        self.at_s = now
        if amount > self.level:
            return False
        self.level -= amount
        return True


class QuotaBook:
    """The quota state of one KME's SAEs (in memory; a restart refills every bucket)."""

    def __init__(self, quotas: dict[str, SAEQuota], default: SAEQuota) -> None:
        self._quotas = quotas
        self._default = default
        self._calls: dict[str, _Bucket] = {}
        self._pools: dict[tuple[str, str], _Bucket] = {}

    def quota(self, sae_id: str) -> SAEQuota:
        """The limits that apply to ``sae_id``."""
        return self._quotas.get(sae_id, self._default)

    def admit_call(self, sae_id: str) -> None:
        """Count one call of ``sae_id``; 503 if its request rate is spent."""
        quota = self.quota(sae_id)
        if quota.requests_per_s is None:
            return
        bucket = self._calls.setdefault(sae_id, _Bucket(float(quota.burst_requests), quota.requests_per_s))
        if not bucket.take(1.0):
            raise EtsiError(
                503,
                f"request rate of {sae_id} above its quota of {quota.requests_per_s:g} calls/s; retry later",
                [{"requests_per_s": quota.requests_per_s}],
            )

    def check_size(self, sae_id: str, count: int, what: str) -> None:
        """400 if a call of ``sae_id`` names more than its ``max_keys_per_request`` keys."""
        limit = self.quota(sae_id).max_keys_per_request
        if limit is not None and count > limit:
            raise EtsiError(400, f"{what} = {count}: must be <= {limit} for {sae_id} (its quota)", [{what: count}])

    def draw_pool(self, sae_id: str, *, link_id: str, bits: float, capacity_bits: float, rate_bps: float) -> None:
        """Charge ``bits`` of link ``link_id``'s pool to ``sae_id``; 503 if its share is spent."""
        share = self.quota(sae_id).pool_share
        if share >= 1.0:
            return
        bucket = self._pools.setdefault((sae_id, link_id), _Bucket(share * capacity_bits, share * rate_bps))
        if not bucket.take(bits):
            raise EtsiError(
                503,
                f"{sae_id} has taken its share ({share:g}) of the key pool; retry later",
                [{"pool_share": share}],
            )
