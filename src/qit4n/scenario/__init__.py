"""The scenario schema shared by planning, simulation and key management, and its loader."""

from qit4n.scenario.load import builtin_names, load_scenario, scenario_from_dict, scenario_to_yaml
from qit4n.scenario.model import (
    ChannelKind,
    ClassicalChannel,
    Demand,
    Link,
    Node,
    NodeRole,
    QuantumReceiver,
    Request,
    Scenario,
)

__all__ = [
    "ChannelKind",
    "ClassicalChannel",
    "Demand",
    "Link",
    "Node",
    "NodeRole",
    "QuantumReceiver",
    "Request",
    "Scenario",
    "builtin_names",
    "load_scenario",
    "scenario_from_dict",
    "scenario_to_yaml",
]
