"""Teleportation of a qubit through a Bell-diagonal pair.

Teleporting through a Bell-diagonal pair ``p`` applies the Pauli channel with probabilities ``p``
to the input; the fidelity averaged over Haar-random inputs is ``(2F + 1)/3`` with ``F = p_I``.

References
----------
C. H. Bennett et al., Phys. Rev. Lett. 70, 1895 (1993), doi:10.1103/PhysRevLett.70.1895.
M. Horodecki, P. Horodecki, R. Horodecki, Phys. Rev. A 60, 1888 (1999), doi:10.1103/PhysRevA.60.1888.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from qit4n.qin.bell import validate_bell_diagonal

__all__ = ["average_teleportation_fidelity", "state_fidelity_from_bloch", "teleport_bloch"]


def average_teleportation_fidelity(pair: ArrayLike) -> np.ndarray:
    """Haar-averaged fidelity ``(2 p_I + 1)/3`` of teleportation through ``pair``.

    >>> from qit4n.qin.bell import werner
    >>> round(float(average_teleportation_fidelity(werner(0.85))), 4)
    0.9
    """
    return (2.0 * validate_bell_diagonal(pair, "pair")[..., 0] + 1.0) / 3.0


def teleport_bloch(bloch: ArrayLike, pair: ArrayLike) -> np.ndarray:
    """Bloch vector of the teleported qubit: each component scaled by the pair's Pauli channel.

    ``bloch`` has shape ``(..., 3)`` (x, y, z); the result broadcasts with ``pair``.
    """
    p = validate_bell_diagonal(pair, "pair")
    pi, px, py, pz = np.moveaxis(p, -1, 0)
    scalings = np.stack([pi + px - py - pz, pi - px + py - pz, pi - px - py + pz], axis=-1)
    return np.asarray(bloch, dtype=float) * scalings


def state_fidelity_from_bloch(bloch_in: ArrayLike, bloch_out: ArrayLike) -> np.ndarray:
    """Fidelity ``(1 + r_in . r_out)/2`` of a mixed output with a pure input (unit ``bloch_in``)."""
    return (1.0 + np.sum(np.asarray(bloch_in) * np.asarray(bloch_out), axis=-1)) / 2.0
