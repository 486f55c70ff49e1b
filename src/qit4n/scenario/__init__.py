"""The scenario schema shared by planning, simulation and key management, its loader and cross-reference checks."""

from qit4n.scenario.checks import SCENARIO_CHECKS, ScenarioCheck, cross_reference_problems
from qit4n.scenario.load import (
    builtin_names,
    load_scenario,
    scenario_digest,
    scenario_from_dict,
    scenario_to_json,
    scenario_to_yaml,
)
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
    "SCENARIO_CHECKS",
    "ChannelKind",
    "ClassicalChannel",
    "Demand",
    "Link",
    "Node",
    "NodeRole",
    "QuantumReceiver",
    "Request",
    "Scenario",
    "ScenarioCheck",
    "builtin_names",
    "cross_reference_problems",
    "load_scenario",
    "scenario_digest",
    "scenario_from_dict",
    "scenario_to_json",
    "scenario_to_yaml",
]
