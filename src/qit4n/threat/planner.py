"""Migration planning: PQC, hybrid or QKD for each asset, and the order to migrate them in.

Choice per asset (every choice lists its reasons):

* nothing quantum-vulnerable: no action;
* quantum-vulnerable key exchange: hybrid X25519MLKEM768 (pure ML-KEM-1024 under CNSA 2.0),
  unless QKD is usable. QKD is usable only where the asset's link has a length and a key demand
  and qit4n's link layer gives a key rate at that distance of at least the demand; it is then
  chosen when the data must stay secret for at least ``qkd_min_secrecy_years`` or when the PQC
  bandwidth overhead exceeds ``max_overhead_fraction`` of the asset's bandwidth;
* quantum-vulnerable signatures: ML-DSA-65 (ML-DSA-87 under CNSA 2.0); QKD links keep needing
  authentication, so they get the same signature change.

The bandwidth cost of PQC counts, per handshake, the extra bytes of the key shares and of one
public key and one signature per vulnerable signature use (catalog sizes, FIPS 203/204).

Order: Smith's backward rule for weighted completion time under deadlines, with weight = exposure
probability and processing time = typical migration time. Working back from the end of the whole
plan, the last slot goes to the asset with the least exposure per migration-year among those whose
deadline still allows finishing then; when none does, to the least exposure per migration-year
overall (that asset will be late). Without deadlines this is Smith's ratio rule, which minimises
the exposure-weighted sum of completion times on one team; with deadlines it meets them all
whenever one team can, and is a heuristic for the weighted sum (W. E. Smith, Naval Res. Logist.
Q. 3, 59 (1956)). With several teams the order is kept and each asset goes to the team free first;
every deadline is checked in the result.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from qit4n.threat.assess import AssetRisk
from qit4n.threat.catalog import Algorithm, Catalog, TimelineScenario
from qit4n.threat.mosca import exposure_probabilities, typical

__all__ = [
    "QkdRate",
    "Recommendation",
    "ScheduledMigration",
    "recommend",
    "schedule_migrations",
]

#: Secret key rate (bit/s) a QKD link of a given fibre length (km) delivers.
QkdRate = Callable[[float], float]

Action = Literal["none", "pqc", "hybrid", "qkd"]


@dataclass(frozen=True)
class Recommendation:
    """What to do with one asset and why."""

    asset: str
    action: Action
    key_exchange: str | None
    signature: str | None
    added_bytes_per_handshake: int
    overhead_bps: float
    overhead_fraction: float | None
    qkd_key_rate_bps: float | None
    reasons: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON-compatible form."""
        return {
            "action": self.action,
            "key_exchange": self.key_exchange,
            "signature": self.signature,
            "added_bytes_per_handshake": self.added_bytes_per_handshake,
            "overhead_bps": self.overhead_bps,
            "overhead_fraction": self.overhead_fraction,
            "qkd_key_rate_bps": self.qkd_key_rate_bps,
        }


@dataclass(frozen=True)
class ScheduledMigration:
    """When an asset's migration starts and ends, and the exposure once the plan is followed."""

    asset: str
    order: int
    start_year: float
    finish_year: float
    deadline: int | None
    meets_deadline: bool | None
    planned_exposure_probability: float
    inputs: dict[str, Any] = field(default_factory=dict)


def _key_share_bytes(algorithm: Algorithm) -> int:
    if algorithm.ciphertext_bytes is not None:
        return (algorithm.public_key_bytes or 0) + algorithm.ciphertext_bytes
    return 2 * (algorithm.public_key_bytes or 0)


def _signature_bytes(algorithm: Algorithm) -> int:
    return (algorithm.public_key_bytes or 0) + (algorithm.signature_bytes or 0)


def _qkd_check(risk: AssetRisk, length_km: float | None, rate_bps: float | None) -> tuple[bool, str]:
    demand = risk.asset.key_demand_bps
    where = f" over {length_km:g} km" if length_km is not None else ""
    if rate_bps is None or demand is None:
        return False, "QKD not considered: the asset is not on a link with a modelled key rate, or has no key demand"
    if rate_bps >= demand:
        return True, f"QKD usable: {rate_bps:.4g} bit/s{where} >= demand {demand:.4g} bit/s"
    return False, f"QKD not usable: {rate_bps:.4g} bit/s{where} < demand {demand:.4g} bit/s"


def recommend(
    risk: AssetRisk,
    catalog: Catalog,
    *,
    length_km: float | None = None,
    qkd_rate_bps: float | None = None,
    cnsa: bool = False,
    qkd_min_secrecy_years: float = 10.0,
    max_overhead_fraction: float = 0.05,
) -> Recommendation:
    """PQC, hybrid or QKD for one assessed asset, with the reasons and the bandwidth cost.

    ``qkd_rate_bps`` is the key rate qit4n's link model gives for the asset's link (``None``: no
    QKD link is possible there); ``length_km`` only labels the reasons.

    Examples
    --------
    >>> from qit4n.threat.catalog import load_catalog
    >>> from qit4n.threat.inventory import Asset
    >>> from qit4n.threat.assess import assess_asset
    >>> catalog = load_catalog()
    >>> asset = Asset(name="link", algorithms=["x25519"], secrecy_lifetime_years=20, key_demand_bps=1000)
    >>> risk = assess_asset(asset, catalog, catalog.timeline("gri-2023"), [], now_year=2026)
    >>> recommend(risk, catalog, length_km=50, qkd_rate_bps=1e4).action
    'qkd'
    >>> recommend(risk, catalog, length_km=300, qkd_rate_bps=10.0).action
    'hybrid'
    """
    name = risk.asset.name
    if not risk.vulnerable:
        return Recommendation(name, "none", None, None, 0, 0.0, None, None, ("no quantum-vulnerable algorithm: keep",))
    reasons: list[str] = []
    key_exchange = signature = None
    kex_bytes = sig_bytes = 0
    vulnerable_kex = [
        f.algorithm for f in risk.findings if f.shor_vulnerable and f.use in ("key-exchange", "encryption")
    ]
    vulnerable_sig = [f.algorithm for f in risk.findings if f.shor_vulnerable and f.use == "signature"]
    if vulnerable_kex:
        key_exchange = "ml-kem-1024" if cnsa else "x25519mlkem768"
        kex_bytes = _key_share_bytes(catalog.algorithm(key_exchange)) - sum(_key_share_bytes(a) for a in vulnerable_kex)
    if vulnerable_sig:
        signature = "ml-dsa-87" if cnsa else "ml-dsa-65"
        new = catalog.algorithm(signature)
        sig_bytes = sum(_signature_bytes(new) - _signature_bytes(a) for a in vulnerable_sig)
        reasons.append(f"signatures {', '.join(a.id for a in vulnerable_sig)} -> {signature} (FIPS 204)")
    handshakes = risk.asset.handshakes_per_s
    bandwidth = risk.asset.bandwidth_bps
    pqc_bps = handshakes * (kex_bytes + sig_bytes) * 8.0
    pqc_fraction = pqc_bps / bandwidth if bandwidth else None
    reasons.append(
        f"PQC adds {kex_bytes + sig_bytes} bytes per handshake = {pqc_bps:.4g} bit/s at {handshakes:g} handshakes/s"
    )
    if not vulnerable_kex:
        return Recommendation(name, "pqc", None, signature, sig_bytes, pqc_bps, pqc_fraction, None, tuple(reasons))
    usable, why = _qkd_check(risk, length_km, qkd_rate_bps)
    reasons.append(why)
    secrecy = typical(risk.asset.secrecy_lifetime_years)
    too_costly = pqc_fraction is not None and pqc_fraction > max_overhead_fraction
    if usable and (secrecy >= qkd_min_secrecy_years or too_costly):
        if secrecy >= qkd_min_secrecy_years:
            why_qkd = f"secrecy lifetime {secrecy:g} y >= {qkd_min_secrecy_years:g} y"
        else:
            why_qkd = f"PQC overhead {pqc_fraction:.1%} > {max_overhead_fraction:.0%} of bandwidth"
        reasons.append(f"key exchange -> QKD ({why_qkd})")
        if signature is None:
            reasons.append("QKD needs an authenticated classical channel: keep its quantum-safe authentication")
        else:
            reasons.append(f"QKD's classical channel is authenticated with {signature}")
        qkd_bps = handshakes * sig_bytes * 8.0
        return Recommendation(
            name,
            "qkd",
            "qkd",
            signature,
            sig_bytes,
            qkd_bps,
            qkd_bps / bandwidth if bandwidth else None,
            qkd_rate_bps,
            tuple(reasons),
        )
    reasons.append(f"key exchange {', '.join(a.id for a in vulnerable_kex)} -> {key_exchange} (FIPS 203)")
    if too_costly:
        reasons.append(
            f"PQC overhead {pqc_fraction:.1%} of the bandwidth exceeds {max_overhead_fraction:.0%} "
            "and QKD is not usable: reduce full handshakes (session resumption)"
        )
    action: Action = "pqc" if cnsa else "hybrid"
    return Recommendation(
        name,
        action,
        key_exchange,
        signature,
        kex_bytes + sig_bytes,
        pqc_bps,
        pqc_fraction,
        qkd_rate_bps,
        tuple(reasons),
    )


def _ratio(risk: AssetRisk) -> float:
    return risk.exposure_probability / max(typical(risk.asset.migration_time_years), 1e-9)


def _deadline_year(risk: AssetRisk) -> float:
    return math.inf if risk.deadline is None else float(risk.deadline)


def _backward_smith_order(risks: list[AssetRisk], now_year: float) -> list[AssetRisk]:
    """Smith's backward rule in O(n log n): assets become eligible for the last slot as the end moves earlier."""
    keyed = [(_ratio(risk), risk.asset.name, index) for index, risk in enumerate(risks)]
    by_deadline = sorted(range(len(risks)), key=lambda i: -_deadline_year(risks[i]))
    eligible: list[tuple[float, str, int]] = []
    everyone = sorted(keyed)
    placed = [False] * len(risks)
    end_year = now_year + sum(typical(risk.asset.migration_time_years) for risk in risks)
    cursor = 0
    backwards = []
    for _ in range(len(risks)):
        while cursor < len(by_deadline):
            index = by_deadline[cursor]
            deadline = risks[index].deadline
            if deadline is not None and end_year > deadline:
                break
            heapq.heappush(eligible, keyed[index])
            cursor += 1
        while eligible and placed[eligible[0][2]]:
            heapq.heappop(eligible)
        index = heapq.heappop(eligible)[2] if eligible else next(item[2] for item in everyone if not placed[item[2]])
        placed[index] = True
        backwards.append(risks[index])
        end_year -= typical(risks[index].asset.migration_time_years)
    return backwards[::-1]


def schedule_migrations(
    risks: Sequence[AssetRisk], timeline: TimelineScenario, *, now_year: float, teams: int = 1
) -> list[ScheduledMigration]:
    """Migration order and years for the vulnerable assets (Smith's backward rule), with planned exposure.

    >>> from qit4n.threat.catalog import load_catalog
    >>> from qit4n.threat.inventory import Asset
    >>> from qit4n.threat.assess import assess_asset
    >>> catalog = load_catalog()
    >>> gri = catalog.timeline("gri-2023")
    >>> def asset(name, years):
    ...     return Asset(name=name, algorithms=["x25519"], secrecy_lifetime_years=5, migration_time_years=years)
    >>> slow = assess_asset(asset("slow", 4), catalog, gri, [], now_year=2026)
    >>> quick = assess_asset(asset("quick", 1), catalog, gri, [], now_year=2026)
    >>> plan = schedule_migrations([slow, quick], gri, now_year=2026)
    >>> [(item.asset, item.start_year, item.finish_year) for item in plan]
    [('quick', 2026.0, 2027.0), ('slow', 2027.0, 2031.0)]
    """
    ordered = _backward_smith_order([risk for risk in risks if risk.vulnerable], now_year)
    team_free = [float(now_year)] * max(1, teams)
    plan = []
    for order, risk in enumerate(ordered):
        team = int(np.argmin(team_free))
        start = team_free[team]
        finish = start + typical(risk.asset.migration_time_years)
        team_free[team] = finish
        _, _, planned = exposure_probabilities(
            timeline,
            now_year=now_year,
            secrecy_years=risk.asset.secrecy_lifetime_years,
            migration_years=finish - now_year,
            trust_years=risk.asset.trust_lifetime_years,
            key_exchange_vulnerable=risk.key_exchange_vulnerable,
            signature_vulnerable=risk.signature_vulnerable,
        )
        deadline = risk.deadline
        plan.append(
            ScheduledMigration(
                risk.asset.name,
                order + 1,
                start,
                finish,
                deadline,
                None if deadline is None else finish <= deadline,
                planned,
                {
                    "team": team + 1,
                    "weight": risk.exposure_probability,
                    "migration_time_years": typical(risk.asset.migration_time_years),
                },
            )
        )
    return plan
