"""The QKDN controller (ITU-T Y.3804 control layer, Y.3805 SDN controller): state, events, routes.

Every ``poll_interval_s`` the controller reads each KME's control interface
(:mod:`qit4n.kms.routers.control`, with the operator's certificate): pool level, key rate and QBER
of its links, and whether they are cut. From the two ends' reports it derives each link's state
(``down``: an end KME does not answer or reports the link cut; ``aborted``: QBER above
``qber_abort``, or no key at all at the QBER reported; ``degraded``: producing below its planned
rate; else ``up``), raises and clears alarms, and computes every KME's relay routes with fewest
hops (:func:`qit4n.kms.routes.fewest_hop_paths`, breadth first on the scenario's key network) over
the links in service, key-aware: links whose pool holds less than ``pool_low_share`` of its
capacity are avoided while another route exists. Routes that changed are pushed to the KMEs
(``PUT /kme/v1/control/routes``), all at once. Each poll ends by publishing one
:class:`~qit4n.qkdn.state.NetworkState` (nodes, links, the routes the KMEs took and the alarms of
that poll together), so a reader never sees a node down with the routes of before. Events and
alarms are kept under ``STATE/qkdn/`` so a restart resumes them; link faults recorded in
``STATE/qkdn/faults.json`` (:mod:`qit4n.qkdn.faults`, the emulated physical layer) are re-applied
to a KME that (re)joins.

Between polls the controller also holds one watch request open at each KME (``GET
/kme/v1/control/watch``), which the KME answers when a link's condition changes there: the
controller then takes that KME's report and runs the same update at once, so a cut is acted on in
the time of one update rather than of a poll of every KME (seconds in a network of hundreds).
A poll's report older than the watch's (the same KME run, a lower condition version) is not taken.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from qit4n.kms.atrest import write_private
from qit4n.kms.config import kme_id_of
from qit4n.kms.routes import fewest_hop_paths, link_adjacency
from qit4n.qkdn.faults import link_control_url, read_faults
from qit4n.qkdn.interdomain import InterdomainView
from qit4n.qkdn.state import (
    Alarm,
    AlarmSeverity,
    LinkState,
    LinkStatus,
    NetworkState,
    NodeState,
    NodeStatus,
    RouteState,
)

if TYPE_CHECKING:
    import httpx

    from qit4n.net import KeyNetwork
    from qit4n.qkdn.plan import ControllerPlan
    from qit4n.scenario import Scenario

__all__ = ["Controller", "ControllerSettings", "LinkSample", "qkdl_uuid", "qkdn_uuid"]

#: Cleared alarms kept (the oldest are dropped beyond this).
_KEPT_CLEARED_ALARMS = 1000
_NAMESPACE = uuid.UUID("6d2c3c8e-8a51-4d0c-9d1e-2f1a4c0b7e21")
#: A watch request waits this long for a change at its KME before it is asked again (s).
WATCH_WAIT_S = 10.0


def qkdn_uuid(network: str, node_id: str) -> uuid.UUID:
    """Stable ``qkdn_id`` of a node (UUID 5 of the network and node names)."""
    return uuid.uuid5(_NAMESPACE, f"{network}/node/{node_id}")


def qkdl_uuid(network: str, link_id: str) -> uuid.UUID:
    """Stable ``qkdl_id`` of a link (UUID 5 of the network and link names)."""
    return uuid.uuid5(_NAMESPACE, f"{network}/link/{link_id}")


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class ControllerSettings:
    """Polling and event thresholds of the controller."""

    poll_interval_s: float = 0.1
    request_timeout_s: float = 2.0
    pool_low_share: float = 0.01
    #: BB84's asymptotic abort threshold, 11.0 % (P. W. Shor and J. Preskill, PRL 85, 441 (2000)).
    qber_abort: float = 0.11
    history_samples: int = 600


@dataclass(frozen=True)
class LinkSample:
    """One point of a link's performance history."""

    time_s: float
    key_rate_bps: float
    qber: float | None
    pool_bits: float


@dataclass
class _Memory:
    """What persists across polls: alarms, events, routes installed, history."""

    alarms: dict[str, Alarm] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)
    installed: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    history: dict[str, deque[LinkSample]] = field(default_factory=dict)


def _fresher(held: dict[str, Any] | None, new: dict[str, Any] | None) -> dict[str, Any] | None:
    """``new``, unless it is an older report of the same KME run than ``held`` (a poll that was asked
    before a watch answered); ``None`` (the KME does not answer) always wins."""
    if (
        held is not None
        and new is not None
        and held.get("instance") == new.get("instance")
        and held.get("condition_version", 0) > new.get("condition_version", 0)
    ):
        return held
    return new


class Controller:
    """The controller of one state folder: ``await start()``, ``await poll()`` (or ``run()``), ``await close()``."""

    def __init__(self, plan: ControllerPlan, settings: ControllerSettings | None = None) -> None:
        from qit4n.net import build_network

        self.plan = plan
        self.settings = settings or ControllerSettings()
        self.scenario: Scenario = plan.scenario()
        self.network: KeyNetwork = build_network(self.scenario, users_relay=True)
        self.folder = plan.state_dir / "qkdn"
        self.memory = _Memory()
        self.route_version = 0
        self.sequence = 0
        self.polls = 0
        #: How long the last :meth:`poll` took (s): reading every KME, routing, pushing, publishing.
        self.last_poll_s = 0.0
        self._reports: dict[str, dict[str, Any] | None] = {}
        self._nodes: list[NodeState] = []
        self._links: list[LinkState] = []
        self._content: str = ""
        self._routes_for: tuple[tuple[frozenset[str], ...], dict[str, dict[str, list[str]]]] | None = None
        self._route_states: list[RouteState] = []
        self._route_parts: dict[str, list[RouteState]] = {}  # source KME -> its installed routes
        self._wanted_for: tuple[object, dict[str, dict[str, list[str]]]] | None = None
        self._settled: dict[str, dict[str, list[str]]] | None = None  # the routes every KME up holds
        self._published_routes: list[RouteState] | None = None
        self._snapshot: NetworkState | None = None
        self._clients: dict[str, httpx.AsyncClient] = {}  # one small pool per KME
        self._kinds: dict[str, str] = {}  # alarm ID -> the kind of condition it reports (down, aborted, ...)
        self.interdomain = InterdomainView.load(plan.state_dir)
        self._updating = asyncio.Lock()  # one update (reports -> nodes, links, alarms, routes) at a time
        self._load()

    # -- persistence ------------------------------------------------------------------------------
    def _load(self) -> None:
        alarms = self.folder / "alarms.json"
        if alarms.exists():
            for item in json.loads(alarms.read_text()):
                alarm = Alarm.model_validate(item["alarm"])
                self.memory.alarms[str(alarm.id)] = alarm
                self._kinds[str(alarm.id)] = item["kind"]
        events = self.folder / "events.jsonl"
        if events.exists():
            self.memory.events = [json.loads(line) for line in events.read_text().splitlines() if line.strip()]

    def _save_alarms(self) -> None:
        cleared = [key for key, alarm in self.memory.alarms.items() if alarm.cleared_at is not None]
        for key in cleared[: max(0, len(cleared) - _KEPT_CLEARED_ALARMS)]:
            del self.memory.alarms[key]
            self._kinds.pop(key, None)
        alarms = [
            {"kind": self._kinds.get(key, "other"), "alarm": alarm.model_dump(mode="json")}
            for key, alarm in self.memory.alarms.items()
        ]
        write_private(self.folder / "alarms.json", json.dumps(alarms, indent=1))

    def _event(self, kind: str, source: str, **detail: Any) -> None:
        event = {"time": _now().isoformat(), "time_s": time.time(), "kind": kind, "source": source, **detail}
        self.memory.events.append(event)
        with (self.folder / "events.jsonl").open("a") as log:
            log.write(json.dumps(event) + "\n")

    # -- life cycle -------------------------------------------------------------------------------
    async def start(self) -> None:
        """Open an HTTPS client towards each KME (operator's certificate).

        One small connection pool per KME rather than one shared pool: a shared pool scans all its
        connections on every request, which costs the square of the KMEs per poll.
        """
        import httpx

        from qit4n.kms.tls_client import AsyncTlsClient

        source = self.plan.operator_tls()
        self._clients = {
            kme_id: AsyncTlsClient(
                source, timeout_s=self.settings.request_timeout_s, limits=httpx.Limits(max_connections=4)
            )
            for kme_id in self.plan.kmes.configs
        }

    def _http(self, kme_id: str) -> httpx.AsyncClient:
        assert self._clients, "start() first"
        return self._clients[kme_id]

    async def close(self) -> None:
        """Close the connections to the KMEs."""
        clients, self._clients = self._clients, {}
        await asyncio.gather(*(client.aclose() for client in clients.values()))

    async def run(self) -> None:
        """Poll, and watch every KME for changes of its link conditions, until cancelled."""
        await asyncio.gather(self._poll_loop(), *(self._watch(kme_id) for kme_id in self.plan.kmes.configs))

    async def _poll_loop(self) -> None:
        """Poll every ``poll_interval_s``, but rest at least as long as the last poll took: in a network
        of hundreds of KMEs a poll takes seconds, and back-to-back polls would leave the controller
        (and the KMEs) little time for anything else, the watches' updates first."""
        while True:
            started = time.monotonic()
            await self.poll()
            took_s = time.monotonic() - started
            await asyncio.sleep(max(self.settings.poll_interval_s - took_s, took_s))

    async def _watch(self, kme_id: str) -> None:
        """Wait for each change of ``kme_id``'s link conditions and update at once (module docstring).

        The first answer of a KME run is the baseline; a KME that restarted is left to the poll,
        which re-applies its faults.
        """
        url = self.plan.kmes.url(kme_id) + "/kme/v1/control/watch"
        seen: tuple[str, int] | None = None
        while True:
            since = -1 if seen is None else seen[1]
            try:
                response = await self._http(kme_id).get(
                    url,
                    params={"since": since, "wait_s": WATCH_WAIT_S},
                    timeout=WATCH_WAIT_S + self.settings.request_timeout_s,
                )
                report = response.json() if response.status_code == 200 else None
            except Exception:  # noqa: BLE001 - a KME not answering is the poll's to report
                report = None
            if report is None:
                seen = None
                await asyncio.sleep(max(self.settings.poll_interval_s, 0.5))
                continue
            now = (report["instance"], report["condition_version"])
            if seen is not None and seen[0] == now[0] and seen[1] != now[1]:
                await self._react(kme_id, report)
            seen = now

    async def _react(self, kme_id: str, report: dict[str, Any]) -> None:
        """Take a watch's report of ``kme_id`` and update nodes, links, alarms and routes now."""
        async with self._updating:
            held = self._reports.get(kme_id)
            if held is None:  # down or not yet polled: its rejoining is the poll's
                return
            self._reports[kme_id] = _fresher(held, report)
            await self._update()

    # -- one control cycle ------------------------------------------------------------------------
    async def _report(self, kme_id: str) -> dict[str, Any] | None:
        try:
            response = await self._http(kme_id).get(self.plan.kmes.url(kme_id) + "/kme/v1/control?routes=false")
        except Exception:  # noqa: BLE001 - any transport failure means the KME does not answer
            return None
        return response.json() if response.status_code == 200 else None

    async def poll(self) -> None:
        """Read every KME, update nodes, links and alarms, and push the routes that changed."""
        started = time.monotonic()
        kme_ids = list(self.plan.kmes.configs)
        answers = await asyncio.gather(*(self._report(kme_id) for kme_id in kme_ids))
        async with self._updating:
            previous = self._reports
            self._reports = {kme: _fresher(previous.get(kme), answer) for kme, answer in zip(kme_ids, answers)}
            rejoined = [kme for kme in kme_ids if self._reports[kme] is not None and previous.get(kme) is None]
            if rejoined and self.polls > 0:
                await self._reapply_faults(rejoined)
            self.polls += 1
            await self._update()
        self.last_poll_s = time.monotonic() - started

    async def _update(self) -> None:
        """From the reports held: nodes, links, alarms; push the routes that changed; publish."""
        self._update_nodes()
        self._update_links()
        if self.interdomain is not None:
            self.interdomain.update(self._reports, self._event)
        self._update_alarms()
        await self._push_routes()
        self._publish()

    def _publish(self) -> None:
        """Make this poll's nodes, links, routes and alarms the state served (one object, replaced at once)."""
        alarms = sorted(self.memory.alarms.values(), key=lambda alarm: alarm.raised_at, reverse=True)
        content = json.dumps(
            [[n.model_dump(mode="json") for n in self._nodes], [lk.model_dump(mode="json") for lk in self._links]]
            + [[a.model_dump(mode="json") for a in alarms]]
            + [None if self.interdomain is None else self.interdomain.dump()]
        )
        if content != self._content or self._published_routes is not self._route_states:
            self._content, self._published_routes = content, self._route_states
            self.sequence += 1
        self._snapshot = NetworkState(
            network=self.scenario.name,
            generated_at=_now(),
            sequence=self.sequence,
            nodes=self._nodes,
            links=self._links,
            routes=self._route_states,
            alarms=alarms,
            interdomain=None if self.interdomain is None else self.interdomain.current,
        )

    async def _reapply_faults(self, kme_ids: list[str]) -> None:
        """A KME that restarted has forgotten the physical condition of its links: tell it again."""
        faults = read_faults(self.plan.state_dir)
        for kme_id in kme_ids:
            for link in self.plan.kmes.configs[kme_id].links:
                condition = faults.links.get(link.link_id)
                if condition is not None:
                    url = link_control_url(self.plan, kme_id, link.link_id)
                    body = {key: condition[key] for key in ("cut", "rate_factor", "qber")}
                    with contextlib.suppress(Exception):  # the next rejoin tries again
                        await self._http(kme_id).put(url, json=body)
            self.memory.installed.pop(kme_id, None)
        self._installed_changed(kme_ids)
        self._settled = None

    def _update_nodes(self) -> None:
        nodes = []
        before = {item.id: item.state for item in self._nodes}
        for node in self.scenario.nodes:
            kme_id = kme_id_of(node.id)
            up = self._reports.get(kme_id) is not None
            was = before.get(node.id)
            state = NodeStatus.UP if up else NodeStatus.DOWN
            if was is not None and was != state:
                self._event(f"node-{state.value}", f"node:{node.id}")
            elif was is None and not up:
                self._event("node-down", f"node:{node.id}")
            nodes.append(
                NodeState(
                    id=node.id,
                    qkdn_id=qkdn_uuid(self.scenario.name, node.id),
                    kme_id=kme_id,
                    role=node.role,
                    latitude_deg=node.latitude_deg,
                    longitude_deg=node.longitude_deg,
                    state=state,
                )
            )
        self._nodes = nodes

    def _end_reports(self, index: int) -> list[dict[str, Any] | None]:
        link_id = self.scenario.link_id(index)
        ends = []
        for node_id in self.scenario.links[index].endpoints:
            report = self._reports.get(kme_id_of(node_id))
            ends.append(None if report is None else report["links"].get(link_id))
        return ends

    def _link_state(self, index: int) -> tuple[LinkStatus, str, float, float | None, float]:
        """(state, reason, key rate, QBER, pool bits) of ``scenario.links[index]``."""
        ends = self._end_reports(index)
        known = [end for end in ends if end is not None]
        pool_bits = float(min((end["pool_bits"] for end in known), default=0.0))
        qbers = [end["qber"] for end in known if end.get("qber") is not None]
        qber = max(qbers) if qbers else None
        if len(known) < len(ends):
            return LinkStatus.DOWN, "an end node is down", 0.0, qber, pool_bits
        if any(end["cut"] for end in known):
            return LinkStatus.DOWN, "cut", 0.0, qber, pool_bits
        if qber is not None and qber > self.settings.qber_abort:
            return LinkStatus.ABORTED, f"QBER {qber:.3f} above {self.settings.qber_abort:.3f}", 0.0, qber, pool_bits
        rate = float(min(end["key_rate_bps"] for end in known))
        planned = float(min(end["planned_rate_bps"] for end in known))
        if rate <= 0.0 < planned:
            return (
                LinkStatus.ABORTED,
                "no key left after error correction and privacy amplification",
                0.0,
                qber,
                pool_bits,
            )
        if rate < planned:
            return LinkStatus.DEGRADED, f"rate {rate:.4g} of {planned:.4g} bit/s", rate, qber, pool_bits
        return LinkStatus.UP, "", rate, qber, pool_bits

    def _update_links(self) -> None:
        links = []
        now_s = time.time()
        for index, link in enumerate(self.scenario.links):
            link_id = self.scenario.link_id(index)
            state, reason, rate, qber, pool_bits = self._link_state(index)
            was = self._links[index].state if len(self._links) > index else None
            if was != state:
                self._event(f"link-{state.value}", f"link:{link_id}", reason=reason)
            history = self.memory.history.setdefault(link_id, deque(maxlen=self.settings.history_samples))
            history.append(LinkSample(now_s, rate, qber, pool_bits))
            links.append(
                LinkState(
                    id=link_id,
                    qkdl_id=qkdl_uuid(self.scenario.name, link_id),
                    endpoints=link.endpoints,
                    state=state,
                    key_rate_bps=rate,
                    qber=qber,
                    pool_bits=pool_bits,
                    pool_capacity_bits=link.pool_capacity_bits,
                )
            )
        self._links = links

    # -- alarms -----------------------------------------------------------------------------------
    def _conditions(self) -> dict[tuple[str, str], tuple[AlarmSeverity, str]]:
        """Active conditions: (source, kind) -> (severity, text)."""
        active: dict[tuple[str, str], tuple[AlarmSeverity, str]] = {}
        for node in self._nodes:
            if node.state == NodeStatus.DOWN:
                active[(f"node:{node.id}", "down")] = (AlarmSeverity.CRITICAL, f"node {node.id}: KME does not answer")
        for index, link in enumerate(self._links):
            source = f"link:{link.id}"
            if link.state == LinkStatus.DOWN:
                reason = self._link_state(index)[1]
                active[(source, "down")] = (AlarmSeverity.MAJOR, f"link {link.id} down ({reason})")
            elif link.state == LinkStatus.ABORTED:
                text = f"link {link.id} aborted ({self._link_state(index)[1]})"
                active[(source, "aborted")] = (AlarmSeverity.MAJOR, text)
            elif link.state == LinkStatus.DEGRADED:
                active[(source, "degraded")] = (AlarmSeverity.MINOR, f"link {link.id} degraded")
            if link.pool_bits < self.settings.pool_low_share * link.pool_capacity_bits:
                text = f"link {link.id} pool low: {link.pool_bits:.0f} bits"
                active[(source, "pool-low")] = (AlarmSeverity.WARNING, text)
        interdomain = None if self.interdomain is None else self.interdomain.alarm()
        if interdomain is not None:
            active[(interdomain[0], interdomain[1])] = (AlarmSeverity.MAJOR, interdomain[2])
        return active

    def _update_alarms(self) -> None:
        active = self._conditions()
        now = _now()
        raised = {
            (alarm.source, self._kinds.get(key, "other")): key
            for key, alarm in self.memory.alarms.items()
            if alarm.cleared_at is None
        }
        changed = False
        for condition, key in raised.items():
            if condition not in active:
                self.memory.alarms[key] = self.memory.alarms[key].model_copy(update={"cleared_at": now})
                self._event("alarm-cleared", condition[0], alarm=key)
                changed = True
        for condition, (severity, text) in active.items():
            if condition not in raised:
                alarm = Alarm(id=uuid.uuid4(), severity=severity, source=condition[0], text=text, raised_at=now)
                self.memory.alarms[str(alarm.id)] = alarm
                self._kinds[str(alarm.id)] = condition[1]
                self._event("alarm-raised", condition[0], alarm=str(alarm.id), severity=severity.value, text=text)
                changed = True
        if changed:
            self._save_alarms()

    # -- routes -----------------------------------------------------------------------------------
    def _route_inputs(self) -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
        """(nodes down, links unusable, links with a low pool): all that the routes depend on."""
        down = frozenset(node.id for node in self._nodes if node.state == NodeStatus.DOWN)
        unusable = frozenset(link.id for link in self._links if link.state in (LinkStatus.DOWN, LinkStatus.ABORTED))
        low = frozenset(
            link.id
            for link in self._links
            if link.pool_bits < self.settings.pool_low_share * link.pool_capacity_bits and link.id not in unusable
        )
        return down, unusable, low

    def compute_routes(self) -> dict[str, dict[str, list[str]]]:
        """Node -> target node -> next nodes, for every node up (see the module docstring).

        One breadth-first search per source over the links in service avoiding low pools, and one
        more allowing them for the targets the first cannot reach. The result is kept and reused
        while the nodes down and the links unusable or low stay the same.
        """
        inputs = self._route_inputs()
        if self._routes_for is not None and self._routes_for[0] == inputs:
            return self._routes_for[1]
        down, unusable, low = inputs
        preferred = link_adjacency(self.network, failed_links=unusable | low, failed_nodes=down)
        fallback = link_adjacency(self.network, failed_links=unusable, failed_nodes=down) if low else preferred
        routes: dict[str, dict[str, list[str]]] = {}
        for source in self.network.node_ids:
            if source in down:
                continue
            paths = fewest_hop_paths(self.network, preferred, source)
            if fallback is not preferred and len(paths) < len(preferred) - 1:
                paths = {**fewest_hop_paths(self.network, fallback, source), **paths}
            routes[source] = {target: paths[target][1:] for target in self.network.node_ids if target in paths}
        self._routes_for = (inputs, routes)
        return routes

    def routes(self) -> list[dict[str, Any]]:
        """Routes installed, as ``RouteState`` dictionaries."""
        return [route.model_dump() for route in self._route_states]

    def _installed_changed(self, kme_ids: list[str]) -> None:
        """Rebuild the published routes of ``kme_ids`` (the others' are kept as they are)."""
        for source in kme_ids:
            table = self.memory.installed.get(source)
            if table is None:
                self._route_parts.pop(source, None)
                continue
            self._route_parts[source] = [  # built from the controller's own tables: no validation needed
                RouteState.model_construct(source_kme=source, target_kme=target, path=[source, *hops])
                for target, hops in sorted(table.items())
            ]
        self._route_states = [route for source in sorted(self._route_parts) for route in self._route_parts[source]]

    def _wanted(self) -> dict[str, dict[str, list[str]]]:
        """KME -> target KME -> next KMEs: :meth:`compute_routes` in KME IDs (converted once per change)."""
        routes = self.compute_routes()
        if self._wanted_for is None or self._wanted_for[0] is not routes:
            kme = {node: kme_id_of(node) for node in self.network.node_ids}  # one lookup per hop, not a format
            wanted = {
                kme[source]: {kme[target]: [kme[hop] for hop in hops] for target, hops in table.items()}
                for source, table in routes.items()
            }
            self._wanted_for = (routes, wanted)
        return self._wanted_for[1]

    async def _push_routes(self) -> None:
        wanted = self._wanted()
        if wanted is self._settled:  # every KME holds these routes already
            return
        gone = [kme_id for kme_id in self.memory.installed if kme_id not in wanted]
        for kme_id in gone:
            del self.memory.installed[kme_id]
        changed = {kme: table for kme, table in wanted.items() if self.memory.installed.get(kme) != table}
        if not changed:
            if gone:
                self._installed_changed(gone)
            self._settled = wanted
            return
        self.route_version += 1
        version = self.route_version

        async def push(kme_id: str, table: dict[str, list[str]]) -> bool:
            try:
                response = await self._http(kme_id).put(
                    self.plan.kmes.url(kme_id) + "/kme/v1/control/routes", json={"routes": table, "version": version}
                )
            except Exception:  # noqa: BLE001 - retried on the next poll
                return False
            return response.status_code == 200

        results = await asyncio.gather(*(push(kme, table) for kme, table in changed.items()))
        done = [kme for kme, ok in zip(changed, results) if ok]
        for kme_id in done:
            self.memory.installed[kme_id] = changed[kme_id]
        if done or gone:
            self._installed_changed([*done, *gone])
        if done:
            self._event("routes-installed", "controller", version=version, kmes=sorted(done))

    # -- views ------------------------------------------------------------------------------------
    def state(self) -> NetworkState:
        """The network as of the last poll (the contract of ``GET /qkdn/v1/state``), consistent as a whole."""
        if self._snapshot is None:
            self._publish()
        assert self._snapshot is not None
        return self._snapshot

    def history(self, link_id: str) -> list[LinkSample]:
        """The performance history of one link (oldest first)."""
        return list(self.memory.history.get(link_id, ()))

    @property
    def events(self) -> list[dict[str, Any]]:
        """Every event since the state was created (node/link state changes, alarms, route installs)."""
        return self.memory.events
