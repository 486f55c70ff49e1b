"""ETSI GS QKD 004 application interface, a REST binding (interface ``etsi004``), and its KME-to-KME calls.

The GS defines OPEN_CONNECT, GET_KEY and CLOSE abstractly. This binding maps each call onto one
``POST`` with a JSON body under ``/api/v1/ksid`` (next to ETSI 014's ``/api/v1/keys``), on the same
mutual-TLS server, with the caller's SAE ID taken from its client certificate as in ETSI 014:

- ``POST /api/v1/ksid/open_connect`` ``{"source", "destination", "qos", "KSID"}``
  -> ``{"status", "message", "KSID", "qos"}``;
- ``POST /api/v1/ksid/get_key`` ``{"KSID", "index", "metadata_size"}``
  -> ``{"status", "message", "key_buffer", "index", "metadata", "metadata_size"}``;
- ``POST /api/v1/ksid/close`` ``{"KSID"}`` -> ``{"status", "message"}``.

Every outcome the GS names is a status value (0-8) of an HTTP 200 answer, because they are
results of the call (status 1 is a success); HTTP errors are kept for what the binding itself
refuses, with ETSI 014's error body: 400 for a malformed request, 401 for a caller that is not
the SAE it names. POST everywhere, because every call changes state and keys must not sit in
URLs or caches.

The KME-to-KME calls of key streams (``kme-streams``, under ``/kme/v1/streams``) let the
destination's KME join, fetch key_IDs from, and close a stream at the source's KME.

References
----------
ETSI GS QKD 004 V2.1.1 (2020-08), clause 6.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import Field

from qit4n.kms.dependencies import calling_kme, calling_sae, get_kme
from qit4n.kms.errors import EtsiError
from qit4n.kms.etsi004 import Etsi004, GetKeyRequest, GetKeyResult, KSIDRequest, OpenConnectRequest, OpenResult
from qit4n.kms.kme import KME
from qit4n.kms.schemas import ErrorBody
from qit4n.schema import StrictModel

__all__ = ["etsi004_openapi", "peer_router", "router"]

_TITLE = "ETSI GS QKD 004 application interface, REST binding (qit4n KME)"

_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "Bad request format"},
    401: {"model": ErrorBody, "description": "Unauthorized"},
}

# ``router`` (what a KME mounts) stays out of the KME's /openapi.json, which is the ETSI 014 document;
# ``_documented`` holds the same operations for this binding's own document (/api/v1/ksid/openapi.json).
router = APIRouter(prefix="/api/v1/ksid", responses=_ERRORS, include_in_schema=False)
_documented = APIRouter(prefix="/api/v1/ksid", responses=_ERRORS)
peer_router = APIRouter(prefix="/kme/v1/streams", include_in_schema=False)


async def etsi004_service(kme: Annotated[KME, Depends(get_kme)]) -> Etsi004:
    """The KME's ETSI GS QKD 004 service."""
    return kme.etsi004


Caller = Annotated[str, Depends(calling_sae)]
Service = Annotated[Etsi004, Depends(etsi004_service)]


async def open_connect(request: OpenConnectRequest, caller: Caller, etsi: Service) -> OpenResult:
    """Open a key stream (source, KSID null or proposed) or join one (destination, with the KSID)."""
    return await etsi.open_connect(caller, request)


async def get_key(request: GetKeyRequest, caller: Caller, etsi: Service) -> GetKeyResult:
    """The key chunk of (KSID, index): the same bytes at both ends, each delivered once."""
    return await etsi.get_key(caller, request)


async def close(request: KSIDRequest, caller: Caller, etsi: Service) -> GetKeyResult:
    """Close the key stream at both ends."""
    return await etsi.close_stream(caller, request.KSID)


def etsi004_openapi() -> dict[str, Any]:
    """The OpenAPI document of this binding (served at ``/api/v1/ksid/openapi.json``)."""
    from fastapi.openapi.utils import get_openapi

    document = get_openapi(title=_TITLE, version="2.1.1", routes=_documented.routes)
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            operation.get("responses", {}).pop("422", None)
    for name in ("HTTPValidationError", "ValidationError"):
        document.get("components", {}).get("schemas", {}).pop(name, None)
    return document


@router.get("/openapi.json")
async def openapi_document() -> dict[str, Any]:
    """The OpenAPI document of the ETSI GS QKD 004 binding (no client certificate identity needed)."""
    return etsi004_openapi()


for _path, _endpoint, _model, _summary in (
    ("/open_connect", open_connect, OpenResult, "OPEN_CONNECT"),
    ("/get_key", get_key, GetKeyResult, "GET_KEY"),
    ("/close", close, GetKeyResult, "CLOSE"),
):
    for _router in (router, _documented):
        _router.add_api_route(
            _path,
            _endpoint,
            methods=["POST"],
            response_model=_model,
            response_model_exclude_none=True,
            summary=_summary,
        )


class _PeerCall(StrictModel):
    KSID: str
    source: str | None = None
    destination: str | None = None
    index: int | None = None
    batch_IDs: list[str] | None = Field(None, max_length=1 << 16)


@peer_router.post("/{call}")
async def peer_call(
    call: str, body: _PeerCall, sender: Annotated[str, Depends(calling_kme)], etsi: Service
) -> dict[str, Any]:
    """connect, key or close, from the KME of the stream's other end."""
    if call not in ("connect", "key", "close"):
        raise EtsiError(400, f"stream call {call!r}: must be connect, key or close")
    fields = body.model_dump()
    if call == "connect" and (body.source is None or body.destination is None):
        raise EtsiError(400, "connect needs source and destination")
    if call == "key" and body.index is None:
        raise EtsiError(400, "key needs index")
    return await etsi.peer_request(sender, call, body.KSID, fields)
