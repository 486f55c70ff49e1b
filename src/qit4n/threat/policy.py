"""Deadlines that migration policies impose on an asset's quantum-vulnerable cryptography."""

from __future__ import annotations

from dataclasses import dataclass

from qit4n.threat.catalog import Algorithm, Policy, PolicyRule
from qit4n.threat.inventory import Asset

__all__ = ["PolicyDeadline", "policy_deadline", "rule_applies"]


@dataclass(frozen=True)
class PolicyDeadline:
    """The year a policy requires an asset's quantum-vulnerable cryptography to be gone, and why.

    ``year`` is ``None`` when no rule of the policy sets a deadline for the asset (or the asset
    has nothing quantum-vulnerable); ``deprecated`` is the earliest deprecation year, if any.
    """

    policy_id: str
    year: int | None
    rule: str
    deprecated: int | None
    source: str


def rule_applies(rule: PolicyRule, asset: Asset, vulnerable: list[Algorithm]) -> bool:
    """Whether every selector the rule sets matches the asset and its vulnerable algorithms."""
    if not vulnerable:
        return False
    if rule.categories is not None and asset.category not in rule.categories:
        return False
    if rule.risk is not None and asset.risk not in rule.risk:
        return False
    if rule.max_classical_bits is not None and min(a.classical_bits for a in vulnerable) > rule.max_classical_bits:
        return False
    return rule.min_classical_bits is None or max(a.classical_bits for a in vulnerable) >= rule.min_classical_bits


def policy_deadline(policy: Policy, asset: Asset, vulnerable: list[Algorithm]) -> PolicyDeadline:
    """The earliest deadline among the policy's rules that apply to ``asset``.

    >>> from qit4n.threat.catalog import load_catalog
    >>> from qit4n.threat.inventory import Asset
    >>> catalog = load_catalog()
    >>> asset = Asset(name="web", algorithms=["rsa-2048"])
    >>> found = policy_deadline(catalog.policy("nist-ir-8547"), asset, [catalog.algorithm("rsa-2048")])
    >>> found.year, found.deprecated
    (2035, 2030)
    """
    applicable = [rule for rule in policy.rules if rule_applies(rule, asset, vulnerable)]
    with_deadline = [(rule.deadline, rule) for rule in applicable if rule.deadline is not None]
    deprecations = [rule.deprecated for rule in applicable if rule.deprecated is not None]
    if not with_deadline:
        return PolicyDeadline(policy.id, None, "", min(deprecations) if deprecations else None, policy.source)
    deadline, first = min(with_deadline, key=lambda pair: pair[0])
    return PolicyDeadline(policy.id, deadline, first.name, min(deprecations) if deprecations else None, policy.source)
