"""The front door: assess an inventory (risk, deadlines, recommendation, schedule, network paths).

:func:`assess_inventory` runs :mod:`~qit4n.threat.assess`, :mod:`~qit4n.threat.planner` and
:mod:`~qit4n.threat.paths` in turn; :meth:`ThreatAssessment.to_dict` gives, per asset,
``vulnerable``, ``exposure_probability``, ``deadline``, ``recommendation`` and ``reasons`` with the
inputs and catalog entries behind them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from qit4n.errors import ParameterError
from qit4n.net import KeyNetwork, build_network
from qit4n.qkd import get_protocol, key_rate_at_distance, make_parameters
from qit4n.scenario.model import Scenario
from qit4n.threat.assess import AssetRisk, assess_asset
from qit4n.threat.catalog import Catalog, TimelineScenario, load_catalog
from qit4n.threat.inventory import Inventory
from qit4n.threat.paths import PathRisk, path_risks
from qit4n.threat.planner import QkdRate, Recommendation, ScheduledMigration, recommend, schedule_migrations

__all__ = ["DEFAULT_POLICIES", "DEFAULT_QKD_PROTOCOL", "DEFAULT_TIMELINE", "ThreatAssessment", "assess_inventory"]

#: Timeline scenario used when none is named.
DEFAULT_TIMELINE = "gri-2023"
#: Policies applied when none is named.
DEFAULT_POLICIES = ("nist-ir-8547",)
#: Protocol (default devices) that rates a QKD link known only by its fibre length.
DEFAULT_QKD_PROTOCOL = "bb84-decoy"


@dataclass(frozen=True)
class ThreatAssessment:
    """Everything ``qit4n threat assess`` reports."""

    inventory: Inventory
    catalog_version: str
    timeline: TimelineScenario
    policy_ids: tuple[str, ...]
    now_year: float
    risks: tuple[AssetRisk, ...]
    recommendations: tuple[Recommendation, ...]
    schedule: tuple[ScheduledMigration, ...]
    paths: tuple[PathRisk, ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON-compatible result, one entry per asset in inventory order."""
        by_asset = {item.asset: item for item in self.schedule}
        assets = []
        for risk, recommendation in zip(self.risks, self.recommendations):
            scheduled = by_asset.get(risk.asset.name)
            assets.append(
                {
                    "name": risk.asset.name,
                    "category": risk.asset.category,
                    "vulnerable": risk.vulnerable,
                    "exposure_probability": risk.exposure_probability,
                    "hndl_probability": risk.hndl_probability,
                    "forgery_probability": risk.forgery_probability,
                    "deadline": risk.deadline,
                    "deadlines": {
                        d.policy_id: {"year": d.year, "rule": d.rule, "deprecated": d.deprecated}
                        for d in risk.deadlines
                    },
                    "recommendation": recommendation.action,
                    "plan": recommendation.to_dict(),
                    "reasons": [*risk.reasons, *recommendation.reasons],
                    "findings": [finding.to_dict() for finding in risk.findings],
                    "schedule": None
                    if scheduled is None
                    else {
                        "order": scheduled.order,
                        "start_year": scheduled.start_year,
                        "finish_year": scheduled.finish_year,
                        "meets_deadline": scheduled.meets_deadline,
                        "planned_exposure_probability": scheduled.planned_exposure_probability,
                    },
                    "inputs": risk.inputs,
                }
            )
        return {
            "inventory": self.inventory.name,
            "catalog_version": self.catalog_version,
            "timeline": {"id": self.timeline.id, "source": self.timeline.source},
            "policies": list(self.policy_ids),
            "now_year": self.now_year,
            "assets": assets,
            "paths": [
                {
                    "demand": path.demand,
                    "endpoints": list(path.endpoints),
                    "route": list(path.route),
                    "exposure_probability": path.exposure_probability,
                    "weakest": path.weakest,
                    "trusted_relays": list(path.trusted_relays),
                }
                for path in self.paths
            ],
        }


def _default_key_rate_bps(length_km: float) -> float:
    result = key_rate_at_distance(get_protocol(DEFAULT_QKD_PROTOCOL), make_parameters(DEFAULT_QKD_PROTOCOL), length_km)
    return float(np.asarray(result.key_rate_bps))


def _qkd_link(risk: AssetRisk, network: KeyNetwork | None, rate: QkdRate | None) -> tuple[float | None, float | None]:
    """``(length_km, key rate)`` of the QKD link the asset could use, or ``None`` where unknown.

    An injected ``rate`` is evaluated at the length; otherwise a link of the network is rated by
    its link budget (:mod:`qit4n.links`: its own protocol and devices) and a bare length by
    :data:`DEFAULT_QKD_PROTOCOL` with default devices.
    """
    location = risk.asset.location
    length_km = location.length_km
    if location.link is not None and network is not None:
        budget = network.budgets[network.link(location.link).index]
        length_km = length_km if length_km is not None else budget.length_km
        if rate is None:
            return length_km, budget.key_rate_bps
    if length_km is None:
        return None, None
    return length_km, float((rate or _default_key_rate_bps)(length_km))


def assess_inventory(
    inventory: Inventory,
    *,
    now_year: float,
    timeline_id: str = DEFAULT_TIMELINE,
    policy_ids: Sequence[str] = DEFAULT_POLICIES,
    catalog: Catalog | None = None,
    network: Scenario | None = None,
    qkd_key_rate_bps: QkdRate | None = None,
    teams: int = 1,
) -> ThreatAssessment:
    """Assess every asset of ``inventory`` and plan the migration.

    Parameters
    ----------
    inventory : Inventory
        Assets, optionally with user-defined policies.
    now_year : float
        The calendar year "today" in Mosca's inequality.
    timeline_id : str
        CRQC timeline scenario of the catalog.
    policy_ids : sequence of str
        Policies (catalog or the inventory's own) whose deadlines apply.
    catalog : Catalog, optional
        Defaults to the shipped catalog.
    network : Scenario, optional
        The network the assets' ``location.link``/``node`` refer to (for lengths and paths); its
        link budgets and key network are built once here.
    qkd_key_rate_bps : callable, optional
        Key rate of a QKD link of a given length. By default a network link is rated by its own
        protocol and devices, a bare ``location.length_km`` by qit4n's decoy BB84 model.
    teams : int
        Migrations that can run in parallel.
    """
    catalog = catalog or load_catalog()
    if teams < 1:
        raise ParameterError(f"teams = {teams}: must be >= 1")
    timeline = catalog.timeline(timeline_id)
    policies = [catalog.policy(policy_id, inventory.policies) for policy_id in policy_ids]
    if network is not None:
        link_ids = {network.link_id(index) for index in range(len(network.links))}
        node_ids = {node.id for node in network.nodes}
        for index, asset in enumerate(inventory.assets):
            if asset.location.link is not None and asset.location.link not in link_ids:
                raise ParameterError(
                    f"assets[{index}].location.link = {asset.location.link!r}: no such link in scenario {network.name}"
                )
            if asset.location.node is not None and asset.location.node not in node_ids:
                raise ParameterError(
                    f"assets[{index}].location.node = {asset.location.node!r}: no such node in scenario {network.name}"
                )
    key_network = build_network(network) if network is not None else None
    risks = [
        assess_asset(asset, catalog, timeline, policies, now_year=now_year, context=f"assets[{index}]")
        for index, asset in enumerate(inventory.assets)
    ]
    cnsa = "cnsa-2.0" in policy_ids
    recommendations = []
    for risk in risks:
        length_km, rate_bps = (
            _qkd_link(risk, key_network, qkd_key_rate_bps) if risk.key_exchange_vulnerable else (None, None)
        )
        recommendations.append(recommend(risk, catalog, length_km=length_km, qkd_rate_bps=rate_bps, cnsa=cnsa))
    schedule = schedule_migrations(risks, timeline, now_year=now_year, teams=teams)
    paths = path_risks(key_network, risks) if key_network is not None else []
    return ThreatAssessment(
        inventory,
        catalog.version,
        timeline,
        tuple(policy_ids),
        float(now_year),
        tuple(risks),
        tuple(recommendations),
        tuple(schedule),
        tuple(paths),
    )
