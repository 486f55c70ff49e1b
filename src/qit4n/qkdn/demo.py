"""The QKD network part of ``qit4n demo``: a scripted fault sequence under the QKDN controller.

The scenario's KMEs run in this process (:class:`~qit4n.kms.ops.InProcessNetwork`: the servers,
mutual TLS and databases of ``network up``, one event loop) with the QKDN controller
(:class:`~qit4n.qkdn.controller.Controller`) polling them from a second thread. Up to three SAE
pairs ask for keys every ``request_interval_s`` while :func:`plan_faults`'s sequence is applied with
:func:`~qit4n.qkdn.faults.apply_fault`, one fault per phase: a link on the first pair's route that
has an alternative (reroute), a classical channel on a link that lowers its rate without aborting
it (degraded), a link whose loss leaves a pair without any path (503), then the restores. Each key
the master gets is fetched by the slave and compared, so the ledger counts what was requested,
delivered, refused with ETSI 503, lost (the slave did not get the same bytes) and duplicated (a
key ID served twice).
"""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import networkx as nx

from qit4n.errors import InputError, ServiceError
from qit4n.kms.config import kme_id_of, sae_id_of

if TYPE_CHECKING:
    from qit4n.kms.client import SAEClient
    from qit4n.qkdn.controller import Controller, ControllerSettings
    from qit4n.qkdn.plan import ControllerPlan
    from qit4n.scenario import Scenario

__all__ = ["DemoFault", "FaultRun", "pick_pairs", "plan_faults", "run_fault_sequence"]

#: Classical channel of the "degraded" fault: weak enough that BB84-type links keep producing key.
DEGRADING_CHANNEL = "1550.12:-20dBm"
_READY_TIMEOUT_S = 20.0
#: The KMEs share this process with the controller: it polls every 0.1 s, or 10 ms per KME if longer.
_POLL_S_PER_KME = 0.01


@dataclass(frozen=True)
class DemoFault:
    """One step of the sequence: ``qit4n network fault ACTION TARGET [--classical ...]`` and why."""

    action: str
    target: str
    why: str
    classical: str | None = None

    @property
    def command(self) -> str:
        """The step as the ``network fault`` arguments."""
        return f"{self.action} {self.target}" + (f" --classical {self.classical}" if self.classical else "")


@dataclass
class FaultRun:
    """What happened: faults with their times, requests, alarms and events (times in s from the start)."""

    pairs: list[tuple[str, str]]
    faults: list[tuple[float, DemoFault]] = field(default_factory=list)
    #: (time, "MASTER>SLAVE", outcome): outcome is delivered, refused_503, lost or error.
    requests: list[tuple[float, str, str]] = field(default_factory=list)
    refusals: Counter[str] = field(default_factory=Counter)
    #: (pair, key ID) -> times the master was given it.
    key_ids: Counter[tuple[str, str]] = field(default_factory=Counter)
    alarms: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    started_s: float = 0.0
    poll_interval_s: float = 0.1
    #: The start as a UNIX time (events and alarms carry wall-clock times).
    started_unix_s: float = 0.0

    def ledger(self, pair: str | None = None) -> dict[str, int]:
        """Requested, delivered, refused with 503, lost, duplicated and other errors, of one pair or all."""
        outcomes = Counter(outcome for _, name, outcome in self.requests if pair in (None, name))
        served: Counter[str] = Counter()
        for (name, key_id), count in self.key_ids.items():
            if pair in (None, name):
                served[key_id] += count
        return {
            "requested": sum(outcomes.values()),
            "delivered": outcomes["delivered"],
            "refused_503": outcomes["refused_503"],
            "lost": outcomes["lost"],
            "duplicated": sum(count - 1 for count in served.values() if count > 1),
            "other_errors": outcomes["error"],
        }


class _Topology:
    """The scenario's key network as the controller routes on it (every node relays), with links cut."""

    def __init__(self, scenario: Scenario) -> None:
        from qit4n.net import build_network

        self.network = build_network(scenario, users_relay=True)

    def graph(self, cut: set[str]) -> nx.Graph:
        """Nodes and the links in service that carry key, less ``cut``."""
        graph = nx.Graph()
        graph.add_nodes_from(self.network.node_ids)
        for link in self.network.links:
            if link.id not in cut and link.average_rate_bps > 0:
                graph.add_edge(*link.endpoints)
        return graph

    def route(self, source: str, target: str, cut: set[str]) -> list[str]:
        """Fewest-hop path, empty when there is none."""
        graph = self.graph(cut)
        return nx.shortest_path(graph, source, target) if nx.has_path(graph, source, target) else []

    def links_on(self, path: list[str], cut: set[str]) -> list[str]:
        """IDs of the links a path crosses (the first in service between each two nodes)."""
        found = []
        for a, b in zip(path, path[1:]):
            found.extend(
                next(
                    ([link.id] for link in self.network.links if set(link.endpoints) == {a, b} and link.id not in cut),
                    [],
                )
            )
        return found


def pick_pairs(scenario: Scenario, count: int = 3) -> list[tuple[str, str]]:
    """Up to ``count`` pairs of user nodes with a route, the scenario's demands first, fewest hops first."""
    users = [node.id for node in scenario.nodes if node.role.value == "user"]
    demands = [tuple(demand.endpoints) for demand in scenario.demands]
    candidates = [*demands, *((a, b) for i, a in enumerate(users) for b in users[i + 1 :])]
    topology = _Topology(scenario)
    hops: dict[tuple[str, str], int] = {}
    for source, target in candidates:
        if source in users and target in users and source != target and (source, target) not in hops:
            route = topology.route(source, target, set())
            if route:
                hops[(source, target)] = len(route)
    if not hops:
        raise InputError(f"scenario {scenario.name!r}: no two user nodes joined by QKD links, so no SAE pair to serve")
    return sorted(hops, key=lambda pair: (pair not in demands, hops[pair]))[:count]


def _degradable(scenario: Scenario, avoid: set[str]) -> str | None:
    """A link (not in ``avoid``) that a weak classical channel slows down without aborting it."""
    from qit4n.qkdn.faults import noise_condition

    for index in range(len(scenario.links)):
        link_id = scenario.link_id(index)
        if link_id in avoid:
            continue
        with contextlib.suppress(InputError, ValueError):
            condition = noise_condition(scenario, link_id, DEGRADING_CHANNEL)
            if 0.0 < condition["rate_factor"] < 1.0:
                return link_id
    return None


def plan_faults(scenario: Scenario, pairs: list[tuple[str, str]]) -> list[DemoFault]:
    """The sequence (module docstring); steps the scenario cannot show (e.g. no alternative route) are left out."""
    topology = _Topology(scenario)
    cut: set[str] = set()
    reroute = None
    for source, target in pairs:
        for link_id in topology.links_on(topology.route(source, target, cut), cut):
            if topology.route(source, target, {link_id}):
                reroute = DemoFault("cut", link_id, f"{source}-{target} has another route")
                cut.add(link_id)
                break
        if reroute is not None:
            break
    isolating = None
    for source, target in pairs:
        for link_id in topology.links_on(topology.route(source, target, cut), cut):
            if not topology.route(source, target, cut | {link_id}):
                isolating = DemoFault("cut", link_id, f"no path left for {source}-{target}: ETSI 503")
                break
        if isolating is not None:
            break
    degraded_link = _degradable(scenario, cut | ({isolating.target} if isolating else set()))
    degraded = None
    if degraded_link is not None:
        why = "the link slows down, its QBER still under the abort threshold"
        degraded = DemoFault("noise", degraded_link, why, DEGRADING_CHANNEL)
    faults = [fault for fault in (reroute, degraded) if fault is not None]
    if isolating is not None:
        faults.extend([isolating, DemoFault("restore", isolating.target, "the pair is served again")])
    faults.extend(DemoFault("restore", fault.target, "back to normal") for fault in (reroute, degraded) if fault)
    return faults


class _ControllerThread:
    """The controller polling in its own thread and event loop until the context ends."""

    def __init__(self, plan: ControllerPlan, settings: ControllerSettings) -> None:
        from qit4n.qkdn.controller import Controller

        self.controller: Controller = Controller(plan, settings)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="qit4n-qkdn", daemon=True)
        self._task: asyncio.Task[None] | None = None

    async def _start(self) -> None:
        await self.controller.start()
        self._task = asyncio.create_task(self.controller.run())

    async def _stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.controller.close()
        await asyncio.sleep(0.1)  # the closed connections' transports finish closing on this loop

    def _call(self, coroutine: Any) -> None:
        asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout=30)

    def __enter__(self) -> _ControllerThread:
        self._thread.start()
        self._call(self._start())
        return self

    def __exit__(self, *_exc: object) -> None:
        try:
            self._call(self._stop())
            self._call(self._loop.shutdown_asyncgens())
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=5)
            self._loop.close()


def _routed(controller: Controller, pairs: list[tuple[str, str]]) -> bool:
    routes = {(route.source_kme, route.target_kme) for route in controller.state().routes}
    return all((kme_id_of(a), kme_id_of(b)) in routes for a, b in pairs)


def _stocked(master: SAEClient, slave_id: str) -> bool:
    """Whether the master's KME holds a key for the slave (False while it does not answer)."""
    try:
        return int(master.status(slave_id)["stored_key_count"]) > 0
    except (ServiceError, httpx.HTTPError):
        return False


def _ask(run: FaultRun, pair: str, master: SAEClient, slave: SAEClient, slave_id: str, master_id: str) -> None:
    from qit4n.kms.client import KMEError

    now = time.monotonic() - run.started_s
    try:
        keys = master.get_key(slave_id)
    except KMEError as error:
        outcome = "refused_503" if error.status_code == 503 else "error"
        message = error.body.get("message", str(error.body)) if isinstance(error.body, dict) else str(error.body)
        run.refusals[f"{error.status_code} {message}"] += 1
        run.requests.append((now, pair, outcome))
        return
    except (ServiceError, httpx.HTTPError) as error:  # no answer in time: an error, not a refusal
        run.refusals[f"no answer: {type(error).__name__}"] += 1
        run.requests.append((now, pair, "error"))
        return
    for key in keys:
        run.key_ids[(pair, key.key_id)] += 1
    try:
        delivered = slave.get_key_with_ids(master_id, [key.key_id for key in keys])
        same = [(k.key_id, k.key) for k in delivered] == [(k.key_id, k.key) for k in keys]
    except (ServiceError, httpx.HTTPError):
        same = False
    run.requests.append((now, pair, "delivered" if same else "lost"))


def run_fault_sequence(
    scenario: Scenario, *, phase_s: float = 0.8, request_interval_s: float = 0.1, pairs: int = 3
) -> FaultRun:
    """Start the KMEs and the controller, apply :func:`plan_faults` one per phase, and record everything."""
    from qit4n.kms.launcher import write_kme_plan
    from qit4n.kms.ops import InProcessNetwork, sae_client
    from qit4n.qkdn.controller import ControllerSettings
    from qit4n.qkdn.faults import apply_fault
    from qit4n.qkdn.plan import write_controller_plan

    chosen = pick_pairs(scenario, pairs)
    faults = plan_faults(scenario, chosen)
    run = FaultRun(pairs=chosen)
    with tempfile.TemporaryDirectory(prefix="qit4n-qkdn-demo-") as folder, contextlib.ExitStack() as stack:
        state = Path(folder) / "state"
        plan = write_controller_plan(scenario, write_kme_plan(scenario, state))
        stack.enter_context(InProcessNetwork(plan.kmes))
        settings = ControllerSettings(poll_interval_s=max(0.1, _POLL_S_PER_KME * len(plan.kmes.configs)))
        controller = stack.enter_context(_ControllerThread(plan, settings)).controller
        clients = {
            node: stack.enter_context(sae_client(plan.kmes, sae_id_of(node))) for pair in chosen for node in pair
        }
        run.poll_interval_s = settings.poll_interval_s
        deadline = time.monotonic() + _READY_TIMEOUT_S
        while not (_routed(controller, chosen) and all(_stocked(clients[a], sae_id_of(b)) for a, b in chosen)):
            if time.monotonic() > deadline:
                raise ServiceError(f"{scenario.name}: the controller did not route every SAE pair within 20 s")
            time.sleep(0.05)
        run.started_s, run.started_unix_s = time.monotonic(), time.time()
        steps = [None, *faults]
        for phase, fault in enumerate(steps):
            if fault is not None:
                run.faults.append((time.monotonic() - run.started_s, fault))
                apply_fault(plan, fault.action, fault.target, classical=fault.classical)
            phase_end = run.started_s + (phase + 1) * phase_s
            while time.monotonic() < phase_end:
                tick = time.monotonic()
                for a, b in chosen:
                    _ask(run, f"{a}>{b}", clients[a], clients[b], sae_id_of(b), sae_id_of(a))
                time.sleep(max(0.0, request_interval_s - (time.monotonic() - tick)))
        time.sleep(3 * controller.settings.poll_interval_s)  # the last restores are seen
        run.alarms = [alarm.model_dump(mode="json") for alarm in controller.state().alarms]
        run.events = list(controller.events)
    return run
