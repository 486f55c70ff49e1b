"""The one scenario schema: nodes, links, demands (and requests for quantum networks).

Planning, key-pool simulation, the key management service and the quantum-network simulator all
read this schema. Unknown fields are rejected everywhere; cross-references (link endpoints,
demand endpoints) are checked after the fields themselves.
"""

from __future__ import annotations

from enum import Enum
from typing import Any, Literal

from pydantic import ConfigDict, Field, model_validator

from qit4n.schema import StrictModel

__all__ = [
    "ChannelKind",
    "ClassicalChannel",
    "Demand",
    "Link",
    "Node",
    "NodeRole",
    "QuantumReceiver",
    "Request",
    "Scenario",
]


class _FiniteModel(StrictModel):
    """A scenario model: every number must be finite (``.inf`` or ``.nan`` in a file is refused)."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True, allow_inf_nan=False)


class NodeRole(str, Enum):
    """What a node does in the network."""

    USER = "user"
    TRUSTED_RELAY = "trusted-relay"
    REPEATER = "repeater"
    QUANTUM_COMPUTER = "quantum-computer"
    GROUND_STATION = "ground-station"
    SATELLITE = "satellite"


class ChannelKind(str, Enum):
    """The medium a quantum link uses."""

    FIBRE = "fibre"
    FREE_SPACE = "free-space"
    SATELLITE = "satellite"


class Node(_FiniteModel):
    """A site of the network."""

    id: str = Field(
        min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$", description="unique name that links and demands use"
    )
    role: NodeRole = Field(NodeRole.USER, description="what the node does; trusted relays and repeaters forward key")
    name: str = Field("", description="human-readable name, shown in reports")
    latitude_deg: float | None = Field(
        None, ge=-90.0, le=90.0, description="position for drawings and satellite passes"
    )
    longitude_deg: float | None = Field(None, ge=-180.0, le=180.0, description="position for drawings and passes")
    altitude_m: float = Field(0.0, ge=-500.0, le=10_000.0, description="height above sea level (ground stations)")
    memories: int = Field(0, ge=0, le=1_000_000, description="quantum memories (repeaters, quantum computers)")


class ClassicalChannel(_FiniteModel):
    """A classical DWDM channel sharing the fibre of a quantum link (source of Raman noise)."""

    wavelength_nm: float = Field(1550.12, ge=1260.0, le=1675.0, description="the classical channel's wavelength")
    launch_power_dbm: float = Field(0.0, ge=-40.0, le=27.0, description="its launch power into the fibre")
    direction: Literal["forward", "backward"] = Field(
        "forward", description="same or opposite direction as the quantum signal"
    )


class QuantumReceiver(_FiniteModel):
    """The quantum receiver's spectral and temporal filtering, which sets how much Raman noise it sees."""

    quantum_wavelength_nm: float = Field(1550.12, ge=1260.0, le=1675.0, description="the quantum signal's wavelength")
    filter_bandwidth_nm: float = Field(0.8, gt=0.0, le=50.0, description="optical filter in front of the detectors")
    gate_width_s: float = Field(1e-9, gt=0.0, le=1e-6, description="detector gate (time window per pulse)")


class Link(_FiniteModel):
    """A quantum link between two nodes (QKD or entanglement distribution)."""

    id: str = Field("", max_length=64, description="name in reports and --fail options (default A-B#index)")
    endpoints: tuple[str, str] = Field(description="the ids of the two nodes it joins")
    channel: ChannelKind = Field(ChannelKind.FIBRE, description="the medium")
    length_km: float | None = Field(None, ge=0.0, le=100_000.0, description="fibre length (sets the loss)")
    loss_db: float | None = Field(
        None, ge=0.0, le=200.0, description="channel loss; replaces the fibre loss of length_km"
    )
    protocol: str = Field("bb84-decoy", description="QKD protocol, named as for `qit4n rate PROTOCOL`")
    preset: str | None = Field(None, description="published device set, a name of `qit4n presets`")
    device: dict[str, Any] = Field(default_factory=dict, description="protocol parameters overriding the preset")
    optics: dict[str, Any] = Field(default_factory=dict, description="free-space or satellite optics and orbit")
    classical_channels: list[ClassicalChannel] = Field(
        default_factory=list, description="classical DWDM channels in the same fibre (Raman noise)"
    )
    receiver: QuantumReceiver = Field(default_factory=QuantumReceiver, description="the receiver's filtering")
    key_rate_bps: float | None = Field(
        None, ge=0.0, le=1e15, description="given secret key rate of one system, bit/s; skips the physics model"
    )
    pool_capacity_bits: float = Field(1e9, gt=0.0, le=1e18, description="key a pool of this link holds at most")
    systems: int = Field(1, ge=1, le=1000, description="identical QKD systems running in parallel on this link")
    cost: float | None = Field(
        None,
        ge=0.0,
        description="cost of building this link when it is a design candidate (any currency); "
        "default: per-link plus per-km cost",
    )

    @model_validator(mode="after")
    def _needs_a_length_or_loss(self) -> Link:
        if self.endpoints[0] == self.endpoints[1]:
            raise ValueError(f"endpoints = {list(self.endpoints)}: must name two different nodes")
        if (
            self.key_rate_bps is None
            and self.channel is ChannelKind.FIBRE
            and self.length_km is None
            and self.loss_db is None
        ):
            raise ValueError("a fibre link needs length_km or loss_db (or a given key_rate_bps)")
        if self.key_rate_bps is None and not self.loss_db and self.length_km == 0:
            raise ValueError(
                "length_km = 0 with no loss_db: a lossless channel has an unbounded key rate under the repeaterless "
                "bounds; give length_km > 0, loss_db > 0 or key_rate_bps"
            )
        return self


class Demand(_FiniteModel):
    """A pair of users asking for end-to-end secret key."""

    endpoints: tuple[str, str] = Field(description="the ids of the two users")
    key_rate_bps: float = Field(gt=0.0, le=1e12, description="end-to-end secret key rate asked for")
    priority: int = Field(1, ge=1, le=100, description="higher is served first")
    name: str = Field("", description="name in reports (default: the endpoints)")

    @model_validator(mode="after")
    def _distinct(self) -> Demand:
        if self.endpoints[0] == self.endpoints[1]:
            raise ValueError(f"endpoints = {list(self.endpoints)}: must name two different nodes")
        return self


class Request(_FiniteModel):
    """A request for entangled pairs between two nodes of a quantum information network."""

    endpoints: tuple[str, str] = Field(description="the ids of the two nodes that want pairs")
    target_fidelity: float = Field(0.8, gt=0.25, le=1.0, description="least fidelity of a delivered pair")
    pairs_per_s: float = Field(1.0, gt=0.0, description="entangled pairs asked for per second")
    name: str = Field("", description="name in reports")


class Scenario(_FiniteModel):
    """A network and what its users want from it."""

    name: str = Field(min_length=1, description="the scenario's name, shown in reports")
    description: str = Field("", description="free text; may span lines")
    sources: list[str] = Field(default_factory=list, description="citations for the data")
    nodes: list[Node] = Field(min_length=1, description="the sites")
    links: list[Link] = Field(default_factory=list, description="the quantum links between sites")
    demands: list[Demand] = Field(default_factory=list, description="secret key the users ask for")
    requests: list[Request] = Field(default_factory=list, description="entangled pairs asked for (quantum networks)")
    quantum_hardware: dict[str, Any] = Field(
        default_factory=dict,
        description="entanglement-distribution hardware of the network's memory nodes and links for the requests: "
        "fields of qit4n.qin.ChainParameters (scheme, efficiencies, dark counts, memory T1/T2, swap quality, policy) "
        "except segments and length_km, which each request's path sets; defaults where omitted",
    )

    def node(self, node_id: str) -> Node:
        """The node called ``node_id``."""
        for node in self.nodes:
            if node.id == node_id:
                return node
        raise KeyError(node_id)

    def link_id(self, index: int) -> str:
        """The id of ``links[index]``, or ``A-B#index`` when it has none."""
        link = self.links[index]
        return link.id or f"{link.endpoints[0]}-{link.endpoints[1]}#{index}"
