"""Bell-diagonal two-qubit states: the fast default formalism for entangled pairs.

A Bell-diagonal state is a mixture of the four Bell states. It is stored as the probabilities of
the Pauli error that maps the reference pair ``|Phi+>`` to each of them, in the order
``[I, X, Y, Z]``, i.e. ``[Phi+, Psi+, Psi-, Phi-]``; the last axis of an array has length 4 and
every leading axis broadcasts. The fidelity with ``|Phi+>`` is the first coefficient.

Pauli channels and Bell measurements act on these states by convolution over the Pauli group
modulo phases (the Klein group Z2 x Z2). In the character (Walsh) basis a convolution is a
product: a state has the three correlations ``t = (t_x, t_y, t_z)``, ``t_P = sum_Q p_Q chi_P(Q)``
with ``chi_P(Q) = +1`` when P and Q commute and -1 otherwise, a one-qubit Pauli channel multiplies
them by its Bloch-vector scalings, and swapping two pairs multiplies their correlations.

References
----------
W. Dür, H.-J. Briegel, J. I. Cirac, P. Zoller, Phys. Rev. A 59, 169 (1999), doi:10.1103/PhysRevA.59.169.
H.-J. Briegel, W. Dür, J. I. Cirac, P. Zoller, Phys. Rev. Lett. 81, 5932 (1998), doi:10.1103/PhysRevLett.81.5932.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from qit4n.errors import ParameterError

__all__ = [
    "PAULI_LABELS",
    "compose",
    "correlations",
    "fidelity",
    "from_correlations",
    "pauli_channel",
    "swap",
    "twirl",
    "validate_bell_diagonal",
    "werner",
    "werner_parameter",
]

#: Order of the Bell-diagonal coefficients: the Pauli error on one qubit of ``|Phi+>``.
PAULI_LABELS = ("I", "X", "Y", "Z")

# chi[P, Q] = +1 when Pauli P commutes with Q (rows: correlations x, y, z; columns: I, X, Y, Z).
_CHI = np.array(
    [
        [1.0, 1.0, -1.0, -1.0],
        [1.0, -1.0, 1.0, -1.0],
        [1.0, -1.0, -1.0, 1.0],
    ]
)


def validate_bell_diagonal(coefficients: ArrayLike, name: str = "state") -> np.ndarray:
    """Return ``coefficients`` as a float array after checking it is a probability vector on the last axis."""
    values = np.asarray(coefficients, dtype=float)
    if values.ndim == 0 or values.shape[-1] != 4:
        raise ParameterError(f"{name} shape = {values.shape}: last axis must hold the 4 Bell coefficients")
    if np.any(values < -1e-12) or np.any(np.abs(values.sum(axis=-1) - 1.0) > 1e-9):
        raise ParameterError(f"{name} = {values.tolist()}: coefficients must be >= 0 and sum to 1")
    return values


def werner(fidelity_value: ArrayLike) -> np.ndarray:
    """The Werner state of fidelity F: ``[F, (1-F)/3, (1-F)/3, (1-F)/3]``.

    >>> werner(0.85).round(3).tolist()
    [0.85, 0.05, 0.05, 0.05]
    """
    value = np.asarray(fidelity_value, dtype=float)
    if np.any(value < 0.0) or np.any(value > 1.0):
        raise ParameterError(f"fidelity = {value.tolist()}: must be in [0, 1]")
    rest = (1.0 - value) / 3.0
    return np.stack([value, rest, rest, rest], axis=-1)


def werner_parameter(fidelity_value: ArrayLike) -> np.ndarray:
    """Werner parameter ``w = (4F - 1) / 3`` (the weight of ``|Phi+>`` against the maximally mixed state)."""
    return (4.0 * np.asarray(fidelity_value, dtype=float) - 1.0) / 3.0


def fidelity(state: ArrayLike) -> np.ndarray:
    """Fidelity with ``|Phi+>``: the first coefficient."""
    return np.asarray(state, dtype=float)[..., 0]


def correlations(state: ArrayLike) -> np.ndarray:
    """The correlations ``(t_x, t_y, t_z)`` relative to ``|Phi+>`` (all 1 for ``|Phi+>`` itself)."""
    return np.asarray(state, dtype=float) @ _CHI.T


def from_correlations(t: ArrayLike) -> np.ndarray:
    """Invert :func:`correlations`: ``p_Q = (1 + sum_P chi_P(Q) t_P) / 4``."""
    values = np.asarray(t, dtype=float)
    return (1.0 + values @ _CHI) / 4.0


def compose(first: ArrayLike, second: ArrayLike) -> np.ndarray:
    """Convolution of two Pauli-error distributions (errors applied one after the other)."""
    return from_correlations(correlations(first) * correlations(second))


def pauli_channel(state: ArrayLike, scalings: ArrayLike) -> np.ndarray:
    """Apply a one-qubit Pauli channel with Bloch scalings ``(l_x, l_y, l_z)`` to either qubit of the pair.

    >>> pauli_channel(werner(1.0), [0.8, 0.8, 0.8]).round(2).tolist()  # depolarising, weight 0.8
    [0.85, 0.05, 0.05, 0.05]
    """
    return from_correlations(correlations(state) * np.asarray(scalings, dtype=float))


def swap(
    left: ArrayLike,
    right: ArrayLike,
    *,
    gate_depolarising: ArrayLike = 1.0,
    measurement_error: ArrayLike = 0.0,
) -> np.ndarray:
    """Entanglement swapping of two Bell-diagonal pairs with a noisy Bell measurement.

    The Bell measurement is a two-qubit gate that depolarises fully with probability
    ``1 - gate_depolarising`` followed by two one-bit measurements each flipped with probability
    ``measurement_error`` (the model of Briegel et al. 1998 with ``p2 = gate_depolarising`` and
    ``eta = 1 - measurement_error``); the Pauli correction is applied at one end. With perfect
    operations and Werner inputs the output fidelity is ``F1 F2 + (1-F1)(1-F2)/3``.

    >>> float(fidelity(swap(werner(0.9), werner(0.9))).round(6))
    0.813333
    """
    left_t = correlations(left)
    right_t = correlations(right)
    flip = 1.0 - 2.0 * np.asarray(measurement_error, dtype=float)
    # A wrong XX-parity bit leaves a Z error (scales t_x, t_y); a wrong ZZ-parity bit an X error (t_y, t_z).
    noise = np.stack([flip, flip * flip, flip], axis=-1) * np.asarray(gate_depolarising, dtype=float)[..., None]
    return from_correlations(left_t * right_t * noise)


def twirl(state: ArrayLike) -> np.ndarray:
    """Depolarising twirl: the Werner state of the same fidelity (used by BBPSSW between rounds)."""
    return werner(fidelity(state))
