"""Request dependencies: the caller's identity from its TLS client certificate, and the KME.

Every interface of :data:`~qit4n.kms.interfaces.KME_INTERFACES` uses these: ``get_kme`` gives the
KME (its ``config``, ``store``, ``relay`` engine and ``health()``), the others who is calling.

The server's HTTP protocol (:mod:`qit4n.kms.server`) copies the subject common name of the
verified client certificate into the request state; nothing in the request itself (headers,
body) can change who the caller is.
"""

from __future__ import annotations

from fastapi import Request

from qit4n.kms.config import OPERATOR_ID
from qit4n.kms.errors import UNAUTHORIZED, EtsiError
from qit4n.kms.kme import KME

__all__ = ["caller_id", "calling_kme", "calling_operator", "calling_sae", "get_kme"]


def _peer_name(request: Request) -> str:
    name: str | None = getattr(request.state, "peer_cn", None)
    if not name:
        raise EtsiError(401, UNAUTHORIZED, [{"reason": "no verified client certificate"}])
    return name


# The dependencies are coroutines so that FastAPI runs them inline, not in a thread pool.


async def get_kme(request: Request) -> KME:
    """The KME this server runs."""
    kme: KME = request.app.state.kme
    return kme


async def caller_id(request: Request) -> str:
    """Common name of the caller's verified certificate; 401 if there is none (for added interfaces)."""
    return _peer_name(request)


async def calling_sae(request: Request) -> str:
    """The SAE ID of the caller, which must be attached to this KME."""
    name = _peer_name(request)
    kme: KME = request.app.state.kme
    if name not in kme.config.sae_ids:
        raise EtsiError(401, UNAUTHORIZED, [{"reason": f"{name!r} is not an SAE attached to {kme.config.kme_id}"}])
    kme.quotas.admit_call(name)
    return name


async def calling_kme(request: Request) -> str:
    """The KME ID of a calling peer KME."""
    name = _peer_name(request)
    if name not in request.app.state.kme.config.peers:
        raise EtsiError(401, UNAUTHORIZED, [{"reason": f"{name!r} is not a KME of this network"}])
    return name


async def calling_operator(request: Request) -> str:
    """The operator (certificate ``OPERATOR_ID``) or a KME of this network; 401 for anyone else (SAEs).

    Guards the operator endpoints: health and metrics."""
    name = _peer_name(request)
    if name != OPERATOR_ID and name not in request.app.state.kme.config.peers:
        raise EtsiError(
            401, UNAUTHORIZED, [{"reason": "the health and metrics endpoints are for the operator and KMEs only"}]
        )
    return name
