"""QKDN controller (issue 13): the network's state in ETSI GS QKD 015 terms, served over mutual TLS,
and its live dashboard."""

from qit4n.qkdn.controller import Controller, ControllerSettings
from qit4n.qkdn.dashboard import dashboard_html
from qit4n.qkdn.plan import ControllerPlan, load_controller_plan, write_controller_plan
from qit4n.qkdn.state import Alarm, LinkState, NetworkState, NodeState, RouteState

__all__ = [
    "Alarm",
    "Controller",
    "ControllerPlan",
    "ControllerSettings",
    "LinkState",
    "NetworkState",
    "NodeState",
    "RouteState",
    "dashboard_html",
    "load_controller_plan",
    "write_controller_plan",
]
