"""Photon-number statistics of QKD light sources: weak coherent (Poisson) and thermal (SPDC).

A phase-randomised weak coherent pulse of mean photon number ``mu`` is a Poisson mixture of Fock
states, which is what makes the decoy-state method work [1]_. One arm of a single-mode
spontaneous parametric down-conversion (SPDC) source is thermal (Bose-Einstein) [2]_.

References
----------
.. [1] H.-K. Lo, X. Ma, K. Chen, "Decoy state quantum key distribution", Phys. Rev. Lett. 94,
   230504 (2005), doi:10.1103/PhysRevLett.94.230504.
.. [2] X. Ma, C.-H. F. Fung, H.-K. Lo, "Quantum key distribution with entangled photon sources",
   Phys. Rev. A 76, 012307 (2007), doi:10.1103/PhysRevA.76.012307 (eq. 2).
"""

from __future__ import annotations

import enum

import numpy as np
from numpy.typing import ArrayLike

from qit4n.errors import ParameterError

__all__ = [
    "PairStatistics",
    "nonempty_probability",
    "poisson_multiphoton_probability",
    "poisson_photon_probability",
    "thermal_multiphoton_probability",
    "thermal_photon_probability",
]


class PairStatistics(enum.Enum):
    """Pair-number statistics of a pair source per slot: thermal, one mode pair per polarisation
    (a single-mode SPDC source, [2]_), or Poisson (the many-mode limit)."""

    THERMAL = "thermal"
    POISSON = "poisson"


def _photon_numbers(n: ArrayLike) -> np.ndarray:
    numbers = np.asarray(n, dtype=float)
    bad = (numbers < 0) | (np.floor(numbers) != numbers)
    if np.any(bad):
        raise ParameterError(f"n = {numbers[bad].flat[0]:g}: must be a non-negative integer")
    return numbers


def poisson_photon_probability(n: ArrayLike, mean_photon_number: ArrayLike) -> np.ndarray:
    """Probability ``exp(-mu) mu^n / n!`` that a weak coherent pulse holds ``n`` photons.

    Broadcasts ``n`` (non-negative integers) against ``mean_photon_number`` (``mu >= 0``);
    ``mu = 0`` gives the vacuum exactly.

    >>> np.round(poisson_photon_probability(np.arange(3), 0.5), 6)
    array([0.606531, 0.303265, 0.075816])
    >>> float(poisson_photon_probability(0, 0.0))
    1.0
    """
    from scipy.special import gammaln, xlogy

    numbers = _photon_numbers(n)
    mu = np.asarray(mean_photon_number, dtype=float)
    return np.exp(xlogy(numbers, mu) - mu - gammaln(numbers + 1.0))


def poisson_multiphoton_probability(mean_photon_number: ArrayLike) -> np.ndarray:
    """Probability ``1 - exp(-mu)(1 + mu)`` of two or more photons in a weak coherent pulse.

    >>> round(float(poisson_multiphoton_probability(0.5)), 6)
    0.090204
    """
    mu = np.asarray(mean_photon_number, dtype=float)
    return -np.expm1(-mu) - mu * np.exp(-mu)


def thermal_photon_probability(n: ArrayLike, mean_photon_number: ArrayLike) -> np.ndarray:
    """Probability ``mu^n / (1 + mu)^(n + 1)`` of ``n`` photons in one thermal mode [2]_.

    This is the photon-number distribution of each arm (and of the pair number) of a single-mode
    SPDC source with mean pair number ``mu`` (``mu = sinh^2`` of the squeezing parameter).

    >>> np.round(thermal_photon_probability(np.arange(3), 0.1), 6)
    array([0.909091, 0.082645, 0.007513])
    """
    from scipy.special import xlogy

    numbers = _photon_numbers(n)
    mu = np.asarray(mean_photon_number, dtype=float)
    return np.exp(xlogy(numbers, mu) - (numbers + 1.0) * np.log1p(mu))


def nonempty_probability(mean_photon_number: ArrayLike, statistics: PairStatistics) -> np.ndarray:
    """Probability of at least one photon (pair) in a mode: ``mu / (1 + mu)`` thermal, ``1 - exp(-mu)`` Poisson.

    >>> [round(float(nonempty_probability(0.1, statistics)), 6) for statistics in PairStatistics]
    [0.090909, 0.095163]
    """
    mu = np.asarray(mean_photon_number, dtype=float)
    if statistics is PairStatistics.THERMAL:
        return mu / (1.0 + mu)
    return -np.expm1(-mu)


def thermal_multiphoton_probability(mean_photon_number: ArrayLike) -> np.ndarray:
    """Probability ``(mu / (1 + mu))^2`` of two or more photons (pairs) in one thermal mode.

    >>> round(float(thermal_multiphoton_probability(0.1)), 6)
    0.008264
    """
    mu = np.asarray(mean_photon_number, dtype=float)
    return (mu / (1.0 + mu)) ** 2
