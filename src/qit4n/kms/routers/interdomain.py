"""Inter-domain interfaces of a KME (:mod:`qit4n.kms.gateway`).

``router`` (interface ``kme-interdomain``, on every KME's own port, this domain's PKI): the KMEs
of the domain ask their gateway to admit and forward keys for the peer domain's SAEs; the operator
reads the interconnection's state. ``gateway_router`` is served only by the gateway, on its
inter-domain listener, whose clients must hold a certificate of the *peer* domain's CA naming the
peer gateway: ``GET /kmapi/versions``, ``POST /kmapi/v1/ext_keys`` (paths and SAE field names as in
ETSI GS QKD 020's key transfer between KMSs; the keys travel one-time padded with the inter-domain
link's key), ``POST /kmapi/v1/ext_keys/admit`` (the policy pre-check, a qit4n extension) and
``POST /kmapi/v1/supply`` (the Kx key supply notifications of the inter-domain link).
Not part of ETSI GS QKD 014; kept out of the published ETSI OpenAPI document.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import Field

from qit4n.kms.dependencies import caller_id, calling_kme, calling_operator, get_kme
from qit4n.kms.errors import EtsiError
from qit4n.kms.gateway import ExtKeys, ExtKeysAdmit, Gateway
from qit4n.kms.kme import KME
from qit4n.kms.routers.peers import SupplyBatch
from qit4n.kms.routers.peers import supply as answer_supply
from qit4n.kms.shape import KeyShape
from qit4n.schema import StrictModel

__all__ = ["AdmitRequest", "ForwardRequest", "gateway_router", "router"]

router = APIRouter(prefix="/kme/v1/interdomain", include_in_schema=False)
gateway_router = APIRouter(prefix="/kmapi", include_in_schema=False)

TheKME = Annotated[KME, Depends(get_kme)]
DomainKME = Annotated[str, Depends(calling_kme)]


def _gateway(kme: KME) -> Gateway:
    if kme.interdomain is None or kme.interdomain.gateway is None:
        raise EtsiError(503, f"{kme.config.kme_id} is not an inter-domain gateway")
    return kme.interdomain.gateway


async def calling_peer_gateway(name: Annotated[str, Depends(caller_id)], kme: TheKME) -> str:
    """The peer domain's gateway (its certificate's name; the listener trusts the peer domain's CA only)."""
    try:
        _gateway(kme).check_peer(name)
    except EtsiError as error:
        kme.audit.record("interdomain_caller_refused", caller=name, reason=error.message)
        raise
    return name


PeerGateway = Annotated[str, Depends(calling_peer_gateway)]
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


@gateway_router.get("/versions")
async def versions(_sender: PeerGateway) -> dict[str, list[str]]:
    """Versions of the inter-domain interface this gateway speaks."""
    return {"versions": ["v1"]}


@gateway_router.post("/v1/supply")
async def supply(batch: SupplyBatch, sender: PeerGateway, kme: TheKME) -> dict[str, Any]:
    """Key supply notifications (ITU-T Q.4163) for the inter-domain link, as between the KMEs of a domain."""
    return await answer_supply(batch, sender, kme)


@gateway_router.post("/v1/ext_keys/admit")
async def admit_incoming(request: ExtKeysAdmit, sender: PeerGateway, kme: TheKME) -> dict[str, bool]:
    """The peer gateway asks whether its master SAE may get keys shared with one of ours (qit4n extension)."""
    _gateway(kme).admit_incoming(sender, request.initiator_sae_id, request.target_sae_ids[0], request.shape)
    return {"admitted": True}


@gateway_router.post("/v1/ext_keys")
async def ext_keys(message: ExtKeys, sender: PeerGateway, kme: TheKME) -> dict[str, str]:
    """Keys from the peer gateway: checked, delivered in this domain, answered with the receipt tag."""
    return await _gateway(kme).receive(sender, message)
