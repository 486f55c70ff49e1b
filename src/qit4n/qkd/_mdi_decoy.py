"""Vacuum + weak-decoy bounds on the single-photon yield and phase error of MDI-QKD.

Each user sends the vacuum, a weak decoy ``nu`` or the signal ``mu`` (phase-randomised, so the
photon numbers are Poissonian). With ``Q_ab`` the gain when Alice sends intensity ``a`` and Bob
``b``, the combination::

    S_nu = Q_nu,nu e^(2 nu) - Q_0,nu e^nu - Q_nu,0 e^nu + Q_0,0 = sum_{n,m>=1} nu^(n+m) / (n! m!) Y_nm

keeps only the pulse pairs in which both users sent photons. Its terms with ``n + m >= 3`` are
at most ``(nu/mu)^3`` times the same terms of ``S_mu``, which gives the lower bound (derived here
the way Ma, Qi, Zhao and Lo 2005 bound the BB84 yield ``Y1``, applied to photon-number pairs as
in the vacuum+weak analysis of Ma, Fung and Razavi 2012)::

    Y11 >= Y11_L = (mu^3 S_nu - nu^3 S_mu) / (mu^2 nu^2 (mu - nu))

and the same combination of error gains, whose single-photon term is ``nu^2 e11 Y11``, bounds
the phase error from above::

    e11 <= e11_U = (EQ_nu,nu e^(2 nu) - EQ_0,nu e^nu - EQ_nu,0 e^nu + EQ_0,0) / (nu^2 Y11_L).

References
----------
Ma, X., Qi, B., Zhao, Y. and Lo, H.-K., Phys. Rev. A 72, 012326 (2005), doi:10.1103/PhysRevA.72.012326.
Ma, X., Fung, C.-H. F. and Razavi, M., Phys. Rev. A 86, 052305 (2012),
doi:10.1103/PhysRevA.86.052305, arXiv:1210.3929.
Lo, H.-K., Curty, M. and Qi, B., Phys. Rev. Lett. 108, 130503 (2012), doi:10.1103/PhysRevLett.108.130503.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from qit4n.qkd._mdi_gains import BasisGains

__all__ = ["GainModel", "both_sent", "error_11_upper", "yield_11_lower"]

#: Gains of one basis as a function of Alice's and Bob's intensities.
GainModel = Callable[[np.ndarray, np.ndarray], BasisGains]


def both_sent(gains: GainModel, intensity: np.ndarray) -> BasisGains:
    """``sum_{n,m>=1} intensity^(n+m)/(n! m!) X_nm`` for X the yield and the error yield.

    The combination of the gains with both users at ``intensity``, one of them at the vacuum,
    and both at the vacuum that keeps only the pulse pairs in which both sent photons.
    """
    zero = np.zeros_like(intensity)
    both = gains(intensity, intensity)
    alice_only = gains(intensity, zero)
    bob_only = gains(zero, intensity)
    neither = gains(zero, zero)
    once, twice = np.exp(intensity), np.exp(2.0 * intensity)
    return BasisGains(
        both.gain * twice - (alice_only.gain + bob_only.gain) * once + neither.gain,
        both.error_gain * twice - (alice_only.error_gain + bob_only.error_gain) * once + neither.error_gain,
    )


def yield_11_lower(s_nu: np.ndarray, s_mu: np.ndarray, mu: np.ndarray, nu: np.ndarray) -> np.ndarray:
    """``Y11_L`` from the both-sent gain sums of one basis at the decoy ``nu`` and the signal ``mu > nu``."""
    return (mu**3 * s_nu - nu**3 * s_mu) / (mu**2 * nu**2 * (mu - nu))


def error_11_upper(error_nu: np.ndarray, nu: np.ndarray, y11_lower: np.ndarray) -> np.ndarray:
    """``e11_U`` from the both-sent error-gain sum at the decoy ``nu``; 1/2 where ``Y11_L <= 0``."""
    with np.errstate(divide="ignore", invalid="ignore"):
        bound = error_nu / (nu**2 * y11_lower)
    return np.where(y11_lower > 0.0, bound, 0.5)
