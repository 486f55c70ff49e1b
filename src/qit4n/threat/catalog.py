"""The threat catalog: algorithm facts, resource estimates, CRQC timelines and migration policies.

The catalog is data shipped as YAML in ``qit4n/threat/data/`` and versioned as a whole
(``catalog.yaml``); every entry cites its source. :func:`load_catalog` reads and validates it,
:func:`catalog_to_dict` dumps it as one mapping (what ``qit4n threat catalog --export`` writes)
and :func:`diff_catalogs` lists what changed between two versions.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import Field, model_validator

from qit4n.errors import InputError, ParameterError
from qit4n.schema import StrictModel, validate_document

__all__ = [
    "Algorithm",
    "Catalog",
    "CatalogChange",
    "Policy",
    "PolicyRule",
    "ResourceEstimate",
    "TimelineAnchor",
    "TimelineScenario",
    "catalog_from_dict",
    "catalog_to_dict",
    "diff_catalogs",
    "load_catalog",
]

AlgorithmKind = Literal["kem", "key-exchange", "signature", "kem-or-signature", "symmetric", "hash"]


class Algorithm(StrictModel):
    """Facts about one algorithm or parameter set (sizes in bytes)."""

    id: str
    family: str
    kind: AlgorithmKind
    quantum_vulnerable: bool = Field(description="broken by Shor's algorithm on a CRQC")
    nist_category: int | None = Field(None, ge=1, le=5, description="NIST PQC security category")
    classical_bits: int = Field(ge=0, le=512)
    public_key_bytes: int | None = Field(None, ge=0)
    private_key_bytes: int | None = Field(None, ge=0)
    ciphertext_bytes: int | None = Field(None, ge=0)
    signature_bytes: int | None = Field(None, ge=0)
    shared_secret_bytes: int | None = Field(None, ge=0)
    aliases: list[str] = Field(default_factory=list)
    components: list[str] = Field(default_factory=list, description="parts of a hybrid")
    classical_weakness: str = Field("", description="why it is already unsafe against classical attacks, with a source")
    source: str = Field(min_length=1)


class ResourceEstimate(StrictModel):
    """A published estimate of the quantum resources needed to break ``target``."""

    id: str
    target: str
    also_breaks: list[str] = Field(default_factory=list)
    algorithm: str
    physical_qubits: float | None = Field(None, gt=0)
    physical_qubits_below: float | None = Field(None, gt=0)
    logical_qubits: int | None = Field(None, gt=0)
    logical_qubits_formula: str = ""
    toffoli_gates: float | None = Field(None, gt=0)
    toffoli_gates_upper_bound: float | None = Field(None, gt=0)
    toffoli_formula: str = ""
    runtime_hours: float | None = Field(None, gt=0)
    runtime_hours_below: float | None = Field(None, gt=0)
    amortised_hours_per_key: float | None = Field(
        None, gt=0, description="throughput when many keys are computed in a pipeline: not the runtime of one key"
    )
    physical_error_rate: float | str | None = None
    code_cycle_us: float | None = Field(None, gt=0)
    reaction_time_us: float | None = Field(None, gt=0)
    connectivity: str = ""
    notes: str = ""
    source: str = Field(min_length=1)

    def breaks(self, algorithm_id: str) -> bool:
        """Whether this estimate is about breaking ``algorithm_id``."""
        return algorithm_id == self.target or algorithm_id in self.also_breaks


class TimelineAnchor(StrictModel):
    """P(CRQC exists by ``year``) = ``probability``, as a source states it."""

    year: float = Field(ge=1990, le=2200)
    probability: float = Field(ge=0.0, le=1.0)
    note: str = ""


class TimelineScenario(StrictModel):
    """Expert opinion on the arrival of a CRQC as a piecewise-linear cumulative distribution."""

    id: str
    title: str
    start_year: float = Field(ge=1990, le=2200, description="survey year: the CDF is 0 here")
    anchors: list[TimelineAnchor] = Field(min_length=1)
    after_last_anchor: Literal["flat", "last-slope"] = Field(
        "flat",
        description="beyond the last anchor: stay at its value (the rest of the mass is 'later or never'), or "
        "keep rising at the slope of the last segment until 1 (an assumption of qit4n, not of the source)",
    )
    source: str = Field(min_length=1)

    @model_validator(mode="after")
    def _monotone(self) -> TimelineScenario:
        years = [self.start_year] + [anchor.year for anchor in self.anchors]
        probabilities = [0.0] + [anchor.probability for anchor in self.anchors]
        for index in range(1, len(years)):
            if years[index] <= years[index - 1]:
                raise ValueError(f"anchors[{index - 1}].year = {years[index]:g}: must be after {years[index - 1]:g}")
            if probabilities[index] < probabilities[index - 1]:
                raise ValueError(
                    f"anchors[{index - 1}].probability = {probabilities[index]:g}: "
                    f"must be >= {probabilities[index - 1]:g} (a CDF)"
                )
        return self


class PolicyRule(StrictModel):
    """One deadline rule; it applies to an asset when every selector that is set matches."""

    name: str
    categories: list[str] | None = Field(None, description="asset categories the rule covers")
    risk: list[Literal["high", "medium", "low"]] | None = None
    max_classical_bits: int | None = Field(None, ge=0)
    min_classical_bits: int | None = Field(None, ge=0)
    start_by: int | None = Field(None, ge=2000, le=2200)
    prefer_by: int | None = Field(None, ge=2000, le=2200)
    deprecated: int | None = Field(None, ge=2000, le=2200)
    disallowed: int | None = Field(None, ge=2000, le=2200)
    complete_by: int | None = Field(None, ge=2000, le=2200)

    @property
    def deadline(self) -> int | None:
        """The year by which quantum-vulnerable cryptography must be gone under this rule."""
        years = [year for year in (self.disallowed, self.complete_by) if year is not None]
        return min(years) if years else None


class Policy(StrictModel):
    """A migration policy (a regulator's or a user's): named deadline rules."""

    id: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    title: str = ""
    source: str = Field("user-defined", min_length=1)
    rules: list[PolicyRule] = Field(min_length=1)


class Catalog(StrictModel):
    """The whole catalog: one version of every table."""

    version: str
    released: str
    algorithms: list[Algorithm]
    estimates: list[ResourceEstimate]
    timelines: list[TimelineScenario]
    policies: list[Policy]

    def algorithm(self, name: str) -> Algorithm:
        """The algorithm called ``name`` (id or alias, case-insensitive); :class:`ParameterError` if unknown."""
        found = self.find_algorithm(name)
        if found is None:
            raise ParameterError(
                f"algorithm = {name!r}: not in threat catalog {self.version} "
                f"(known: {', '.join(a.id for a in self.algorithms)})"
            )
        return found

    def find_algorithm(self, name: str) -> Algorithm | None:
        """The algorithm called ``name`` (id or alias, case-insensitive), or ``None``."""
        key = name.strip().lower()
        for algorithm in self.algorithms:
            if key == algorithm.id or key in (alias.lower() for alias in algorithm.aliases):
                return algorithm
        return None

    def timeline(self, scenario_id: str) -> TimelineScenario:
        """The timeline scenario ``scenario_id``."""
        for scenario in self.timelines:
            if scenario.id == scenario_id:
                return scenario
        raise ParameterError(f"scenario = {scenario_id!r}: must be one of {', '.join(t.id for t in self.timelines)}")

    def policy(self, policy_id: str, extra: list[Policy] | None = None) -> Policy:
        """The policy ``policy_id`` from the catalog or ``extra`` (user-defined) policies."""
        for policy in [*self.policies, *(extra or [])]:
            if policy.id == policy_id:
                return policy
        known = [p.id for p in [*self.policies, *(extra or [])]]
        raise ParameterError(f"policy = {policy_id!r}: must be one of {', '.join(known)}")

    def estimates_for(self, algorithm_id: str) -> list[ResourceEstimate]:
        """Resource estimates that break ``algorithm_id``."""
        return [estimate for estimate in self.estimates if estimate.breaks(algorithm_id)]


_TABLES = ("algorithms", "estimates", "timelines", "policies")


def catalog_from_dict(data: Any, source: str = "catalog") -> Catalog:
    """Validate a catalog mapping; :class:`InputError` names every bad field."""
    return validate_document(Catalog, data, source, f"version, {', '.join(_TABLES)}")


def _read_folder(read_text) -> dict[str, Any]:
    data: dict[str, Any] = dict(yaml.safe_load(read_text("catalog.yaml")))
    for table in _TABLES:
        data[table] = yaml.safe_load(read_text(f"{table}.yaml")) or []
    return data


@cache
def _shipped() -> Catalog:
    folder = resources.files("qit4n.threat").joinpath("data")
    return catalog_from_dict(
        _read_folder(lambda name: folder.joinpath(name).read_text(encoding="utf-8")), "shipped threat catalog"
    )


def load_catalog(source: str | Path | None = None) -> Catalog:
    """The shipped catalog (``source=None``), or one from a folder laid out like it or a dump file.

    >>> catalog = load_catalog()
    >>> catalog.algorithm("X25519MLKEM768").quantum_vulnerable
    False
    """
    if source is None:
        return _shipped()
    path = Path(source)
    if path.is_dir():
        try:
            data = _read_folder(lambda name: (path / name).read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as error:
            raise InputError(f"{path}: not a catalog folder ({error})") from None
        return catalog_from_dict(data, str(path))
    if not path.is_file():
        raise InputError(f"{path}: no such catalog file or folder")
    text = path.read_text(encoding="utf-8")
    try:
        data = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as error:
        raise InputError(f"{path}: not valid JSON or YAML: {error}") from None
    return catalog_from_dict(data, str(path))


def catalog_to_dict(catalog: Catalog) -> dict[str, Any]:
    """The catalog as one JSON-compatible mapping (defaults left out), readable by :func:`load_catalog`."""
    return catalog.model_dump(mode="json", exclude_defaults=True)


@dataclass(frozen=True)
class CatalogChange:
    """One entry added, removed or changed between two catalog versions."""

    table: str
    entry_id: str
    change: Literal["added", "removed", "changed"]
    fields: tuple[tuple[str, Any, Any], ...] = ()

    def describe(self) -> str:
        """A one-line description, e.g. ``timelines/gri-2023 changed: anchors``."""
        detail = ", ".join(f"{name}: {old!r} -> {new!r}" for name, old, new in self.fields)
        return f"{self.table}/{self.entry_id} {self.change}" + (f" ({detail})" if detail else "")


def diff_catalogs(old: Catalog, new: Catalog) -> list[CatalogChange]:
    """Entries added, removed or changed (with the changed fields) from ``old`` to ``new``.

    >>> catalog = load_catalog()
    >>> diff_catalogs(catalog, catalog)
    []
    """
    changes: list[CatalogChange] = []
    old_dump, new_dump = catalog_to_dict(old), catalog_to_dict(new)
    for table in _TABLES:
        before = {entry["id"]: entry for entry in old_dump.get(table, [])}
        after = {entry["id"]: entry for entry in new_dump.get(table, [])}
        for entry_id in sorted(before.keys() - after.keys()):
            changes.append(CatalogChange(table, entry_id, "removed"))
        for entry_id in sorted(after.keys() - before.keys()):
            changes.append(CatalogChange(table, entry_id, "added"))
        for entry_id in sorted(before.keys() & after.keys()):
            names = sorted(set(before[entry_id]) | set(after[entry_id]))
            fields = tuple(
                (name, before[entry_id].get(name), after[entry_id].get(name))
                for name in names
                if before[entry_id].get(name) != after[entry_id].get(name)
            )
            if fields:
                changes.append(CatalogChange(table, entry_id, "changed", fields))
    return changes
