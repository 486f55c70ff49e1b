"""Key-pool simulation of a QKD network on the shared event kernel (:mod:`qit4n.des`).

Links fill fluid pools (:mod:`qit4n.net.pools`); events fire only when something changes: a key
request arrives, a waiting request can be served or gives up, a satellite pass starts or ends, a
link or node fails or is repaired, and at the sampling times of the pool-level figures. A request
of ``K`` bits is split over the demand's routes in proportion to their planned rates (multipath
relay) and is served at once when every pool on those routes holds its share; otherwise it waits,
first in line for its demand, until the pools fill or ``max_wait_s`` passes (then it is lost).
With ``police`` (default) each demand is admitted at most at its planned rate by a token bucket
(``max_wait_s`` of tokens deep, full at the start), as a key manager enforcing the plan would, so
competing demands share a saturated link as the joint allocation says rather than first come,
first served.
When a failure breaks a demand's routes, the demand is rerouted over a maximum flow (up to its
planned rate) of what still works; once everything is repaired, the planned routes come back.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from typing import Literal

import numpy as np
from pydantic import Field

from qit4n.des import PS_PER_S, Kernel
from qit4n.des.kernel import Event
from qit4n.errors import ParameterError
from qit4n.links import PeriodicPasses, pass_windows_for_link
from qit4n.net.capacity import max_flow_routes
from qit4n.net.flows import compile_network
from qit4n.net.graph import KeyNetwork, build_network
from qit4n.net.plan import demand_specs
from qit4n.net.pools import PairPools
from qit4n.net.qos import DemandQoS, DemandRecord, summarise
from qit4n.scenario.model import Scenario
from qit4n.schema import StrictModel
from qit4n.workload import ProgressCallback, run_within_budget

__all__ = ["DemandTraffic", "FailureEvent", "SimulationConfig", "SimulationResult", "simulate_network"]

_TOLERANCE = 1e-9
_REKEY_BITS = 256.0


class DemandTraffic(StrictModel):
    """How a demand asks for key.

    ``constant``: a request of ``rate x period_s`` bits every ``period_s``; ``poisson``: requests of
    the same size at exponentially distributed intervals of mean ``period_s``; ``rekey``: a fresh
    ``key_bits`` key (default 256, an AES-256 key) every ``period_s``, whatever the demand's rate;
    ``sessions``: sessions start at exponentially distributed intervals of mean ``period_s`` and last
    an exponentially distributed time of mean ``session_s``, and each asks for ``rate x request_s``
    bits every ``request_s`` while it lasts. ``key_bits``, when given, fixes the request size.
    """

    kind: Literal["constant", "poisson", "rekey", "sessions"] = "constant"
    period_s: float = Field(1.0, gt=0.0, le=1e6)
    key_bits: float | None = Field(None, gt=0.0)
    session_s: float = Field(60.0, gt=0.0, le=1e6, description="sessions: mean duration, s")
    request_s: float = Field(1.0, gt=0.0, le=1e6, description="sessions: time between requests within a session, s")


class FailureEvent(StrictModel):
    """Links and nodes that fail at ``time_s`` and come back after ``repair_s`` (never, if ``None``)."""

    time_s: float = Field(ge=0.0)
    links: list[str] = Field(default_factory=list)
    nodes: list[str] = Field(default_factory=list)
    repair_s: float | None = Field(None, gt=0.0)


class SimulationConfig(StrictModel):
    """Settings of :func:`simulate_network`."""

    duration_s: float = Field(gt=0.0, le=1e8)
    seed: int = 0
    traffic: DemandTraffic = Field(default_factory=DemandTraffic)
    demand_traffic: dict[str, DemandTraffic] = Field(
        default_factory=dict, description="per demand name, overriding traffic"
    )
    max_wait_s: float = Field(10.0, gt=0.0, description="a request not served within this time is lost")
    initial_fill: float = Field(0.0, ge=0.0, le=1.0, description="pool levels at t = 0 as a fraction of capacity")
    failures: list[FailureEvent] = Field(default_factory=list)
    samples: int = Field(200, ge=2, le=100_000, description="pool-level samples over the run")
    police: bool = Field(True, description="admit each demand's key at most at its planned rate (token bucket)")
    routing: Literal["planned", "key-aware"] = Field(
        "planned",
        description="planned multipath routes, or per request the single route with the most key in its emptiest pool",
    )
    passes: PeriodicPasses = Field(
        default_factory=PeriodicPasses,
        description="pass schedule of satellite links without orbit optics (when the simulator builds the network)",
    )


@dataclass(frozen=True)
class SimulationResult:
    """QoS per demand, bit totals, and the sampled pool levels and delivered key."""

    duration_s: float
    qos: tuple[DemandQoS, ...]
    totals_bits: dict[str, float]
    sample_times_s: np.ndarray
    pair_labels: tuple[str, ...]
    pool_levels_bits: np.ndarray
    delivered_bits: np.ndarray
    events_fired: int

    def to_dict(self) -> dict:
        """JSON-ready form: ``demands`` (QoS) and ``conservation`` (bit totals)."""
        return {
            "duration_s": self.duration_s,
            "events": self.events_fired,
            "demands": [qos.to_dict() for qos in self.qos],
            "conservation": self.totals_bits,
        }


class _Demand:
    __slots__ = (
        "broken_since",
        "max_bits",
        "need",
        "need_for",
        "need_total",
        "outage_from",
        "pairs",
        "planned",
        "queue",
        "record",
        "retry",
        "routes",
        "spec",
        "target_bps",
        "tokens",
        "tokens_at",
        "traffic",
        "unit_need",
    )

    def __init__(self, spec, traffic: DemandTraffic, target_bps: float) -> None:
        self.spec = spec
        self.traffic = traffic
        self.target_bps = target_bps
        self.routes: list = []
        self.pairs = np.zeros(0, dtype=np.int64)
        self.unit_need = np.zeros(0)
        self.max_bits = 0.0
        self.need_for = -1.0
        self.need = np.zeros(0)
        self.need_total = 0.0
        self.tokens = float("inf")
        self.tokens_at = 0.0
        self.planned: list = []
        self.queue: deque = deque()
        self.retry: Event | None = None
        self.record = DemandRecord(spec.name)
        self.broken_since: list[float] = []
        self.outage_from: float | None = None


class _Simulator:
    def __init__(self, network: KeyNetwork, config: SimulationConfig) -> None:
        from qit4n.net.allocation import allocate

        self.network, self.config = network, config
        self.compiled = compile_network(network)
        self.kernel = Kernel()
        self.rng = np.random.default_rng(config.seed)
        compiled = self.compiled
        self.pair_index = {(int(u), int(v)): p for p, (u, v) in enumerate(zip(compiled.pair_u, compiled.pair_v))}
        n_pairs = len(compiled.pair_u)
        capacity = np.bincount(
            compiled.link_pair, weights=[link.pool_capacity_bits for link in network.links], minlength=n_pairs
        )
        self.link_up = np.ones(len(network.links), dtype=bool)
        self.node_up = np.ones(compiled.num_nodes, dtype=bool)
        self.in_pass = np.array([not link.satellite for link in network.links], dtype=bool)
        self.pools = PairPools(capacity, np.zeros(n_pairs), capacity * config.initial_fill)
        self.pools.set_rates(np.arange(n_pairs), self._pair_rates(), 0.0)
        names = {spec.name for spec in demand_specs(network.scenario)}
        unknown = sorted(set(config.demand_traffic) - names)
        if unknown:
            raise ParameterError(
                f"demand_traffic: no demand called {unknown[0]!r} (demands: {', '.join(sorted(names))})"
            )
        specs = demand_specs(network.scenario)
        allocations = allocate(compiled, specs) if specs else []
        self.demands = []
        for allocation in allocations:
            traffic = config.demand_traffic.get(allocation.demand.name, config.traffic)
            demand = _Demand(allocation.demand, traffic, allocation.allocated_bps or allocation.demand.rate_bps)
            demand.planned = [(route.path, route.rate_bps) for route in allocation.routes] or self._reroute(demand)
            self._set_routes(demand, demand.planned)
            self.demands.append(demand)

    # --- topology -------------------------------------------------------------------------------
    def _link_alive(self) -> np.ndarray:
        ends = np.array(
            [
                [self.compiled.index[a], self.compiled.index[b]]
                for a, b in (link.endpoints for link in self.network.links)
            ]
        ).reshape(-1, 2)
        return self.link_up & self.node_up[ends[:, 0]] & self.node_up[ends[:, 1]]

    def _pair_rates(self) -> np.ndarray:
        rates = np.array([link.key_rate_bps for link in self.network.links]) * (self._link_alive() & self.in_pass)
        return np.bincount(self.compiled.link_pair, weights=rates, minlength=len(self.compiled.pair_u))

    def _pair_alive(self) -> np.ndarray:
        return (
            np.bincount(
                self.compiled.link_pair, weights=self._link_alive().astype(float), minlength=len(self.compiled.pair_u)
            )
            > 0
        )

    def _refresh_rates(self, now_s: float) -> None:
        rates = self._pair_rates()
        changed = np.flatnonzero(rates != self.pools.rate_bps)
        self.pools.set_rates(changed, rates[changed], now_s)

    def _reroute(self, demand: _Demand) -> list:
        failed_links = [link.id for link, up in zip(self.network.links, self.link_up) if not up]
        failed_nodes = [node for node, up in zip(self.compiled.nodes, self.node_up) if not up]
        if demand.spec.source in failed_nodes or demand.spec.target in failed_nodes:
            return []
        routes = max_flow_routes(
            self.compiled,
            demand.spec.source,
            demand.spec.target,
            limit_bps=demand.target_bps,
            failed_links=failed_links,
            failed_nodes=failed_nodes,
        )
        return [(route.path, route.rate_bps) for route in routes]

    def _set_routes(self, demand: _Demand, routes: list) -> None:
        total = sum(rate for _, rate in routes)
        need: dict[int, float] = {}
        kept = []
        for path, rate in routes:
            if rate <= 0:
                continue
            kept.append((path, rate))
            for u, v in zip(path[:-1], path[1:]):
                a, b = sorted((self.compiled.index[u], self.compiled.index[v]))
                pair = self.pair_index[(a, b)]
                need[pair] = need.get(pair, 0.0) + rate / total
        demand.routes = kept
        demand.pairs = np.array(sorted(need), dtype=np.int64)
        demand.unit_need = np.array([need[pair] for pair in sorted(need)])
        demand.max_bits = float(np.min(self.pools.capacity_bits[demand.pairs] / demand.unit_need)) if kept else 0.0
        demand.need_for = -1.0

    def _topology_changed(self, now_s: float, failure: bool) -> None:
        self._refresh_rates(now_s)
        alive = self._pair_alive()
        healed = self.link_up.all() and self.node_up.all()
        for demand in self.demands:
            broken = not demand.routes or not alive[demand.pairs].all()
            if healed and demand.planned and self.config.routing == "planned":
                self._set_routes(demand, demand.planned)
            elif broken:
                if failure and demand.routes:
                    demand.broken_since.append(now_s)
                self._set_routes(demand, self._reroute(demand))
            has_route = bool(demand.routes)
            if not has_route and demand.outage_from is None:
                demand.outage_from = now_s
            elif has_route and demand.outage_from is not None:
                demand.record.outage_s += now_s - demand.outage_from
                demand.outage_from = None
        for demand in self.demands:
            self._serve(demand)

    def _fail(self, event: FailureEvent) -> None:
        self._set_state(event, False)
        if event.repair_s is not None:
            self.kernel.schedule_in(round(event.repair_s * PS_PER_S), self._set_state, event, True)

    def _set_state(self, event: FailureEvent, up: bool) -> None:
        for link_id in event.links:
            self.link_up[self.compiled.link_position[link_id]] = up
        for node in event.nodes:
            self.node_up[self.compiled.index[node]] = up
        self._topology_changed(self._now_s(), failure=not up)

    def _pass(self, link_position: int, visible: bool) -> None:
        self.in_pass[link_position] = visible
        now_s = self._now_s()
        self._refresh_rates(now_s)
        for demand in self.demands:
            self._serve(demand)

    # --- requests -------------------------------------------------------------------------------
    def _now_s(self) -> float:
        return self.kernel.now_ps / PS_PER_S

    def _request_bits(self, demand: _Demand) -> float:
        traffic = demand.traffic
        if traffic.kind == "rekey":
            return traffic.key_bits or _REKEY_BITS
        if traffic.kind == "sessions":
            return traffic.key_bits or demand.spec.rate_bps * traffic.request_s
        return traffic.key_bits or demand.spec.rate_bps * traffic.period_s

    def _next_interval_s(self, demand: _Demand) -> float:
        if demand.traffic.kind in ("poisson", "sessions"):
            return float(self.rng.exponential(demand.traffic.period_s))
        return demand.traffic.period_s

    def _arrive(self, demand: _Demand) -> None:
        self.kernel.schedule_at(
            self.kernel.now_ps + max(1, round(self._next_interval_s(demand) * PS_PER_S)), self._arrive, demand
        )
        if demand.traffic.kind == "sessions":
            end_ps = self.kernel.now_ps + round(float(self.rng.exponential(demand.traffic.session_s)) * PS_PER_S)
            self._session_request(demand, end_ps)
        else:
            self._enqueue(demand)

    def _session_request(self, demand: _Demand, end_ps: int) -> None:
        if self.kernel.now_ps >= end_ps:
            return
        next_ps = self.kernel.now_ps + max(1, round(demand.traffic.request_s * PS_PER_S))
        if next_ps < end_ps:
            self.kernel.schedule_at(next_ps, self._session_request, demand, end_ps)
        self._enqueue(demand)

    def _enqueue(self, demand: _Demand) -> None:
        now_s = self._now_s()
        bits = self._request_bits(demand)
        demand.queue.append((now_s, bits, now_s + self.config.max_wait_s))
        demand.record.requests += 1
        demand.record.requested_bits += bits
        if len(demand.queue) == 1:
            self._serve(demand)

    def _lose(self, demand: _Demand) -> None:
        _, bits, _ = demand.queue.popleft()
        demand.record.lost += 1
        demand.record.lost_bits += bits

    def _serve(self, demand: _Demand) -> None:
        now_s = self._now_s()
        pools = self.pools
        record = demand.record
        queue = demand.queue
        while queue:
            arrival_s, bits, deadline_s = queue[0]
            if now_s >= deadline_s:
                self._lose(demand)
                continue
            if not demand.routes:
                self._schedule_retry(demand, deadline_s)
                return
            if self.config.routing == "key-aware":
                self._route_by_key(demand)
            if bits > demand.max_bits:
                self._lose(demand)
                continue
            if self.config.police:
                depth = max(demand.target_bps * self.config.max_wait_s, bits)
                tokens = min(depth, demand.tokens + demand.target_bps * (now_s - demand.tokens_at))
                demand.tokens, demand.tokens_at = tokens, now_s
                if tokens < bits * (1 - _TOLERANCE):
                    self._schedule_retry(demand, min(now_s + (bits - tokens) / demand.target_bps, deadline_s))
                    return
            if bits != demand.need_for:
                demand.need_for, demand.need, demand.need_total = (
                    bits,
                    demand.unit_need * bits,
                    float(demand.unit_need.sum()) * bits,
                )
            wait_s = pools.try_take(demand.pairs, demand.need, demand.need_total, bits, now_s)
            if wait_s == 0.0:
                demand.tokens -= bits
                queue.popleft()
                record.served += 1
                record.delivered_bits += bits
                record.delays_s.append(now_s - arrival_s)
                if demand.broken_since:
                    record.restoration_s.extend(now_s - since for since in demand.broken_since)
                    demand.broken_since.clear()
                continue
            self._schedule_retry(demand, min(now_s + wait_s, deadline_s))
            return

    def _route_by_key(self, demand: _Demand) -> None:
        """Send the next request over the route whose emptiest pool holds the most key now."""
        from qit4n.errors import NoKeyRouteError
        from qit4n.net.routing import key_aware_path

        everything = np.arange(len(self.compiled.pair_u))
        self.pools.advance(everything, self._now_s())
        share = np.bincount(self.compiled.link_pair, minlength=len(everything))
        levels = {
            link.id: self.pools.level_bits[self.compiled.link_pair[position]] / share[self.compiled.link_pair[position]]
            for position, link in enumerate(self.network.links)
        }
        failed_links = [link.id for link, up in zip(self.network.links, self.link_up) if not up]
        failed_nodes = [node for node, up in zip(self.compiled.nodes, self.node_up) if not up]
        try:
            path, _ = key_aware_path(
                self.network,
                demand.spec.source,
                demand.spec.target,
                levels,
                failed_links=failed_links,
                failed_nodes=failed_nodes,
            )
        except NoKeyRouteError:
            return
        if tuple(path) != tuple(demand.routes[0][0]) or len(demand.routes) > 1:
            self._set_routes(demand, [(tuple(path), 1.0)])

    def _schedule_retry(self, demand: _Demand, at_s: float) -> None:
        if demand.retry is not None:
            self.kernel.cancel(demand.retry)
        at_ps = max(self.kernel.now_ps + 1, math.ceil(at_s * PS_PER_S))
        demand.retry = self.kernel.schedule_at(at_ps, self._serve, demand)

    # --- sampling and run -----------------------------------------------------------------------
    def run(self, on_progress: ProgressCallback | None = None) -> SimulationResult:
        config = self.config
        duration_ps = round(config.duration_s * PS_PER_S)
        for position, link in enumerate(self.network.links):
            if link.satellite:
                for start_s, end_s in pass_windows_for_link(
                    self.network.scenario, link.index, 0.0, config.duration_s, self.network.pass_model
                ):
                    self.kernel.schedule_at(round(start_s * PS_PER_S), self._pass, position, True, priority=-1)
                    self.kernel.schedule_at(round(end_s * PS_PER_S), self._pass, position, False, priority=-1)
        for event in config.failures:
            self._check_failure(event)
            self.kernel.schedule_at(round(event.time_s * PS_PER_S), self._fail, event, priority=-1)
        for demand in self.demands:
            self.kernel.schedule_at(max(1, round(self._next_interval_s(demand) * PS_PER_S)), self._arrive, demand)
            if not demand.routes:
                demand.outage_from = 0.0
        sample_times_s = np.linspace(0.0, config.duration_s, config.samples)
        levels = np.zeros((config.samples, len(self.compiled.pair_u)))
        delivered = np.zeros((config.samples, len(self.demands)))
        all_pairs = np.arange(len(self.compiled.pair_u))

        def sample(row: int) -> None:
            self.pools.advance(all_pairs, self._now_s())
            levels[row] = self.pools.level_bits
            delivered[row] = [demand.record.delivered_bits for demand in self.demands]

        for row, time_s in enumerate(sample_times_s):
            self.kernel.schedule_at(round(time_s * PS_PER_S), sample, row, priority=1)
        run_within_budget(self.kernel, until_ps=duration_ps, field="duration_s", on_progress=on_progress)
        self.pools.close(config.duration_s)
        qos = []
        for demand in self.demands:
            if demand.outage_from is not None:
                demand.record.outage_s += config.duration_s - demand.outage_from
            qos.append(summarise(demand.record, config.duration_s))
        pools = self.pools
        totals = {
            "initial_bits": pools.initial_bits,
            "generated_bits": pools.generated_bits,
            "delivered_bits": pools.delivered_bits,
            "relay_consumed_bits": pools.relay_bits,
            "in_pools_bits": float(pools.level_bits.sum()),
            "discarded_bits": pools.discarded_bits,
            "imbalance_bits": pools.balance_bits(),
        }
        labels = tuple(
            f"{self.compiled.nodes[u]}-{self.compiled.nodes[v]}"
            for u, v in zip(self.compiled.pair_u, self.compiled.pair_v)
        )
        return SimulationResult(
            config.duration_s, tuple(qos), totals, sample_times_s, labels, levels, delivered, self.kernel.events_fired
        )

    def _check_failure(self, event: FailureEvent) -> None:
        for link_id in event.links:
            self.network.link(link_id)
        for node in event.nodes:
            self.network.check_node(node, "failures.nodes")


def simulate_network(
    scenario: Scenario | KeyNetwork,
    config: SimulationConfig,
    *,
    users_relay: bool = False,
    on_progress: ProgressCallback | None = None,
) -> SimulationResult:
    """Simulate key generation, relay and consumption over ``config.duration_s`` seconds.

    Routes come from the joint allocation of :func:`qit4n.net.allocation.allocate`; each demand's
    requests follow ``config.traffic`` (or its entry in ``config.demand_traffic``). A scenario is
    built with ``config.passes`` as its satellite pass schedule; a ready :class:`KeyNetwork` keeps
    the schedule it was built with, so planning and simulation see the same passes.
    ``on_progress(done_ps, total_ps)`` is called as the simulated time advances.

    >>> from qit4n.scenario import scenario_from_dict
    >>> scenario = scenario_from_dict({"name": "chain",
    ...     "nodes": [{"id": "A"}, {"id": "R", "role": "trusted-relay"}, {"id": "B"}],
    ...     "links": [{"endpoints": ["A", "R"], "key_rate_bps": 5000}, {"endpoints": ["R", "B"], "key_rate_bps": 3000}],
    ...     "demands": [{"name": "ab", "endpoints": ["A", "B"], "key_rate_bps": 1000}]})
    >>> result = simulate_network(scenario, SimulationConfig(duration_s=100))
    >>> round(result.qos[0].throughput_bps), result.qos[0].loss_ratio
    (1000, 0.0)
    >>> abs(result.totals_bits["imbalance_bits"]) < 1e-6
    True
    """
    network = (
        scenario
        if isinstance(scenario, KeyNetwork)
        else build_network(scenario, users_relay=users_relay, pass_model=config.passes)
    )
    return _Simulator(network, config).run(on_progress)
