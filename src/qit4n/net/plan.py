"""Network planning in one call: link rates, per-demand capacity and minimum cut, joint allocation, survivability."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from qit4n.net.allocation import DemandAllocation, DemandSpec, allocate
from qit4n.net.capacity import MinCut, min_cut
from qit4n.net.flows import CompiledNetwork, compile_network
from qit4n.net.graph import KeyNetwork, build_network
from qit4n.net.survivability import Failure, FailureImpact, FailureMapper, failure_impacts, single_failures
from qit4n.scenario.model import Scenario
from qit4n.workload import ProgressCallback

if TYPE_CHECKING:
    from qit4n.net.design import DesignResult

__all__ = ["DemandPlan", "Plan", "PlanReport", "demand_specs", "plan_network"]


@dataclass(frozen=True)
class DemandPlan:
    """One demand's plan: its maximum key rate alone, its minimum cut, and its joint allocation."""

    allocation: DemandAllocation
    max_key_rate_bps: float
    cut: MinCut

    def to_dict(self) -> dict:
        """JSON-ready form (field names of the ``qit4n plan`` contract)."""
        demand = self.allocation.demand
        return {
            "name": demand.name,
            "endpoints": [demand.source, demand.target],
            "key_rate_bps": demand.rate_bps,
            "priority": demand.priority,
            "max_key_rate_bps": self.max_key_rate_bps,
            "allocated_bps": self.allocation.allocated_bps,
            "satisfied": self.allocation.satisfied,
            "routes": [route.to_dict() for route in self.allocation.routes],
            "min_cut_bps": self.cut.value_bps,
            "min_cut_links": list(self.cut.links),
        }


@dataclass(frozen=True)
class Plan:
    """The result of :func:`plan_network`."""

    network: KeyNetwork
    demands: tuple[DemandPlan, ...]
    survivability: tuple[FailureImpact, ...]

    def to_dict(self) -> dict:
        """JSON-ready form: ``links``, ``demands`` and ``survivability``."""
        return {
            "scenario": self.network.scenario.name,
            "links": [
                {
                    "id": link.id,
                    "endpoints": list(link.endpoints),
                    "key_rate_bps": link.key_rate_bps,
                    "duty_cycle": link.duty_cycle,
                    "average_rate_bps": link.average_rate_bps,
                    "length_km": link.length_km,
                }
                for link in self.network.links
            ],
            "demands": [demand.to_dict() for demand in self.demands],
            "survivability": [impact.to_dict() for impact in self.survivability],
        }


@dataclass(frozen=True)
class PlanReport:
    """The result of ``qit4n plan``: a plan and, when candidate links were given, the design that chose among them."""

    plan: Plan
    design: DesignResult | None = None

    def to_dict(self) -> dict:
        """JSON-ready form: :meth:`Plan.to_dict` with ``design`` added when there is one."""
        output = self.plan.to_dict()
        if self.design is not None:
            output["design"] = self.design.to_dict()
        return output


def demand_specs(scenario: Scenario) -> list[DemandSpec]:
    """The scenario's demands with unique names (``A-B#i`` when a demand has none)."""
    specs, seen = [], set()
    for index, demand in enumerate(scenario.demands):
        name = demand.name or f"{demand.endpoints[0]}-{demand.endpoints[1]}#{index}"
        if name in seen:
            name = f"{name}#{index}"
        seen.add(name)
        specs.append(DemandSpec(name, demand.endpoints[0], demand.endpoints[1], demand.key_rate_bps, demand.priority))
    return specs


def plan_network(
    scenario: Scenario | KeyNetwork,
    *,
    users_relay: bool = False,
    survivability: bool = True,
    failures: Sequence[Failure] | None = None,
    extra_failures: Sequence[Failure] = (),
    mapper: FailureMapper | None = None,
    on_progress: ProgressCallback | None = None,
) -> Plan:
    """Plan a network: each demand's maximum key rate and minimum cut, a joint allocation, and failures.

    ``failures`` replaces the default analysis of every single link and node failure;
    ``extra_failures`` (e.g. shared-risk groups) are analysed after them;
    ``survivability=False`` skips failure analysis; ``mapper`` spreads it (e.g. over a Dask cluster,
    :func:`qit4n.sweep.dask_batch_mapper`) with the same result. ``on_progress(failures_done, failures)``
    follows the failure analysis.

    >>> from qit4n.scenario import scenario_from_dict
    >>> plan = plan_network(scenario_from_dict({"name": "chain",
    ...     "nodes": [{"id": "A"}, {"id": "R", "role": "trusted-relay"}, {"id": "B"}],
    ...     "links": [{"endpoints": ["A", "R"], "key_rate_bps": 5000}, {"endpoints": ["R", "B"], "key_rate_bps": 3000}],
    ...     "demands": [{"name": "ab", "endpoints": ["A", "B"], "key_rate_bps": 1000}]}))
    >>> round(plan.demands[0].max_key_rate_bps), plan.demands[0].allocation.satisfied
    (3000, True)
    >>> [impact.demands_lost for impact in plan.survivability if impact.failure.nodes == ("R",)]
    [('ab',)]
    """
    network = scenario if isinstance(scenario, KeyNetwork) else build_network(scenario, users_relay=users_relay)
    compiled: CompiledNetwork = compile_network(network)
    specs = demand_specs(network.scenario)
    allocations = allocate(compiled, specs)
    demands = []
    for allocation in allocations:
        cut = min_cut(compiled, allocation.demand.source, allocation.demand.target)
        demands.append(DemandPlan(allocation, cut.value_bps, cut))
    impacts = []
    if survivability:
        chosen = single_failures(compiled) if failures is None else list(failures)
        impacts = failure_impacts(
            compiled, allocations, chosen + list(extra_failures), mapper=mapper, on_progress=on_progress
        )
    return Plan(network, tuple(demands), tuple(impacts))
