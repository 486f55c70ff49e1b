"""Per-asset quantum risk: which algorithms Shor breaks, Mosca exposure probabilities, policy deadlines.

Every number carries its inputs: :class:`AssetRisk.inputs` lists the values and catalog entries
(algorithm ids, timeline scenario, policies, catalog version) that produced it, and
:class:`AssetRisk.reasons` says in words why the asset is or is not vulnerable.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from qit4n.errors import ParameterError
from qit4n.threat.catalog import Algorithm, Catalog, Policy, TimelineScenario
from qit4n.threat.inventory import Asset, Use
from qit4n.threat.mosca import Triangular, Years, exposure_probabilities
from qit4n.threat.policy import PolicyDeadline, policy_deadline

__all__ = ["AlgorithmFinding", "AssetRisk", "assess_asset", "resolve_algorithms"]

_USES_BY_KIND: dict[str, tuple[Use, ...]] = {
    "kem": ("key-exchange",),
    "key-exchange": ("key-exchange",),
    "signature": ("signature",),
    "kem-or-signature": ("key-exchange", "signature"),
    "symmetric": ("symmetric",),
    "hash": ("hash",),
}


@dataclass(frozen=True)
class AlgorithmFinding:
    """One algorithm of an asset, what it is used for and what a quantum computer does to it."""

    algorithm: Algorithm
    use: Use
    threat: str
    estimates: tuple[str, ...]
    detail: str = ""

    @property
    def shor_vulnerable(self) -> bool:
        """Broken by Shor's algorithm (factoring or discrete logarithms)."""
        return self.threat == "shor"

    def to_dict(self) -> dict[str, Any]:
        """JSON-compatible summary with the catalog source."""
        return {
            "algorithm": self.algorithm.id,
            "use": self.use,
            "quantum_vulnerable": self.algorithm.quantum_vulnerable,
            "threat": self.threat,
            "nist_category": self.algorithm.nist_category,
            "classical_bits": self.algorithm.classical_bits,
            "estimates": list(self.estimates),
            "detail": self.detail,
            "classical_weakness": self.algorithm.classical_weakness,
            "source": self.algorithm.source,
        }


@dataclass(frozen=True)
class AssetRisk:
    """The quantum risk of one asset, with the inputs and catalog entries behind every number."""

    asset: Asset
    findings: tuple[AlgorithmFinding, ...]
    hndl_probability: float
    forgery_probability: float
    exposure_probability: float
    deadlines: tuple[PolicyDeadline, ...]
    reasons: tuple[str, ...]
    inputs: dict[str, Any] = field(default_factory=dict)

    @property
    def vulnerable(self) -> bool:
        """True when any algorithm is broken by Shor's algorithm."""
        return any(finding.shor_vulnerable for finding in self.findings)

    @property
    def key_exchange_vulnerable(self) -> bool:
        """True when a key exchange is quantum-vulnerable (harvest now, decrypt later)."""
        return any(f.shor_vulnerable and f.use in ("key-exchange", "encryption") for f in self.findings)

    @property
    def signature_vulnerable(self) -> bool:
        """True when a signature is quantum-vulnerable (forgery)."""
        return any(f.shor_vulnerable and f.use == "signature" for f in self.findings)

    @property
    def classically_weak(self) -> bool:
        """True when an algorithm is already unsafe against classical attacks (RSA-1024, SHA-1, ...)."""
        return any(f.algorithm.classical_weakness for f in self.findings)

    @property
    def deadline(self) -> int | None:
        """The earliest deadline any selected policy imposes, or ``None``."""
        years = [d.year for d in self.deadlines if d.year is not None]
        return min(years) if years else None


def _threat(algorithm: Algorithm) -> str:
    if algorithm.quantum_vulnerable:
        return "shor"
    if algorithm.kind in ("symmetric", "hash"):
        return "grover"
    return "none"


def resolve_algorithms(asset: Asset, catalog: Catalog, context: str = "asset") -> list[AlgorithmFinding]:
    """The catalog entry and use of each algorithm of ``asset``; :class:`ParameterError` names unknown ones."""
    findings: list[AlgorithmFinding] = []
    for index, item in enumerate(asset.algorithms):
        algorithm = catalog.find_algorithm(item.name)
        if algorithm is None:
            known = ", ".join(a.id for a in catalog.algorithms)
            raise ParameterError(
                f"{context}.algorithms[{index}].name = {item.name!r}: "
                f"not in threat catalog {catalog.version} (known: {known})"
            )
        uses = (item.use,) if item.use is not None else _USES_BY_KIND[algorithm.kind]
        estimates = tuple(estimate.id for estimate in catalog.estimates_for(algorithm.id))
        findings.extend(AlgorithmFinding(algorithm, use, _threat(algorithm), estimates, item.detail) for use in uses)
    return findings


def _describe_years(value: Years) -> Any:
    return value.model_dump() if isinstance(value, Triangular) else float(value)


def _reasons(findings: list[AlgorithmFinding], hndl: float, forgery: float, risk_inputs: dict[str, Any]) -> list[str]:
    reasons = []
    for finding in findings:
        algorithm = finding.algorithm
        if finding.shor_vulnerable:
            cited = f" (resource estimates: {', '.join(finding.estimates)})" if finding.estimates else ""
            reasons.append(f"{algorithm.id} ({finding.use}) is broken by Shor's algorithm{cited}")
        elif finding.threat == "grover":
            reasons.append(
                f"{algorithm.id} ({finding.use}): Grover search only; NIST category {algorithm.nist_category}"
            )
        else:
            reasons.append(
                f"{algorithm.id} ({finding.use}) is quantum-resistant: NIST category {algorithm.nist_category}"
            )
        if algorithm.classical_weakness:
            reasons.append(
                f"{algorithm.id} ({finding.use}) is already weak classically: {algorithm.classical_weakness}"
            )
    for name in risk_inputs["unassessed_algorithms"]:
        reasons.append(f"{name}: not in threat catalog {risk_inputs['catalog_version']}; kept but not assessed")
    timeline = risk_inputs["timeline"]
    if hndl > 0.0:
        reasons.append(
            f"harvest-now-decrypt-later: P(CRQC before {risk_inputs['now_year']:g} + x + y) = {hndl:.3f} "
            f"under {timeline}"
        )
    if forgery > 0.0:
        reasons.append(
            f"forgery: P(CRQC before {risk_inputs['now_year']:g} + max(y, t)) = {forgery:.3f} under {timeline}"
        )
    return reasons


def assess_asset(
    asset: Asset,
    catalog: Catalog,
    timeline: TimelineScenario,
    policies: list[Policy],
    *,
    now_year: float,
    context: str = "asset",
) -> AssetRisk:
    """Mosca exposure probabilities and policy deadlines of one asset.

    Examples
    --------
    >>> from qit4n.threat.catalog import load_catalog
    >>> from qit4n.threat.inventory import Asset
    >>> catalog = load_catalog()
    >>> asset = Asset(name="vpn", algorithms=["x25519", "ecdsa-p256"], secrecy_lifetime_years=5, migration_time_years=2)
    >>> policies = [catalog.policy("nist-ir-8547")]
    >>> risk = assess_asset(asset, catalog, catalog.timeline("gri-2023"), policies, now_year=2026)
    >>> risk.vulnerable, round(risk.hndl_probability, 3), round(risk.forgery_probability, 3), risk.deadline
    (True, 0.31, 0.11, 2035)
    """
    findings = resolve_algorithms(asset, catalog, context)
    vulnerable = [f.algorithm for f in findings if f.shor_vulnerable]
    key_exchange = any(f.shor_vulnerable and f.use in ("key-exchange", "encryption") for f in findings)
    signature = any(f.shor_vulnerable and f.use == "signature" for f in findings)
    hndl, forgery, either = exposure_probabilities(
        timeline,
        now_year=now_year,
        secrecy_years=asset.secrecy_lifetime_years,
        migration_years=asset.migration_time_years,
        trust_years=asset.trust_lifetime_years,
        key_exchange_vulnerable=key_exchange,
        signature_vulnerable=signature,
    )
    deadlines = tuple(policy_deadline(policy, asset, vulnerable) for policy in policies)
    inputs = {
        "now_year": now_year,
        "timeline": timeline.id,
        "timeline_source": timeline.source,
        "secrecy_lifetime_years": _describe_years(asset.secrecy_lifetime_years),
        "migration_time_years": _describe_years(asset.migration_time_years),
        "trust_lifetime_years": asset.trust_lifetime_years,
        "algorithms": [f.algorithm.id for f in findings],
        "unassessed_algorithms": [item.name for item in asset.unassessed_algorithms],
        "policies": [policy.id for policy in policies],
        "catalog_version": catalog.version,
    }
    return AssetRisk(
        asset,
        tuple(findings),
        hndl,
        forgery,
        either,
        deadlines,
        tuple(_reasons(findings, hndl, forgery, inputs)),
        inputs,
    )
