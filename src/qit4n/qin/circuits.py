"""Protocols as literal density-matrix circuits: swapping, purification and teleportation.

These are slow and exact; they are the independent reference against which the closed forms of
:mod:`qit4n.qin.bell`, :mod:`qit4n.qin.purify` and :mod:`qit4n.qin.teleport` are tested, and the
formalism to use when a state leaves the Bell-diagonal family (for example amplitude damping).

References
----------
M. Zukowski et al., Phys. Rev. Lett. 71, 4287 (1993) (entanglement swapping);
C. H. Bennett et al., Phys. Rev. Lett. 70, 1895 (1993) (teleportation);
C. H. Bennett et al., Phys. Rev. Lett. 76, 722 (1996); D. Deutsch et al., Phys. Rev. Lett. 77, 2818 (1996).
"""

from __future__ import annotations

import numpy as np

from qit4n.qin.density import CNOT, PAULIS, apply_operator, bell_vector, partial_trace

__all__ = ["purify_circuit", "rx", "swap_circuit", "teleport_circuit"]

# Pauli frame labels as (x bit, z bit).
_BITS = {"I": (0, 0), "X": (1, 0), "Z": (0, 1), "Y": (1, 1)}
_LABEL = {bits: label for label, bits in _BITS.items()}


def rx(angle_rad: float) -> np.ndarray:
    """Single-qubit rotation ``exp(-i angle X / 2)``."""
    return np.cos(angle_rad / 2) * PAULIS["I"] - 1j * np.sin(angle_rad / 2) * PAULIS["X"]


def _two_qubit_depolarise(rho: np.ndarray, qubits: list[int], weight: float) -> np.ndarray:
    if weight >= 1.0:
        return rho
    mixed = np.zeros_like(rho)
    for first in "IXYZ":
        for second in "IXYZ":
            mixed = mixed + apply_operator(rho, np.kron(PAULIS[first], PAULIS[second]), qubits)
    return weight * rho + (1.0 - weight) * mixed / 16.0


def _bell_measure_and_correct(
    rho: np.ndarray, measured: list[int], target: int, measurement_error: float
) -> np.ndarray:
    """Bell-measure ``measured``, correct ``target`` with the (possibly misread) outcome, trace out ``measured``."""
    count = int(round(np.log2(rho.shape[0])))
    keep = [q for q in range(count) if q not in measured]
    output = np.zeros((2 ** len(keep),) * 2, dtype=complex)
    for label in "IXYZ":
        vector = bell_vector(label)
        projected = apply_operator(rho, np.outer(vector, vector.conj()), measured)
        x_bit, z_bit = _BITS[label]
        for x_read, x_weight in ((x_bit, 1 - measurement_error), (1 - x_bit, measurement_error)):
            for z_read, z_weight in ((z_bit, 1 - measurement_error), (1 - z_bit, measurement_error)):
                if x_weight * z_weight == 0.0:
                    continue
                corrected = apply_operator(projected, PAULIS[_LABEL[(x_read, z_read)]], [target])
                output = output + x_weight * z_weight * partial_trace(corrected, keep)
    return output


def swap_circuit(
    left: np.ndarray, right: np.ndarray, *, gate_depolarising: float = 1.0, measurement_error: float = 0.0
) -> np.ndarray:
    """Swap pairs (0,1) and (2,3): noisy Bell measurement of qubits 1 and 2, Pauli correction on qubit 3."""
    rho = np.kron(left, right)
    rho = _two_qubit_depolarise(rho, [1, 2], gate_depolarising)
    return _bell_measure_and_correct(rho, [1, 2], 3, measurement_error)


def purify_circuit(first: np.ndarray, second: np.ndarray, *, rotate: bool) -> tuple[np.ndarray, float]:
    """Bilateral-CNOT purification of pair (0,1) with pair (2,3); DEJMPS rotations when ``rotate``.

    Returns the normalised kept pair and the probability that both Z outcomes of the second pair agree.
    """
    rho = np.kron(first, second)
    if rotate:
        for qubit, angle in ((0, np.pi / 2), (2, np.pi / 2), (1, -np.pi / 2), (3, -np.pi / 2)):
            rho = apply_operator(rho, rx(angle), [qubit])
    rho = apply_operator(rho, CNOT, [0, 2])
    rho = apply_operator(rho, CNOT, [1, 3])
    kept = np.zeros((4, 4), dtype=complex)
    for outcome in (0, 1):
        projector = np.zeros((4, 4), dtype=complex)
        projector[3 * outcome, 3 * outcome] = 1.0
        kept = kept + partial_trace(apply_operator(rho, projector, [2, 3]), [0, 1])
    success = float(np.real(np.trace(kept)))
    return kept / success, success


def teleport_circuit(state_vector: np.ndarray, pair: np.ndarray) -> np.ndarray:
    """Teleport the qubit ``state_vector`` through the pair (1,2): Bell measurement of (0,1), correction on 2."""
    rho_in = np.outer(state_vector, state_vector.conj())
    return _bell_measure_and_correct(np.kron(rho_in, pair), [0, 1], 2, 0.0)
