"""Longest fibre with a positive key: bracket on a coarse grid, then refine the sign change.

Each refinement evaluates a whole grid of lengths inside the current bracket in one vectorised call
of the protocol (so an optimising model such as the finite-key one runs its optimiser once per
round for all trial lengths, not once per bisection step), shrinking the bracket by the grid size
per round. Rates are assumed to fall with length, as they do for every repeaterless model here.
"""

from __future__ import annotations

import math

import numpy as np

from qit4n.physics.fibre import fibre_transmittance
from qit4n.qkd.base import ChannelParameters, ProtocolSpec

__all__ = ["max_distance_km"]

#: Loss beyond which a positive rate counts as unbounded (transmittance 1e-300 is the float floor).
UNBOUNDED_LOSS_DB = 3000.0
_GRID_POINTS = 24


def max_distance_km(
    spec: ProtocolSpec,
    params: ChannelParameters,
    *,
    tolerance_km: float = 1e-3,
    max_length_km: float | None = None,
) -> float | None:
    """Largest fibre length (km) at which ``spec`` yields a positive key with ``params``.

    ``None`` when there is no key even at zero length; ``math.inf`` when the key stays positive at
    every length (no attenuation, or a bound such as PLOB that is positive for any ``eta > 0``).
    The answer is within ``tolerance_km`` of the last length with a positive rate.

    >>> from qit4n.qkd import get_protocol, make_parameters
    >>> round(max_distance_km(get_protocol("bb84-decoy-inf"), make_parameters("bb84-decoy-inf", "gys")), 1)
    142.2
    >>> max_distance_km(get_protocol("plob"), make_parameters("plob"))
    inf
    """

    def positive(lengths: np.ndarray) -> np.ndarray:
        eta = fibre_transmittance(lengths, params.loss_db_per_km)
        return spec.evaluate(eta, params).key_rate_per_pulse > 0.0

    if not positive(np.array([0.0]))[0]:
        return None
    if params.loss_db_per_km == 0.0:
        return math.inf
    limit = max_length_km if max_length_km is not None else UNBOUNDED_LOSS_DB / params.loss_db_per_km
    if max_length_km is None and positive(np.array([limit]))[0]:
        return math.inf
    low, high = 0.0, limit
    while high - low > tolerance_km:
        grid = np.linspace(low, high, _GRID_POINTS + 2)[1:-1]
        keyed = positive(grid)
        last = int(np.flatnonzero(keyed)[-1]) if keyed.any() else -1
        new_low = grid[last] if last >= 0 else low
        new_high = grid[last + 1] if last + 1 < grid.size else high
        low, high = new_low, new_high
    return float(low)
