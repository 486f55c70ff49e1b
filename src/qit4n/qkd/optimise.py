"""Vectorised one-dimensional maximisation: one golden-section search per array element, all at once.

Key-rate models optimise an intensity at every channel transmittance. Calling a scalar optimiser per
point costs tens of microseconds of Python each; here every point of a sweep advances its own
bracket in the same numpy operation, so 10^6 points cost about as much as ~40 evaluations of the
vectorised rate. The objective must be unimodal on the bracket for the answer to be the maximum
(the unclipped key rate, allowed to go negative, is used so that flat zero regions do not stall it).

References
----------
Kiefer, J., Proc. Am. Math. Soc. 4, 502 (1953), doi:10.1090/S0002-9939-1953-0055639-3.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["golden_section_maximise"]

_INVERSE_PHI = (np.sqrt(5.0) - 1.0) / 2.0


def golden_section_maximise(
    objective: Callable[[np.ndarray], np.ndarray],
    lower: ArrayLike,
    upper: ArrayLike,
    iterations: int = 40,
) -> tuple[np.ndarray, np.ndarray]:
    """Maximise ``objective`` independently for every element over ``[lower, upper]``.

    ``objective`` maps an array of trial arguments (the broadcast shape of ``lower`` and
    ``upper``) to objective values of the same shape. Returns ``(argmax, max)``; the bracket
    shrinks by the golden ratio per iteration (40 iterations: a factor 2e-9).

    >>> x, value = golden_section_maximise(lambda t: -(t - np.array([0.2, 0.7])) ** 2, 0.0, 1.0)
    >>> np.round(x, 6).tolist()
    [0.2, 0.7]
    """
    low, high = np.broadcast_arrays(np.asarray(lower, dtype=float), np.asarray(upper, dtype=float))
    low = low.copy()
    high = high.copy()
    left = high - _INVERSE_PHI * (high - low)
    right = low + _INVERSE_PHI * (high - low)
    f_left = objective(left)
    f_right = objective(right)
    for _ in range(iterations):
        move_right = f_left < f_right
        # Keep [left, high] where the right probe is better, else [low, right].
        low = np.where(move_right, left, low)
        high = np.where(move_right, high, right)
        new_left = np.where(move_right, right, high - _INVERSE_PHI * (high - low))
        new_right = np.where(move_right, low + _INVERSE_PHI * (high - low), left)
        probe = np.where(move_right, new_right, new_left)
        f_probe = objective(probe)
        f_left, f_right = (
            np.where(move_right, f_right, f_probe),
            np.where(move_right, f_probe, f_left),
        )
        left, right = new_left, new_right
    best_left = f_left >= f_right
    return np.where(best_left, left, right), np.where(best_left, f_left, f_right)
