"""The cryptographic inventory: assets, the algorithms they use, how long their data stays secret.

An inventory is YAML (or JSON) validated by :class:`Inventory`; unknown fields are rejected and
every problem is reported with its path (``assets[2].secrecy_lifetime_years = -1: must be >= 0``).
Assets can also come from X.509 certificates, SSH public keys, CycloneDX CBOMs
(:mod:`qit4n.threat.imports`) and TLS scans (:mod:`qit4n.threat.scan`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import Field, ValidationError, ValidationInfo, field_validator

from qit4n.errors import InputError
from qit4n.schema import StrictModel, problems_from, validate_document
from qit4n.threat.catalog import Policy
from qit4n.threat.mosca import Triangular, Years

__all__ = ["AlgorithmUse", "Asset", "AssetLocation", "Inventory", "Use", "inventory_from_dict", "load_inventory"]

#: What an algorithm does for an asset.
Use = Literal["key-exchange", "signature", "encryption", "hash", "symmetric"]


class AlgorithmUse(StrictModel):
    """An algorithm (catalog id or alias) and what the asset uses it for."""

    name: str = Field(min_length=1)
    use: Use | None = Field(None, description="inferred from the catalog when left out")
    detail: str = Field("", description="where it was found, e.g. a certificate subject")


class AssetLocation(StrictModel):
    """Where an asset sits: a node or a link of the network scenario, or a span of fibre."""

    node: str | None = None
    link: str | None = Field(None, description="id of a link of the inventory's scenario")
    length_km: float | None = Field(None, ge=0.0, le=100_000.0)


class Asset(StrictModel):
    """A service, link, key or certificate that uses cryptography."""

    name: str = Field(min_length=1)
    category: str = Field("tls-service", description="e.g. tls-service, vpn, network-link, code-signing, pki-root, ssh")
    unassessed_algorithms: list[AlgorithmUse] = Field(
        default_factory=list, description="algorithms the threat catalog does not know: kept and reported, not assessed"
    )
    algorithms: list[AlgorithmUse] = Field(default_factory=list)
    secrecy_lifetime_years: Years = Field(0.0, description="x in Mosca's inequality")
    migration_time_years: Years = Field(1.0, description="y in Mosca's inequality")
    trust_lifetime_years: float = Field(
        0.0, ge=0.0, le=200.0, description="how long relying parties keep trusting its signature keys"
    )
    risk: Literal["high", "medium", "low"] = "medium"
    location: AssetLocation = Field(default_factory=AssetLocation)
    handshakes_per_s: float = Field(0.0, ge=0.0, description="key exchanges per second, for the bandwidth cost of PQC")
    bandwidth_bps: float | None = Field(None, gt=0.0, description="capacity available to the asset")
    key_demand_bps: float | None = Field(None, gt=0.0, description="secret key rate QKD would have to supply")

    @field_validator("algorithms", "unassessed_algorithms", mode="before")
    @classmethod
    def _names_as_uses(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [{"name": item} if isinstance(item, str) else item for item in value]
        return value

    @field_validator("algorithms", mode="after")
    @classmethod
    def _at_least_one(cls, value: list[AlgorithmUse], info: ValidationInfo) -> list[AlgorithmUse]:
        if not value and not info.data.get("unassessed_algorithms"):
            raise ValueError("must list at least 1 algorithm")
        return value

    @field_validator("secrecy_lifetime_years", "migration_time_years", mode="before")
    @classmethod
    def _years(cls, value: Any) -> Any:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if not 0.0 <= value <= 200.0:
                raise ValueError("must be in [0, 200] years")
            return float(value)
        if isinstance(value, Triangular):
            return value
        if isinstance(value, dict):
            try:
                return Triangular.model_validate(value)
            except ValidationError as error:
                raise ValueError(
                    "; ".join(p.removeprefix("(top level): ") for p in problems_from(error, model=Triangular))
                ) from None
        raise ValueError("must be a number of years or a triangular distribution {low, mode, high}")


class Inventory(StrictModel):
    """Assets to assess, optionally placed on a network scenario, and user-defined policies."""

    name: str = "inventory"
    scenario: str | None = Field(None, description="built-in scenario name or file the locations refer to")
    assets: list[Asset] = Field(min_length=1)
    policies: list[Policy] = Field(default_factory=list, description="user-defined policies")


def inventory_from_dict(data: Any, source: str = "inventory") -> Inventory:
    """Validate a parsed inventory; :class:`InputError` lists every problem with its path."""
    return validate_document(Inventory, data, source, "assets")


def load_inventory(path: str | Path) -> Inventory:
    """Read an inventory from a YAML or JSON file."""
    file = Path(path)
    if not file.is_file():
        raise InputError(f"{file}: no such inventory file")
    text = file.read_text(encoding="utf-8")
    try:
        data = json.loads(text) if file.suffix.lower() == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as error:
        raise InputError(f"{file}: not valid YAML or JSON: {error}") from None
    return inventory_from_dict(data, str(file))
