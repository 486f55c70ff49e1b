"""Scenario validation in two stages: cross-references here, model checks by the layers that own the models.

Stage one (:func:`cross_reference_problems`) needs only the schema: unique node and link ids, link,
demand and request endpoints that name nodes. Stage two is every member of :data:`SCENARIO_CHECKS`,
a function ``check(scenario) -> list[str]`` of problems with their field paths. Higher packages
add their checks through the entry-point group ``qit4n.scenario_checks`` (the link layer checks
each modelled link's protocol, device and optics fields; ``qin`` the ``quantum_hardware`` block),
so this package never names them, and :func:`~qit4n.scenario.load_scenario` still reports every
problem at once.
"""

from __future__ import annotations

from collections.abc import Callable

from qit4n.registry import Registry
from qit4n.scenario.model import Scenario

__all__ = ["SCENARIO_CHECKS", "ScenarioCheck", "cross_reference_problems", "model_problems"]

#: A stage-two check: the problems of a scenario that passed the schema, each with its field path.
ScenarioCheck = Callable[[Scenario], list[str]]

#: Stage-two checks by name, from the entry-point group ``qit4n.scenario_checks``.
SCENARIO_CHECKS: Registry[ScenarioCheck] = Registry("scenario check", entry_point_group="qit4n.scenario_checks")


def cross_reference_problems(scenario: Scenario) -> list[str]:
    """Duplicate ids and endpoints that name no node."""
    problems = []
    seen: set[str] = set()
    for index, node in enumerate(scenario.nodes):
        if node.id in seen:
            problems.append(f"nodes[{index}].id = {node.id!r}: duplicate node id")
        seen.add(node.id)
    link_ids: set[str] = set()
    for index, link in enumerate(scenario.links):
        for end, endpoint in enumerate(link.endpoints):
            if endpoint not in seen:
                problems.append(f"links[{index}].endpoints[{end}] = {endpoint!r}: no such node")
        if link.id:
            if link.id in link_ids:
                problems.append(f"links[{index}].id = {link.id!r}: duplicate link id")
            link_ids.add(link.id)
    wanted = [(f"demands[{index}]", demand.endpoints) for index, demand in enumerate(scenario.demands)]
    wanted += [(f"requests[{index}]", request.endpoints) for index, request in enumerate(scenario.requests)]
    for where, endpoints in wanted:
        for end, endpoint in enumerate(endpoints):
            if endpoint not in seen:
                problems.append(f"{where}.endpoints[{end}] = {endpoint!r}: no such node")
    return problems


def model_problems(scenario: Scenario) -> list[str]:
    """The problems every member of :data:`SCENARIO_CHECKS` finds, in registration order."""
    return [problem for name in SCENARIO_CHECKS.names() for problem in SCENARIO_CHECKS.get(name)(scenario)]
