"""KME-to-KME API (mutual TLS with KME certificates): key relay, confirm, void, health (interface ``kme-peers``).

Relay messages carry Wegman-Carter tags under link key; confirm and void messages carry tags under
the batch's end-to-end key and are accepted only from the KME of the batch's master SAE
(:mod:`qit4n.kms.relayauth`). Every refused message is written to the audit log.
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


_BATCH_ID = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{8}0000$"


class BatchTag(StrictModel):
    """One batch and a tag under its end-to-end key."""

    batch_ID: str = Field(pattern=_BATCH_ID)
    tag: str = Field(max_length=64, description="base64 of the confirm or void tag")


class ConfirmBatch(StrictModel):
    """Confirm messages sent together by one master's KME."""

    messages: list[BatchTag] = Field(min_length=1, max_length=1024)


class VoidRequest(StrictModel):
    """Batches of keys whose relay or confirmation failed."""

    voids: list[BatchTag] = Field(min_length=1, max_length=1024)


def _result(outcome: dict[str, Any] | BaseException) -> dict[str, Any]:
    """One message's answer: 200 with the outcome's fields, or the error's status and message."""
    if isinstance(outcome, dict):
        return {"status": 200, **outcome}
    if isinstance(outcome, EtsiError):
        return {"status": outcome.status_code, "message": outcome.message}
    return {"status": 503, "message": f"{type(outcome).__name__}: {outcome}"}


@router.post("/relay")
async def relay(batch: RelayBatch, sender: Annotated[str, Depends(calling_kme)], kme: TheKME) -> dict[str, Any]:
    """Receive relay messages; each is processed on its own and answered with its own status."""
    outcomes = await kme.relay.relay_batch(sender, batch.messages)
    for message, outcome in zip(batch.messages, outcomes):
        if isinstance(outcome, EtsiError) and outcome.status_code == 401:
            kme.audit.record("relay_refused", sender=sender, batch_ID=message.batch_ID, reason=outcome.message)
    return {"results": [_result(outcome) for outcome in outcomes]}


@router.post("/confirm")
async def confirm(batch: ConfirmBatch, sender: Annotated[str, Depends(calling_kme)], kme: TheKME) -> dict[str, Any]:
    """Make pending batches deliverable; each result carries the receipt tag."""
    results = []
    with kme.store.group():  # one commit for the batch, before anything is answered
        for message in batch.messages:
            try:
                results.append(_result({"receipt": kme.relay.confirm(sender, message.batch_ID, message.tag)}))
            except EtsiError as error:
                kme.audit.record("confirm_refused", sender=sender, batch_ID=message.batch_ID, reason=error.message)
                results.append(_result(error))
    return {"results": results}


@router.post("/void")
async def void(request: VoidRequest, sender: Annotated[str, Depends(calling_kme)], kme: TheKME) -> dict[str, Any]:
    """Delete keys that must not be delivered (only on the tag of the batch's master's KME)."""
    results = []
    for item in request.voids:
        try:
            results.append(_result({"voided": kme.relay.void(sender, item.batch_ID, item.tag)}))
        except EtsiError as error:
            kme.audit.record("void_refused", sender=sender, batch_ID=item.batch_ID, reason=error.message)
            results.append(_result(error))
    return {"results": results}


@router.get("/health")
async def health(_caller: Annotated[str, Depends(calling_operator)], kme: TheKME) -> dict[str, Any]:
    """Pool levels and counters (the operator's certificate or a KME's; SAEs get 401)."""
    return kme.health()
