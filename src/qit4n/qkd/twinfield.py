"""Sending-or-not-sending twin-field QKD, asymptotic key rate with infinitely many decoys (``tf``).

Alice and Bob send phase-randomised weak coherent pulses to a relay in the middle, where they
interfere on a beam splitter watched by two threshold detectors (Wang, Yu and Hu 2018). In a
Z window each user either sends a pulse of intensity ``mu`` (probability ``epsilon``; bit 1 for
Alice, 0 for Bob) or sends nothing, and an effective event is exactly one detector clicking.
A single photon then passes only one arm, so the key rate scales as ``sqrt(eta_channel)``. With
``eta = eta_detector sqrt(eta_channel)`` per arm and dark-count probability ``p_d`` per detector,
the Z-window click probabilities are::

    neither sends:  S_00 = 2 p_d (1 - p_d)
    one sends:      S_10 = 2 (1 - p_d) e^(-eta mu/2) [1 - (1 - p_d) e^(-eta mu/2)]
    both send:      S_11 = 2 (1 - p_d) e^(-eta mu) [I0(eta mu) - (1 - p_d) e^(-eta mu)]

(the last averages the interference over the independent random phases), so that::

    S_Z = (1-eps)^2 S_00 + 2 eps (1-eps) S_10 + eps^2 S_11,   E_Z S_Z = (1-eps)^2 S_00 + eps^2 S_11.

The untagged bits are those in which one user sent a single photon and the other nothing; in the
infinite-decoy limit their yield and phase-flip error (estimated in the X windows, where the
single-photon interference has misalignment error ``e_d``) are::

    s_1 = (1 - p_d) [eta + 2 (1 - eta) p_d],   e1_ph s_1 = (1 - p_d) [eta e_d + (1 - eta) p_d]

and the key rate per pulse pair (Wang, Yu and Hu 2018, with the Z-window choice
probability taken to 1 as the asymptotic limit allows) is::

    R = 2 eps (1-eps) mu e^-mu s_1 [1 - h2(e1_ph)] - f_EC S_Z h2(E_Z).

``mu`` and ``epsilon`` left ``None`` are optimised at every point (vectorised nested search).
The arms are symmetric: each has transmittance ``sqrt(eta_channel)``.

References
----------
Wang, X.-B., Yu, Z.-W. and Hu, X.-L., Phys. Rev. A 98, 062323 (2018),
doi:10.1103/PhysRevA.98.062323, arXiv:1805.09222.
Lucamarini, M., Yuan, Z. L., Dynes, J. F. and Shields, A. J., Nature 557, 400 (2018),
doi:10.1038/s41586-018-0066-6.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from pydantic import Field

from qit4n.errors import ParameterError
from qit4n.maths import binary_entropy, binary_entropy_clipped
from qit4n.physics.detector import DarkCountProbability, DetectorEfficiency, DetectorParameters, MisalignmentError
from qit4n.qkd._mdi_gains import click_probability, i0_minus_one
from qit4n.qkd._mdi_search import maximise_positive
from qit4n.qkd.base import ChannelParameters, ErrorCorrectionEfficiency, ProtocolSpec, RateResult

__all__ = ["PROTOCOL", "TwinFieldParameters", "key_rate"]

#: Range searched for an optimised Z-window intensity (mean photons per pulse, each user).
SIGNAL_SEARCH_RANGE = (1e-3, 2.0)
#: Range searched for an optimised sending probability.
SENDING_SEARCH_RANGE = (1e-6, 0.5)


class TwinFieldParameters(DetectorParameters, ChannelParameters):
    """SNS twin-field QKD: the relay's detectors, the interference error and the Z-window settings."""

    eta_detector: DetectorEfficiency = Field(0.3, description="efficiency of each relay detector")
    dark_count_probability: DarkCountProbability = 1e-10
    misalignment_error: MisalignmentError = Field(
        0.03, description="error probability e_d of the single-photon interference (X windows)"
    )
    error_correction_efficiency: ErrorCorrectionEfficiency = 1.1
    intensity_signal: float | None = Field(
        None, gt=0.0, le=5.0, description="Z-window mean photon number mu of each user; None = optimised per point"
    )
    sending_probability: float | None = Field(
        None, gt=0.0, lt=1.0, description="probability epsilon of sending in a Z window; None = optimised per point"
    )


@dataclass(frozen=True)
class _Windows:
    """What a Z window yields at one intensity, before the sending probability is chosen."""

    neither: np.ndarray
    one: np.ndarray
    both: np.ndarray
    untagged_per_pair: np.ndarray
    yield_1: np.ndarray
    phase_error_1: np.ndarray


def _windows(eta: np.ndarray, mu: np.ndarray, params: TwinFieldParameters) -> _Windows:
    p_d, e_d = params.dark_count_probability, params.misalignment_error
    keep = 1.0 - p_d
    light = eta * mu
    neither = np.full(np.broadcast(eta, mu).shape, 2.0 * p_d * keep)
    one = 2.0 * keep * np.exp(-light / 2.0) * click_probability(p_d, light / 2.0)
    # I0(x) - (1 - p_d) e^-x = [I0(x) - 1] + [1 - (1 - p_d) e^-x], both computed without cancellation.
    both = 2.0 * keep * np.exp(-light) * (i0_minus_one(light) + click_probability(p_d, light))
    yield_1 = keep * (eta + 2.0 * (1.0 - eta) * p_d)
    with np.errstate(divide="ignore", invalid="ignore"):
        phase_error = np.where(yield_1 > 0.0, keep * (eta * e_d + (1.0 - eta) * p_d) / yield_1, 0.5)
    # Key from one single-photon pulse against a silent partner, per 2 eps (1 - eps).
    untagged = mu * np.exp(-mu) * yield_1 * (1.0 - binary_entropy_clipped(phase_error))
    return _Windows(neither, one, both, untagged, yield_1, phase_error)


def _rate_terms(windows: _Windows, eps: np.ndarray, params: TwinFieldParameters) -> dict[str, np.ndarray]:
    silent = (1.0 - eps) ** 2
    pair = 2.0 * eps * (1.0 - eps)
    gain = silent * windows.neither + pair * windows.one + eps**2 * windows.both
    with np.errstate(divide="ignore", invalid="ignore"):
        qber = np.where(gain > 0.0, (silent * windows.neither + eps**2 * windows.both) / gain, 0.5)
    leak = params.error_correction_efficiency * gain * binary_entropy(qber)
    rate = pair * windows.untagged_per_pair - leak
    return {"rate": rate, "qber": qber, "gain_z": gain}


def _best_sending(windows: _Windows, params: TwinFieldParameters) -> tuple[np.ndarray, np.ndarray]:
    shape = windows.one.shape
    if params.sending_probability is not None:
        eps = np.full(shape, params.sending_probability)
        return eps, _rate_terms(windows, eps, params)["rate"]
    return maximise_positive(
        lambda e: _rate_terms(windows, e, params)["rate"],
        np.full(shape, SENDING_SEARCH_RANGE[0]),
        SENDING_SEARCH_RANGE[1],
        grid_points=12,
        iterations=20,
    )


def _settings(eta: np.ndarray, params: TwinFieldParameters) -> tuple[np.ndarray, np.ndarray]:
    if params.intensity_signal is not None:
        mu = np.full(eta.shape, params.intensity_signal)
    else:
        low = np.full(eta.shape, SIGNAL_SEARCH_RANGE[0])
        mu, _ = maximise_positive(
            lambda m: _best_sending(_windows(eta, m, params), params)[1],
            low,
            SIGNAL_SEARCH_RANGE[1],
            grid_points=12,
            iterations=20,
        )
    eps, _ = _best_sending(_windows(eta, mu, params), params)
    return mu, eps


def key_rate(eta_channel: np.ndarray, params: TwinFieldParameters) -> RateResult:
    """Asymptotic SNS twin-field key rate at each total channel transmittance (any shape).

    ``qber`` is the Z-window error rate ``E_Z`` (below 1/2 wherever there is key; beyond the
    reach, where the settings are immaterial, the empty windows' dark counts can push it towards
    1); ``details`` holds ``intensity_signal``,
    ``sending_probability``, ``gain_z``, ``yield_1`` and ``phase_error_1``.

    >>> from qit4n.qkd import make_parameters
    >>> result = key_rate(np.array([1e-4, 1e-8]), make_parameters("tf"))
    >>> bool(result.key_rate_per_pulse[0] > result.key_rate_per_pulse[1] > 0.0)
    True
    """
    eta = np.asarray(eta_channel, dtype=float)
    if not np.all((eta >= 0.0) & (eta <= 1.0)):
        raise ParameterError("eta_channel: must be within [0, 1]")
    arm = params.eta_detector * np.sqrt(eta)
    mu, eps = _settings(arm, params)
    windows = _windows(arm, mu, params)
    terms = _rate_terms(windows, eps, params)
    per_pulse = np.maximum(terms["rate"], 0.0)
    details = {
        "intensity_signal": mu,
        "sending_probability": eps,
        "gain_z": terms["gain_z"],
        "yield_1": windows.yield_1,
        "phase_error_1": windows.phase_error_1,
    }
    return RateResult(per_pulse, per_pulse * params.repetition_rate_hz, terms["qber"], details)


PROTOCOL = ProtocolSpec(
    name="tf",
    title="Sending-or-not-sending twin-field QKD (asymptotic, infinite decoys)",
    parameters=TwinFieldParameters,
    key_rate=key_rate,
    reference="Wang, Yu, Hu, Phys. Rev. A 98, 062323 (2018), doi:10.1103/PhysRevA.98.062323",
    # The interfering relay in the middle lets the key exceed the point-to-point PLOB bound.
    repeaterless=False,
)
