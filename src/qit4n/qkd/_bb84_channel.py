"""Shared parameters of the BB84 family (weak coherent or single photons) on the detector model of
:mod:`qit4n.physics.detector`.

Bob has two threshold detectors behind a passive or active basis choice. A phase-randomised
coherent pulse of mean photon number ``mu`` sent through total transmittance ``eta`` (channel
times ``eta_detector``) gives (Ma, Qi, Zhao and Lo 2005, channel model; Lim et al. 2014, Sec. IV;
:func:`qit4n.physics.detector.detection_and_error_probability` with ``p_dc = Y0``)

* background yield ``Y0 = 1 - (1 - p_dc)^2`` (either of the two detectors fires in the dark),
* detection probability ``D = 1 - (1 - Y0) exp(-eta mu)`` (afterpulses excluded),
* click probability ``Q = D (1 + p_ap)`` with afterpulse probability ``p_ap``,
* error probability ``E Q = e_d (1 - exp(-eta mu)) + exp(-eta mu) Y0 / 2 + p_ap D / 2``
  (a signal photon errs with ``e_d``; a dark click alone is a coin toss),

so ``E = EQ / Q`` is the QBER at intensity ``mu``, at most 1/2 whenever ``e_d <= 1/2``. With
``p_ap = 0`` these are the Ma et al. forms (which write ``Q = Y0 + 1 - exp(-eta mu)`` and
``EQ = Y0 / 2 + e_d (1 - exp(-eta mu))``), equal to ours to order ``Y0 eta mu``. The detector
dead time scales the key per second by the registered fraction of clicks, with the dead-time
convention of :mod:`qit4n.physics.detector`.

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

from qit4n.physics.detector import (
    GatedDetectorParameters,
    MisalignmentError,
    background_yield,
    registered_click_fraction,
)
from qit4n.qkd.base import ChannelParameters, ErrorCorrectionEfficiency, RateResult

__all__ = [
    "BB84Parameters",
    "LinearGain",
    "error_rate",
    "in_blocks",
    "key_rate_bps",
    "linear_gain",
]

#: Points per block in :func:`in_blocks`: a block's temporaries stay in the CPU cache.
BLOCK_POINTS = 32768


class BB84Parameters(GatedDetectorParameters, ChannelParameters):
    """Receiver and post-processing parameters shared by every BB84-family model.

    Defaults follow the fibre system of Lim et al. 2014, Sec. IV (InGaAs detectors: efficiency
    10 %, dark counts 6e-7 per gate, misalignment 0.5 %, ``f_EC = 1.16``) without afterpulses,
    clocked at 1 GHz. The detector fields come from
    :class:`qit4n.physics.detector.GatedDetectorParameters` (two detectors).
    """

    misalignment_error: MisalignmentError = 0.005
    error_correction_efficiency: ErrorCorrectionEfficiency = 1.16


class LinearGain(NamedTuple):
    """``Q = gain_0 + gain_slope m`` and ``EQ = errors_0 + errors_slope m`` with ``m = expm1(-eta mu)``."""

    gain_0: float
    gain_slope: float
    errors_0: float
    errors_slope: float


def linear_gain(params: BB84Parameters) -> LinearGain:
    """Coefficients of the gain and error gain as linear functions of ``m = expm1(-eta mu)``.

    The model of :func:`qit4n.physics.detector.detection_and_error_probability` (``p_dc = Y0``),
    arranged so a sweep spends one exponential and four array operations per intensity.
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

    A non-paralysable gated detector registers the fraction ``1 / (1 + n p)`` of its ``p`` clicks
    per gate (:func:`qit4n.physics.detector.registered_click_fraction`, Rogers et al. 2007), so
    every click-derived quantity scales by that factor.
    """
    rate_hz = params.repetition_rate_hz
    if params.dead_time_s == 0.0:
        return key_per_pulse * rate_hz
    fraction = registered_click_fraction(clicks_per_pulse, repetition_rate_hz=rate_hz, dead_time_s=params.dead_time_s)
    return key_per_pulse * rate_hz * fraction


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

    qbers = [part.qber for part in parts]
    qber = None if any(q is None for q in qbers) else join([q for q in qbers if q is not None])
    details = {key: join([part.details[key] for part in parts]) for key in parts[0].details}
    return RateResult(
        join([part.key_rate_per_pulse for part in parts]), join([part.key_rate_bps for part in parts]), qber, details
    )
