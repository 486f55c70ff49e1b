"""ETSI GS QKD 014 V1.1.1 clause 5: Get status, Get key, Get key with key IDs (interface ``etsi014``).

References
----------
ETSI GS QKD 014 V1.1.1 (2019-02), clauses 5.1-5.3.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query
from fastapi.responses import Response

from qit4n.kms.dependencies import calling_sae, get_kme
from qit4n.kms.etsi014 import Etsi014, IssuedKey
from qit4n.kms.kme import KME
from qit4n.kms.schemas import ErrorBody, KeyContainer, KeyIDItem, KeyIDs, KeyRequest, Status

__all__ = ["etsi014_service", "router"]

_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "Bad request format"},
    401: {"model": ErrorBody, "description": "Unauthorized"},
    503: {"model": ErrorBody, "description": "Error of server side"},
}

router = APIRouter(prefix="/api/v1/keys", responses=_ERRORS)


async def etsi014_service(kme: Annotated[KME, Depends(get_kme)]) -> Etsi014:
    """The ETSI GS QKD 014 semantics over the KME's store and relay engine."""
    return Etsi014(kme.config, kme.store, kme.relay, kme.quotas, kme.audit, interdomain=kme.interdomain)


Caller = Annotated[str, Depends(calling_sae)]
Service = Annotated[Etsi014, Depends(etsi014_service)]


def _container(keys: list[IssuedKey], *, quote_ids: bool = False) -> Response:
    """The key container (clause 6.3), written directly: its shape is fixed by :class:`KeyContainer`.

    Keys (base64) and the KME's own key IDs (UUIDs) need no JSON escaping; key IDs echoed from a
    request (``quote_ids``) are escaped.
    """
    quote: Callable[[str], str] = json.dumps if quote_ids else lambda key_id: f'"{key_id}"'
    items = ",".join(
        f'{{"key_ID":{quote(key_id)},"key":"{base64.b64encode(material).decode("ascii")}"}}'
        for key_id, material in keys
    )
    return Response('{"keys":[' + items + "]}", media_type="application/json", headers={"Cache-Control": "no-store"})


@router.get("/{slave_SAE_ID}/status", response_model=Status, response_model_exclude_none=True, summary="Get status")
async def get_status(slave_SAE_ID: str, caller: Caller, etsi: Service) -> Status:
    """Status of the keys the calling master SAE can get for ``slave_SAE_ID``."""
    return await etsi.get_status(caller, slave_SAE_ID)


@router.post(
    "/{slave_SAE_ID}/enc_keys", response_model=KeyContainer, response_model_exclude_none=True, summary="Get key"
)
async def post_enc_keys(
    slave_SAE_ID: str, caller: Caller, etsi: Service, request: Annotated[KeyRequest | None, Body()] = None
) -> Response:
    """New keys for the calling master SAE, shared with ``slave_SAE_ID`` (and additional slaves)."""
    return _container(await etsi.get_key(caller, slave_SAE_ID, request or KeyRequest()))


@router.get(
    "/{slave_SAE_ID}/enc_keys", response_model=KeyContainer, response_model_exclude_none=True, summary="Get key (GET)"
)
async def get_enc_keys(
    slave_SAE_ID: str,
    caller: Caller,
    etsi: Service,
    number: Annotated[int | None, Query(ge=1)] = None,
    size: Annotated[int | None, Query(ge=1)] = None,
) -> Response:
    """Get key with ``number`` and ``size`` as query parameters."""
    return _container(await etsi.get_key(caller, slave_SAE_ID, KeyRequest(number=number, size=size)))


@router.post(
    "/{master_SAE_ID}/dec_keys",
    response_model=KeyContainer,
    response_model_exclude_none=True,
    summary="Get key with key IDs",
)
async def post_dec_keys(
    master_SAE_ID: str, caller: Caller, etsi: Service, request: Annotated[KeyIDs, Body()]
) -> Response:
    """The keys named by ``key_IDs``, issued to ``master_SAE_ID`` for the calling slave SAE."""
    key_ids = [item.key_ID for item in request.key_IDs]
    return _container(await etsi.get_key_with_ids(caller, master_SAE_ID, key_ids), quote_ids=True)


@router.get(
    "/{master_SAE_ID}/dec_keys",
    response_model=KeyContainer,
    response_model_exclude_none=True,
    summary="Get key with key IDs (GET)",
)
async def get_dec_keys(master_SAE_ID: str, caller: Caller, etsi: Service, key_ID: Annotated[str, Query()]) -> Response:
    """One key named by the ``key_ID`` query parameter."""
    key_ids = [KeyIDItem(key_ID=key_ID).key_ID]
    return _container(await etsi.get_key_with_ids(caller, master_SAE_ID, key_ids), quote_ids=True)
