"""Neutral mathematics shared by every layer: entropy functions (vectorised, safe at the ends of [0, 1]).

A foundation module: it imports no other qit4n package, so physics, models, estimators and
repeater protocols can all use it.

The binary entropy ``h2(x) = -x log2 x - (1-x) log2(1-x)`` appears in every discrete-variable
key rate as the error-correction leak (times the efficiency ``f_EC``) and as the phase-error term
of privacy amplification.

References
----------
Shor, P. W. and Preskill, J., Phys. Rev. Lett. 85, 441 (2000), doi:10.1103/PhysRevLett.85.441.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["binary_entropy", "binary_entropy_clipped"]

_TINY = 1e-300
_MINUS_INV_LN2 = -1.0 / np.log(2.0)


def binary_entropy(x: ArrayLike) -> np.ndarray:
    """Binary Shannon entropy in bits, ``h2(0) = h2(1) = 0``; inputs outside [0, 1] are clipped.

    >>> float(binary_entropy(0.5))
    1.0
    >>> float(binary_entropy(0.0))
    0.0
    >>> round(float(binary_entropy(0.11)), 4)
    0.4999
    """
    p = np.clip(np.asarray(x, dtype=float), 0.0, 1.0)
    q = 1.0 - p
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = -p * np.log2(p) - q * np.log2(q)
    return np.where((p > 0.0) & (q > 0.0), terms, 0.0)


def binary_entropy_clipped(x: ArrayLike) -> np.ndarray:
    """``h2(min(x, 1/2))``: the entropy used where an error-rate bound above 1/2 carries no key.

    Upper bounds on a phase-error rate may exceed 1/2; the entropy is monotone only up to 1/2, so
    this saturates at one bit rather than decreasing again. Inputs below 1e-300 count as 1e-300
    (an entropy below 1e-297 bits), which spares a mask on the fast path of sweeps.

    >>> float(binary_entropy_clipped(0.7))
    1.0
    """
    p = np.clip(np.asarray(x, dtype=float), _TINY, 0.5)
    q = 1.0 - p
    return (p * np.log(p) + q * np.log(q)) * _MINUS_INV_LN2
