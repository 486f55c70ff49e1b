"""Protocols by name: the one front door from a CLI word or a scenario field to a model."""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

from qit4n.errors import ParameterError
from qit4n.qkd.base import ChannelParameters, ProtocolSpec
from qit4n.schema import validate_parameters

__all__ = ["PROTOCOL_MODULES", "get_protocol", "make_parameters", "protocol_names"]

#: CLI name -> module that defines ``PROTOCOL`` (imported on first use).
PROTOCOL_MODULES: Mapping[str, str] = {
    "bb84": "qit4n.qkd.bb84",
    "bb84-decoy": "qit4n.qkd.decoy",
    "bb84-decoy-inf": "qit4n.qkd.decoy_infinite",
    "bb84-decoy-finite": "qit4n.qkd.finite",
    "mdi": "qit4n.qkd.mdi",
    "tf": "qit4n.qkd.twinfield",
    "cv-gg02": "qit4n.qkd.cv",
    "plob": "qit4n.qkd.plob",
    "tgw": "qit4n.qkd.tgw",
    "bbm92-repeater": "qit4n.qin.bbm92",
    "bbm92": "qit4n.qkd.bbm92",
}


def protocol_names() -> list[str]:
    """Names accepted by :func:`get_protocol`."""
    return list(PROTOCOL_MODULES)


def get_protocol(name: str) -> ProtocolSpec:
    """The :class:`ProtocolSpec` called ``name``; :class:`ParameterError` lists the valid names."""
    module_name = PROTOCOL_MODULES.get(name)
    if module_name is None:
        raise ParameterError(f"protocol = {name!r}: must be one of {', '.join(PROTOCOL_MODULES)}")
    return importlib.import_module(module_name).PROTOCOL


def make_parameters(
    protocol: str, preset: str | None = None, overrides: Mapping[str, Any] | None = None, context: str = ""
) -> ChannelParameters:
    """Parameters for ``protocol``: its defaults, then a preset's values, then ``overrides``."""
    from qit4n.qkd.presets import preset_values

    spec = get_protocol(protocol)
    values: dict[str, Any] = dict(preset_values(preset, protocol)) if preset else {}
    values.update(overrides or {})
    return validate_parameters(spec.parameters, values, context)
