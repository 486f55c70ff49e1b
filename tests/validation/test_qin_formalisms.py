"""Closed forms of two-qubit entanglement protocols reproduced by the qin formalisms.

Tolerances are numerical (1e-9 to 1e-12): the closed forms are exact and the density-matrix
circuits are an independent literal simulation.
"""

import numpy as np
import pytest

from qit4n.qin import bell, circuits, density, memory, purify, teleport


@pytest.mark.parametrize(("f1", "f2"), [(0.9, 0.9), (0.95, 0.7), (0.6, 0.8), (1.0, 0.5)])
def test_werner_swapping_closed_form(f1, f2):
    """Werner swapping, Dür, Briegel, Cirac, Zoller, PRA 59, 169 (1999), Eq. for perfect operations:
    ``F = F1 F2 + (1-F1)(1-F2)/3``; e.g. F1 = F2 = 0.9 gives 0.81333. Checked for the Bell-diagonal
    rule and the density-matrix Bell-measurement circuit, tolerance 1e-12."""
    expected = f1 * f2 + (1 - f1) * (1 - f2) / 3
    assert bell.fidelity(bell.swap(bell.werner(f1), bell.werner(f2))) == pytest.approx(expected, abs=1e-12)
    rho = circuits.swap_circuit(
        density.from_bell_diagonal(bell.werner(f1)), density.from_bell_diagonal(bell.werner(f2))
    )
    assert density.to_bell_diagonal(rho)[0] == pytest.approx(expected, abs=1e-12)


def test_noisy_swap_briegel_factor():
    """Briegel, Dür, Cirac, Zoller, PRL 81, 5932 (1998): a noisy Bell measurement (gate reliability p2,
    measurement precision eta) multiplies the Werner parameter by ``p2 (4 eta^2 - 1)/3``.
    p2 = 0.98, eta = 0.99, F = 0.95: checked on the twirled output, tolerance 1e-12."""
    p2, eta, f = 0.98, 0.99, 0.95
    w = bell.werner_parameter(f)
    out = bell.swap(bell.werner(f), bell.werner(f), gate_depolarising=p2, measurement_error=1 - eta)
    expected_w = w * w * p2 * (4 * eta**2 - 1) / 3
    assert bell.werner_parameter(bell.fidelity(out)) == pytest.approx(expected_w, abs=1e-12)


@pytest.mark.parametrize("f", [0.6, 0.75, 0.9])
def test_bbpssw_closed_form(f):
    """BBPSSW, Bennett et al., PRL 76, 722 (1996), Eq. (3): ``F' = (F^2 + ((1-F)/3)^2) / N`` with
    ``N = F^2 + 2F(1-F)/3 + 5((1-F)/3)^2`` the success probability (F = 0.75: F' = 0.78846,
    N = 0.72222). Also against the bilateral-CNOT circuit on Werner inputs. Tolerance 1e-12."""
    r = (1 - f) / 3
    success = f**2 + 2 * f * r + 5 * r**2
    state, probability = purify.bbpssw(bell.werner(f), bell.werner(f))
    assert probability == pytest.approx(success, abs=1e-12)
    assert state[0] == pytest.approx((f**2 + r**2) / success, abs=1e-12)
    rho, circuit_probability = circuits.purify_circuit(
        density.from_bell_diagonal(bell.werner(f)), density.from_bell_diagonal(bell.werner(f)), rotate=False
    )
    assert circuit_probability == pytest.approx(success, abs=1e-12)
    assert density.to_bell_diagonal(rho)[0] == pytest.approx((f**2 + r**2) / success, abs=1e-12)


@pytest.mark.parametrize("f", [0.3, 0.45, 0.55, 0.7, 0.9, 0.99])
def test_bbpssw_threshold(f):
    """Bennett et al. (1996): a BBPSSW round raises the fidelity of Werner pairs exactly when F > 1/2."""
    state, _ = purify.bbpssw(bell.werner(f), bell.werner(f))
    assert (state[0] > f) == (f > 0.5)


@pytest.mark.parametrize("abcd", [(0.7, 0.15, 0.1, 0.05), (0.6, 0.1, 0.2, 0.1), (0.85, 0.0, 0.05, 0.1)])
def test_dejmps_closed_form(abcd):
    """DEJMPS, Deutsch et al., PRL 77, 2818 (1996): with A, B, C, D the weights of Phi+, Psi-, Psi+, Phi-,
    ``A' = (A^2+B^2)/N, B' = 2CD/N, C' = (C^2+D^2)/N, D' = 2AB/N``, ``N = (A+B)^2 + (C+D)^2``; and the
    literal circuit with Rx(+-pi/2) rotations and bilateral CNOTs. Tolerance 1e-12."""
    a, b, c, d = abcd
    state = np.array([a, c, b, d])  # qit4n order: I (Phi+), X (Psi+), Y (Psi-), Z (Phi-)
    norm = (a + b) ** 2 + (c + d) ** 2
    out, probability = purify.dejmps(state, state)
    assert probability == pytest.approx(norm, abs=1e-12)
    np.testing.assert_allclose(
        out, [(a * a + b * b) / norm, (c * c + d * d) / norm, 2 * c * d / norm, 2 * a * b / norm], atol=1e-12
    )
    rho, circuit_probability = circuits.purify_circuit(
        density.from_bell_diagonal(state), density.from_bell_diagonal(state), rotate=True
    )
    assert circuit_probability == pytest.approx(norm, abs=1e-12)
    np.testing.assert_allclose(density.to_bell_diagonal(rho), out, atol=1e-12)


@pytest.mark.parametrize("f", [0.5, 0.8, 0.95])
def test_teleportation_fidelity(f):
    """Horodecki, Horodecki, Horodecki, PRA 60, 1888 (1999): average teleportation fidelity through a
    pair of fully entangled fraction F is ``(2F + 1)/3``. The six Pauli eigenstates (a 2-design) give
    the exact Haar average of the literal circuit. Tolerance 1e-12."""
    pair = density.from_bell_diagonal(bell.werner(f))
    states = [
        np.array(v, dtype=complex) / np.linalg.norm(v) for v in ([1, 0], [0, 1], [1, 1], [1, -1], [1, 1j], [1, -1j])
    ]
    fidelities = [density.fidelity_pure(circuits.teleport_circuit(s, pair), s) for s in states]
    assert np.mean(fidelities) == pytest.approx((2 * f + 1) / 3, abs=1e-12)
    assert teleport.average_teleportation_fidelity(bell.werner(f)) == pytest.approx((2 * f + 1) / 3, abs=1e-12)


@pytest.mark.parametrize("wait_s", [0.1, 1.0, 3.0])
def test_memory_decay_closed_forms(wait_s):
    """Nielsen & Chuang (2010), sec. 8.3: one qubit of |Phi+> stored for t gives fidelity
    ``(1 + exp(-t/T2))/2`` under dephasing, ``1/4 + 3/4 exp(-t/T)`` under depolarising noise, and
    ``(1 + exp(-t/2T1))^2/4`` under amplitude damping; the Bell-diagonal twirl and the exact Kraus
    channel agree on all three. T2 = 1 s, T = 2 s, T1 = 1.5 s; tolerance 1e-12."""
    phi = bell.werner(1.0)
    dephasing = memory.MemoryParameters(t2_s=1.0)
    assert memory.decay(phi, wait_s, dephasing)[0] == pytest.approx((1 + np.exp(-wait_s)) / 2, abs=1e-12)
    depolarising = memory.MemoryParameters(depolarising_time_s=2.0)
    assert memory.decay(phi, wait_s, depolarising)[0] == pytest.approx(0.25 + 0.75 * np.exp(-wait_s / 2), abs=1e-12)
    damping = memory.MemoryParameters(t1_s=1.5, t2_s=3.0)
    expected = (1 + np.exp(-wait_s / 3.0)) ** 2 / 4
    assert memory.decay(phi, wait_s, damping)[0] == pytest.approx(expected, abs=1e-12)
    rho = density.apply_channel(density.from_bell_diagonal(phi), density.memory_kraus(wait_s, t1_s=1.5, t2_s=3.0), [1])
    assert density.to_bell_diagonal(rho)[0] == pytest.approx(expected, abs=1e-12)
