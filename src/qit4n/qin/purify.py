"""Entanglement purification of Bell-diagonal pairs: BBPSSW, DEJMPS and entanglement pumping.

Each function takes two Bell-diagonal states (arrays ``[..., 4]`` in the order
``[Phi+, Psi+, Psi-, Phi-]``) and returns ``(output_state, success_probability)``. Local
operations are perfect; the density-matrix circuits in :mod:`qit4n.qin.circuits` check these
closed forms.

References
----------
C. H. Bennett et al., "Purification of noisy entanglement and faithful teleportation via noisy
channels", Phys. Rev. Lett. 76, 722 (1996), doi:10.1103/PhysRevLett.76.722.
D. Deutsch et al., "Quantum privacy amplification and the security of quantum cryptography over
noisy channels", Phys. Rev. Lett. 77, 2818 (1996), doi:10.1103/PhysRevLett.77.2818.
W. Dür, H.-J. Briegel, J. I. Cirac, P. Zoller, Phys. Rev. A 59, 169 (1999) (entanglement pumping).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from qit4n.qin.bell import twirl, validate_bell_diagonal

__all__ = ["bbpssw", "bilateral_cnot", "dejmps", "pump"]


def bilateral_cnot(first: ArrayLike, second: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Bilateral CNOT (first pair controls) and keep on equal Z outcomes of the second pair.

    For inputs ``p = [p_I, p_X, p_Y, p_Z]`` and ``q`` the kept pair has the errors whose X
    components agree: ``I`` and ``Z`` errors survive with ``I``/``Z`` partners, ``X``/``Y`` with
    ``X``/``Y`` partners, and the phase (Z) components of both pairs add up.
    """
    p = validate_bell_diagonal(first, "first")
    q = validate_bell_diagonal(second, "second")
    pi, px, py, pz = np.moveaxis(p, -1, 0)
    qi, qx, qy, qz = np.moveaxis(q, -1, 0)
    # Without a bit flip (I, Z) on both, or with a bit flip (X, Y) on both, the parities agree.
    out_i = pi * qi + pz * qz
    out_z = pi * qz + pz * qi
    out_x = px * qx + py * qy
    out_y = px * qy + py * qx
    unnormalised = np.stack([out_i, out_x, out_y, out_z], axis=-1)
    success = unnormalised.sum(axis=-1)
    return unnormalised / success[..., None], success


def bbpssw(first: ArrayLike, second: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """BBPSSW recurrence: twirl both pairs to Werner form, bilateral CNOT, keep on agreement, twirl again.

    For Werner inputs of fidelity F the output fidelity is
    ``(F^2 + ((1-F)/3)^2) / (F^2 + 2F(1-F)/3 + 5((1-F)/3)^2)`` (Bennett et al. 1996).

    >>> from qit4n.qin.bell import werner
    >>> state, success = bbpssw(werner(0.75), werner(0.75))
    >>> round(float(state[0]), 4), round(float(success), 4)
    (0.7885, 0.7222)
    """
    state, success = bilateral_cnot(twirl(first), twirl(second))
    return twirl(state), success


def dejmps(first: ArrayLike, second: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """DEJMPS recurrence: local rotations that exchange the Y and Z errors, then bilateral CNOT.

    With ``A, B, C, D`` the weights of Phi+, Psi-, Psi+, Phi- (Deutsch et al. 1996) the output is
    ``A' = (A^2 + B^2)/N, B' = 2CD/N, C' = (C^2 + D^2)/N, D' = 2AB/N`` with
    ``N = (A + B)^2 + (C + D)^2`` the success probability.
    """
    p = validate_bell_diagonal(first, "first")
    q = validate_bell_diagonal(second, "second")
    # Alice's Rx(pi/2) and Bob's Rx(-pi/2) map the Pauli error Y <-> Z and leave I, X.
    rotate = [0, 1, 3, 2]
    return bilateral_cnot(p[..., rotate], q[..., rotate])


def pump(stored: ArrayLike, fresh: ArrayLike, rounds: int, *, recurrence=dejmps) -> tuple[np.ndarray, np.ndarray]:
    """Entanglement pumping: purify one stored pair ``rounds`` times with fresh elementary pairs.

    Returns the state after each round (shape ``(rounds, ..., 4)``) and the probability that all
    rounds so far succeeded (shape ``(rounds, ...)``).
    """
    state = validate_bell_diagonal(stored, "stored")
    states, probabilities = [], []
    cumulative = np.ones(state.shape[:-1])
    for _ in range(rounds):
        state, success = recurrence(state, fresh)
        cumulative = cumulative * success
        states.append(state)
        probabilities.append(cumulative)
    return np.array(states), np.array(probabilities)
