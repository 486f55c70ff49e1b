"""Remote CNOT between two quantum computers, consuming one Bell pair (distributed computing).

Protocol (Eisert, Jacobs, Papadopoulos, Plenio 2000): the control's computer applies CNOT from
the control to its half of the pair, measures that half in Z and sends the bit; the target's
computer corrects with X, applies CNOT from its half to the target, measures its half in X and
sends the bit back for a Z correction on the control. Through a Bell-diagonal pair the gate is a
perfect CNOT followed by a Pauli error: an X error of the pair becomes X on the target, a Z error
becomes Z on the control (Y both). The entanglement fidelity is therefore ``p_I`` and the average
gate fidelity ``(4 p_I + 1)/5`` (Horodecki et al. 1999; Nielsen 2002, ``(d F_e + 1)/(d + 1)``).

References
----------
J. Eisert, K. Jacobs, P. Papadopoulos, M. B. Plenio, Phys. Rev. A 62, 052317 (2000), doi:10.1103/PhysRevA.62.052317.
M. A. Nielsen, Phys. Lett. A 303, 249 (2002), doi:10.1016/S0375-9601(02)01272-0.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from qit4n.qin.bell import validate_bell_diagonal
from qit4n.qin.density import CNOT, HADAMARD, PAULIS, apply_operator, partial_trace, project

__all__ = ["remote_cnot_average_fidelity", "remote_cnot_circuit", "remote_cnot_errors"]


def remote_cnot_errors(pair: ArrayLike) -> dict[str, np.ndarray]:
    """Pauli errors (control, target) after the remote CNOT: ``{"II", "IX", "ZI", "ZX"}`` probabilities."""
    p = validate_bell_diagonal(pair, "pair")
    return {"II": p[..., 0], "IX": p[..., 1], "ZX": p[..., 2], "ZI": p[..., 3]}


def remote_cnot_average_fidelity(pair: ArrayLike) -> np.ndarray:
    """Average gate fidelity ``(4 p_I + 1)/5`` of the remote CNOT.

    >>> from qit4n.qin.bell import werner
    >>> round(float(remote_cnot_average_fidelity(werner(0.9))), 4)
    0.92
    """
    return (4.0 * validate_bell_diagonal(pair, "pair")[..., 0] + 1.0) / 5.0


def remote_cnot_circuit(inputs: np.ndarray, pair: np.ndarray) -> np.ndarray:
    """Run the protocol literally on density matrices.

    ``inputs`` is the density matrix of (control, target) possibly with reference qubits before
    them: its qubits are ``refs..., control, target``; ``pair`` the 4x4 pair state. Returns the
    state of ``refs..., control, target`` afterwards.
    """
    count = int(round(np.log2(inputs.shape[0])))
    control, target = count - 2, count - 1
    rho = np.kron(inputs, pair)
    near, far = count, count + 1  # near: control's half, far: target's half
    rho = apply_operator(rho, CNOT, [control, near])
    after_first = np.zeros_like(rho)
    for bit in (0, 1):
        branch = project(rho, near, bit)
        if bit:
            branch = apply_operator(branch, PAULIS["X"], [far])
        after_first = after_first + branch
    rho = apply_operator(after_first, CNOT, [far, target])
    rho = apply_operator(rho, HADAMARD, [far])
    result = np.zeros_like(rho)
    for bit in (0, 1):
        branch = project(rho, far, bit)
        if bit:
            branch = apply_operator(branch, PAULIS["Z"], [control])
        result = result + branch
    return partial_trace(result, list(range(count)))
