"""Shared parameters and the detection model of the BB84 family (weak coherent or single photons).

Bob has two threshold detectors behind a passive or active basis choice. A phase-randomised
coherent pulse of mean photon number ``mu`` sent through total transmittance ``eta`` (channel
times ``eta_detector``) gives (Ma, Qi, Zhao and Lo 2005, channel model; Lim et al. 2014, Sec. IV)

* background yield ``Y0 = 1 - (1 - p_dc)^2`` (either of the two detectors fires in the dark),
* detection probability ``D = 1 - (1 - Y0) exp(-eta mu)`` (afterpulses excluded),
* click probability ``Q = D (1 + p_ap)`` with afterpulse probability ``p_ap``,
* error probability ``E Q = e_d (1 - exp(-eta mu)) + exp(-eta mu) Y0 / 2 + p_ap D / 2``
  (a signal photon errs with ``e_d``; a dark click alone is a coin toss),

so ``E = EQ / Q`` is the QBER at intensity ``mu``, at most 1/2 whenever ``e_d <= 1/2``. With
``p_ap = 0`` these are the Ma et al. forms (which write ``Q = Y0 + 1 - exp(-eta mu)`` and
``EQ = Y0 / 2 + e_d (1 - exp(-eta mu))``), equal to ours to order ``Y0 eta mu``.

References
----------
Ma, X., Qi, B., Zhao, Y. and Lo, H.-K., Phys. Rev. A 72, 012326 (2005),
doi:10.1103/PhysRevA.72.012326, arXiv:quant-ph/0503005.
Lim, C. C. W., Curty, M., Walenta, N., Xu, F. and Zbinden, H., Phys. Rev. A 89, 022307 (2014),
doi:10.1103/PhysRevA.89.022307, arXiv:1311.7129.
Rogers, D. J. et al., New J. Phys. 9, 319 (2007), doi:10.1088/1367-2630/9/9/319 (dead time).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike
from pydantic import Field

from qit4n.qkd.base import ChannelParameters, RateResult

__all__ = [
    "BB84Parameters",
    "LinearGain",
    "background_yield",
    "click_probability",
    "error_probability",
    "error_rate",
    "gain_and_errors",
    "in_blocks",
    "key_rate_bps",
    "linear_gain",
]

#: Points per block in :func:`in_blocks`: a block's temporaries stay in the CPU cache.
BLOCK_POINTS = 32768


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
    errors = 0.5 * y0 * (1.0 - signal) + misalignment * signal
    if afterpulse:
        errors = errors + 0.5 * afterpulse * (1.0 - (1.0 - y0) * (1.0 - signal))
    return errors


def gain_and_errors(
    mu: ArrayLike, eta: ArrayLike, y0: float, misalignment: float, afterpulse: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    """``(Q, EQ)`` together, sharing one exponential (the hot path of sweeps)."""
    signal = -np.expm1(-np.multiply(eta, mu))
    detection = y0 + (1.0 - y0) * signal
    errors = 0.5 * y0 * (1.0 - signal) + misalignment * signal
    if afterpulse:
        return detection * (1.0 + afterpulse), errors + 0.5 * afterpulse * detection
    return detection, errors


class LinearGain(NamedTuple):
    """``Q = gain_0 + gain_slope m`` and ``EQ = errors_0 + errors_slope m`` with ``m = expm1(-eta mu)``."""

    gain_0: float
    gain_slope: float
    errors_0: float
    errors_slope: float


def linear_gain(params: BB84Parameters) -> LinearGain:
    """Coefficients of the gain and error gain as linear functions of ``m = expm1(-eta mu)``.

    The same model as :func:`gain_and_errors`, arranged so a sweep spends one exponential and four
    array operations per intensity.
    """
    y0 = float(background_yield(params.dark_count_probability))
    p_ap = params.afterpulse_probability
    return LinearGain(
        gain_0=(1.0 + p_ap) * y0,
        gain_slope=-(1.0 + p_ap) * (1.0 - y0),
        errors_0=0.5 * (1.0 + p_ap) * y0,
        errors_slope=0.5 * y0 - params.misalignment_error - 0.5 * p_ap * (1.0 - y0),
    )


def error_rate(errors: np.ndarray, gain: np.ndarray) -> np.ndarray:
    """``errors / gain``, and 1/2 (no information) where nothing clicks at all."""
    gain = np.asarray(gain, dtype=float)
    return np.divide(errors, gain, out=np.full(np.broadcast(errors, gain).shape, 0.5), where=gain > 0.0)


def key_rate_bps(key_per_pulse: np.ndarray, clicks_per_pulse: np.ndarray, params: BB84Parameters) -> np.ndarray:
    """Secret key per second: per-pulse rate times the clock, saturated by the detector dead time.

    A non-paralysable detector with dead time ``tau`` registers ``r / (1 + r tau)`` of ``r`` clicks
    per second (Rogers et al. 2007), so every click-derived quantity scales by that factor.
    """
    rate_hz = params.repetition_rate_hz
    if params.dead_time_s == 0.0:
        return key_per_pulse * rate_hz
    return key_per_pulse * rate_hz / (1.0 + clicks_per_pulse * rate_hz * params.dead_time_s)


def in_blocks(
    compute: Callable[[np.ndarray], RateResult], eta: np.ndarray, block_points: int | None = None
) -> RateResult:
    """Apply ``compute`` to blocks of ``eta`` and reassemble one result of ``eta``'s shape.

    Large sweeps are memory-bound: each numpy operation streams every temporary through main
    memory. Blocks of :data:`BLOCK_POINTS` keep the temporaries in cache (2-3 times faster at 10^6
    points) at the cost of a short Python loop; optimisers that hold a population per point use
    smaller blocks to bound their memory.
    """
    size = BLOCK_POINTS if block_points is None else block_points
    if eta.size <= size:
        return compute(eta)
    flat = eta.reshape(-1)
    blocks = [flat[start : start + size] for start in range(0, flat.size, size)]
    parts = [compute(block) for block in blocks]

    def join(arrays: list[np.ndarray]) -> np.ndarray:
        return np.concatenate([np.broadcast_to(a, b.shape) for a, b in zip(arrays, blocks, strict=True)]).reshape(
            eta.shape
        )

    qber = None if parts[0].qber is None else join([part.qber for part in parts])
    details = {key: join([part.details[key] for part in parts]) for key in parts[0].details}
    return RateResult(
        join([part.key_rate_per_pulse for part in parts]), join([part.key_rate_bps for part in parts]), qber, details
    )
