"""The controller's routes: fewest hops as :func:`qit4n.net.shortest_path` finds them, one search per source."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from uuid import UUID

from qit4n.errors import NoKeyRouteError
from qit4n.net import shortest_path
from qit4n.qkdn.controller import Controller
from qit4n.qkdn.state import LinkState, LinkStatus, NodeState, NodeStatus
from qit4n.scenario import Scenario, load_scenario

_ZERO = UUID(int=0)


@dataclass
class _Plan:
    """The two things the controller reads from a plan before it polls."""

    scenario_: Scenario
    state_dir: Path

    def scenario(self) -> Scenario:
        return self.scenario_


def _controller(scenario: Scenario, tmp_path: Path, down: set[str], cut: set[str], low: set[str]) -> Controller:
    controller = Controller(_Plan(scenario, tmp_path))
    controller._nodes = [
        NodeState(id=node.id, qkdn_id=_ZERO, kme_id=f"KME-{node.id}", role=node.role, state=NodeStatus.UP)
        for node in scenario.nodes
    ]
    controller._nodes = [
        node.model_copy(update={"state": NodeStatus.DOWN}) if node.id in down else node for node in controller._nodes
    ]
    controller._links = [
        LinkState(
            id=scenario.link_id(index),
            qkdl_id=_ZERO,
            endpoints=link.endpoints,
            state=LinkStatus.DOWN if scenario.link_id(index) in cut else LinkStatus.UP,
            key_rate_bps=1.0,
            pool_bits=0.0 if scenario.link_id(index) in low else 1e6,
            pool_capacity_bits=1e7,
        )
        for index, link in enumerate(scenario.links)
    ]
    return controller


def test_routes_have_the_fewest_hops_around_cut_links_and_down_nodes(tmp_path: Path) -> None:
    scenario = load_scenario("beijing-shanghai-backbone")
    down = {scenario.nodes[3].id}
    cut = {scenario.link_id(0), scenario.link_id(5)}
    controller = _controller(scenario, tmp_path, down, cut, set())
    routes = controller.compute_routes()
    alive = {
        frozenset(link.endpoints) for index, link in enumerate(scenario.links) if scenario.link_id(index) not in cut
    }
    assert set(routes) == {node.id for node in scenario.nodes} - down
    for source in routes:
        for target in routes:
            if source == target:
                continue
            try:
                expected = shortest_path(
                    controller.network,
                    source,
                    target,
                    weight="hops",
                    failed_links=sorted(cut),
                    failed_nodes=sorted(down),
                )
            except NoKeyRouteError:
                assert target not in routes[source]
                continue
            hops = routes[source][target]
            assert len(hops) == len(expected) - 1 and hops[-1] == target
            path = [source, *hops]
            assert not down & set(path)
            assert {frozenset(pair) for pair in zip(path, path[1:])} <= alive
    assert controller.compute_routes() is routes  # same inputs: the routes are reused, not computed again


def test_a_low_pool_is_avoided_while_another_route_exists(tmp_path: Path) -> None:
    scenario = load_scenario("secoqc-vienna-2008")
    routes = _controller(scenario, tmp_path, set(), set(), {"SIE-FOR"}).compute_routes()
    assert len(routes["SIE"]["FOR"]) > 1  # around SIE-FOR
    routes = _controller(scenario, tmp_path, set(), set(), {"BREI-STP"}).compute_routes()
    assert routes["SIE"]["STP"][-2:] == ["BREI", "STP"]  # STP's only link: used although low


def test_state_is_one_snapshot_with_a_sequence(tmp_path: Path) -> None:
    controller = _controller(load_scenario("secoqc-vienna-2008"), tmp_path, set(), set(), set())
    first = controller.state()
    assert controller.state() is first  # published once per poll, not rebuilt per reader
    assert first.sequence == 1 and len(first.nodes) == 6
