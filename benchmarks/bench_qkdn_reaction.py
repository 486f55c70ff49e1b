"""QKDN controller: `network up` ready time and reaction time from a link cut to new routes installed.

Usage: ``python benchmarks/bench_qkdn_reaction.py [--repeats N] [--scenario NAME]``.
Starts the scenario's KMEs and the controller as real processes (as ``qit4n network up`` does) and
reports the time until every KME and the controller answer. Then, ``--repeats`` times per link,
cuts the link (``qit4n.qkdn.faults.apply_fault``, which tells both ends) and polls, with the
operator's certificate, every KME whose routes crossed the link until none of its installed routes
does: the reaction time runs from just before the cut to that moment. The link is restored and
the routes allowed to settle before the next cut. Target (issue 13): <= 1 s for SECOQC.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from qit4n.kms.launcher import Network, write_kme_plan
from qit4n.kms.tls_client import tls_transport
from qit4n.qkdn.faults import apply_fault
from qit4n.qkdn.plan import ControllerPlan, start_controller, write_controller_plan
from qit4n.scenario import load_scenario


def _crosses(kme_id: str, routes: dict[str, list[str]], ends: set[str]) -> bool:
    for hops in routes.values():
        path = [kme_id, *hops]
        if any({a, b} == ends for a, b in zip(path, path[1:])):
            return True
    return False


def _routes(http: httpx.Client, plan: ControllerPlan) -> dict[str, dict[str, list[str]]]:
    tables = {}
    for kme_id in plan.kmes.configs:
        tables[kme_id] = http.get(plan.kmes.url(kme_id) + "/kme/v1/control").json()["routes"]
    return tables


def _link_up(http: httpx.Client, plan: ControllerPlan, link_id: str) -> bool:
    links = http.get(plan.url + "/qkdn/v1/state").json()["links"]
    return any(link["id"] == link_id and link["state"] == "up" for link in links)


def _wait(predicate: Any, timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if predicate():
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.01)
    raise TimeoutError("condition not reached")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--scenario", default="secoqc-vienna-2008")
    args = parser.parse_args()
    scenario = load_scenario(args.scenario)
    with tempfile.TemporaryDirectory(prefix="qit4n-bench-qkdn-") as folder:
        state = Path(folder) / "state"
        state.mkdir(mode=0o700)
        started = time.monotonic()
        kmes = write_kme_plan(scenario, state)
        plan = write_controller_plan(scenario, kmes)
        with Network(kmes) as network, httpx.Client(transport=tls_transport(plan.operator_tls()), timeout=5) as http:
            start_controller(network, state)
            _wait(lambda: http.get(plan.url + "/qkdn/v1/state").status_code == 200)
            ready_s = time.monotonic() - started
            _wait(lambda: all(_routes(http, plan).values()))
            results: dict[str, list[float]] = {}
            for index, link in enumerate(scenario.links):
                link_id = scenario.link_id(index)
                ends = {f"KME-{node}" for node in link.endpoints}
                for _ in range(args.repeats):
                    before = _routes(http, plan)
                    affected = [kme for kme, table in before.items() if _crosses(kme, table, ends)]
                    t0 = time.monotonic()
                    apply_fault(plan, "cut", link_id)
                    _wait(
                        lambda ends=ends, affected=affected: (
                            not any(_crosses(kme, _routes(http, plan)[kme], ends) for kme in affected)
                        )
                    )
                    results.setdefault(link_id, []).append(time.monotonic() - t0)
                    apply_fault(plan, "restore", link_id)
                    _wait(lambda link_id=link_id: _link_up(http, plan, link_id))
                    time.sleep(0.5)  # the routes back over the link settle
    summary = {
        "scenario": args.scenario,
        "ready_s": round(ready_s, 2),
        "reaction_s": {
            link_id: {"median": round(statistics.median(times), 3), "max": round(max(times), 3)}
            for link_id, times in results.items()
        },
        "reaction_all_max_s": round(max(max(times) for times in results.values()), 3),
    }
    print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
