"""Density matrices of a few qubits (numpy): the exact reference for the Bell-diagonal formalism.

Qubit 0 is the most significant bit of a basis index. Operations return new arrays. The
functions here simulate circuits literally (Bell measurements by projection, purification by
bilateral CNOTs and measurement, teleportation) so that the closed forms of :mod:`qit4n.qin.bell`
and :mod:`qit4n.qin.purify` can be checked against them.

References
----------
M. A. Nielsen, I. L. Chuang, Quantum Computation and Quantum Information (2010), ch. 2 and 8.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike

from qit4n.errors import ParameterError

__all__ = [
    "CNOT",
    "HADAMARD",
    "PAULIS",
    "apply_channel",
    "apply_operator",
    "bell_vector",
    "depolarising_kraus",
    "fidelity_pure",
    "from_bell_diagonal",
    "memory_kraus",
    "partial_trace",
    "project",
    "to_bell_diagonal",
]

PAULIS = {
    "I": np.eye(2, dtype=complex),
    "X": np.array([[0, 1], [1, 0]], dtype=complex),
    "Y": np.array([[0, -1j], [1j, 0]], dtype=complex),
    "Z": np.array([[1, 0], [0, -1]], dtype=complex),
}
CNOT = np.array([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 0, 1], [0, 0, 1, 0]], dtype=complex)
HADAMARD = np.array([[1, 1], [1, -1]], dtype=complex) / np.sqrt(2.0)

_PHI_PLUS = np.array([1, 0, 0, 1], dtype=complex) / np.sqrt(2.0)


def bell_vector(label: str) -> np.ndarray:
    """State vector ``(I x P)|Phi+>`` for ``P`` in I, X, Y, Z (Phi+, Psi+, Psi- up to phase, Phi-)."""
    return np.kron(PAULIS["I"], PAULIS[label]) @ _PHI_PLUS


def from_bell_diagonal(coefficients: ArrayLike) -> np.ndarray:
    """The 4x4 density matrix of a Bell-diagonal state ``[p_I, p_X, p_Y, p_Z]``."""
    values = np.asarray(coefficients, dtype=float)
    return sum(
        weight * np.outer(bell_vector(label), bell_vector(label).conj()) for weight, label in zip(values, "IXYZ")
    )


def to_bell_diagonal(rho: np.ndarray) -> np.ndarray:
    """The four Bell-state populations ``<B_P| rho |B_P>`` of a two-qubit density matrix."""
    return np.array([np.real(bell_vector(label).conj() @ rho @ bell_vector(label)) for label in "IXYZ"])


def _num_qubits(rho: np.ndarray) -> int:
    size = rho.shape[0]
    count = int(round(np.log2(size)))
    if rho.shape != (size, size) or 2**count != size:
        raise ParameterError(f"rho shape = {rho.shape}: must be square with side 2^n")
    return count


def apply_operator(rho: np.ndarray, operator: np.ndarray, qubits: Sequence[int]) -> np.ndarray:
    """``O rho O^dagger`` with the k-qubit ``operator`` acting on ``qubits`` (in that order)."""
    count = _num_qubits(rho)
    k = len(qubits)
    tensor = rho.reshape((2,) * (2 * count))
    op = operator.reshape((2,) * (2 * k))
    rows = list(qubits)
    tensor = np.tensordot(op, tensor, axes=(list(range(k, 2 * k)), rows))
    tensor = np.moveaxis(tensor, list(range(k)), rows)
    cols = [count + q for q in qubits]
    tensor = np.tensordot(tensor, op.conj(), axes=(cols, list(range(k, 2 * k))))
    tensor = np.moveaxis(tensor, list(range(2 * count - k, 2 * count)), cols)
    return tensor.reshape(2**count, 2**count)


def apply_channel(rho: np.ndarray, kraus: Sequence[np.ndarray], qubits: Sequence[int]) -> np.ndarray:
    """Apply the channel with Kraus operators ``kraus`` to ``qubits``."""
    return sum((apply_operator(rho, operator, qubits) for operator in kraus), np.zeros_like(rho))


def partial_trace(rho: np.ndarray, keep: Sequence[int]) -> np.ndarray:
    """Reduced density matrix of the qubits ``keep`` (in increasing order)."""
    count = _num_qubits(rho)
    tensor = rho.reshape((2,) * (2 * count))
    traced = [q for q in range(count) if q not in keep]
    for offset, qubit in enumerate(sorted(traced, reverse=True)):
        remaining = count - offset
        tensor = np.trace(tensor, axis1=qubit, axis2=qubit + remaining)
    side = 2 ** len(keep)
    return tensor.reshape(side, side)


def project(rho: np.ndarray, qubit: int, outcome: int) -> np.ndarray:
    """Unnormalised post-measurement state after a Z measurement of ``qubit`` giving ``outcome``."""
    projector = np.zeros((2, 2), dtype=complex)
    projector[outcome, outcome] = 1.0
    return apply_operator(rho, projector, [qubit])


def memory_kraus(wait_s: float, *, t1_s: float = np.inf, t2_s: float = np.inf) -> list[np.ndarray]:
    """Kraus operators of amplitude damping (T1) followed by pure dephasing, total coherence decay exp(-t/T2).

    Requires ``T2 <= 2 T1`` (physical qubits). The populations relax as ``exp(-t/T1)`` and the
    coherences decay as ``exp(-t/T2)``.
    """
    if t2_s > 2.0 * t1_s:
        raise ParameterError(f"t2_s = {t2_s}: must be <= 2 * t1_s = {2.0 * t1_s}")
    gamma = 1.0 - np.exp(-wait_s / t1_s)
    damping = [
        np.array([[1, 0], [0, np.sqrt(1 - gamma)]], dtype=complex),
        np.array([[0, np.sqrt(gamma)], [0, 0]], dtype=complex),
    ]
    # Residual dephasing so that the coherence factor is exp(-t/T2) overall.
    residual = np.exp(-wait_s / t2_s) / np.sqrt(1.0 - gamma) if gamma < 1.0 else 0.0
    flip = max(0.0, (1.0 - residual) / 2.0)
    dephasing = [np.sqrt(1 - flip) * PAULIS["I"], np.sqrt(flip) * PAULIS["Z"]]
    return [d @ a for d in dephasing for a in damping]


def depolarising_kraus(weight: float) -> list[np.ndarray]:
    """One-qubit depolarising channel ``rho -> w rho + (1 - w) I/2`` as Kraus operators."""
    error = (1.0 - weight) / 4.0
    return [np.sqrt(1.0 - 3.0 * error) * PAULIS["I"]] + [np.sqrt(error) * PAULIS[label] for label in "XYZ"]


def fidelity_pure(rho: np.ndarray, vector: np.ndarray) -> float:
    """Fidelity ``<psi| rho |psi>`` with a pure state."""
    return float(np.real(vector.conj() @ rho @ vector))
