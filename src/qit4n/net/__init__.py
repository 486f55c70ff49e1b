"""QKD networks: trusted-relay key delivery, routing, capacity, joint allocation, survivability, design, key-pool simulation."""

from qit4n.net.allocation import DemandAllocation, DemandSpec, allocate
from qit4n.net.capacity import MinCut, Route, max_flow_routes, max_key_rate_bps, min_cut
from qit4n.net.design import DesignResult, design_network
from qit4n.net.flows import CompiledNetwork, compile_network
from qit4n.net.graph import RELAY_ROLES, KeyNetwork, NetLink, build_network
from qit4n.net.passes import PeriodicPasses
from qit4n.net.plan import DemandPlan, Plan, demand_specs, plan_network
from qit4n.net.qos import DemandQoS
from qit4n.net.routing import disjoint_paths, key_aware_path, path_bottleneck_bps, shortest_path, widest_path
from qit4n.net.simulate import DemandTraffic, FailureEvent, SimulationConfig, SimulationResult, simulate_network
from qit4n.net.survivability import Failure, FailureImpact, failure_impacts, single_failures

__all__ = [
    "KeyNetwork",
    "NetLink",
    "RELAY_ROLES",
    "build_network",
    "PeriodicPasses",
    "CompiledNetwork",
    "compile_network",
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
    "DemandSpec",
    "DemandAllocation",
    "allocate",
    "Failure",
    "FailureImpact",
    "failure_impacts",
    "single_failures",
    "DemandPlan",
    "Plan",
    "demand_specs",
    "plan_network",
    "DesignResult",
    "design_network",
    "DemandTraffic",
    "FailureEvent",
    "SimulationConfig",
    "SimulationResult",
    "DemandQoS",
    "simulate_network",
]
