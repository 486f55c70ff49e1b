"""Decoy-state BB84 with a weak decoy and the vacuum, asymptotic GLLP key rate (``bb84-decoy``).

Alice sends a signal intensity ``mu``, a weak decoy ``nu < mu`` and the vacuum. From their gains
``Q`` and error gains ``EQ`` (measured; here predicted by :mod:`qit4n.qkd._bb84_channel`) the
single-photon yield and error rate are bounded by Ma, Qi, Zhao and Lo 2005, Eqs. (34) and (37)::

    Y1 >= Y1_L = mu / (mu nu - nu^2) [Q_nu e^nu - Q_mu e^mu nu^2/mu^2 - (mu^2 - nu^2)/mu^2 Q_0]
    e1 <= e1_U = (EQ_nu e^nu - EQ_0) / (Y1_L nu)

and the GLLP key rate per pulse (their Eq. 1, BB84 sifting ``q = 1/2``) is::

    R = q [Q1_L (1 - h2(e1_U)) - f_EC Q_mu h2(E_mu)],   Q1_L = Y1_L mu e^-mu.

Intensities left ``None`` are optimised at every point by a vectorised golden-section search
(:func:`qit4n.qkd.optimise.golden_section_maximise`) on the unclipped rate. In the asymptotic
limit the best decoy is the weakest one, so an optimised ``nu`` sits at the lower end of its
allowed range, ``minimum_decoy_intensity`` (a practical floor set by intensity-modulator
extinction and statistics; Ma et al. Sec. V use ``nu`` of a few percent).

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
from qit4n.qkd._bb84_channel import (
    BB84Parameters,
    background_yield,
    click_probability,
    error_probability,
    key_rate_bps,
)
from qit4n.qkd.base import ProtocolSpec, RateResult
from qit4n.qkd.entropy import binary_entropy, binary_entropy_clipped
from qit4n.qkd.optimise import golden_section_maximise

__all__ = ["DecoyParameters", "key_rate", "decoy_bounds", "PROTOCOL"]

#: BB84 sifting factor: both parties pick the same of two equiprobable bases.
SIFTING_FACTOR = 0.5
#: Range searched for an optimised signal intensity (mean photons per pulse).
SIGNAL_SEARCH_RANGE = (1e-3, 1.5)


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


def decoy_bounds(
    eta: np.ndarray, mu: np.ndarray, nu: np.ndarray, params: BB84Parameters
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(Y1_L, e1_U, Q_mu, EQ_mu)`` at total transmittance ``eta`` (Ma et al. 2005, Eqs. 34, 37)."""
    y0 = background_yield(params.dark_count_probability)
    p_ap = params.afterpulse_probability
    e_d = params.misalignment_error
    q_mu = click_probability(mu, eta, y0, p_ap)
    eq_mu = error_probability(mu, eta, y0, e_d, p_ap)
    q_nu = click_probability(nu, eta, y0, p_ap)
    eq_nu = error_probability(nu, eta, y0, e_d, p_ap)
    q_0 = y0 * (1.0 + p_ap)
    eq_0 = 0.5 * y0 * (1.0 + p_ap)
    ratio = (nu / mu) ** 2
    y1_lower = mu / (mu * nu - nu * nu) * (q_nu * np.exp(nu) - q_mu * np.exp(mu) * ratio - (1.0 - ratio) * q_0)
    with np.errstate(divide="ignore", invalid="ignore"):
        e1_upper = (eq_nu * np.exp(nu) - eq_0) / (y1_lower * nu)
    e1_upper = np.where(y1_lower > 0.0, e1_upper, 0.5)
    return y1_lower, e1_upper, q_mu, eq_mu


def _rate_unclipped(eta: np.ndarray, mu: np.ndarray, nu: np.ndarray, params: DecoyParameters) -> np.ndarray:
    y1_lower, e1_upper, q_mu, eq_mu = decoy_bounds(eta, mu, nu, params)
    q1 = np.maximum(y1_lower, 0.0) * mu * np.exp(-mu)
    leak = params.error_correction_efficiency * q_mu * binary_entropy(eq_mu / q_mu)
    return SIFTING_FACTOR * (q1 * (1.0 - binary_entropy_clipped(e1_upper)) - leak)


def _choose_intensities(eta: np.ndarray, params: DecoyParameters) -> tuple[np.ndarray, np.ndarray]:
    mu_fixed, nu_fixed = params.intensity_signal, params.intensity_decoy
    nu_floor = params.minimum_decoy_intensity
    if mu_fixed is not None and nu_fixed is not None:
        return np.full_like(eta, mu_fixed), np.full_like(eta, nu_fixed)
    if nu_fixed is None:
        # The bound tightens as nu -> 0 (Ma et al. 2005, Sec. IV C): the floor is the optimum,
        # unless mu is fixed below it.
        nu = np.full_like(eta, nu_floor if mu_fixed is None else min(nu_floor, 0.5 * mu_fixed))
    else:
        nu = np.full_like(eta, nu_fixed)
    if mu_fixed is not None:
        return np.full_like(eta, mu_fixed), nu
    lower = np.maximum(SIGNAL_SEARCH_RANGE[0], 1.001 * nu)
    mu, _ = golden_section_maximise(lambda m: _rate_unclipped(eta, m, nu, params), lower, SIGNAL_SEARCH_RANGE[1])
    return mu, nu


def key_rate(eta_channel: np.ndarray, params: DecoyParameters) -> RateResult:
    """Asymptotic weak+vacuum decoy BB84 key rate at each channel transmittance (any shape).

    ``details`` holds ``intensity_signal``, ``intensity_decoy``, ``y1_lower``, ``e1_upper``,
    ``q1_lower`` (single-photon gain) and ``gain`` (``Q_mu``).

    >>> from qit4n.qkd import make_parameters
    >>> result = key_rate(np.array([1.0, 1e-2]), make_parameters("bb84-decoy", "gys"))
    >>> [f"{r:.2e}" for r in result.key_rate_per_pulse]
    ['2.53e-03', '2.21e-05']
    """
    if params.intensity_signal is not None and params.intensity_decoy is not None:
        if params.intensity_decoy >= params.intensity_signal:
            raise ParameterError(
                f"intensity_decoy = {params.intensity_decoy:g}: must be < intensity_signal = {params.intensity_signal:g}"
            )
    eta = np.asarray(eta_channel, dtype=float) * params.eta_detector
    mu, nu = _choose_intensities(eta, params)
    y1_lower, e1_upper, q_mu, eq_mu = decoy_bounds(eta, mu, nu, params)
    q1 = np.maximum(y1_lower, 0.0) * mu * np.exp(-mu)
    leak = params.error_correction_efficiency * q_mu * binary_entropy(eq_mu / q_mu)
    rate = np.maximum(SIFTING_FACTOR * (q1 * (1.0 - binary_entropy_clipped(e1_upper)) - leak), 0.0)
    details = {
        "intensity_signal": mu,
        "intensity_decoy": nu,
        "y1_lower": y1_lower,
        "e1_upper": e1_upper,
        "q1_lower": q1,
        "gain": q_mu,
    }
    return RateResult(rate, key_rate_bps(rate, q_mu, params), eq_mu / q_mu, details)


PROTOCOL = ProtocolSpec(
    name="bb84-decoy",
    title="BB84, weak + vacuum decoy states (asymptotic)",
    parameters=DecoyParameters,
    key_rate=key_rate,
    reference="Ma, Qi, Zhao, Lo, Phys. Rev. A 72, 012326 (2005), doi:10.1103/PhysRevA.72.012326",
)
