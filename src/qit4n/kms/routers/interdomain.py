"""Inter-domain interfaces of a KME (:mod:`qit4n.kms.gateway`).

``router`` (interface ``kme-interdomain``, on every KME's own port, this domain's PKI): the KMEs
of the domain ask their gateway to admit and forward keys for the peer domain's SAEs; the operator
reads the interconnection's state. ``gateway_router`` is served only by the gateway, on its
inter-domain listener, whose clients must hold a certificate of the *peer* domain's CA naming the
peer gateway. Not part of ETSI GS QKD 014; kept out of the published ETSI OpenAPI document.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import Field

from qit4n.kms.dependencies import caller_id, calling_kme, calling_operator, get_kme
from qit4n.kms.errors import EtsiError
from qit4n.kms.gateway import Gateway
from qit4n.kms.kme import KME
from qit4n.kms.shape import KeyShape
from qit4n.schema import StrictModel

__all__ = ["AdmitRequest", "ForwardRequest", "gateway_router", "router"]

router = APIRouter(prefix="/kme/v1/interdomain", include_in_schema=False)
gateway_router = APIRouter(prefix="/idx/v1", include_in_schema=False)

TheKME = Annotated[KME, Depends(get_kme)]
DomainKME = Annotated[str, Depends(calling_kme)]
Caller = Annotated[str, Depends(caller_id)]
_SAE = Field(min_length=1, max_length=256)
_BATCH_ID = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{8}0000$"


class AdmitRequest(StrictModel):
    """May ``master_SAE_ID`` get ``number`` keys of ``size`` bits shared with ``slave_SAE_ID``?"""

    master_SAE_ID: str = _SAE
    slave_SAE_ID: str = _SAE
    number: int = Field(ge=1, le=65535)
    size: int = Field(ge=8, le=1 << 20, multiple_of=8)

    @property
    def shape(self) -> KeyShape:
        """``number`` keys of ``size`` bits."""
        return KeyShape(number=self.number, size_bits=self.size)


class ForwardRequest(AdmitRequest):
    """Forward the batch relayed to the gateway for ``slave_SAE_ID`` to the peer domain."""

    batch_ID: str = Field(pattern=_BATCH_ID)


class TransferMessage(ForwardRequest):
    """Keys from the peer gateway, one-time padded with inter-domain link key and tagged."""

    agreement: str = Field(min_length=1, max_length=256)
    link_id: str = Field(min_length=1, max_length=256)
    unit_start: int = Field(ge=0, le=1 << 62)
    ciphertext: str = Field(max_length=1 << 22)
    tag: str = Field(max_length=64)


def _gateway(kme: KME) -> Gateway:
    if kme.interdomain is None or kme.interdomain.gateway is None:
        raise EtsiError(503, f"{kme.config.kme_id} is not an inter-domain gateway")
    return kme.interdomain.gateway


@router.post("/admit")
async def admit(request: AdmitRequest, _sender: DomainKME, kme: TheKME) -> dict[str, bool]:
    """A KME of this domain asks whether its master SAE may get these keys (policy, link, peer)."""
    await _gateway(kme).admit_outgoing(request.master_SAE_ID, request.slave_SAE_ID, request.shape)
    return {"admitted": True}


@router.post("/forward")
async def forward(request: ForwardRequest, _sender: DomainKME, kme: TheKME) -> dict[str, bool]:
    """A KME of this domain has relayed a batch here for a peer-domain SAE: forward it."""
    await _gateway(kme).forward(request.master_SAE_ID, request.slave_SAE_ID, request.shape, request.batch_ID)
    return {"forwarded": True}


@router.get("/status")
async def status(_caller: Annotated[str, Depends(calling_operator)], kme: TheKME) -> dict[str, Any]:
    """The interconnection as this KME sees it (the gateway adds its link, counters and budgets)."""
    if kme.interdomain is None:
        raise EtsiError(503, f"{kme.config.kme_id}: this domain is not joined to another")
    return kme.interdomain.report()


@gateway_router.post("/admit")
async def admit_incoming(request: AdmitRequest, sender: Caller, kme: TheKME) -> dict[str, bool]:
    """The peer gateway asks whether its master SAE may get keys shared with one of ours."""
    _gateway(kme).admit_incoming(sender, request.master_SAE_ID, request.slave_SAE_ID, request.shape)
    return {"admitted": True}


@gateway_router.post("/transfer")
async def transfer(message: TransferMessage, sender: Caller, kme: TheKME) -> dict[str, str]:
    """Keys from the peer gateway: checked, delivered in this domain, answered with the receipt tag."""
    return await _gateway(kme).receive(sender, message.model_dump())
