"""Quantum threat to network cryptography: a cited catalog, Mosca risk, inventory and migration planning.

The catalog (:func:`load_catalog`) holds algorithm facts, quantum resource estimates, expert
timelines for a cryptographically relevant quantum computer and migration policies, each entry
citing its source. :func:`assess_inventory` turns an inventory (YAML, certificates, SSH keys,
CycloneDX CBOMs or TLS scans) into exposure probabilities, deadlines and a migration plan.
"""

from qit4n.threat.assess import AlgorithmFinding, AssetRisk, assess_asset
from qit4n.threat.assessment import DEFAULT_POLICIES, DEFAULT_TIMELINE, ThreatAssessment, assess_inventory
from qit4n.threat.catalog import (
    Catalog,
    CatalogChange,
    Policy,
    TimelineScenario,
    catalog_to_dict,
    diff_catalogs,
    load_catalog,
)
from qit4n.threat.imports import (
    assets_from_cbom,
    assets_from_certificates,
    assets_from_ssh_keys,
    example_inventories,
    inventory_from_file,
)
from qit4n.threat.inventory import AlgorithmUse, Asset, AssetLocation, Inventory, inventory_from_dict, load_inventory
from qit4n.threat.mosca import Triangular, exposure_probabilities, forgery_probability, hndl_probability
from qit4n.threat.paths import PathRisk, path_risks
from qit4n.threat.planner import (
    Recommendation,
    ScheduledMigration,
    recommend,
    schedule_migrations,
)
from qit4n.threat.policy import PolicyDeadline, policy_deadline
from qit4n.threat.timeline import crqc_probability, crqc_table

__all__ = [
    "DEFAULT_POLICIES",
    "DEFAULT_TIMELINE",
    "AlgorithmFinding",
    "AlgorithmUse",
    "Asset",
    "AssetLocation",
    "AssetRisk",
    "Catalog",
    "CatalogChange",
    "Inventory",
    "PathRisk",
    "Policy",
    "PolicyDeadline",
    "Recommendation",
    "ScheduledMigration",
    "ThreatAssessment",
    "TimelineScenario",
    "Triangular",
    "assess_asset",
    "assess_inventory",
    "assets_from_cbom",
    "assets_from_certificates",
    "assets_from_ssh_keys",
    "catalog_to_dict",
    "crqc_probability",
    "crqc_table",
    "diff_catalogs",
    "example_inventories",
    "exposure_probabilities",
    "forgery_probability",
    "hndl_probability",
    "inventory_from_dict",
    "inventory_from_file",
    "load_catalog",
    "load_inventory",
    "path_risks",
    "policy_deadline",
    "recommend",
    "schedule_migrations",
]
