"""The KME's Prometheus metrics for the operator (interface ``kme-metrics``): ``GET /kme/v1/metrics``.

Same access rule as health: the operator's certificate and peer KMEs; SAEs get 401. Not part of
ETSI GS QKD 014; kept out of the published ETSI OpenAPI document.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from qit4n.kms.dependencies import calling_operator, get_kme
from qit4n.kms.kme import KME
from qit4n.kms.metrics import CONTENT_TYPE_LATEST

__all__ = ["router"]

router = APIRouter(prefix="/kme/v1", include_in_schema=False)


@router.get("/metrics")
async def metrics(
    _caller: Annotated[str, Depends(calling_operator)], kme: Annotated[KME, Depends(get_kme)]
) -> Response:
    """This KME's metrics in the Prometheus text format (module docstring of :mod:`qit4n.kms.metrics`)."""
    return Response(kme.metrics.exposition(), media_type=CONTENT_TYPE_LATEST, headers={"Cache-Control": "no-store"})
