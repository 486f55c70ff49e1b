"""KME-to-KME API, the Kx interface (mutual TLS with KME certificates; interface ``kme-peers``).

The messages are those of ITU-T Q.4163 (:mod:`qit4n.kms.kx`), sent in batches ``{"messages": [...]}``
and answered ``{"results": [...]}``, one status per message:

- ``POST /kme/v1/relay``: key relay messages (Q.4163 8.1); a slave's KME one link away answers with
  the key relay completion notification (8.2) in the result's ``completion``;
- ``POST /kme/v1/confirm``: key relay confirmations (qit4n extension), answered with the completion
  notification;
- ``POST /kme/v1/void``: key relay voids (qit4n extension);
- ``POST /kme/v1/supply``: key supply notifications (8.3), answered with the responses (8.4) in the
  result's ``response``.

Key relay messages carry Wegman-Carter tags under link key; confirmations and voids carry tags under
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
from qit4n.kms.kx import KeyRelayConfirmation, KeyRelayMessage, KeyRelayVoid, KeySupplyNotification
from qit4n.schema import StrictModel

__all__ = ["router"]

router = APIRouter(prefix="/kme/v1", include_in_schema=False)

TheKME = Annotated[KME, Depends(get_kme)]

_MAX_MESSAGES = 1024


class RelayBatch(StrictModel):
    """Key relay messages sent together by one KME."""

    messages: list[KeyRelayMessage] = Field(min_length=1, max_length=_MAX_MESSAGES)


class ConfirmBatch(StrictModel):
    """Key relay confirmations sent together by one master's KME."""

    messages: list[KeyRelayConfirmation] = Field(min_length=1, max_length=_MAX_MESSAGES)


class VoidBatch(StrictModel):
    """Key relay voids: batches whose relay or confirmation failed."""

    messages: list[KeyRelayVoid] = Field(min_length=1, max_length=_MAX_MESSAGES)


class SupplyBatch(StrictModel):
    """Key supply notifications sent together by one KME (one per link it shares with the receiver)."""

    messages: list[KeySupplyNotification] = Field(min_length=1, max_length=_MAX_MESSAGES)


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
            kme.audit.record("relay_refused", sender=sender, key_relay_ID=message.key_relay_ID, reason=outcome.message)
    return {"results": [_result(outcome) for outcome in outcomes]}


@router.post("/confirm")
async def confirm(batch: ConfirmBatch, sender: Annotated[str, Depends(calling_kme)], kme: TheKME) -> dict[str, Any]:
    """Make pending batches deliverable; each result carries the key relay completion notification."""
    results = []
    with kme.store.group():  # one commit for the batch, before anything is answered
        for message in batch.messages:
            try:
                results.append(_result({"completion": kme.relay.confirm(sender, message)}))
            except EtsiError as error:
                kme.audit.record(
                    "confirm_refused", sender=sender, key_relay_ID=message.key_relay_ID, reason=error.message
                )
                results.append(_result(error))
    return {"results": results}


@router.post("/void")
async def void(batch: VoidBatch, sender: Annotated[str, Depends(calling_kme)], kme: TheKME) -> dict[str, Any]:
    """Delete keys that must not be delivered (only on the tag of the batch's master's KME)."""
    results = []
    for message in batch.messages:
        try:
            results.append(_result({"voided": kme.relay.void(sender, message)}))
        except EtsiError as error:
            kme.audit.record("void_refused", sender=sender, key_relay_ID=message.key_relay_ID, reason=error.message)
            results.append(_result(error))
    return {"results": results}


@router.post("/supply")
async def supply(batch: SupplyBatch, sender: Annotated[str, Depends(calling_kme)], kme: TheKME) -> dict[str, Any]:
    """Key supply notifications; each result carries the response (accepted, or refused with the reason)."""
    results = []
    with kme.store.group():  # one commit for the batch, before anything is answered
        for message in batch.messages:
            try:
                response = kme.supply_notifier.answer(sender, message)
            except EtsiError as error:
                kme.audit.record("supply_refused", sender=sender, link_ID=message.link_ID, reason=error.message)
                results.append(_result(error))
                continue
            if response["result"] == "refused":
                kme.audit.record("supply_refused", sender=sender, link_ID=message.link_ID, reason=response["reason"])
            results.append(_result({"response": response}))
    return {"results": results}


@router.get("/health")
async def health(_caller: Annotated[str, Depends(calling_operator)], kme: TheKME) -> dict[str, Any]:
    """Pool levels and counters (the operator's certificate or a KME's; SAEs get 401)."""
    return kme.health()
