"""Longest fibre with a positive key: the first sign change of the key rate, bracketed and refined.

One vectorised call of the protocol evaluates a grid of lengths (so an optimising model such as the
finite-key one runs its optimiser once for all of them, each point warm-started by its neighbours);
further grids inside the first cell without key narrow the bracket to 64 tolerances, and
:func:`scipy.optimize.brentq` refines the first sign change inside it. The rate is clipped at
zero, so ``brentq`` is handed the rate less the smallest normal float (as good as the unclipped
rate for locating its sign change). Where the model evaluated at single lengths disagrees with the
grid at the bracket's ends (a batch-optimised model may, by ~1e-10 of key), the grids go on to the
tolerance instead. The first sign change, not the last positive grid point, is the answer: a model
that came back positive at greater length (rounding noise, for one) does not move it.
"""

from __future__ import annotations

import math
import sys

import numpy as np
from scipy.optimize import brentq

from qit4n.physics.fibre import fibre_transmittance
from qit4n.qkd.base import ChannelParameters, ProtocolSpec

__all__ = ["max_distance_km"]

#: Loss beyond which a positive rate counts as unbounded (transmittance 1e-300 is the float floor).
UNBOUNDED_LOSS_DB = 3000.0
_GRID_POINTS = 64
#: Grid rounds narrow the bracket to this many tolerances before ``brentq`` refines it.
_BRENTQ_BRACKETS = 64
_FLOOR = sys.float_info.min


def max_distance_km(
    spec: ProtocolSpec,
    params: ChannelParameters,
    *,
    tolerance_km: float = 1e-3,
    max_length_km: float | None = None,
) -> float | None:
    """Length (km) of the first sign change of the key rate of ``spec`` with ``params``.

    ``None`` when there is no key even at zero length; ``math.inf`` when the key stays positive at
    every length (no attenuation, or a bound such as PLOB that is positive for any ``eta > 0``);
    ``max_length_km`` when it stays positive up to that cap. The answer is within ``tolerance_km``
    of the sign change.

    >>> from qit4n.qkd import get_protocol, make_parameters
    >>> round(max_distance_km(get_protocol("bb84-decoy-inf"), make_parameters("bb84-decoy-inf", "gys")), 1)
    142.2
    >>> max_distance_km(get_protocol("plob"), make_parameters("plob"))
    inf
    """

    def rates(lengths: np.ndarray) -> np.ndarray:
        eta = fibre_transmittance(lengths, params.loss_db_per_km)
        return np.asarray(spec.evaluate(eta, params).key_rate_per_pulse, dtype=float)

    def signed(length_km: float) -> float:
        return float(rates(np.array([length_km]))[0]) - _FLOOR

    if not rates(np.array([0.0]))[0] > 0.0:
        return None
    if params.loss_db_per_km == 0.0:
        return math.inf
    limit = max_length_km if max_length_km is not None else UNBOUNDED_LOSS_DB / params.loss_db_per_km
    low, high = 0.0, limit
    while high - low > tolerance_km:
        if high - low <= _BRENTQ_BRACKETS * tolerance_km:
            at_low, at_high = signed(low), signed(high)
            if at_low > 0.0 > at_high:
                return float(brentq(signed, low, high, xtol=tolerance_km / 2.0))
        grid = np.linspace(low, high, _GRID_POINTS + 1)
        keyless = np.flatnonzero(~(rates(grid[1:]) > 0.0))
        if keyless.size == 0:
            if high == limit:
                return math.inf if max_length_km is None else float(limit)
            break  # ``high`` was found keyless by a coarser grid (an optimiser's batch-dependent answer)
        first = int(keyless[0]) + 1
        low, high = float(grid[first - 1]), float(grid[first])
    return low
