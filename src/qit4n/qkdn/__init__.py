"""QKDN controller (issue 13): the network's state in ETSI GS QKD 015 terms and its live dashboard."""

from qit4n.qkdn.dashboard import dashboard_html
from qit4n.qkdn.state import Alarm, LinkState, NetworkState, NodeState, RouteState

__all__ = ["Alarm", "LinkState", "NetworkState", "NodeState", "RouteState", "dashboard_html"]
