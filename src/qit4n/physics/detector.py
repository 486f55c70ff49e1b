"""Single-photon detectors, the one device model of every receiver: efficiency, dark counts,
afterpulsing, misalignment errors and dead time.

The receiver fields of every schema (QKD protocol parameters, emulator settings, repeater
hardware) are declared here once, as constrained field types (:data:`DetectorEfficiency`,
:data:`DarkCountProbability`, ...) and the mixins :class:`DetectorParameters` (efficiency and dark
counts) and :class:`GatedDetectorParameters` (plus afterpulses and dead time); a schema inherits a
mixin and, where its published system differs, only changes the default.

All functions are pure and broadcast over numpy arrays. Probabilities are per detection gate
(per pulse slot) unless the name says otherwise.

Dead time, the one convention
-----------------------------
A gated detector is blind for ``tau`` after a click, counted from the end of the gate that
clicked, and loses every gate that opens before it recovers: ``n = ceil(tau f)`` gates at gate
rate ``f`` (:func:`dead_gates`; ``tau f`` is rounded to 1e-9 first so that 20 ns at 1 GHz is 20
gates, not 21). A click then costs ``1 + n p`` gates on average, of which ``n p`` would have
clicked, and the detector registers the fraction ``1 / (1 + n p)`` of its clicks (non-paralysable,
[2]_). For ``f -> infinity`` this is the classic ``R = R0 / (1 + R0 tau)`` of [3]_. The rate models
(:func:`registered_click_fraction`) and the emulator (which skips ``n`` gates after each
registered click) share this ``n``.

References
----------
.. [1] X. Ma, B. Qi, Y. Zhao, H.-K. Lo, "Practical decoy state for quantum key distribution",
   Phys. Rev. A 72, 012326 (2005), doi:10.1103/PhysRevA.72.012326 (eqs. for gain and QBER).
.. [2] D. J. Rogers, J. C. Bienfang, A. Nakassis, H. Xu, C. W. Clark, "Detector dead-time effects
   and paralyzability in high-speed quantum key distribution", New J. Phys. 9, 319 (2007),
   doi:10.1088/1367-2630/9/9/319.
.. [3] J. W. Müller, "Dead-time problems", Nucl. Instrum. Methods 112, 47 (1973),
   doi:10.1016/0029-554X(73)90773-8.
"""

from __future__ import annotations

from typing import Annotated

import numpy as np
from numpy.typing import ArrayLike
from pydantic import Field

from qit4n.schema import StrictModel

__all__ = [
    "AfterpulseProbability",
    "DarkCountProbability",
    "DeadTime",
    "DetectorEfficiency",
    "DetectorParameters",
    "GatedDetectorParameters",
    "MisalignmentError",
    "WindowDarkCountProbability",
    "background_yield",
    "dark_count_probability",
    "dead_gates",
    "dead_time_click_rate_hz",
    "detection_and_error_probability",
    "detection_probability",
    "error_probability",
    "quantum_bit_error_rate",
    "registered_click_fraction",
]

#: Detection efficiency including the receiver optics, in (0, 1].
DetectorEfficiency = Annotated[float, Field(gt=0.0, le=1.0, description="detection efficiency incl. receiver optics")]
#: Dark-count (background) probability per detector per gate, in [0, 0.1].
DarkCountProbability = Annotated[
    float, Field(ge=0.0, le=0.1, description="dark-count probability per detector per gate")
]
#: Dark-count probability per detector and (long) detection window of a heralding station, in [0, 0.5].
WindowDarkCountProbability = Annotated[
    float, Field(ge=0.0, le=0.5, description="dark-count probability per detector and detection window")
]
#: Probability that a registered click is followed by an afterpulse, in [0, 0.5].
AfterpulseProbability = Annotated[float, Field(ge=0.0, le=0.5, description="afterpulse probability per detection")]
#: Dead time after a click (non-paralysable, see the module docstring), s, in [0, 1 ms].
DeadTime = Annotated[float, Field(ge=0.0, le=1e-3, description="detector dead time (non-paralysable), s")]
#: Probability ``e_d`` that a photon reaches the wrong detector (optical misalignment), in [0, 0.5].
MisalignmentError = Annotated[float, Field(ge=0.0, le=0.5, description="optical error probability e_d")]


class DetectorParameters(StrictModel):
    """Efficiency and dark counts of threshold detectors; defaults: the InGaAs detectors of
    Lim et al. 2014, Sec. IV (efficiency 10 %, 6e-7 dark counts per gate)."""

    eta_detector: DetectorEfficiency = 0.1
    dark_count_probability: DarkCountProbability = 6e-7


class GatedDetectorParameters(DetectorParameters):
    """Gated detectors with afterpulses and a dead time (none by default)."""

    afterpulse_probability: AfterpulseProbability = 0.0
    dead_time_s: DeadTime = 0.0


def background_yield(dark_count_probability: ArrayLike) -> np.ndarray:
    """``Y0 = 1 - (1 - p_dc)^2``: probability that at least one of two detectors fires in the dark.

    >>> round(float(background_yield(8.5e-7)), 12)
    1.699999e-06
    """
    p = np.asarray(dark_count_probability, dtype=float)
    return p * (2.0 - p)


def dark_count_probability(dark_count_rate_hz: ArrayLike, gate_width_s: ArrayLike) -> np.ndarray:
    """Probability of at least one dark count in a gate, ``1 - exp(-rate * gate)``.

    Dark counts are a Poisson process of rate ``dark_count_rate_hz`` (counts/s) while the detector
    is armed for ``gate_width_s`` seconds.

    >>> round(float(dark_count_probability(1000.0, 1e-9)), 12)
    1e-06
    """
    rate = np.asarray(dark_count_rate_hz, dtype=float)
    gate = np.asarray(gate_width_s, dtype=float)
    return -np.expm1(-rate * gate)


def detection_and_error_probability(
    mean_photons: ArrayLike,
    *,
    eta_detector: ArrayLike,
    dark_count_probability: ArrayLike = 0.0,
    misalignment: ArrayLike = 0.0,
    afterpulse_probability: ArrayLike = 0.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Click probability ``Q`` and erroneous-click probability ``E Q`` per gate, sharing one exponential.

    With ``D = 1 - (1 - p_dc) exp(-eta mu)`` (no click needs both no dark count and no detected
    photon), ``Q = D (1 + p_ap)`` and ``E Q = e_0 p_dc exp(-eta mu) + e_d (1 - exp(-eta mu)) +
    p_ap D / 2`` with ``e_0 = 1/2`` (a dark count or an afterpulse is a coin toss). See
    :func:`detection_probability` and :func:`error_probability`.
    """
    mu = np.asarray(mean_photons, dtype=float)
    eta = np.asarray(eta_detector, dtype=float)
    p_dc = np.asarray(dark_count_probability, dtype=float)
    e_d = np.asarray(misalignment, dtype=float)
    p_ap = np.asarray(afterpulse_probability, dtype=float)
    signal = -np.expm1(-eta * mu)
    detection = p_dc + (1.0 - p_dc) * signal
    errors = 0.5 * p_dc * (1.0 - signal) + e_d * signal
    if np.any(p_ap):
        return detection * (1.0 + p_ap), errors + 0.5 * p_ap * detection
    return detection, errors


def detection_probability(
    mean_photons: ArrayLike,
    *,
    eta_detector: ArrayLike,
    dark_count_probability: ArrayLike = 0.0,
    afterpulse_probability: ArrayLike = 0.0,
) -> np.ndarray:
    """Click probability of a threshold detector for a Poissonian input of ``mean_photons``.

    ``(1 - (1 - p_dc) exp(-eta mu)) (1 + p_ap)``: no click needs both no dark count and no
    detected photon, and each click is followed by an afterpulse with probability ``p_ap``.
    ``eta_detector`` is the overall transmittance seen by the photons (channel times detector
    efficiency when ``mean_photons`` is the mean photon number sent). Without afterpulses this is
    the gain ``Q_mu = Y_0 + 1 - exp(-eta mu)`` of [1]_ without the small ``Y_0 (1 - exp(-eta mu))``
    term that eq. (1) of [1]_ drops.

    Parameters
    ----------
    mean_photons : array_like
        Mean photon number per pulse arriving at the detector (or sent, see ``eta_detector``).
    eta_detector : array_like
        Transmittance times detection efficiency, in [0, 1].
    dark_count_probability : array_like
        Probability of a dark (or noise) click per gate, in [0, 1] (for a receiver of two
        detectors, :func:`background_yield`).
    afterpulse_probability : array_like
        Probability that a click is followed by an afterpulse, in [0, 0.5].

    Returns
    -------
    numpy.ndarray
        Click probability per gate, broadcast shape of the inputs.

    >>> round(float(detection_probability(1.0, eta_detector=0.1, dark_count_probability=0.0)), 6)
    0.095163
    """
    gain, _ = detection_and_error_probability(
        mean_photons,
        eta_detector=eta_detector,
        dark_count_probability=dark_count_probability,
        afterpulse_probability=afterpulse_probability,
    )
    return gain


def error_probability(
    mean_photons: ArrayLike,
    *,
    eta_detector: ArrayLike,
    dark_count_probability: ArrayLike = 0.0,
    misalignment: ArrayLike = 0.0,
    afterpulse_probability: ArrayLike = 0.0,
) -> np.ndarray:
    """Probability per gate of an erroneous click, ``E_mu Q_mu`` of [1]_ (plus afterpulses).

    ``e_0 Y_0 exp(-eta mu) + e_d (1 - exp(-eta mu)) + p_ap D / 2`` with ``e_0 = 1/2`` (a dark
    count is random), ``e_d`` the ``misalignment`` (probability that a signal photon hits the wrong
    detector) and ``D`` the click probability without afterpulses. The dark count is weighted by
    the probability that no signal photon is detected, which keeps the errors consistent with
    :func:`detection_probability` (``E_mu <= 1/2`` for ``e_d <= 1/2``); [1]_ drops that factor, a
    difference of order ``Y_0 eta mu``.

    >>> round(float(error_probability(0.5, eta_detector=0.1, dark_count_probability=1e-6, misalignment=0.01)), 8)
    0.00048818
    """
    _, errors = detection_and_error_probability(
        mean_photons,
        eta_detector=eta_detector,
        dark_count_probability=dark_count_probability,
        misalignment=misalignment,
        afterpulse_probability=afterpulse_probability,
    )
    return errors


def quantum_bit_error_rate(
    mean_photons: ArrayLike,
    *,
    eta_detector: ArrayLike,
    dark_count_probability: ArrayLike = 0.0,
    misalignment: ArrayLike = 0.0,
) -> np.ndarray:
    """QBER ``E_mu = (e_0 Y_0 + e_d (1 - exp(-eta mu))) / Q_mu`` of a weak coherent pulse [1]_.

    Equals 1/2 where only dark counts click and ``misalignment`` where dark counts vanish.
    Where no click is possible at all (``Q_mu = 0``) the QBER is undefined and returned as 1/2.

    >>> round(float(quantum_bit_error_rate(0.5, eta_detector=1e-3, dark_count_probability=1e-6, misalignment=0.015)), 5)
    0.01597
    """
    gain = detection_probability(mean_photons, eta_detector=eta_detector, dark_count_probability=dark_count_probability)
    errors = error_probability(
        mean_photons,
        eta_detector=eta_detector,
        dark_count_probability=dark_count_probability,
        misalignment=misalignment,
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(gain > 0.0, errors / np.where(gain > 0.0, gain, 1.0), 0.5)


def dead_gates(dead_time_s: ArrayLike, repetition_rate_hz: ArrayLike) -> np.ndarray:
    """Gates lost after each click, ``n = ceil(tau f)`` (the convention of the module docstring).

    >>> float(dead_gates(20e-9, 1e9)), float(dead_gates(20.5e-9, 1e9)), float(dead_gates(0.0, 1e9))
    (20.0, 21.0, 0.0)
    """
    tau = np.asarray(dead_time_s, dtype=float)
    f = np.asarray(repetition_rate_hz, dtype=float)
    return np.ceil(np.round(tau * f, 9))


def registered_click_fraction(
    click_probability: ArrayLike, *, repetition_rate_hz: ArrayLike, dead_time_s: ArrayLike
) -> np.ndarray:
    """Fraction ``1 / (1 + n p)`` of the clicks a non-paralysable gated detector registers [2]_.

    ``p`` is the click probability per gate without dead time and ``n`` the :func:`dead_gates`;
    every quantity derived from clicks (key bits included) scales by this factor.

    >>> round(float(registered_click_fraction(0.01, repetition_rate_hz=1e9, dead_time_s=100e-9)), 6)
    0.5
    """
    p = np.asarray(click_probability, dtype=float)
    return 1.0 / (1.0 + dead_gates(dead_time_s, repetition_rate_hz) * p)


def dead_time_click_rate_hz(
    click_probability: ArrayLike, repetition_rate_hz: ArrayLike, dead_time_s: ArrayLike
) -> np.ndarray:
    """Registered click rate of a gated detector with a non-paralysable dead time.

    After each click the detector ignores the next ``n = ceil(dead_time_s * repetition_rate_hz)``
    gates (:func:`dead_gates`). Each click therefore costs, on average, ``1 + n p`` gates of which
    ``n p`` would have clicked, and the registered rate is ``f p / (1 + n p)`` [2]_. For a
    free-running detector (``n p`` from ``f tau p``) this is the classic non-paralysable law
    ``R = R0 / (1 + R0 tau)`` of [3]_ with the unsaturated rate ``R0 = f p``.

    Parameters
    ----------
    click_probability : array_like
        Click probability per gate without dead time, in [0, 1].
    repetition_rate_hz : array_like
        Gate (pulse) repetition rate, Hz.
    dead_time_s : array_like
        Dead time after a click, s.

    Returns
    -------
    numpy.ndarray
        Registered clicks per second.

    >>> float(dead_time_click_rate_hz(0.01, 1e9, 0.0))
    10000000.0
    >>> round(float(dead_time_click_rate_hz(0.01, 1e9, 100e-9)), 1)
    5000000.0
    """
    p = np.asarray(click_probability, dtype=float)
    f = np.asarray(repetition_rate_hz, dtype=float)
    return f * p / (1.0 + dead_gates(dead_time_s, f) * p)
