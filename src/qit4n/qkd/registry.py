"""Protocols by name: the one front door from a CLI word or a scenario field to a model.

:data:`PROTOCOLS` lists qkd's own protocol modules (imported on first use) and every member of the
entry-point group ``qit4n.protocols``, through which a higher package (``qit4n.qin``'s
``bbm92-repeater``) or a third-party distribution adds a protocol without qkd naming it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from qit4n.qkd.base import ChannelParameters, ProtocolSpec
from qit4n.registry import Registry
from qit4n.schema import validate_parameters

__all__ = ["PROTOCOLS", "get_protocol", "make_parameters", "protocol_names"]

#: Every QKD protocol by CLI name; each member is a :class:`ProtocolSpec`.
PROTOCOLS: Registry[ProtocolSpec] = Registry("protocol", entry_point_group="qit4n.protocols")

for _name, _module in (
    ("bb84", "bb84"),
    ("bb84-decoy", "decoy"),
    ("bb84-decoy-inf", "decoy_infinite"),
    ("bb84-decoy-finite", "finite"),
    ("mdi", "mdi"),
    ("tf", "twinfield"),
    ("cv-gg02", "cv"),
    ("plob", "plob"),
    ("tgw", "tgw"),
    ("bbm92", "bbm92"),
):
    PROTOCOLS.register_lazy(_name, f"qit4n.qkd.{_module}:PROTOCOL")


def protocol_names() -> list[str]:
    """Names accepted by :func:`get_protocol`."""
    return PROTOCOLS.names()


def get_protocol(name: str) -> ProtocolSpec:
    """The :class:`ProtocolSpec` called ``name``; :class:`ParameterError` lists the valid names."""
    return PROTOCOLS.get(name)


def make_parameters(
    protocol: str, preset: str | None = None, overrides: Mapping[str, Any] | None = None, context: str = ""
) -> ChannelParameters:
    """Parameters for ``protocol``: its defaults, then a preset's values, then ``overrides``."""
    from qit4n.qkd.presets import preset_values

    spec = get_protocol(protocol)
    values: dict[str, Any] = dict(preset_values(preset, protocol)) if preset else {}
    values.update(overrides or {})
    return validate_parameters(spec.parameters, values, context)
