"""Prometheus metrics of one KME, through the official client library (``prometheus_client``).

Each KME has its own :class:`~prometheus_client.CollectorRegistry` (never the library's global
default one), so several KMEs in one process (the demo, :class:`~qit4n.kms.ops.InProcessNetwork`,
the tests) keep separate metrics. The operator reads them at ``/kme/v1/metrics``
(:mod:`qit4n.kms.routers.metrics`) in the Prometheus text format; like health, only the
operator's certificate and peer KMEs may.

What is measured, and where:

- key counts (``qit4n_kms_keys_issued_total``, ``..._delivered_total``, ``..._expired_total``):
  read at scrape time from the store's durable counters, the same numbers health shows;
- pool levels per link (``qit4n_kms_pool_bits``, ``..._pool_owned_bits``,
  ``..._pool_capacity_bits``, ``..._link_spent_bits_total``) and ``qit4n_kms_waiting_keys``:
  read from the store at scrape time;
- relayed keys (``qit4n_kms_keys_relayed_total{role}``): counted by :class:`CountingRelayEngine`
  when a relay completes: ``sent`` on a first hop by the master's KME, ``forwarded`` by a
  trusted node, ``received`` by a slave's KME;
- request latency per route and method (``qit4n_kms_request_duration_seconds``, a histogram)
  and error answers by status code (``qit4n_kms_errors_total``): :class:`RequestMetrics`, an ASGI
  middleware. The route label is the route's template (``/api/v1/keys/{slave_SAE_ID}/enc_keys``),
  never the raw path, so a client cannot create label values; a path no route matches is
  ``unmatched``.

References
----------
Prometheus text exposition format 0.0.4 and metric naming conventions, prometheus.io/docs.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, Counter, Histogram, Info
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from qit4n.kms.kx import KeyRelayMessage
from qit4n.kms.relay import RelayEngine
from qit4n.kms.shape import KeyShape

if TYPE_CHECKING:
    from qit4n.kms.kme import KME

__all__ = ["CONTENT_TYPE_LATEST", "LATENCY_BUCKETS_S", "CountingRelayEngine", "KMEMetrics", "RequestMetrics"]

#: Upper bounds of the latency histogram's buckets, in seconds (the KMS's p99 target is 50 ms).
LATENCY_BUCKETS_S = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

_UNMATCHED = "unmatched"


class KMEMetrics:
    """The metrics of one KME in a registry of its own (module docstring).

    Parameters
    ----------
    kme_id : str
        Exported as ``qit4n_kms_kme_info{kme_id=...}``.
    """

    def __init__(self, kme_id: str) -> None:
        self.registry = CollectorRegistry()
        Info("qit4n_kms_kme", "This KME", registry=self.registry).info({"kme_id": kme_id})
        self.request_seconds = Histogram(
            "qit4n_kms_request_duration_seconds",
            "Time from a request's arrival to the end of its answer, by route template and method",
            ["route", "method"],
            buckets=LATENCY_BUCKETS_S,
            registry=self.registry,
        )
        self.errors = Counter(
            "qit4n_kms_errors",
            "Answers with status >= 400, by route template, method and status code",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.relayed = Counter(
            "qit4n_kms_keys_relayed",
            "Keys relayed to or through this KME and committed (sent: first hop from the master's KME; "
            "forwarded: trusted node; received: slave's KME)",
            ["role"],
            registry=self.registry,
        )
        for role in ("sent", "forwarded", "received"):
            self.relayed.labels(role=role)

    def watch(self, kme: KME) -> None:
        """Export ``kme``'s key counters and pool levels, read at each scrape."""
        self.registry.register(_StoreCollector(kme))

    def observe(self, route: str, method: str, status: int, seconds: float) -> None:
        """Record one answered request."""
        self.request_seconds.labels(route=route, method=method).observe(seconds)
        if status >= 400:
            self.errors.labels(route=route, method=method, status=str(status)).inc()

    def exposition(self) -> bytes:
        """All metrics in the Prometheus text format (:data:`CONTENT_TYPE_LATEST`)."""
        return generate_latest(self.registry)


class _StoreCollector:
    """Key counters and pool levels read from a KME's store at scrape time."""

    def __init__(self, kme: KME) -> None:
        self.kme = kme

    def collect(self) -> Iterator[Metric]:
        kme = self.kme
        store, unit_bits = kme.store, kme.config.key_size_bits
        counters = store.counters()
        for name, help_text in (
            ("issued", "Keys handed to master SAEs"),
            ("delivered", "Keys delivered to slave SAEs (and erased)"),
            ("expired", "Keys erased unfetched after key_lifetime_s"),
        ):
            yield CounterMetricFamily(f"qit4n_kms_keys_{name}", help_text, value=counters[name])
        yield GaugeMetricFamily("qit4n_kms_waiting_keys", "Keys stored for slave SAEs", value=store.waiting_keys())
        labels = ["link", "peer"]
        pool = GaugeMetricFamily("qit4n_kms_pool_bits", "Unspent key in the link's pool", labels=labels)
        owned = GaugeMetricFamily("qit4n_kms_pool_owned_bits", "Unspent key this end may allocate", labels=labels)
        capacity = GaugeMetricFamily("qit4n_kms_pool_capacity_bits", "Capacity of the link's pool", labels=labels)
        spent = CounterMetricFamily("qit4n_kms_link_spent_bits", "Key of the link this end has spent", labels=labels)
        for link in kme.config.links:
            names = [link.link_id, link.peer_kme_id]
            pool.add_metric(names, store.unit_count(link_id=link.link_id) * unit_bits)
            owned.add_metric(names, store.unit_count(link_id=link.link_id, owned_only=True) * unit_bits)
            capacity.add_metric(names, link.pool_capacity_bits)
            spent.add_metric(names, store.spent_units(link_id=link.link_id) * unit_bits)
        yield from (pool, owned, capacity, spent)


class CountingRelayEngine(RelayEngine):
    """The relay engine, counting the keys of every relay that completed (``metrics.relayed``)."""

    metrics: KMEMetrics

    def count_into(self, metrics: KMEMetrics) -> CountingRelayEngine:
        """Count into ``metrics``; returns self."""
        self.metrics = metrics
        return self

    async def distribute(
        self,
        *,
        master: str,
        slaves_by_kme: dict[str, list[str]],
        primary: str,
        shape: KeyShape,
        batch_id: str | None = None,
        keys: bytes | None = None,
    ) -> tuple[str, bytes]:
        answer = await super().distribute(
            master=master, slaves_by_kme=slaves_by_kme, primary=primary, shape=shape, batch_id=batch_id, keys=keys
        )
        remote = sum(kme_id != self.config.kme_id for kme_id in slaves_by_kme)
        if remote:
            self.metrics.relayed.labels(role="sent").inc(shape.number * remote)
        return answer

    async def relay_batch(self, sender: str, messages: list[KeyRelayMessage]) -> list[dict[str, Any] | BaseException]:
        outcomes = await super().relay_batch(sender, messages)
        done = [message for message, outcome in zip(messages, outcomes) if not isinstance(outcome, BaseException)]
        received = sum(message.key_count for message in done if len(message.route) == 1)
        forwarded = sum(message.key_count for message in done) - received
        if received:
            self.metrics.relayed.labels(role="received").inc(received)
        if forwarded:
            self.metrics.relayed.labels(role="forwarded").inc(forwarded)
        return outcomes


class RequestMetrics:
    """ASGI middleware: latency and error status of every HTTP request, into the KME's metrics.

    The metrics are the running KME's (``app.state.kme.metrics``), looked up per request; requests
    before the KME has started are not measured. ``routes`` are the application's routes: a
    request answered before routing (the body limit's 400) is labelled with the one it aimed at.
    """

    def __init__(self, app: ASGIApp, *, routes: Sequence[BaseRoute]) -> None:
        self.app = app
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def recorded(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, recorded)
        finally:
            kme = getattr(scope["app"].state, "kme", None)
            if kme is not None:
                kme.metrics.observe(self._route_of(scope), scope["method"], status, time.perf_counter() - start)

    def _route_of(self, scope: Scope) -> str:
        """The template of the route that served (or would serve) the request; ``unmatched`` if none."""
        route = scope.get("route")
        if route is None:  # answered before routing (body limit), or no route matched
            route = next((item for item in self.routes if item.matches(scope)[0] == Match.FULL), None)
        path: str | None = getattr(route, "path", None)
        return path if path is not None else _UNMATCHED
