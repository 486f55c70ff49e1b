"""Request dependencies: the caller's identity from its TLS client certificate, and the KME.

The server's HTTP protocol (:mod:`qit4n.kms.server`) copies the subject common name of the
verified client certificate into the request state; nothing in the request itself (headers,
body) can change who the caller is.
"""

from __future__ import annotations

from fastapi import Request

from qit4n.kms.errors import UNAUTHORIZED, EtsiError
from qit4n.kms.kme import KME

__all__ = ["get_kme", "caller_id", "calling_sae", "calling_kme"]


def get_kme(request: Request) -> KME:
    """The KME this server runs."""
    return request.app.state.kme


def caller_id(request: Request) -> str:
    """Common name of the caller's verified certificate; 401 if there is none."""
    name = getattr(request.state, "peer_cn", None)
    if not name:
        raise EtsiError(401, UNAUTHORIZED, [{"reason": "no verified client certificate"}])
    return name


def calling_sae(request: Request) -> str:
    """The SAE ID of the caller, which must be attached to this KME."""
    name = caller_id(request)
    kme = get_kme(request)
    if name not in kme.config.sae_ids:
        raise EtsiError(401, UNAUTHORIZED, [{"reason": f"{name!r} is not an SAE attached to {kme.config.kme_id}"}])
    return name


def calling_kme(request: Request) -> str:
    """The KME ID of a calling peer KME."""
    name = caller_id(request)
    if name not in get_kme(request).config.peers:
        raise EtsiError(401, UNAUTHORIZED, [{"reason": f"{name!r} is not a KME of this network"}])
    return name
