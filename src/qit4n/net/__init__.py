"""QKD networks: trusted-relay key delivery, routing, capacity, allocation, survivability, design, key pools."""

from qit4n.net.allocation import DemandAllocation, DemandSpec, allocate
from qit4n.net.capacity import MinCut, Route, max_flow_routes, max_key_rate_bps, min_cut
from qit4n.net.design import DesignResult, design_network
from qit4n.net.flows import CompiledNetwork, compile_network
from qit4n.net.graph import RELAY_ROLES, KeyNetwork, NetLink, build_network
from qit4n.net.plan import DemandPlan, Plan, PlanReport, demand_specs, plan_network
from qit4n.net.qos import DemandQoS
from qit4n.net.routing import disjoint_paths, key_aware_path, path_bottleneck_bps, shortest_path, widest_path
from qit4n.net.simulate import DemandTraffic, FailureEvent, SimulationConfig, SimulationResult, simulate_network
from qit4n.net.survivability import Failure, FailureImpact, failure_impacts, single_failures

__all__ = [
    "RELAY_ROLES",
    "CompiledNetwork",
    "DemandAllocation",
    "DemandPlan",
    "DemandQoS",
    "DemandSpec",
    "DemandTraffic",
    "DesignResult",
    "Failure",
    "FailureEvent",
    "FailureImpact",
    "KeyNetwork",
    "MinCut",
    "NetLink",
    "Plan",
    "PlanReport",
    "Route",
    "SimulationConfig",
    "SimulationResult",
    "allocate",
    "build_network",
    "compile_network",
    "demand_specs",
    "design_network",
    "disjoint_paths",
    "failure_impacts",
    "key_aware_path",
    "max_flow_routes",
    "max_key_rate_bps",
    "min_cut",
    "path_bottleneck_bps",
    "plan_network",
    "shortest_path",
    "simulate_network",
    "single_failures",
    "widest_path",
]
