"""A homogeneous physical repeater chain: hardware parameters, link model and the Monte Carlo front door.

``N`` equal segments of ``length_km / N`` with a midpoint heralding station each. An attempt lasts
the time light needs to reach the midpoint and the herald to come back (``L0 / c`` in fibre) plus a
preparation time; with a midpoint source (``scheme="midpoint-source"``) the photons travel from the
midpoint to the nodes, which herald locally and then tell each other (``1.5 L0 / c``; the factor is
the scheme's ``light_time_factor``, see :data:`~qit4n.qin.heralded.HERALDING_SCHEMES`); the
heralded pair carries the imperfections of generation (two-photon visibility, dark counts,
multi-photon terms, phase noise, arm efficiency mismatch) or, with ``raw_fidelity``, a Werner state
of that fidelity as in tools that use one number;
``memories_per_node`` multiplexed memories try in parallel, so a segment
succeeds in a step with ``1 - (1 - p)^m``. Swaps are Bell measurements on memories (success
``swap_success_probability`` times the read-out efficiency of both memories; gate and measurement
noise as in :func:`qit4n.qin.bell.swap`). Memory noise acts for the exact time each qubit is
stored; since all noise is Pauli, the delivered correlations are products (see
:mod:`qit4n.qin.bell`) and one number per sample, the total qubit storage time, fixes the delivered
fidelity.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from pydantic import Field, field_validator

from qit4n.physics.detector import DetectorEfficiency, WindowDarkCountProbability
from qit4n.physics.fibre import DEFAULT_FIBRE_LOSS_DB_PER_KM, fibre_transmittance
from qit4n.qin.bell import correlations
from qit4n.qin.heralded import HERALDING_SCHEMES, HeraldedOutcome, with_raw_fidelity
from qit4n.qin.memory import MemoryParameters, decay_rates_per_s
from qit4n.qin.montecarlo import ChainSamples, SwapPolicy, sample_chain
from qit4n.schema import StrictModel

__all__ = [
    "SPEED_OF_LIGHT_FIBRE_KM_PER_S",
    "ChainParameters",
    "ChainResult",
    "LinkModel",
    "delivered_correlations",
    "delivered_fidelity",
    "link_model",
    "simulate_chain_mc",
]

#: Speed of light in standard single-mode fibre (group index about 1.47), km/s.
SPEED_OF_LIGHT_FIBRE_KM_PER_S = 2.04e5


class ChainParameters(StrictModel):
    """Hardware and protocol of a homogeneous repeater chain."""

    segments: int = Field(4, ge=1, le=100_000)
    length_km: float = Field(100.0, gt=0.0, le=100_000.0, description="end-to-end fibre length, km")
    loss_db_per_km: float = Field(DEFAULT_FIBRE_LOSS_DB_PER_KM, ge=0.0, le=10.0)
    scheme: str = Field("barrett-kok", description="heralding scheme, a name in qit4n.qin.HERALDING_SCHEMES")
    bright_state_population: float = Field(0.1, gt=0.0, lt=1.0, description="single-click emission probability alpha")
    source_mean_pairs: float = Field(
        0.01, gt=0.0, le=100.0, description="midpoint-source brightness: mean pairs per attempt"
    )
    source_statistics: Literal["thermal", "poisson"] = "thermal"
    memory_absorption_efficiency: float = Field(
        0.9, gt=0.0, le=1.0, description="midpoint-source: photon absorbed by the memory"
    )
    eta_emission: float = Field(0.5, gt=0.0, le=1.0, description="photon emission, collection and coupling efficiency")
    eta_detector: DetectorEfficiency = 0.9
    dark_count_probability: WindowDarkCountProbability = 1e-6
    two_photon_visibility: float = Field(
        1.0, ge=0.0, le=1.0, description="Hong-Ou-Mandel visibility of the two nodes' photons (1: indistinguishable)"
    )
    phase_noise_rad: float = Field(
        0.0, ge=0.0, le=np.pi, description="single-click: standard deviation of the arms' optical phase difference, rad"
    )
    efficiency_mismatch: float = Field(
        0.0, ge=0.0, lt=1.0, description="relative efficiency mismatch m of the two arms: eta (1 + m) and eta (1 - m)"
    )
    raw_fidelity: float | None = Field(
        None,
        ge=0.25,
        le=1.0,
        description="phenomenological Werner fidelity of every heralded pair (overrides the model)",
    )
    memories_per_node: int = Field(1, ge=1, le=100_000, description="multiplexed memories per segment end")
    memory: MemoryParameters = MemoryParameters(t2_s=1.0, t1_s=10.0)
    swap_success_probability: float = Field(1.0, gt=0.0, le=1.0, description="Bell measurement success on memories")
    swap_gate_depolarising: float = Field(
        1.0, ge=0.0, le=1.0, description="probability the two-qubit gate is noiseless"
    )
    swap_measurement_error: float = Field(0.0, ge=0.0, le=0.5)
    attempt_preparation_s: float = Field(0.0, ge=0.0, description="local time per attempt besides the light travel")
    policy: SwapPolicy = SwapPolicy.SWAP_ASAP

    @field_validator("scheme")
    @classmethod
    def _known_scheme(cls, name: str) -> str:
        if name not in HERALDING_SCHEMES:
            raise ValueError(f"must be one of {', '.join(HERALDING_SCHEMES.names())}")
        return name


@dataclass(frozen=True)
class LinkModel:
    """What one segment does per attempt, and the noise of a swap."""

    attempt_time_s: float
    success_probability: float
    heralded: HeraldedOutcome
    swap_success_probability: float
    swap_correlation_factor: np.ndarray

    @property
    def link_fidelity(self) -> float:
        """Fidelity of a freshly heralded pair."""
        return float(self.heralded.fidelity)


def link_model(params: ChainParameters) -> LinkModel:
    """Per-attempt success probability, attempt time and heralded state of one segment.

    >>> model = link_model(ChainParameters(segments=2, length_km=50.0))
    >>> round(model.attempt_time_s * 1e6, 1), round(model.success_probability, 4)
    (122.5, 0.032)
    """
    segment_km = params.length_km / params.segments
    eta_arm = (
        params.eta_emission * params.eta_detector * float(fibre_transmittance(segment_km / 2.0, params.loss_db_per_km))
    )
    scheme = HERALDING_SCHEMES.get(params.scheme)
    heralded = scheme.herald(params, eta_arm=eta_arm)
    if params.raw_fidelity is not None:
        heralded = with_raw_fidelity(heralded, params.raw_fidelity)
    light_s = segment_km / SPEED_OF_LIGHT_FIBRE_KM_PER_S * scheme.light_time_factor
    per_memory = float(heralded.success_probability)
    flip = 1.0 - 2.0 * params.swap_measurement_error
    return LinkModel(
        attempt_time_s=light_s + params.attempt_preparation_s,
        success_probability=1.0 - (1.0 - per_memory) ** params.memories_per_node,
        heralded=heralded,
        swap_success_probability=params.swap_success_probability * params.memory.efficiency**2,
        swap_correlation_factor=params.swap_gate_depolarising * np.array([flip, flip * flip, flip]),
    )


def delivered_correlations(params: ChainParameters, model: LinkModel, storage_s: np.ndarray) -> np.ndarray:
    """Correlations ``(t_x, t_y, t_z)`` of end-to-end pairs whose qubits were stored ``storage_s`` s in total."""
    link_t = correlations(model.heralded.state)
    base = link_t**params.segments * model.swap_correlation_factor ** (params.segments - 1)
    return base * np.exp(-np.asarray(storage_s, dtype=float)[..., None] * decay_rates_per_s(params.memory))


def delivered_fidelity(params: ChainParameters, model: LinkModel, storage_s: np.ndarray) -> np.ndarray:
    """Fidelity of end-to-end pairs whose qubits were stored ``storage_s`` seconds in total."""
    return (1.0 + np.sum(delivered_correlations(params, model, storage_s), axis=-1)) / 4.0


@dataclass(frozen=True)
class ChainResult:
    """Delivered pairs of a chain: per-sample waiting time (s), fidelity and total qubit storage time (s)."""

    waiting_time_s: np.ndarray
    fidelity: np.ndarray
    link: LinkModel
    storage_s: np.ndarray

    def summary(self) -> dict[str, float]:
        """Rate (one delivery after another), mean fidelity and waiting-time statistics."""
        mean_wait = float(self.waiting_time_s.mean())
        return {
            "rate_pairs_per_s": 1.0 / mean_wait,
            "fidelity_mean": float(self.fidelity.mean()),
            "waiting_time_mean_s": mean_wait,
            "waiting_time_p99_s": float(np.quantile(self.waiting_time_s, 0.99)),
            "link_success_probability": self.link.success_probability,
            "link_fidelity": self.link.link_fidelity,
            "attempt_time_s": self.link.attempt_time_s,
            "samples": int(self.waiting_time_s.size),
        }


def simulate_chain_mc(params: ChainParameters, samples: int, rng: np.random.Generator) -> ChainResult:
    """Sample ``samples`` deliveries of the chain with the vectorised Monte Carlo.

    >>> result = simulate_chain_mc(ChainParameters(segments=4, length_km=100.0), 20_000, np.random.default_rng(1))
    >>> 0.9 < result.summary()["fidelity_mean"] <= 1.0
    True
    """
    model = link_model(params)
    drawn: ChainSamples = sample_chain(
        rng,
        samples,
        segments=params.segments,
        link_success_probability=model.success_probability,
        swap_success_probability=model.swap_success_probability,
        policy=params.policy,
    )
    storage_s = drawn.storage_steps * model.attempt_time_s
    return ChainResult(
        waiting_time_s=drawn.waiting_steps * model.attempt_time_s,
        fidelity=delivered_fidelity(params, model, storage_s),
        link=model,
        storage_s=storage_s,
    )
