"""The common shape of every key-rate model: parameters, results and the protocol descriptor.

A protocol module defines a parameters model (a :class:`ChannelParameters` subclass with
documented defaults and ranges), a pure function ``key_rate(eta_channel, params)`` that broadcasts
over a numpy array of channel transmittances, and a :class:`ProtocolSpec` named ``PROTOCOL`` that
the registry (:mod:`qit4n.qkd.registry`) finds by name.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import Field

from qit4n.physics.fibre import DEFAULT_FIBRE_LOSS_DB_PER_KM
from qit4n.schema import StrictModel

__all__ = ["ChannelParameters", "ErrorCorrectionEfficiency", "ProtocolSpec", "RateResult"]

#: ``f_EC``: the error-correction leak over the Shannon limit, in [1, 3].
ErrorCorrectionEfficiency = Annotated[float, Field(ge=1.0, le=3.0, description="f_EC: leak / Shannon limit")]


class ChannelParameters(StrictModel):
    """Fields every protocol shares: fibre attenuation (to turn distance into loss) and clock rate."""

    loss_db_per_km: float = Field(DEFAULT_FIBRE_LOSS_DB_PER_KM, ge=0.0, le=10.0, description="fibre attenuation, dB/km")
    repetition_rate_hz: float = Field(1e9, gt=0.0, le=1e12, description="pulses (or symbols) sent per second")


@dataclass(frozen=True)
class RateResult:
    """Key rate of a protocol at each channel transmittance (all arrays share one shape).

    ``key_rate_per_pulse`` is the secret key per pulse (or per symbol for CV-QKD), never negative;
    ``qber`` the quantum bit error rate of the key-generating basis (``None`` where it does not
    apply, e.g. CV-QKD and the bounds); ``details`` carries other per-point arrays such as the
    optimised intensities or the excess noise.
    """

    key_rate_per_pulse: np.ndarray
    key_rate_bps: np.ndarray
    qber: np.ndarray | None = None
    details: Mapping[str, np.ndarray] = field(default_factory=dict)


@dataclass(frozen=True)
class ProtocolSpec:
    """What the registry, the CLI and the network layer need to know about a protocol."""

    name: str
    title: str
    parameters: type[ChannelParameters]
    key_rate: Callable[[np.ndarray, Any], RateResult]
    reference: str
    repeaterless: bool = True
    #: What the rate is: an ``asymptotic`` key rate (infinitely many signals), a ``finite-key`` rate
    #: (a stated block size and security parameter), or a ``bound`` (no protocol reaches it).
    key_kind: Literal["asymptotic", "finite-key", "bound"] = "asymptotic"

    def evaluate(self, eta_channel: np.ndarray, params: ChannelParameters) -> RateResult:
        """Key rate at the channel transmittances ``eta_channel`` (any shape)."""
        return self.key_rate(np.asarray(eta_channel, dtype=float), params)
