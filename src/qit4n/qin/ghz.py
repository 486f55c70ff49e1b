"""GHZ states for a sensor network: fused at a hub from Bell pairs, simulated as stabilizer states (stim).

The hub shares one Bell pair with each of ``n - 1`` sensors, applies CNOTs from its first half to
the others, measures those in Z and sends each sensor an X correction: the hub's first qubit and
the sensors then hold an ``n``-qubit GHZ state. Noise of the pairs is Pauli (Bell-diagonal), so the
stabilizer simulation is exact; the fidelity is the probability that every GHZ stabilizer
generator (``X...X`` and the neighbouring ``ZZ``) measures +1. With pair errors that commute
through the hub's operations, only pairs without bit flips and an even number of phase flips keep
the GHZ state: ``F = [prod(p_I + p_Z) + prod(p_I - p_Z)] / 2``.

References
----------
D. M. Greenberger, M. A. Horne, A. Zeilinger, in Bell's Theorem, Quantum Theory and Conceptions
of the Universe (1989); P. Komar et al., "A quantum network of clocks", Nat. Phys. 10, 582 (2014).
C. Gidney, "Stim: a fast stabilizer circuit simulator", Quantum 5, 497 (2021), doi:10.22331/q-2021-07-06-497.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from qit4n.errors import ParameterError
from qit4n.qin.bell import validate_bell_diagonal

__all__ = ["ghz_circuit", "ghz_fidelity", "sample_ghz_fidelity"]


def ghz_fidelity(pairs: ArrayLike) -> float:
    """Closed-form GHZ fidelity from the hub's ``n - 1`` Bell-diagonal pairs (shape ``(n-1, 4)``).

    >>> from qit4n.qin.bell import werner
    >>> round(ghz_fidelity([werner(0.9)] * 3), 4)
    0.732
    """
    p = validate_bell_diagonal(pairs, "pairs").reshape(-1, 4)
    return float((np.prod(p[:, 0] + p[:, 3]) + np.prod(p[:, 0] - p[:, 3])) / 2.0)


def ghz_circuit(pairs: ArrayLike):
    """The stim circuit: noisy pairs, hub fusion with feed-forward, then the GHZ stabilizer measurements."""
    import stim

    p = validate_bell_diagonal(pairs, "pairs").reshape(-1, 4)
    if p.shape[0] < 1:
        raise ParameterError("pairs: need at least one Bell pair (a GHZ state of 2 qubits)")
    circuit = stim.Circuit()
    hubs = [2 * i for i in range(p.shape[0])]
    sensors = [2 * i + 1 for i in range(p.shape[0])]
    for hub, sensor, (_, px, py, pz) in zip(hubs, sensors, p):
        circuit.append("H", [hub])
        circuit.append("CX", [hub, sensor])
        circuit.append("PAULI_CHANNEL_1", [sensor], [px, py, pz])
    for hub, sensor in zip(hubs[1:], sensors[1:]):
        circuit.append("CX", [hubs[0], hub])
        circuit.append("M", [hub])
        circuit.append("CX", [stim.target_rec(-1), sensor])
    members = [hubs[0]] + sensors
    circuit.append(
        "MPP",
        [
            item
            for index, qubit in enumerate(members)
            for item in ([stim.target_combiner()] if index else []) + [stim.target_x(qubit)]
        ],
    )
    for first, second in zip(members, members[1:]):
        circuit.append("MPP", [stim.target_z(first), stim.target_combiner(), stim.target_z(second)])
    return circuit, len(members)


def sample_ghz_fidelity(pairs: ArrayLike, shots: int, seed: int) -> float:
    """Fraction of ``shots`` in which all GHZ stabilizer generators give +1 (stim sampling)."""
    circuit, members = ghz_circuit(pairs)
    sample = circuit.compile_sampler(seed=seed).sample(shots)
    syndrome = sample[:, -members:]
    return float(np.mean(~syndrome.any(axis=1)))
