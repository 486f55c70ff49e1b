"""Single-photon detectors: click probability, dark counts, misalignment errors and dead time.

All functions are pure and broadcast over numpy arrays. Probabilities are per detection gate
(per pulse slot) unless the name says otherwise.

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

import numpy as np
from numpy.typing import ArrayLike

__all__ = [
    "dark_count_probability",
    "dead_time_click_rate_hz",
    "detection_probability",
    "error_probability",
    "quantum_bit_error_rate",
]


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


def detection_probability(
    mean_photons: ArrayLike, *, eta_detector: ArrayLike, dark_count_probability: ArrayLike = 0.0
) -> np.ndarray:
    """Click probability of a threshold detector for a Poissonian input of ``mean_photons``.

    ``1 - (1 - p_dc) exp(-eta mu)``: no click needs both no dark count and no detected photon.
    ``eta_detector`` is the overall transmittance seen by the photons (channel times detector
    efficiency when ``mean_photons`` is the mean photon number sent). This is the gain
    ``Q_mu = Y_0 + 1 - exp(-eta mu)`` of [1]_ without the small ``Y_0 (1 - exp(-eta mu))`` term
    that eq. (1) of [1]_ drops.

    Parameters
    ----------
    mean_photons : array_like
        Mean photon number per pulse arriving at the detector (or sent, see ``eta_detector``).
    eta_detector : array_like
        Transmittance times detection efficiency, in [0, 1].
    dark_count_probability : array_like
        Probability of a dark (or noise) click per gate, in [0, 1].

    Returns
    -------
    numpy.ndarray
        Click probability per gate, broadcast shape of the inputs.

    >>> round(float(detection_probability(1.0, eta_detector=0.1, dark_count_probability=0.0)), 6)
    0.095163
    """
    mu = np.asarray(mean_photons, dtype=float)
    eta = np.asarray(eta_detector, dtype=float)
    p_dc = np.asarray(dark_count_probability, dtype=float)
    return p_dc + (1.0 - p_dc) * -np.expm1(-eta * mu)


def error_probability(
    mean_photons: ArrayLike,
    *,
    eta_detector: ArrayLike,
    dark_count_probability: ArrayLike = 0.0,
    misalignment: ArrayLike = 0.0,
) -> np.ndarray:
    """Probability per gate of an erroneous click, ``E_mu Q_mu`` of [1]_.

    ``e_0 Y_0 exp(-eta mu) + e_d (1 - exp(-eta mu))`` with ``e_0 = 1/2`` (a dark count is random)
    and ``e_d`` the ``misalignment`` (probability that a signal photon hits the wrong detector).
    The dark count is weighted by the probability that no signal photon is detected, which keeps
    the errors consistent with :func:`detection_probability` (``E_mu <= 1/2`` for ``e_d <= 1/2``);
    [1]_ drops that factor, a difference of order ``Y_0 eta mu``.

    >>> round(float(error_probability(0.5, eta_detector=0.1, dark_count_probability=1e-6, misalignment=0.01)), 8)
    0.00048818
    """
    mu = np.asarray(mean_photons, dtype=float)
    eta = np.asarray(eta_detector, dtype=float)
    p_dc = np.asarray(dark_count_probability, dtype=float)
    e_d = np.asarray(misalignment, dtype=float)
    no_signal = np.exp(-eta * mu)
    return 0.5 * p_dc * no_signal + e_d * (1.0 - no_signal)


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


def dead_time_click_rate_hz(
    click_probability: ArrayLike, repetition_rate_hz: ArrayLike, dead_time_s: ArrayLike
) -> np.ndarray:
    """Registered click rate of a gated detector with a non-paralysable dead time.

    After each click the detector ignores the next ``n = ceil(dead_time_s * repetition_rate_hz)``
    gates. Each click therefore costs, on average, ``1 + n p`` gates of which ``n p`` would have
    clicked, and the registered rate is ``f p / (1 + n p)`` [2]_. For a free-running detector
    (``n p`` from ``f tau p``) this is the classic non-paralysable law ``R = R0 / (1 + R0 tau)`` of
    [3]_ with the unsaturated rate ``R0 = f p``.

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
    tau = np.asarray(dead_time_s, dtype=float)
    blocked_gates = np.ceil(np.round(tau * f, 9))
    return f * p / (1.0 + blocked_gates * p)
