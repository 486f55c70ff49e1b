"""The link layer's stage of scenario validation: each modelled link's protocol, device and optics fields.

The scenario package checks the schema and cross-references; this second stage, registered with
:data:`qit4n.scenario.SCENARIO_CHECKS` through the entry-point group ``qit4n.scenario_checks``,
checks what only the models know, so a bad scenario still fails at load time with every problem
and its field path.
"""

from __future__ import annotations

from qit4n.errors import Qit4nError
from qit4n.physics.freespace import validate_optics
from qit4n.qkd import make_parameters
from qit4n.scenario.model import ChannelKind, Scenario

__all__ = ["link_problems"]


def link_problems(scenario: Scenario) -> list[str]:
    """Problems with the protocol, preset, device and optics fields of links whose rate is modelled."""
    problems = []
    for index, link in enumerate(scenario.links):
        if link.key_rate_bps is not None:
            continue
        try:
            make_parameters(link.protocol, link.preset, link.device, context=f"links[{index}].device")
        except Qit4nError as error:
            problems.append(str(error) if "links[" in str(error) else f"links[{index}]: {error}")
        if link.channel is not ChannelKind.FIBRE:
            try:
                validate_optics(link.optics, link.channel.value, f"links[{index}].optics")
            except Qit4nError as error:
                problems.append(str(error))
    return problems
