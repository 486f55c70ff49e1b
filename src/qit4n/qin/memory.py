"""Quantum memories: continuous decoherence for the exact time a qubit waits, and read-out efficiency.

A stored qubit decays with amplitude damping (T1), dephasing (T2) and, optionally, depolarising
noise (time constant ``depolarising_time_s``). On Bell-diagonal pairs the channel is applied in
its Pauli-twirled form: Bloch scalings ``l_x = l_y = exp(-t/T2 - t/T_dep)`` and
``l_z = exp(-t/T1 - t/T_dep)``. The twirl is exact for the fidelity of ``|Phi+>``-like pairs; the
density-matrix form (:func:`qit4n.qin.density.memory_kraus`) keeps the non-Pauli part of T1.

References
----------
M. A. Nielsen, I. L. Chuang, Quantum Computation and Quantum Information (2010), sec. 8.3.
J. Ghosh, A. G. Fowler, M. R. Geller, Phys. Rev. A 86, 062318 (2012) (Pauli twirl of T1/T2 noise).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from pydantic import Field, model_validator

from qit4n.qin.bell import pauli_channel
from qit4n.schema import StrictModel

__all__ = ["MemoryParameters", "decay", "decay_rates_per_s", "decay_scalings"]


class MemoryParameters(StrictModel):
    """A quantum memory: coherence times (``inf`` for none) and read-out efficiency."""

    t1_s: float = Field(float("inf"), gt=0.0, description="energy relaxation time T1, s")
    t2_s: float = Field(float("inf"), gt=0.0, description="coherence time T2 (dephasing), s")
    depolarising_time_s: float = Field(float("inf"), gt=0.0, description="depolarising time constant, s")
    efficiency: float = Field(1.0, gt=0.0, le=1.0, description="probability that a stored qubit is read out")

    @model_validator(mode="after")
    def _t2_physical(self) -> MemoryParameters:
        if self.t2_s > 2.0 * self.t1_s:
            raise ValueError(f"t2_s = {self.t2_s:g}: must be <= 2 * t1_s = {2.0 * self.t1_s:g}")
        return self


def decay_rates_per_s(memory: MemoryParameters) -> np.ndarray:
    """Decay rates of the Bloch scalings ``(x, y, z)`` per second of storage, shape ``(3,)``."""
    depolarising = 1.0 / memory.depolarising_time_s
    transverse = 1.0 / memory.t2_s + depolarising
    return np.array([transverse, transverse, 1.0 / memory.t1_s + depolarising])


def decay_scalings(wait_s: ArrayLike, memory: MemoryParameters) -> np.ndarray:
    """Bloch scalings after ``wait_s`` seconds of storage, shape ``wait_s.shape + (3,)``."""
    return np.exp(-np.asarray(wait_s, dtype=float)[..., None] * decay_rates_per_s(memory))


def decay(state: ArrayLike, wait_s: ArrayLike, memory: MemoryParameters) -> np.ndarray:
    """A Bell-diagonal pair after one of its qubits waited ``wait_s`` seconds in ``memory``.

    >>> from qit4n.qin.bell import werner
    >>> memory = MemoryParameters(t2_s=1.0)
    >>> round(float(decay(werner(1.0), 1.0, memory)[0]), 4)  # (1 + exp(-1)) / 2
    0.6839
    """
    return pauli_channel(state, decay_scalings(wait_s, memory))
