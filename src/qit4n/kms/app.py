"""The KME's FastAPI application: ETSI GS QKD 014 routes, KME-to-KME routes, key supply task."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from fastapi import FastAPI

from qit4n.kms.config import KMEConfig
from qit4n.kms.errors import install_error_handlers
from qit4n.kms.kme import KME
from qit4n.kms.routers import keys, peers

__all__ = ["create_app", "etsi_openapi"]

_TITLE = "ETSI GS QKD 014 key delivery API (qit4n KME)"


def create_app(config: KMEConfig) -> FastAPI:
    """The application of one KME; its lifespan opens the store and runs the link supply."""

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        kme = KME(config)
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

    app = FastAPI(title=_TITLE, version="1.1.1", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.include_router(keys.router)
    app.include_router(peers.router)
    install_error_handlers(app)
    app.openapi = lambda: app.openapi_schema or _publish(app)  # type: ignore[method-assign]
    return app


def _publish(app: FastAPI) -> dict:
    from fastapi.openapi.utils import get_openapi

    document = get_openapi(title=app.title, version=app.version, routes=app.routes)
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            operation.get("responses", {}).pop("422", None)
    for name in ("HTTPValidationError", "ValidationError"):
        document.get("components", {}).get("schemas", {}).pop(name, None)
    app.openapi_schema = document
    return document


def etsi_openapi() -> dict:
    """The OpenAPI document of the ETSI GS QKD 014 API this KME publishes (``/openapi.json``)."""
    app = FastAPI(title=_TITLE, version="1.1.1")
    app.include_router(keys.router)
    return _publish(app)
