"""The network state the QKDN controller serves at ``GET /qkdn/v1/state`` and the dashboard draws.

The JSON contract between the controller and the dashboard (issue 13): one :class:`NetworkState`
with its nodes, QKD links, relay routes in use and alarms. ``sequence`` increases on every change,
so a reader redraws only when it changes. Times are timezone-aware (UTC) and serialise as ISO 8601.
"""

from __future__ import annotations

from enum import Enum
from uuid import UUID

from pydantic import AwareDatetime, Field

from qit4n.qkdn.interdomain import InterdomainState
from qit4n.scenario import NodeRole
from qit4n.schema import StrictModel

__all__ = ["Alarm", "AlarmSeverity", "LinkState", "LinkStatus", "NetworkState", "NodeState", "NodeStatus", "RouteState"]


class NodeStatus(str, Enum):
    """Whether a node's KME answers."""

    UP = "up"
    DOWN = "down"


class LinkStatus(str, Enum):
    """A QKD link's state: producing key, producing less than modelled, cut, or aborted (QBER too high)."""

    UP = "up"
    DEGRADED = "degraded"
    DOWN = "down"
    ABORTED = "aborted"


class AlarmSeverity(str, Enum):
    """Alarm severities, most severe first (ITU-T X.733 perceived severity, less ``indeterminate``)."""

    CRITICAL = "critical"
    MAJOR = "major"
    MINOR = "minor"
    WARNING = "warning"


class NodeState(StrictModel):
    """A node of the network: its QKD node and KME, where it is, and whether it is up."""

    id: str = Field(min_length=1)
    qkdn_id: UUID
    kme_id: str = Field(min_length=1)
    role: NodeRole
    latitude_deg: float | None = Field(None, ge=-90.0, le=90.0)
    longitude_deg: float | None = Field(None, ge=-180.0, le=180.0)
    state: NodeStatus


class LinkState(StrictModel):
    """A QKD link: its state, secret-key rate, QBER (``None`` when not measured) and key pool level."""

    id: str = Field(min_length=1)
    qkdl_id: UUID
    endpoints: tuple[str, str]
    state: LinkStatus
    key_rate_bps: float = Field(ge=0.0)
    qber: float | None = Field(None, ge=0.0, le=1.0)
    pool_bits: float = Field(ge=0.0)
    pool_capacity_bits: float = Field(ge=0.0)


class RouteState(StrictModel):
    """A relay route in use between two KMEs: the KMEs it passes through, both ends included."""

    source_kme: str = Field(min_length=1)
    target_kme: str = Field(min_length=1)
    path: list[str] = Field(min_length=2)


class Alarm(StrictModel):
    """An alarm raised by the controller about a link or node; ``cleared_at`` is ``None`` while active."""

    id: UUID
    severity: AlarmSeverity
    source: str = Field(min_length=1, description="'link:<id>' or 'node:<id>'")
    text: str
    raised_at: AwareDatetime
    cleared_at: AwareDatetime | None = None


class NetworkState(StrictModel):
    """The whole network as the controller sees it at ``generated_at``."""

    network: str = Field(min_length=1, description="scenario name")
    generated_at: AwareDatetime
    sequence: int = Field(ge=0, description="increases on every change")
    nodes: list[NodeState]
    links: list[LinkState]
    routes: list[RouteState]
    alarms: list[Alarm]
    interdomain: InterdomainState | None = Field(
        None, description="the interconnection with a peer domain (network up --interconnect), if any"
    )
