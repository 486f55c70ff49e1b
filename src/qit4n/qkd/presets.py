"""Published parameter sets shipped as YAML files in ``qit4n/qkd/presets/``, each citing its source."""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

import yaml
from pydantic import Field, ValidationError

from qit4n.errors import PresetError
from qit4n.schema import StrictModel, problems_from

__all__ = ["Preset", "all_presets", "get_preset", "preset_values"]


class Preset(StrictModel):
    """A named parameter set: which protocols it fits, its values, and where they come from."""

    name: str
    title: str
    source: str = Field(description="citation: authors, journal, volume, page (year), section or table")
    protocols: list[str]
    parameters: dict[str, Any] = Field(description="values shared by every protocol listed")
    protocol_parameters: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="extra values for one protocol"
    )
    notes: str = ""


@cache
def all_presets() -> dict[str, Preset]:
    """Every shipped preset, by name."""
    presets = {}
    for entry in sorted(resources.files("qit4n.qkd").joinpath("presets").iterdir(), key=lambda p: p.name):
        if not entry.name.endswith(".yaml"):
            continue
        raw = yaml.safe_load(entry.read_text(encoding="utf-8"))
        try:
            preset = Preset.model_validate(raw)
        except ValidationError as error:
            raise PresetError(f"preset file {entry.name}: " + "; ".join(problems_from(error))) from None
        presets[preset.name] = preset
    return presets


def get_preset(name: str) -> Preset:
    """The preset called ``name``; :class:`PresetError` lists the valid names."""
    presets = all_presets()
    if name not in presets:
        raise PresetError(f"preset = {name!r}: must be one of {', '.join(sorted(presets))}")
    return presets[name]


def preset_values(name: str, protocol: str) -> dict[str, Any]:
    """The parameter values of preset ``name`` for ``protocol``."""
    preset = get_preset(name)
    if protocol not in preset.protocols:
        raise PresetError(
            f"preset {name!r} does not apply to protocol {protocol!r}: it fits {', '.join(preset.protocols)}"
        )
    return {**preset.parameters, **preset.protocol_parameters.get(protocol, {})}
