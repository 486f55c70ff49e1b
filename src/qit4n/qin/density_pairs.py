"""Pairs as 4x4 density matrices inside the event engine (``formalism="density-matrix"``).

Memory noise is applied lazily: each end qubit remembers when it was last brought up to date,
and before a swap or a delivery both qubits get the memory channel (exact amplitude damping T1,
dephasing T2, depolarising) for the time since. The channels form a semigroup, so this equals
applying them continuously. Swaps are the literal noisy Bell-measurement circuit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from qit4n.des import PS_PER_S
from qit4n.qin.circuits import swap_circuit
from qit4n.qin.density import apply_channel, depolarising_kraus, memory_kraus, to_bell_diagonal
from qit4n.qin.memory import MemoryParameters

__all__ = ["DensityPair", "DensityRules"]


@dataclass(frozen=True)
class DensityPair:
    """A pair's density matrix and the times (ps) its left and right qubits were last updated."""

    rho: np.ndarray
    left_updated_ps: int
    right_updated_ps: int


@dataclass(frozen=True)
class DensityRules:
    """Memory and swap noise of a chain, for density-matrix pairs."""

    memory: MemoryParameters
    gate_depolarising: float
    measurement_error: float

    def fresh(self, rho: np.ndarray, start_ps: int) -> DensityPair:
        """A heralded pair (density matrix ``rho``) whose qubits were initialised at ``start_ps``."""
        return DensityPair(np.asarray(rho, dtype=complex), start_ps, start_ps)

    def _decay(self, rho: np.ndarray, qubit: int, wait_ps: int) -> np.ndarray:
        if wait_ps <= 0:
            return rho
        wait_s = wait_ps / PS_PER_S
        rho = apply_channel(rho, memory_kraus(wait_s, t1_s=self.memory.t1_s, t2_s=self.memory.t2_s), [qubit])
        if np.isfinite(self.memory.depolarising_time_s):
            rho = apply_channel(
                rho, depolarising_kraus(float(np.exp(-wait_s / self.memory.depolarising_time_s))), [qubit]
            )
        return rho

    def at(self, pair: DensityPair, now_ps: int) -> np.ndarray:
        """The pair's density matrix at ``now_ps`` (both qubits stored until then)."""
        rho = self._decay(pair.rho, 0, now_ps - pair.left_updated_ps)
        return self._decay(rho, 1, now_ps - pair.right_updated_ps)

    def swap(self, left: DensityPair, right: DensityPair, now_ps: int) -> DensityPair:
        """Swap two pairs at ``now_ps`` with the noisy Bell-measurement circuit."""
        rho = swap_circuit(
            self.at(left, now_ps),
            self.at(right, now_ps),
            gate_depolarising=self.gate_depolarising,
            measurement_error=self.measurement_error,
        )
        return DensityPair(rho, now_ps, now_ps)

    def fidelity(self, pair: DensityPair, now_ps: int) -> float:
        """Fidelity with ``|Phi+>`` at ``now_ps``."""
        return float(to_bell_diagonal(self.at(pair, now_ps))[0])
