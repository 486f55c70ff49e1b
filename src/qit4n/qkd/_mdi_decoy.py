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

__all__ = ["yield_11_lower", "error_11_upper"]

GainModel = Callable[[np.ndarray, np.ndarray], BasisGains]


def _both_sent(gains: GainModel, intensity: np.ndarray, attribute: str) -> np.ndarray:
    """``sum_{n,m>=1} intensity^(n+m)/(n! m!) X_nm`` for X the yield or the error yield."""
    zero = np.zeros_like(intensity)
    both = getattr(gains(intensity, intensity), attribute)
    alice_only = getattr(gains(intensity, zero), attribute)
    bob_only = getattr(gains(zero, intensity), attribute)
    neither = getattr(gains(zero, zero), attribute)
    return both * np.exp(2.0 * intensity) - (alice_only + bob_only) * np.exp(intensity) + neither


def yield_11_lower(gains: GainModel, mu: np.ndarray, nu: np.ndarray) -> np.ndarray:
    """``Y11_L`` from the gains of one basis at intensities 0, ``nu`` and ``mu`` (``nu < mu``)."""
    s_nu = _both_sent(gains, nu, "gain")
    s_mu = _both_sent(gains, mu, "gain")
    return (mu**3 * s_nu - nu**3 * s_mu) / (mu**2 * nu**2 * (mu - nu))


def error_11_upper(gains: GainModel, nu: np.ndarray, y11_lower: np.ndarray) -> np.ndarray:
    """``e11_U`` from the error gains at intensities 0 and ``nu``; 1/2 where ``Y11_L <= 0``."""
    numerator = _both_sent(gains, nu, "error_gain")
    with np.errstate(divide="ignore", invalid="ignore"):
        bound = numerator / (nu**2 * y11_lower)
    return np.where(y11_lower > 0.0, bound, 0.5)
