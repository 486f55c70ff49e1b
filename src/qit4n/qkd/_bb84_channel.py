"""Shared parameters and the detection model of the BB84 family (weak coherent or single photons).

Bob has two threshold detectors behind a passive or active basis choice. A phase-randomised
coherent pulse of mean photon number ``mu`` sent through total transmittance ``eta`` (channel
times ``eta_detector``) gives (Ma, Qi, Zhao and Lo 2005, Eqs. 15-17; Lim et al. 2014, Sec. IV)

* background yield ``Y0 = 1 - (1 - p_dc)^2`` (either of the two detectors fires in the dark),
* detection probability ``D = 1 - (1 - Y0) exp(-eta mu)`` (afterpulses excluded),
* click probability ``Q = D (1 + p_ap)`` with afterpulse probability ``p_ap``,
* error probability ``E Q = Y0 / 2 + e_d (1 - exp(-eta mu)) + p_ap D / 2``,

so ``E = EQ / Q`` is the QBER at intensity ``mu``. With ``p_ap = 0`` these are the Ma et al. forms
(which write ``Q = Y0 + 1 - exp(-eta mu)``, equal to ours to order ``Y0 eta mu``).

References
----------
Ma, X., Qi, B., Zhao, Y. and Lo, H.-K., Phys. Rev. A 72, 012326 (2005),
doi:10.1103/PhysRevA.72.012326, arXiv:quant-ph/0503005.
Lim, C. C. W., Curty, M., Walenta, N., Xu, F. and Zbinden, H., Phys. Rev. A 89, 022307 (2014),
doi:10.1103/PhysRevA.89.022307, arXiv:1311.7129.
Rogers, D. J. et al., New J. Phys. 9, 319 (2007), doi:10.1088/1367-2630/9/9/319 (dead time).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from pydantic import Field

from qit4n.qkd.base import ChannelParameters

__all__ = ["BB84Parameters", "background_yield", "click_probability", "error_probability", "key_rate_bps"]


class BB84Parameters(ChannelParameters):
    """Receiver and post-processing parameters shared by every BB84-family model.

    Defaults follow the fibre system of Lim et al. 2014, Sec. IV (InGaAs detectors: efficiency
    10 %, dark counts 6e-7 per gate, misalignment 0.5 %, ``f_EC = 1.16``) without afterpulses,
    clocked at 1 GHz.
    """

    eta_detector: float = Field(0.1, gt=0.0, le=1.0, description="Bob's detection efficiency incl. receiver optics")
    dark_count_probability: float = Field(
        6e-7, ge=0.0, le=0.1, description="dark-count probability per detector per gate (two detectors)"
    )
    afterpulse_probability: float = Field(0.0, ge=0.0, le=0.5, description="afterpulse probability per detection")
    misalignment_error: float = Field(0.005, ge=0.0, le=0.5, description="optical error probability e_d")
    error_correction_efficiency: float = Field(1.16, ge=1.0, le=3.0, description="f_EC: leak / Shannon limit")
    dead_time_s: float = Field(0.0, ge=0.0, le=1e-3, description="detector dead time (non-paralysable), s")


def background_yield(dark_count_probability: ArrayLike) -> np.ndarray:
    """``Y0 = 1 - (1 - p_dc)^2``: probability that at least one of two detectors fires in the dark.

    >>> round(float(background_yield(8.5e-7)), 12)
    1.699999e-06
    """
    p = np.asarray(dark_count_probability, dtype=float)
    return p * (2.0 - p)


def click_probability(mu: ArrayLike, eta: ArrayLike, y0: ArrayLike, afterpulse: float = 0.0) -> np.ndarray:
    """Gain ``Q`` of intensity ``mu`` over total transmittance ``eta`` (including the detector)."""
    detection = 1.0 - (1.0 - y0) * np.exp(-np.multiply(eta, mu))
    return detection * (1.0 + afterpulse)


def error_probability(
    mu: ArrayLike, eta: ArrayLike, y0: ArrayLike, misalignment: float, afterpulse: float = 0.0
) -> np.ndarray:
    """``E Q``: probability per pulse of a click with the wrong bit value."""
    signal = -np.expm1(-np.multiply(eta, mu))
    errors = 0.5 * y0 + misalignment * signal
    if afterpulse:
        errors = errors + 0.5 * afterpulse * (1.0 - (1.0 - y0) * (1.0 - signal))
    return errors


def key_rate_bps(key_per_pulse: np.ndarray, clicks_per_pulse: np.ndarray, params: BB84Parameters) -> np.ndarray:
    """Secret key per second: per-pulse rate times the clock, saturated by the detector dead time.

    A non-paralysable detector with dead time ``tau`` registers ``r / (1 + r tau)`` of ``r`` clicks
    per second (Rogers et al. 2007), so every click-derived quantity scales by that factor.
    """
    rate_hz = params.repetition_rate_hz
    if params.dead_time_s == 0.0:
        return key_per_pulse * rate_hz
    return key_per_pulse * rate_hz / (1.0 + clicks_per_pulse * rate_hz * params.dead_time_s)
