"""The controller process: ``python -m qit4n.qkdn.server STATE_DIR`` (started by ``qit4n network up``).

Serves, read-only over HTTPS with mutual TLS (the KMS's post-quantum TLS stack, the controller's
certificate; clients must present the operator's certificate):

- ``GET /qkdn/v1/state``: :class:`~qit4n.qkdn.state.NetworkState` (the dashboard's contract);
- ``GET /qkdn/v1/etsi015``: the same in ETSI GS QKD 015 terms (:mod:`qit4n.qkdn.etsi015`);
- ``GET /qkdn/v1/history/{link_id}``: the link's performance history (rate, QBER, pool);
- ``GET /qkdn/v1/events``: every event (state changes, alarms, route installs);
- ``GET /qkdn/v1/metrics``: Prometheus metrics (one registry, :func:`metrics_registry`);
- ``GET /dashboard``: the live dashboard page (:func:`qit4n.qkdn.dashboard.dashboard_html`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from qit4n.errors import ServiceError
from qit4n.kms.config import OPERATOR_ID
from qit4n.qkdn.controller import Controller, ControllerSettings
from qit4n.qkdn.dashboard import dashboard_html
from qit4n.qkdn.etsi015 import etsi015_document
from qit4n.qkdn.plan import ControllerPlan, load_controller_plan
from qit4n.qkdn.state import LinkStatus, NetworkState, NodeStatus

if TYPE_CHECKING:
    import uvicorn
    from prometheus_client import CollectorRegistry
    from prometheus_client.core import Metric

__all__ = ["controller_settings", "create_app", "main", "make_server", "metrics_registry"]


class _Refused(Exception):
    """A caller without the operator's certificate."""


async def _operator(request: Request) -> str:
    name = getattr(request.state, "peer_cn", None)
    if name != OPERATOR_ID:
        raise _Refused(name)
    return name


Operator = Annotated[str, Depends(_operator)]


class _StateCollector:
    """Prometheus collector reading the controller's state at each scrape."""

    def __init__(self, controller: Controller) -> None:
        self.controller = controller

    def collect(self) -> Iterator[Metric]:
        """Gauges of links, nodes, alarms and routes."""
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

        state = self.controller.state()
        rate = GaugeMetricFamily("qit4n_qkdn_link_key_rate_bps", "key rate of the link now", labels=["link"])
        pool = GaugeMetricFamily("qit4n_qkdn_link_pool_bits", "key in the link's pool (emptier end)", labels=["link"])
        qber = GaugeMetricFamily("qit4n_qkdn_link_qber", "QBER reported by the link", labels=["link"])
        up = GaugeMetricFamily("qit4n_qkdn_link_up", "1 if the link produces key (up or degraded)", labels=["link"])
        for link in state.links:
            rate.add_metric([link.id], link.key_rate_bps)
            pool.add_metric([link.id], link.pool_bits)
            if link.qber is not None:
                qber.add_metric([link.id], link.qber)
            up.add_metric([link.id], float(link.state in (LinkStatus.UP, LinkStatus.DEGRADED)))
        nodes = GaugeMetricFamily("qit4n_qkdn_node_up", "1 if the node's KME answers", labels=["node"])
        for node in state.nodes:
            nodes.add_metric([node.id], float(node.state == NodeStatus.UP))
        alarms = GaugeMetricFamily("qit4n_qkdn_alarms_active", "alarms not cleared", labels=["severity"])
        for severity in ("critical", "major", "minor", "warning"):
            count = sum(1 for alarm in state.alarms if alarm.cleared_at is None and alarm.severity.value == severity)
            alarms.add_metric([severity], count)
        routes = GaugeMetricFamily("qit4n_qkdn_routes_installed", "relay routes installed in the KMEs")
        routes.add_metric([], len(state.routes))
        versions = CounterMetricFamily("qit4n_qkdn_route_pushes", "route versions pushed to the KMEs")
        versions.add_metric([], self.controller.route_version)
        poll = GaugeMetricFamily("qit4n_qkdn_poll_seconds", "duration of the last poll (read, route, push)")
        poll.add_metric([], self.controller.last_poll_s)
        yield from (rate, pool, qber, up, nodes, alarms, routes, versions, poll)


def metrics_registry(controller: Controller) -> CollectorRegistry:
    """One Prometheus registry holding the controller's collector."""
    from prometheus_client import CollectorRegistry

    registry = CollectorRegistry(auto_describe=False)
    registry.register(_StateCollector(controller))
    return registry


def create_app(plan: ControllerPlan, settings: ControllerSettings | None = None) -> FastAPI:
    """The controller's application; its lifespan runs the control loop."""
    from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

    controller = Controller(plan, settings)
    registry = metrics_registry(controller)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await controller.start()
        await controller.poll()
        loop = asyncio.create_task(controller.run())
        app.state.controller = controller
        try:
            yield
        finally:
            loop.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await loop
            await controller.close()

    app = FastAPI(title="qit4n QKDN controller", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)

    @app.exception_handler(_Refused)
    async def refused(_request: Request, error: _Refused) -> JSONResponse:
        return JSONResponse({"message": f"{error.args[0]!r}: the controller answers the operator only"}, 401)

    rendered: list[tuple[NetworkState, bytes]] = []  # the last snapshot served and its JSON

    @app.get("/qkdn/v1/state")
    async def state(_caller: Operator) -> Response:
        snapshot = controller.state()
        if not rendered or rendered[0][0] is not snapshot:  # one rendering per poll, however many readers
            rendered[:] = [(snapshot, snapshot.model_dump_json().encode())]
        return Response(rendered[0][1], media_type="application/json")

    @app.get("/qkdn/v1/etsi015")
    async def etsi015(_caller: Operator) -> dict[str, Any]:
        return etsi015_document(controller.state())

    @app.get("/qkdn/v1/history/{link_id}")
    async def history(link_id: str, _caller: Operator) -> JSONResponse:
        if link_id not in controller.memory.history:
            return JSONResponse({"message": f"link {link_id!r}: no such link"}, 404)
        return JSONResponse({"link": link_id, "samples": [asdict(sample) for sample in controller.history(link_id)]})

    @app.get("/qkdn/v1/events")
    async def events(_caller: Operator) -> dict[str, Any]:
        return {"events": controller.events}

    @app.get("/dashboard")
    async def dashboard(_caller: Operator) -> HTMLResponse:
        return HTMLResponse(dashboard_html(), headers={"Cache-Control": "no-store"})

    @app.get("/qkdn/v1/metrics")
    async def metrics(_caller: Operator) -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return app


def make_server(plan: ControllerPlan, settings: ControllerSettings | None = None) -> uvicorn.Server:
    """A ``uvicorn.Server`` for the controller (mutual TLS, see the module docstring); no connection
    outlives it (:func:`qit4n.kms.server.abort_leftovers`)."""
    import uvicorn

    from qit4n.kms.server import abort_leftovers, peer_cert_protocol

    protocol = peer_cert_protocol(plan.server_tls())

    class ControllerServer(uvicorn.Server):
        async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
            await super().shutdown(sockets=sockets)
            await abort_leftovers(self, protocol)

    config = uvicorn.Config(
        create_app(plan, settings),
        host=plan.host,
        port=plan.port,
        http=protocol,
        log_level="warning",
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=1,
    )
    return ControllerServer(config)


def controller_settings(plan: ControllerPlan) -> ControllerSettings:
    """The settings in ``qkdn/controller.json``'s optional ``settings`` (e.g. a longer
    ``request_timeout_s`` for hundreds of KMEs sharing a few cores); the defaults otherwise."""
    saved = json.loads((plan.state_dir / "qkdn" / "controller.json").read_text())
    try:
        return ControllerSettings(**saved.get("settings", {}))
    except TypeError as error:
        raise ServiceError(f"qkdn/controller.json: settings: {error}") from None


def main(argv: list[str] | None = None) -> None:
    """Entry point of the controller process: ``python -m qit4n.qkdn.server STATE_DIR``."""
    args = sys.argv[1:] if argv is None else argv
    os.umask(0o077)
    try:
        plan = load_controller_plan(Path(args[0]))
        server = make_server(plan, controller_settings(plan))
    except ServiceError as error:
        print(f"qit4n qkdn: {error}", file=sys.stderr)
        raise SystemExit(2) from None
    with contextlib.suppress(KeyboardInterrupt):
        server.run()


if __name__ == "__main__":
    main()
