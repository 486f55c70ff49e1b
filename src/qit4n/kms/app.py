"""The KME's FastAPI application: every interface of :data:`KME_INTERFACES`, and the key supply task."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Sequence
from typing import Any

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from qit4n.kms.config import KMEConfig
from qit4n.kms.errors import EtsiError, install_error_handlers
from qit4n.kms.interfaces import KME_INTERFACES
from qit4n.kms.kek import open_sealer
from qit4n.kms.kme import KME
from qit4n.kms.metrics import RequestMetrics

__all__ = ["BodyLimit", "create_app", "etsi_openapi"]

_TITLE = "ETSI GS QKD 014 key delivery API (qit4n KME)"


def create_app(config: KMEConfig, *, interfaces: Sequence[str] | None = None) -> FastAPI:
    """The application of one KME; its lifespan opens the store and runs the link supply.

    ``interfaces`` names the members of :data:`KME_INTERFACES` to mount (default: all of them).
    The key-encryption key is opened here, before any server starts, so that a wrong token PIN or
    KEK file is a :class:`~qit4n.kms.kek.KekError` of this call.
    """
    sealer = open_sealer(config)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        kme = KME(config, sealer=sealer)
        await kme.start()
        app.state.kme = kme
        supply = asyncio.create_task(kme.run_supply())
        try:
            yield
        finally:
            supply.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await supply
            await kme.close()

    app = _KMEApp(title=_TITLE, version="1.1.1", lifespan=lifespan, docs_url=None, redoc_url=None)
    routers = [KME_INTERFACES.get(name) for name in (KME_INTERFACES.names() if interfaces is None else interfaces)]
    app.add_middleware(BodyLimit, max_bytes=config.max_request_bytes)
    # Outermost, so that the body limit's refusals are measured too (under the route they aimed at).
    app.add_middleware(RequestMetrics, routes=[route for router in routers for route in router.routes])
    for router in routers:
        app.include_router(router)
    install_error_handlers(app)
    return app


class BodyLimit:
    """ASGI middleware: a request body above ``max_bytes`` gets the ETSI 400 body, unread."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(int(declared), send)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.max_bytes:
                raise EtsiError(400, f"request body above max_request_bytes = {self.max_bytes}")
            return message

        await self.app(scope, counted, send)

    async def _refuse(self, size: int, send: Send) -> None:
        error = EtsiError(
            400, f"request body of {size} bytes: must be <= max_request_bytes = {self.max_bytes}", [{"bytes": size}]
        )
        body = json.dumps(error.body()).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 400, "headers": headers})
        await send({"type": "http.response.body", "body": body})


class _KMEApp(FastAPI):
    """A KME's application: its ``/openapi.json`` is the published document of :func:`_publish`."""

    def openapi(self) -> dict[str, Any]:
        return self.openapi_schema or _publish(self)


def _publish(app: FastAPI) -> dict[str, Any]:
    from fastapi.openapi.utils import get_openapi

    document = get_openapi(title=app.title, version=app.version, routes=app.routes)
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            operation.get("responses", {}).pop("422", None)
    for name in ("HTTPValidationError", "ValidationError"):
        document.get("components", {}).get("schemas", {}).pop(name, None)
    app.openapi_schema = document
    return document


def etsi_openapi() -> dict[str, Any]:
    """The OpenAPI document of the ETSI GS QKD 014 API this KME publishes (``/openapi.json``)."""
    app = FastAPI(title=_TITLE, version="1.1.1")
    app.include_router(KME_INTERFACES.get("etsi014"))
    return _publish(app)
