"""The KME's control interface for the operator and a QKDN controller (interface ``kme-control``).

``GET /kme/v1/control`` reports each QKD link as this KME sees it (pool level, the key rate it is
filled at now, QBER, whether the link is cut) and the relay routes in force; ``PUT
/kme/v1/control/routes`` installs new relay routes (:func:`qit4n.kms.routes.install_routes`);
``PUT /kme/v1/control/links/{link_id}`` changes a link's physical condition: ``cut`` stops its key
supply, ``rate_factor`` scales the supply's rate, ``qber`` is the error rate the link measures now
(issue 13's run-time faults). ``GET /kme/v1/control/watch?since=V`` is the controller's notification
channel: it answers the report as soon as the link conditions' version differs from ``V`` (at once
for a KME that restarted), or after ``wait_s`` without a change, so that a controller learns of a cut
without waiting for its next poll of every KME. Only the operator's certificate is accepted (KMEs
and SAEs get 401). Not part of ETSI GS QKD 014; kept out of the published ETSI OpenAPI document.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import Field

from qit4n.kms.config import OPERATOR_ID
from qit4n.kms.dependencies import caller_id, get_kme
from qit4n.kms.errors import UNAUTHORIZED, EtsiError
from qit4n.kms.kme import KME
from qit4n.kms.routes import install_routes
from qit4n.kms.storage import KeyStorage
from qit4n.kms.supply import PoolFiller
from qit4n.schema import StrictModel

__all__ = ["ConditionWatch", "LinkCondition", "RoutesUpdate", "router", "wake_watchers"]

router = APIRouter(prefix="/kme/v1/control", include_in_schema=False)

TheKME = Annotated[KME, Depends(get_kme)]


async def calling_controller(caller: Annotated[str, Depends(caller_id)]) -> str:
    """The operator (or the controller, which holds the operator's certificate); 401 for anyone else."""
    if caller != OPERATOR_ID:
        raise EtsiError(401, UNAUTHORIZED, [{"reason": "the control interface is for the operator only"}])
    return caller


Operator = Annotated[str, Depends(calling_controller)]


class LinkCondition(StrictModel):
    """A QKD link's physical condition at this KME's end."""

    cut: bool = Field(False, description="no key is produced (fibre cut)")
    rate_factor: float = Field(1.0, ge=0.0, le=1.0, description="share of the planned key rate produced now")
    qber: float | None = Field(None, ge=0.0, le=0.5, description="QBER measured now; None: not reported")


class RoutesUpdate(StrictModel):
    """Relay routes to install: target KME ID -> next KMEs, ending at the target."""

    routes: dict[str, list[str]]
    version: int = Field(0, ge=0, description="the controller's route version (echoed in GET)")


class ConditionWatch:
    """The version of this KME's link conditions, and the watch requests waiting for it to change.

    ``instance`` is new at each start, so that a controller does not take an older report of this
    run for a newer one of the last (the version starts again from 0).
    """

    def __init__(self) -> None:
        self.instance = uuid.uuid4().hex
        self.version = 0
        self.closing = False
        self._changed = asyncio.Event()

    def changed(self) -> None:
        """A link's condition changed: answer every watch waiting."""
        self.version += 1
        self._changed.set()
        self._changed = asyncio.Event()

    def close(self) -> None:
        """The server stops: answer every watch now, and the later ones at once."""
        self.closing = True
        self._changed.set()

    async def wait(self, since: int, wait_s: float) -> None:
        """Return once the version differs from ``since``, at close, or after ``wait_s``."""
        if self.version != since or self.closing:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._changed.wait(), wait_s)


def wake_watchers(app_state: Any) -> None:
    """At server shutdown: answer the watch requests waiting, so that they do not hold the shutdown."""
    watch = getattr(app_state, "condition_watch", None)
    if watch is not None:
        watch.close()


class _GatedFiller:
    """A link's pool filler run at ``condition``: nothing while cut, else the elapsed time scaled by
    ``rate_factor`` (for the modelled supply, the rate; the emulated supply releases what its
    producer committed whatever the factor)."""

    def __init__(self, inner: PoolFiller, conditions: dict[str, LinkCondition], link_id: str) -> None:
        self.inner = inner
        self.conditions = conditions
        self.link_id = link_id

    def tick(self, store: KeyStorage, elapsed_s: float) -> int:
        """Tick the wrapped filler unless the link is cut."""
        condition = self.conditions[self.link_id]
        if condition.cut or condition.rate_factor == 0.0:
            return 0
        return self.inner.tick(store, elapsed_s * condition.rate_factor)


def _conditions(request: Request, kme: KME) -> dict[str, LinkCondition]:
    """Link ID -> condition, created on first use by wrapping each link's filler."""
    conditions: dict[str, LinkCondition] | None = getattr(request.app.state, "link_conditions", None)
    if conditions is None:
        conditions = {}
        for index, (link, filler) in enumerate(zip(kme.config.links, kme.fillers)):
            conditions[link.link_id] = LinkCondition()
            kme.fillers[index] = _GatedFiller(filler, conditions, link.link_id)
        request.app.state.link_conditions = conditions
        kme.link_conditions = conditions
        request.app.state.route_version = 0
        request.app.state.condition_watch = ConditionWatch()
    return conditions


def _report(request: Request, kme: KME) -> dict[str, Any]:
    """Links (pool, rate now, QBER, cut) of this KME, with the conditions' version and instance."""
    conditions = _conditions(request, kme)
    watch: ConditionWatch = request.app.state.condition_watch
    health = kme.health()["links"]
    links = {}
    for link in kme.config.links:
        condition = conditions[link.link_id]
        rate = 0.0 if condition.cut else link.key_rate_bps * condition.rate_factor
        links[link.link_id] = {
            **health[link.link_id],
            "planned_rate_bps": link.key_rate_bps,
            "key_rate_bps": rate,
            **condition.model_dump(),
        }
    report = {
        "kme_id": kme.config.kme_id,
        "links": links,
        "route_version": request.app.state.route_version,
        "condition_version": watch.version,
        "instance": watch.instance,
    }
    if kme.interdomain is not None:
        report["interdomain"] = kme.interdomain.report()
    return report


@router.get("")
async def control_state(request: Request, _caller: Operator, kme: TheKME, routes: bool = True) -> dict[str, Any]:
    """Links (pool, rate now, QBER, cut) and relay routes of this KME (``?routes=false``: without the routes)."""
    report = _report(request, kme)
    return {**report, "routes": kme.config.routes} if routes else report


@router.get("/watch")
async def watch_conditions(
    request: Request,
    _caller: Operator,
    kme: TheKME,
    since: Annotated[int, Query(ge=-1, description="the condition version the caller holds (-1: none)")] = -1,
    wait_s: Annotated[float, Query(gt=0.0, le=60.0, description="the longest wait for a change (s)")] = 10.0,
) -> dict[str, Any]:
    """The report without routes, once the link conditions' version differs from ``since`` (or after ``wait_s``)."""
    _conditions(request, kme)
    await request.app.state.condition_watch.wait(since, wait_s)
    return _report(request, kme)


@router.put("/routes")
async def put_routes(request: Request, update: RoutesUpdate, _caller: Operator, kme: TheKME) -> dict[str, int]:
    """Install relay routes; 400 naming the route when one does not fit this KME's links."""
    _conditions(request, kme)
    try:
        install_routes(kme.config, update.routes)
    except ValueError as error:
        raise EtsiError(400, str(error)) from None
    request.app.state.route_version = update.version
    kme.audit.record("routes", version=update.version, targets=len(update.routes))
    return {"installed": len(update.routes), "version": update.version}


@router.put("/links/{link_id}")
async def put_link(
    request: Request, link_id: str, condition: LinkCondition, _caller: Operator, kme: TheKME
) -> dict[str, Any]:
    """Set a link's condition at this end; 404 for a link this KME does not have."""
    conditions = _conditions(request, kme)
    if link_id not in conditions:
        raise EtsiError(404, f"link {link_id!r}: not a QKD link of {kme.config.kme_id}")
    conditions[link_id] = condition
    request.app.state.condition_watch.changed()
    return {"link_id": link_id, **condition.model_dump()}
