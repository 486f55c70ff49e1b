"""Decoy-state BB84 with a weak decoy and the vacuum, asymptotic GLLP key rate (``bb84-decoy``).

Alice sends a signal intensity ``mu``, a weak decoy ``nu < mu`` and the vacuum. From their gains
``Q`` and error gains ``EQ`` (measured; here predicted by :mod:`qit4n.qkd._bb84_channel`) the
single-photon yield and error rate are bounded as in Ma, Qi, Zhao and Lo 2005 (vacuum+weak decoy)::

    Y1 >= Y1_L = mu / (mu nu - nu^2) [Q_nu e^nu - Q_mu e^mu nu^2/mu^2 - (mu^2 - nu^2)/mu^2 Q_0]
    e1 <= e1_U = (EQ_nu e^nu - EQ_0) / (Y1_L nu)

and the GLLP key rate per pulse (BB84 sifting ``q = 1/2``) is::

    R = q [Q1_L (1 - h2(e1_U)) - f_EC Q_mu h2(E_mu)],   Q1_L = Y1_L mu e^-mu.

Intensities left ``None`` are optimised at every point by a vectorised golden-section search
(:func:`qit4n.qkd.optimise.golden_section_maximise`) on the unclipped rate. In the asymptotic
limit the best decoy is the weakest one, so an optimised ``nu`` sits at the lower end of its
allowed range, ``minimum_decoy_intensity`` (a practical floor set by intensity-modulator
extinction and, in a real run, by statistics).

References
----------
Ma, X., Qi, B., Zhao, Y. and Lo, H.-K., Phys. Rev. A 72, 012326 (2005),
doi:10.1103/PhysRevA.72.012326, arXiv:quant-ph/0503005.
Gottesman, D., Lo, H.-K., Lütkenhaus, N. and Preskill, J., Quantum Inf. Comput. 4, 325 (2004),
arXiv:quant-ph/0212066 (GLLP).
"""

from __future__ import annotations

import numpy as np
from pydantic import Field

from qit4n.errors import ParameterError
from qit4n.maths import binary_entropy_clipped
from qit4n.qkd._bb84_channel import BB84Parameters, error_rate, in_blocks, key_rate_bps, linear_gain
from qit4n.qkd.base import ProtocolSpec, RateResult
from qit4n.qkd.optimise import golden_section_maximise

__all__ = ["PROTOCOL", "DecoyParameters", "decoy_bounds", "key_rate"]

#: BB84 sifting factor: both parties pick the same of two equiprobable bases.
SIFTING_FACTOR = 0.5
#: Range searched for an optimised signal intensity (mean photons per pulse).
SIGNAL_SEARCH_RANGE = (1e-3, 1.5)
#: Golden-section steps: the bracket shrinks to 1.5 * 0.618^30 ~ 8e-7 photons per pulse.
GOLDEN_SECTION_ITERATIONS = 30


class DecoyParameters(BB84Parameters):
    """Weak+vacuum decoy BB84: the shared receiver model plus the two intensities."""

    intensity_signal: float | None = Field(
        None, gt=0.0, le=5.0, description="signal mean photon number mu; None = optimised per point"
    )
    intensity_decoy: float | None = Field(
        None, gt=0.0, le=5.0, description="weak decoy mean photon number nu < mu; None = optimised per point"
    )
    minimum_decoy_intensity: float = Field(
        0.01, gt=0.0, le=1.0, description="lowest decoy intensity the optimiser may choose"
    )


def _decoy_terms(eta: np.ndarray, nu: float, params: BB84Parameters) -> tuple[np.ndarray, np.ndarray]:
    """``(Q_nu e^nu, (EQ_nu e^nu - EQ_0) / nu)``: the decoy and vacuum measurements the bounds use."""
    line = linear_gain(params)
    m_nu = np.expm1(eta * -nu)
    boost = np.exp(nu)
    gain_boosted = boost * line.gain_0 + (boost * line.gain_slope) * m_nu
    errors_scaled = (boost - 1.0) * line.errors_0 / nu + (boost * line.errors_slope / nu) * m_nu
    return gain_boosted, errors_scaled


def _signal_terms(
    eta: np.ndarray,
    mu: np.ndarray | float,
    nu: float,
    decoy_terms: tuple[np.ndarray, np.ndarray],
    params: BB84Parameters,
) -> tuple[np.ndarray, ...]:
    """``(raw rate, Y1_L, e1_U, Q1_L, Q_mu, E_mu)`` for signal ``mu`` given the decoy terms."""
    gain_boosted, errors_scaled = decoy_terms
    line = linear_gain(params)
    m_mu = np.expm1(eta * np.negative(mu))
    q_mu = line.gain_0 + line.gain_slope * m_mu
    qber = error_rate(line.errors_0 + line.errors_slope * m_mu, q_mu)
    ratio = (nu / mu) ** 2
    prefactor = mu / (mu * nu - nu * nu)
    y1_lower = (
        prefactor * gain_boosted - (prefactor * np.exp(mu) * ratio) * q_mu - prefactor * (1.0 - ratio) * line.gain_0
    )
    e1_upper = errors_scaled / np.maximum(y1_lower, 1e-300)
    q1 = np.maximum(y1_lower, 0.0) * (mu * np.exp(-mu))
    leak = (params.error_correction_efficiency * q_mu) * binary_entropy_clipped(qber)
    raw = SIFTING_FACTOR * (q1 * (1.0 - binary_entropy_clipped(e1_upper)) - leak)
    return raw, y1_lower, e1_upper, q1, q_mu, qber


def decoy_bounds(
    eta: np.ndarray, mu: np.ndarray | float, nu: float, params: BB84Parameters
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(Y1_L, e1_U, Q_mu, E_mu)`` at total transmittance ``eta`` (Ma et al. 2005).

    ``e1_U`` is 1/2 where ``Y1_L <= 0`` (no single-photon key can be certified).
    """
    eta = np.asarray(eta, dtype=float)
    _, y1_lower, e1_upper, _, q_mu, qber = _signal_terms(eta, mu, nu, _decoy_terms(eta, nu, params), params)
    return y1_lower, np.where(y1_lower > 0.0, e1_upper, 0.5), q_mu, qber


def _decoy_intensity(params: DecoyParameters) -> float:
    if params.intensity_decoy is not None:
        return params.intensity_decoy
    # The bound tightens as nu -> 0: the floor is the optimum,
    # unless a fixed mu lies below it.
    floor = params.minimum_decoy_intensity
    return floor if params.intensity_signal is None else min(floor, 0.5 * params.intensity_signal)


def key_rate(eta_channel: np.ndarray, params: DecoyParameters) -> RateResult:
    """Asymptotic weak+vacuum decoy BB84 key rate at each channel transmittance (any shape).

    ``details`` holds ``intensity_signal``, ``intensity_decoy``, ``y1_lower``, ``e1_upper``,
    ``q1_lower`` (single-photon gain) and ``gain`` (``Q_mu``).

    >>> from qit4n.qkd import make_parameters
    >>> result = key_rate(np.array([1.0, 1e-2]), make_parameters("bb84-decoy", "gys"))
    >>> [f"{r:.2e}" for r in result.key_rate_per_pulse]
    ['2.53e-03', '2.21e-05']
    """
    nu = _decoy_intensity(params)
    if params.intensity_signal is not None and nu >= params.intensity_signal:
        raise ParameterError(f"intensity_decoy = {nu:g}: must be < intensity_signal = {params.intensity_signal:g}")
    return in_blocks(lambda block: _key_rate_block(block, nu, params), np.asarray(eta_channel, dtype=float))


def _key_rate_block(eta_channel: np.ndarray, nu: float, params: DecoyParameters) -> RateResult:
    eta = eta_channel * params.eta_detector
    decoy_terms = _decoy_terms(eta, nu, params)
    mu: np.ndarray | float
    if params.intensity_signal is None:
        lower = max(SIGNAL_SEARCH_RANGE[0], 1.001 * nu)
        mu, _ = golden_section_maximise(
            lambda m: _signal_terms(eta, m, nu, decoy_terms, params)[0],
            np.full(eta.shape, lower),
            SIGNAL_SEARCH_RANGE[1],
            iterations=GOLDEN_SECTION_ITERATIONS,
        )
    else:
        mu = params.intensity_signal
    raw, y1_lower, e1_upper, q1, q_mu, qber = _signal_terms(eta, mu, nu, decoy_terms, params)
    rate = np.maximum(raw, 0.0)
    details = {
        "intensity_signal": np.broadcast_to(mu, eta.shape),
        "intensity_decoy": np.broadcast_to(nu, eta.shape),
        "y1_lower": y1_lower,
        "e1_upper": np.where(y1_lower > 0.0, e1_upper, 0.5),
        "q1_lower": q1,
        "gain": q_mu,
    }
    return RateResult(rate, key_rate_bps(rate, q_mu, params), qber, details)


PROTOCOL = ProtocolSpec(
    name="bb84-decoy",
    title="BB84, weak + vacuum decoy states (asymptotic)",
    parameters=DecoyParameters,
    key_rate=key_rate,
    reference="Ma, Qi, Zhao, Lo, Phys. Rev. A 72, 012326 (2005), doi:10.1103/PhysRevA.72.012326",
)
