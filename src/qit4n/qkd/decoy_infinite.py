"""Decoy-state BB84 in the infinite-decoy limit: GLLP with the exact single-photon terms (``bb84-decoy-inf``).

With infinitely many decoy intensities Alice and Bob learn the single-photon yield and error rate
exactly (Lo, Ma and Chen 2005). For the channel of :mod:`qit4n.qkd._bb84_channel` these are::

    Y1 = D1 (1 + p_ap),   D1 = 1 - (1 - Y0)(1 - eta)
    e1 Y1 = e_d eta + (1 - eta) Y0 / 2 + p_ap D1 / 2

and the key rate per pulse is the GLLP formula ``R = q [Q1 (1 - h2(e1)) - f_EC Q_mu h2(E_mu)]``
with ``Q1 = Y1 mu e^-mu`` and ``q = 1/2`` (Ma, Qi, Zhao and Lo 2005). This is the
upper envelope every finite-decoy protocol approaches; ``intensity_signal = None`` optimises ``mu``
at every point (vectorised golden section).

References
----------
Lo, H.-K., Ma, X. and Chen, K., Phys. Rev. Lett. 94, 230504 (2005), doi:10.1103/PhysRevLett.94.230504.
Ma, X., Qi, B., Zhao, Y. and Lo, H.-K., Phys. Rev. A 72, 012326 (2005), doi:10.1103/PhysRevA.72.012326.
"""

from __future__ import annotations

import numpy as np
from pydantic import Field

from qit4n.maths import binary_entropy, binary_entropy_clipped
from qit4n.physics.detector import background_yield, detection_and_error_probability
from qit4n.qkd._bb84_channel import BB84Parameters, error_rate, in_blocks, key_rate_bps
from qit4n.qkd.base import ProtocolSpec, RateResult
from qit4n.qkd.optimise import golden_section_maximise

__all__ = ["PROTOCOL", "InfiniteDecoyParameters", "key_rate", "single_photon_terms"]

SIFTING_FACTOR = 0.5
SIGNAL_SEARCH_RANGE = (1e-3, 1.5)
GOLDEN_SECTION_ITERATIONS = 30


class InfiniteDecoyParameters(BB84Parameters):
    """Infinite-decoy BB84: the shared receiver model plus the signal intensity."""

    intensity_signal: float | None = Field(
        None, gt=0.0, le=5.0, description="signal mean photon number mu; None = optimised per point"
    )


def single_photon_terms(eta: np.ndarray, params: BB84Parameters) -> tuple[np.ndarray, np.ndarray]:
    """Exact single-photon yield ``Y1`` and error rate ``e1`` at total transmittance ``eta``."""
    y0 = background_yield(params.dark_count_probability)
    p_ap = params.afterpulse_probability
    detection = 1.0 - (1.0 - y0) * (1.0 - eta)
    errors = 0.5 * y0 * (1.0 - eta) + params.misalignment_error * eta + 0.5 * p_ap * detection
    gain = detection * (1.0 + p_ap)
    return gain, error_rate(errors, gain)


def _rate_unclipped(
    eta: np.ndarray, mu: np.ndarray, y1: np.ndarray, privacy: np.ndarray, params: BB84Parameters
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    y0 = float(background_yield(params.dark_count_probability))
    q_mu, eq_mu = detection_and_error_probability(
        mu,
        eta_detector=eta,
        dark_count_probability=y0,
        misalignment=params.misalignment_error,
        afterpulse_probability=params.afterpulse_probability,
    )
    q1 = y1 * mu * np.exp(-mu)
    leak = params.error_correction_efficiency * q_mu * binary_entropy_clipped(error_rate(eq_mu, q_mu))
    return SIFTING_FACTOR * (q1 * privacy - leak), q_mu, eq_mu


def key_rate(eta_channel: np.ndarray, params: InfiniteDecoyParameters) -> RateResult:
    """Infinite-decoy BB84 key rate per pulse at each channel transmittance (any shape).

    ``details``: ``intensity_signal``, ``y1`` and ``e1`` (exact), ``q1`` and ``gain``.

    >>> from qit4n.qkd import make_parameters
    >>> result = key_rate(np.array([1.0]), make_parameters("bb84-decoy-inf", "gys"))
    >>> round(float(result.details["intensity_signal"][0]), 2)
    0.49
    """
    return in_blocks(lambda block: _key_rate_block(block, params), np.asarray(eta_channel, dtype=float))


def _key_rate_block(eta_channel: np.ndarray, params: InfiniteDecoyParameters) -> RateResult:
    eta = eta_channel * params.eta_detector
    y1, e1 = single_photon_terms(eta, params)
    privacy = 1.0 - binary_entropy(e1)
    if params.intensity_signal is None:
        mu, _ = golden_section_maximise(
            lambda m: _rate_unclipped(eta, m, y1, privacy, params)[0],
            *SIGNAL_SEARCH_RANGE,
            iterations=GOLDEN_SECTION_ITERATIONS,
        )
    else:
        mu = np.full_like(eta, params.intensity_signal)
    raw, q_mu, eq_mu = _rate_unclipped(eta, mu, y1, privacy, params)
    rate = np.maximum(raw, 0.0)
    details = {"intensity_signal": mu, "y1": y1, "e1": e1, "q1": y1 * mu * np.exp(-mu), "gain": q_mu}
    return RateResult(rate, key_rate_bps(rate, q_mu, params), error_rate(eq_mu, q_mu), details)


PROTOCOL = ProtocolSpec(
    name="bb84-decoy-inf",
    title="BB84, infinite-decoy limit (asymptotic)",
    parameters=InfiniteDecoyParameters,
    key_rate=key_rate,
    reference="Lo, Ma, Chen, Phys. Rev. Lett. 94, 230504 (2005), doi:10.1103/PhysRevLett.94.230504",
)
