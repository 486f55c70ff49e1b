"""Robust vectorised maximisation over a positive parameter, shared by the MDI and twin-field models.

A coarse logarithmic grid locates the best cell of every point (the unclipped key rate can have a
flat or negative region in which a bare golden-section search could stall); a golden-section
search in ``log(x)`` then refines inside the two cells around it
(:func:`qit4n.qkd.optimise.golden_section_maximise`), every point advancing in the same numpy
operation.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike

from qit4n.qkd.optimise import golden_section_maximise

__all__ = ["maximise_positive"]


def maximise_positive(
    objective: Callable[[np.ndarray], np.ndarray],
    lower: ArrayLike,
    upper: ArrayLike,
    grid_points: int = 24,
    iterations: int = 30,
) -> tuple[np.ndarray, np.ndarray]:
    """Maximise ``objective`` per element over ``[lower, upper]`` (both > 0).

    The broadcast shape of ``lower`` and ``upper`` is the shape of the problem (one search per
    element). ``objective`` takes an array of that shape (or with one extra leading axis during
    the grid stage) and returns values of the same shape. Returns ``(argmax, max)``.

    >>> x, best = maximise_positive(lambda t: -np.log(t / np.array([0.01, 0.3])) ** 2, np.full(2, 1e-3), 1.0)
    >>> np.round(x, 6).tolist()
    [0.01, 0.3]
    """
    low, high = np.broadcast_arrays(np.log(np.asarray(lower, dtype=float)), np.log(np.asarray(upper, dtype=float)))
    steps = np.linspace(0.0, 1.0, grid_points).reshape((grid_points,) + (1,) * low.ndim)
    grid = low + steps * (high - low)
    values = objective(np.exp(grid))
    best = np.argmax(values, axis=0)
    left = np.take_along_axis(grid, np.maximum(best - 1, 0)[None], axis=0)[0]
    right = np.take_along_axis(grid, np.minimum(best + 1, grid_points - 1)[None], axis=0)[0]
    log_x, value = golden_section_maximise(lambda t: objective(np.exp(t)), left, right, iterations)
    grid_best = np.take_along_axis(values, best[None], axis=0)[0]
    use_grid = grid_best > value
    chosen = np.where(use_grid, np.take_along_axis(grid, best[None], axis=0)[0], log_x)
    return np.exp(chosen), np.where(use_grid, grid_best, value)
