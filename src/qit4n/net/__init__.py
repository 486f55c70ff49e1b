"""QKD networks: trusted-relay key delivery, routing, capacity, joint allocation, survivability, design, key-pool simulation."""

from qit4n.net.capacity import MinCut, Route, max_flow_routes, max_key_rate_bps, min_cut
from qit4n.net.graph import RELAY_ROLES, KeyNetwork, NetLink, build_network
from qit4n.net.passes import PeriodicPasses
from qit4n.net.routing import disjoint_paths, key_aware_path, path_bottleneck_bps, shortest_path, widest_path

__all__ = [
    "KeyNetwork",
    "NetLink",
    "RELAY_ROLES",
    "build_network",
    "PeriodicPasses",
    "shortest_path",
    "widest_path",
    "key_aware_path",
    "disjoint_paths",
    "path_bottleneck_bps",
    "Route",
    "MinCut",
    "max_key_rate_bps",
    "min_cut",
    "max_flow_routes",
]
