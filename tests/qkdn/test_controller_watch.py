"""The controller acts on a link cut when the KME tells it (its watch request), not at its next poll.

Real KMEs (one event loop, mutual TLS) and a real controller with a poll interval of a minute: the
routes around a cut must still be installed within seconds, with no poll in between.
"""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import httpx

from qit4n.kms.launcher import write_kme_plan
from qit4n.kms.ops import InProcessNetwork
from qit4n.kms.tls_client import tls_transport
from qit4n.qkdn.controller import Controller, ControllerSettings
from qit4n.qkdn.faults import apply_fault
from qit4n.qkdn.plan import write_controller_plan
from qit4n.scenario import scenario_from_dict


def ring(names: list[str]):
    nodes = [{"id": name, "role": "user"} for name in names]
    links = [
        {"endpoints": [a, b], "key_rate_bps": 1e5, "pool_capacity_bits": 1e6}
        for a, b in zip(names, names[1:] + names[:1])
    ]
    return scenario_from_dict({"name": "ring", "nodes": nodes, "links": links})


def test_a_cut_reroutes_between_polls(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir(mode=0o700)
    os.chmod(tmp_path, 0o700)
    scenario = ring(["A", "B", "C", "D"])
    kmes = write_kme_plan(scenario, state)
    plan = write_controller_plan(scenario, kmes)
    cut = scenario.link_id(0)  # A-B: A then reaches B over D and C

    async def run() -> tuple[float, int, list[str], str]:
        controller = Controller(plan, ControllerSettings(poll_interval_s=60.0))
        await controller.start()
        try:
            await controller.poll()
            assert controller.state().links[0].state.value == "up"
            loop = asyncio.create_task(controller.run())  # one poll at once, the next a minute later
            while controller.polls < 2:
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.5)  # the watches are open
            polls = controller.polls
            started = time.monotonic()
            await asyncio.to_thread(apply_fault, plan, "cut", cut)
            while controller.state().links[0].state.value != "down" or not _routes_avoid(controller, cut):
                assert time.monotonic() - started < 10, "no reaction within 10 s"
                await asyncio.sleep(0.02)
            reaction_s = time.monotonic() - started
            path = next(r.path for r in controller.state().routes if (r.source_kme, r.target_kme) == ("KME-A", "KME-B"))
            loop.cancel()
            await asyncio.gather(loop, return_exceptions=True)
            return reaction_s, controller.polls - polls, path, controller.events[-1]["kind"]
        finally:
            await controller.close()

    with InProcessNetwork(kmes):
        reaction_s, polls_between, path, _last = asyncio.run(run())
        with httpx.Client(transport=tls_transport(plan.operator_tls()), timeout=5) as operator:
            url = plan.kmes.url("KME-A") + "/kme/v1/control/watch"
            refused = operator.get(url, params={"since": 0, "wait_s": 600})
            report = operator.get(url, params={"since": -1}).json()
    assert refused.status_code == 400 and "wait_s" in refused.text
    assert report["condition_version"] == 1 and report["links"][cut]["cut"] is True  # the cut, at once
    assert polls_between == 0
    assert path == ["KME-A", "KME-D", "KME-C", "KME-B"]
    assert reaction_s < 5.0


def _routes_avoid(controller: Controller, link_id: str) -> bool:
    ends = {"KME-A", "KME-B"}
    return bool(controller.state().routes) and all(
        {a, b} != ends for route in controller.state().routes for a, b in zip(route.path, route.path[1:])
    )


def test_a_poll_asked_before_the_watch_answered_does_not_undo_it() -> None:
    from qit4n.qkdn.controller import _fresher

    watched = {"instance": "run-1", "condition_version": 3, "links": {"A-B#0": {"cut": True}}}
    polled_before = {"instance": "run-1", "condition_version": 2, "links": {"A-B#0": {"cut": False}}}
    restarted = {"instance": "run-2", "condition_version": 0, "links": {"A-B#0": {"cut": False}}}
    assert _fresher(watched, polled_before) is watched
    assert _fresher(polled_before, watched) is watched
    assert _fresher(watched, restarted) is restarted  # a new run of the KME: its own count
    assert _fresher(watched, None) is None  # not answering
