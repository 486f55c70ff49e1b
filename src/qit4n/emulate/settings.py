"""Settings of an emulated decoy-state BB84 link, built from a protocol's parameters."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from pydantic import Field, model_validator

from qit4n.physics import detector
from qit4n.physics.detector import GatedDetectorParameters, MisalignmentError
from qit4n.schema import validate_parameters

__all__ = ["DEFAULT_BASIS_X", "DEFAULT_INTENSITIES", "DEFAULT_PROBABILITIES", "LinkSettings", "link_settings"]

#: Intensities used where a model leaves them to its optimiser: signal, weak decoy, vacuum.
DEFAULT_INTENSITIES = (0.5, 0.1, 0.0)
#: Probabilities of sending signal, decoy and vacuum where the model does not fix them.
DEFAULT_PROBABILITIES = (0.7, 0.2, 0.1)
#: Probability of the key (X) basis where the model does not fix it (symmetric BB84).
DEFAULT_BASIS_X = 0.5


class LinkSettings(GatedDetectorParameters):
    """Everything the emulator draws from: source, channel, receiver, clock.

    The receiver is :class:`qit4n.physics.detector.GatedDetectorParameters` (two detectors; dead
    time in whole gates, :func:`qit4n.physics.detector.dead_gates`). ``noise_probability`` adds
    uncorrelated noise clicks per detector per gate (e.g. Raman scattering from co-propagating
    classical channels, computed by :mod:`qit4n.physics`).
    """

    intensities: tuple[float, float, float] = Field(
        DEFAULT_INTENSITIES, description="mean photon numbers mu1 > mu2 > mu3 >= 0"
    )
    probabilities: tuple[float, float, float] = Field(
        DEFAULT_PROBABILITIES, description="probability of each intensity"
    )
    probability_basis_x: float = Field(
        DEFAULT_BASIS_X, gt=0.0, lt=1.0, description="probability of the X (key) basis, both parties"
    )
    eta_channel: float = Field(..., ge=0.0, le=1.0, description="channel transmittance")
    noise_probability: float = Field(0.0, ge=0.0, le=0.1, description="extra noise clicks per detector per gate")
    misalignment_error: MisalignmentError = Field(
        0.005, description="probability that a photon hits the wrong detector"
    )
    repetition_rate_hz: float = Field(1e9, gt=0.0, le=1e12, description="pulses per second")

    @model_validator(mode="after")
    def _consistent(self) -> LinkSettings:
        mu1, mu2, mu3 = self.intensities
        if not (mu1 > mu2 > mu3 >= 0.0):
            raise ValueError(f"intensities = {self.intensities}: must satisfy mu1 > mu2 > mu3 >= 0")
        if min(self.probabilities) < 0.0 or not math.isclose(sum(self.probabilities), 1.0, abs_tol=1e-9):
            raise ValueError(f"probabilities = {self.probabilities}: must be >= 0 and sum to 1")
        return self

    @property
    def eta_total(self) -> float:
        """Channel times detector transmittance."""
        return self.eta_channel * self.eta_detector

    @property
    def dead_gates(self) -> int:
        """Gates the receiver stays blind after a click (:func:`qit4n.physics.detector.dead_gates`)."""
        return int(detector.dead_gates(self.dead_time_s, self.repetition_rate_hz))


def link_settings(
    params: Any, eta_channel: float, noise_probability: float = 0.0, chosen: Mapping[str, float] | None = None
) -> LinkSettings:
    """Settings from a BB84-family parameters object (``qit4n.qkd.make_parameters``).

    Reads ``eta_detector``, ``dark_count_probability``, ``misalignment_error``, ``dead_time_s``,
    ``afterpulse_probability``,
    ``repetition_rate_hz`` and, where present and not ``None``, ``intensity_signal``,
    ``intensity_decoy``, ``intensity_vacuum``, ``probability_signal``, ``probability_decoy`` and
    ``probability_basis_x``; values of ``chosen`` under those names (an optimiser's choice) fill
    what the parameters leave open, the defaults of this module the rest.
    """
    picked = dict(chosen or {})

    def value(name: str, default: float) -> float:
        given = getattr(params, name, None)
        return float(given if given is not None else picked.get(name, default))

    mu1 = value("intensity_signal", DEFAULT_INTENSITIES[0])
    mu2 = value("intensity_decoy", DEFAULT_INTENSITIES[1])
    mu3 = value("intensity_vacuum", DEFAULT_INTENSITIES[2])
    p1 = value("probability_signal", DEFAULT_PROBABILITIES[0])
    p2 = value("probability_decoy", DEFAULT_PROBABILITIES[1])
    basis = value("probability_basis_x", DEFAULT_BASIS_X)
    values = {
        "intensities": (mu1, mu2, mu3),
        "probabilities": (p1, p2, 1.0 - p1 - p2),
        "probability_basis_x": basis,
        "eta_channel": float(eta_channel),
        "eta_detector": params.eta_detector,
        "dark_count_probability": params.dark_count_probability,
        "noise_probability": noise_probability,
        "misalignment_error": params.misalignment_error,
        "afterpulse_probability": getattr(params, "afterpulse_probability", 0.0),
        "dead_time_s": getattr(params, "dead_time_s", 0.0),
        "repetition_rate_hz": params.repetition_rate_hz,
    }
    return validate_parameters(LinkSettings, values, context="link")
