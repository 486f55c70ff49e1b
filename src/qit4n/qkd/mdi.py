"""Measurement-device-independent QKD with decoy states, asymptotic key rate (``mdi``).

Alice and Bob each send BB84 states in phase-randomised weak coherent pulses to an untrusted
relay in the middle that performs a Bell-state measurement (Lo, Curty and Qi 2012). The key comes
from the rectilinear (Z) basis; the diagonal (X) basis estimates the phase error of the pulse
pairs in which both sent one photon. The key rate per pulse pair (LCQ 2012) is::

    R = Q11_Z (1 - h2(e11_X)) - f_EC Q_Z h2(E_Z),     Q11_Z = mu_a mu_b e^-(mu_a + mu_b) Y11

with the gains ``Q_Z``, ``E_Z`` of :mod:`qit4n.qkd._mdi_gains` and ``Y11``, ``e11_X`` either exact
(``decoy_method = "infinite"``: infinitely many decoys) or bounded from the vacuum and one weak
decoy ``nu`` (:mod:`qit4n.qkd._mdi_decoy`). The channel transmittance ``eta_channel`` is the
total between the two users; Alice's arm carries the fraction ``alice_arm_loss_fraction`` of its
loss in dB (``eta_a = eta_channel^f``, ``eta_b = eta_channel^(1-f)``), one half by default. Both
users send the same intensities. Intensities left ``None`` are optimised at every point: the
signal by a vectorised search, the decoy at its floor ``minimum_decoy_intensity``, where the
asymptotic bound is tightest.

References
----------
Lo, H.-K., Curty, M. and Qi, B., Phys. Rev. Lett. 108, 130503 (2012),
doi:10.1103/PhysRevLett.108.130503, arXiv:1109.1473.
Ma, X. and Razavi, M., Phys. Rev. A 86, 062319 (2012), doi:10.1103/PhysRevA.86.062319.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
from pydantic import Field, ValidationInfo, field_validator

from qit4n.errors import ParameterError
from qit4n.maths import binary_entropy, binary_entropy_clipped
from qit4n.physics.detector import DarkCountProbability, DetectorEfficiency, DetectorParameters, MisalignmentError
from qit4n.qkd._mdi_decoy import both_sent, error_11_upper, yield_11_lower
from qit4n.qkd._mdi_gains import BasisGains, gains_x, gains_z, single_photon_error_x, single_photon_yield
from qit4n.qkd._mdi_search import maximise_positive
from qit4n.qkd.base import ChannelParameters, ErrorCorrectionEfficiency, ProtocolSpec, RateResult

__all__ = ["PROTOCOL", "MDIParameters", "key_rate"]

#: Range searched for an optimised signal intensity (mean photons per pulse, each user).
SIGNAL_SEARCH_RANGE = (1e-3, 1.5)


class MDIParameters(DetectorParameters, ChannelParameters):
    """Decoy-state MDI-QKD: the relay's detectors, the channel split and the intensities."""

    eta_detector: DetectorEfficiency = Field(0.145, description="efficiency of each relay detector")
    dark_count_probability: DarkCountProbability = 3e-6
    misalignment_error: MisalignmentError = 0.015
    error_correction_efficiency: ErrorCorrectionEfficiency = 1.16
    decoy_method: Literal["vacuum+weak", "infinite"] = Field(
        "vacuum+weak", description="vacuum and one weak decoy, or the infinite-decoy limit (exact Y11, e11)"
    )
    intensity_signal: float | None = Field(
        None, gt=0.0, le=5.0, description="signal mean photon number mu of each user; None = optimised per point"
    )
    intensity_decoy: float | None = Field(
        None, gt=0.0, le=5.0, description="weak decoy mean photon number nu < mu; None = minimum_decoy_intensity"
    )
    minimum_decoy_intensity: float = Field(0.01, gt=0.0, le=1.0, description="lowest decoy intensity used")
    alice_arm_loss_fraction: float = Field(
        0.5, ge=0.0, le=1.0, description="share of the channel loss (in dB) on Alice's side of the relay"
    )

    @field_validator("intensity_decoy")
    @classmethod
    def _decoy_below_signal(cls, value: float | None, info: ValidationInfo) -> float | None:
        signal = info.data.get("intensity_signal")
        ceiling = signal if signal is not None else SIGNAL_SEARCH_RANGE[1]
        if value is not None and value >= ceiling:
            name = (
                f"intensity_signal = {signal:g}" if signal is not None else f"the largest signal searched, {ceiling:g}"
            )
            raise ValueError(f"must be < {name}")
        return value


@dataclass(frozen=True)
class _Relay:
    """Both arms (detector efficiency included) and what does not depend on the signal intensity:
    the decoy ``nu`` and, for the vacuum+weak method, the both-sent sums of the decoy gains."""

    eta_a: np.ndarray
    eta_b: np.ndarray
    nu: np.ndarray
    params: MDIParameters
    decoy_z: BasisGains | None = None
    decoy_x: BasisGains | None = None

    def gains_z(self, mu_a: np.ndarray, mu_b: np.ndarray) -> BasisGains:
        return gains_z(
            mu_a, mu_b, self.eta_a, self.eta_b, self.params.dark_count_probability, self.params.misalignment_error
        )

    def gains_x(self, mu_a: np.ndarray, mu_b: np.ndarray) -> BasisGains:
        return gains_x(
            mu_a, mu_b, self.eta_a, self.eta_b, self.params.dark_count_probability, self.params.misalignment_error
        )


def _relay(eta_channel: np.ndarray, params: MDIParameters) -> _Relay:
    share = params.alice_arm_loss_fraction
    eta_a = np.power(eta_channel, share) * params.eta_detector
    eta_b = np.power(eta_channel, 1.0 - share) * params.eta_detector
    mu_fixed, nu_fixed = params.intensity_signal, params.intensity_decoy
    if nu_fixed is not None:
        nu_value = nu_fixed
    else:
        floor = params.minimum_decoy_intensity
        nu_value = floor if mu_fixed is None else min(floor, 0.5 * mu_fixed)
    relay = _Relay(eta_a, eta_b, np.full(eta_a.shape, nu_value), params)
    if params.decoy_method == "infinite":
        return relay
    return replace(relay, decoy_z=both_sent(relay.gains_z, relay.nu), decoy_x=both_sent(relay.gains_x, relay.nu))


def _single_photon_terms(relay: _Relay, mu: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    p_d, e_d = relay.params.dark_count_probability, relay.params.misalignment_error
    if relay.decoy_z is None or relay.decoy_x is None:
        return single_photon_yield(relay.eta_a, relay.eta_b, p_d), single_photon_error_x(
            relay.eta_a, relay.eta_b, p_d, e_d
        )
    nu = relay.nu
    y11_z = yield_11_lower(relay.decoy_z.gain, both_sent(relay.gains_z, mu).gain, mu, nu)
    y11_x = yield_11_lower(relay.decoy_x.gain, both_sent(relay.gains_x, mu).gain, mu, nu)
    return y11_z, error_11_upper(relay.decoy_x.error_gain, nu, y11_x)


def _rate_terms(relay: _Relay, mu: np.ndarray) -> dict[str, np.ndarray]:
    signal = relay.gains_z(mu, mu)
    with np.errstate(divide="ignore", invalid="ignore"):
        qber = np.where(signal.gain > 0.0, signal.error_gain / signal.gain, 0.5)
    y11, e11 = _single_photon_terms(relay, mu)
    q11 = mu * mu * np.exp(-2.0 * mu) * np.maximum(y11, 0.0)
    leak = relay.params.error_correction_efficiency * signal.gain * binary_entropy(qber)
    rate = q11 * (1.0 - binary_entropy_clipped(e11)) - leak
    return {"rate": rate, "qber": qber, "gain_z": signal.gain, "yield_11": y11, "error_11": e11}


def _signal_intensity(relay: _Relay) -> np.ndarray:
    if relay.params.intensity_signal is not None:
        return np.full(relay.nu.shape, relay.params.intensity_signal)
    lower = np.maximum(SIGNAL_SEARCH_RANGE[0], 1.01 * relay.nu)
    mu, _ = maximise_positive(
        lambda m: _rate_terms(relay, m)["rate"], lower, SIGNAL_SEARCH_RANGE[1], grid_points=16, iterations=24
    )
    return mu


def key_rate(eta_channel: np.ndarray, params: MDIParameters) -> RateResult:
    """Asymptotic decoy-state MDI-QKD key rate at each total channel transmittance (any shape).

    ``qber`` is ``E_Z`` of the signal; ``details`` holds ``intensity_signal``, ``intensity_decoy``,
    ``gain_z`` (BSM successes per pulse pair), ``yield_11`` and ``error_11`` (the single-photon
    yield and phase error used: exact or decoy bounds).

    >>> from qit4n.qkd import make_parameters
    >>> params = make_parameters("mdi", overrides={"decoy_method": "infinite"})
    >>> result = key_rate(np.array([1e-2, 1e-4]), params)
    >>> bool(result.key_rate_per_pulse[0] > result.key_rate_per_pulse[1] > 0.0)
    True
    """
    eta = np.asarray(eta_channel, dtype=float)
    if not np.all((eta >= 0.0) & (eta <= 1.0)):
        raise ParameterError("eta_channel: must be within [0, 1]")
    relay = _relay(eta, params)
    mu = _signal_intensity(relay)
    terms = _rate_terms(relay, mu)
    per_pulse = np.maximum(terms["rate"], 0.0)
    details = {
        "intensity_signal": mu,
        "intensity_decoy": relay.nu if params.decoy_method == "vacuum+weak" else np.full_like(mu, np.nan),
        "gain_z": terms["gain_z"],
        "yield_11": terms["yield_11"],
        "error_11": terms["error_11"],
    }
    return RateResult(per_pulse, per_pulse * params.repetition_rate_hz, terms["qber"], details)


PROTOCOL = ProtocolSpec(
    name="mdi",
    title="Decoy-state MDI-QKD (asymptotic, relay in the middle)",
    parameters=MDIParameters,
    key_rate=key_rate,
    reference="Lo, Curty, Qi, Phys. Rev. Lett. 108, 130503 (2012), doi:10.1103/PhysRevLett.108.130503",
)
