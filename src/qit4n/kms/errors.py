"""ETSI GS QKD 014 errors: 400, 401 and 503 with ``{"message": ..., "details": [...]}``.

The message texts that clause 6.5 and the key request/key IDs clauses give are used verbatim
(:data:`KEYS_NOT_FOUND`, :data:`SIZE_NOT_MULTIPLE_OF_8`, :data:`EXTENSION_MANDATORY_UNSUPPORTED`);
other messages name the parameter, its value and the KME's limit.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from qit4n.errors import ServiceError

__all__ = [
    "BAD_REQUEST_FORMAT",
    "EXTENSION_MANDATORY_UNSUPPORTED",
    "KEYS_NOT_FOUND",
    "SERVER_ERROR",
    "SIZE_NOT_MULTIPLE_OF_8",
    "UNAUTHORIZED",
    "EtsiError",
    "install_error_handlers",
]

KEYS_NOT_FOUND = "one or more keys specified are not found on KME"
SIZE_NOT_MULTIPLE_OF_8 = "size shall be a multiple of 8"
EXTENSION_MANDATORY_UNSUPPORTED = "not all extension_mandatory parameters are supported"
BAD_REQUEST_FORMAT = "bad request format"
UNAUTHORIZED = "unauthorized"
SERVER_ERROR = "error of server side"

_log = logging.getLogger("qit4n.kms")


class EtsiError(ServiceError):
    """An error answered with an ETSI status code and error body."""

    def __init__(self, status_code: int, message: str, details: list[dict[str, Any]] | None = None) -> None:
        self.status_code = status_code
        self.message = message
        self.details = details
        super().__init__(f"{status_code}: {message}" + (f" {details}" if details else ""))

    def body(self) -> dict[str, Any]:
        """The error data format of clause 6.5."""
        return {"message": self.message, **({"details": self.details} if self.details else {})}


def _respond(error: EtsiError) -> JSONResponse:
    return JSONResponse(error.body(), status_code=error.status_code, headers={"Cache-Control": "no-store"})


def _validation_details(error: RequestValidationError) -> list[dict[str, Any]]:
    details = []
    for item in error.errors():
        location = ".".join(str(part) for part in item.get("loc", ()) if part != "body")
        details.append({"parameter": location or "(body)", "problem": str(item.get("msg", ""))})
    return details


def install_error_handlers(app: FastAPI) -> None:
    """Map every error to an ETSI status code: bad input 400, refused 401, anything else 503."""

    @app.exception_handler(EtsiError)
    async def _etsi(_: Request, error: EtsiError) -> JSONResponse:
        return _respond(error)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, error: RequestValidationError) -> JSONResponse:
        return _respond(EtsiError(400, BAD_REQUEST_FORMAT, _validation_details(error)))

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, error: StarletteHTTPException) -> JSONResponse:
        return JSONResponse(
            {"message": str(error.detail)}, status_code=error.status_code, headers=getattr(error, "headers", None)
        )

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, error: Exception) -> JSONResponse:
        _log.exception("unexpected error in KME")
        return _respond(EtsiError(503, SERVER_ERROR, [{"error": type(error).__name__}]))
