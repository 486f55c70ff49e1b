"""KME-to-KME API (mutual TLS with KME certificates): key relay, void, health (interface ``kme-peers``).

Not part of ETSI GS QKD 014; kept out of the published ETSI OpenAPI document.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import Field

from qit4n.kms.dependencies import calling_kme, calling_operator, get_kme
from qit4n.kms.errors import EtsiError
from qit4n.kms.kme import KME
from qit4n.kms.relay import RelayMessage
from qit4n.schema import StrictModel

__all__ = ["router"]

router = APIRouter(prefix="/kme/v1", include_in_schema=False)

TheKME = Annotated[KME, Depends(get_kme)]


class RelayBatch(StrictModel):
    """Relay messages sent together by one KME."""

    messages: list[RelayMessage] = Field(min_length=1, max_length=1024)


class VoidRequest(StrictModel):
    """Batches of keys whose relay failed upstream."""

    batch_IDs: list[str] = Field(min_length=1, max_length=1024)


@router.post("/relay")
async def relay(batch: RelayBatch, sender: Annotated[str, Depends(calling_kme)], kme: TheKME) -> dict[str, Any]:
    """Receive relay messages; each is processed on its own and answered with its own status."""
    outcomes = await kme.relay.relay_batch(sender, batch.messages)
    results: list[dict[str, Any]] = []
    for outcome in outcomes:
        if outcome is None:
            results.append({"status": 200})
        elif isinstance(outcome, EtsiError):
            results.append({"status": outcome.status_code, "message": outcome.message})
        else:
            results.append({"status": 503, "message": f"{type(outcome).__name__}: {outcome}"})
    return {"results": results}


@router.post("/void")
async def void(request: VoidRequest, _sender: Annotated[str, Depends(calling_kme)], kme: TheKME) -> dict[str, int]:
    """Delete keys that must not be delivered."""
    return {"voided": kme.store.void(batch_ids=request.batch_IDs)}


@router.get("/health")
async def health(_caller: Annotated[str, Depends(calling_operator)], kme: TheKME) -> dict[str, Any]:
    """Pool levels and counters (the operator's certificate or a KME's; SAEs get 401)."""
    return kme.health()
