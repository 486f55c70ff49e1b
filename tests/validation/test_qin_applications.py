"""Applications over delivered pairs: BBM92 key, remote CNOT, GHZ distribution, clock synchronisation."""

import numpy as np
import pytest
from scipy.optimize import brentq

from qit4n.qin import bell, clock, density, ghz, remote_gate
from qit4n.qin import repeater_qkd as bbm92


def test_bbm92_werner_threshold():
    """Shor & Preskill, PRL 85, 441 (2000): one-way key exists up to QBER 11.0%; Werner pairs have
    e_x = e_z = 2(1-F)/3, so the threshold fidelity is 1 - 1.5 * 0.110 = 0.835 (tolerance 1e-3)."""
    threshold = brentq(lambda f: float(bbm92.secret_fraction(bell.werner(f), sifting=1.0)) - 1e-12, 0.75, 0.95)
    assert threshold == pytest.approx(0.835, abs=1e-3)
    e_z, e_x = bbm92.bit_error_rates(bell.werner(threshold))
    assert float(e_z) == pytest.approx(0.110, abs=1e-3) and float(e_x) == pytest.approx(0.110, abs=1e-3)


def test_bbm92_repeater_protocol_is_a_qkd_link_type():
    """The ProtocolSpec evaluates over transmittances; key rate falls with loss; QBER grows."""
    result = bbm92.PROTOCOL.evaluate(np.array([1e-1, 1e-3]), bbm92.BBM92RepeaterParameters(samples=2000))
    assert result.key_rate_bps[0] > result.key_rate_bps[1] > 0
    assert result.qber[0] < result.qber[1] < 0.11


def _choi_inputs() -> np.ndarray:
    vector = np.zeros(16, dtype=complex)
    for control in range(2):
        for target in range(2):
            vector[(control << 3) | (target << 2) | (control << 1) | target] = 0.5
    return np.outer(vector, vector.conj())


@pytest.mark.parametrize("pair", [[1.0, 0.0, 0.0, 0.0], [0.7, 0.1, 0.15, 0.05], list(bell.werner(0.85))])
def test_remote_cnot_fidelity(pair):
    """Eisert et al., PRA 62, 052317 (2000) protocol run literally on density matrices: the entanglement
    fidelity with CNOT equals p_I of the pair and the average gate fidelity is (4 p_I + 1)/5 (Nielsen,
    Phys. Lett. A 303, 249 (2002)); Pauli errors IX, ZI, ZX carry p_X, p_Z, p_Y. Tolerance 1e-12."""
    inputs = _choi_inputs()
    ideal = density.apply_operator(inputs, density.CNOT, [2, 3])
    output = remote_gate.remote_cnot_circuit(inputs, density.from_bell_diagonal(pair))
    assert np.real(np.trace(output @ ideal)) == pytest.approx(pair[0], abs=1e-12)
    errors = remote_gate.remote_cnot_errors(pair)
    for label, expected in errors.items():
        operator = np.kron(density.PAULIS[label[0]], density.PAULIS[label[1]])
        assert np.real(np.trace(output @ density.apply_operator(ideal, operator, [2, 3]))) == pytest.approx(
            float(expected), abs=1e-12
        )
    entanglement_fidelity = pair[0]
    assert float(remote_gate.remote_cnot_average_fidelity(pair)) == pytest.approx(
        (4 * entanglement_fidelity + 1) / 5, abs=1e-12
    )


@pytest.mark.parametrize(
    "pairs",
    [
        [bell.werner(0.9)] * 3,
        [[0.8, 0.05, 0.05, 0.1], [0.9, 0.02, 0.03, 0.05], [0.7, 0.1, 0.1, 0.1], [0.95, 0.0, 0.0, 0.05]],
        [bell.werner(0.99)] * 7,
    ],
)
def test_ghz_stabilizer_simulation_matches_closed_form(pairs):
    """GHZ fused at a hub (stim stabilizer simulation, 2e5 shots) against
    F = [prod(p_I + p_Z) + prod(p_I - p_Z)]/2; tolerance 5 binomial standard errors."""
    shots = 200_000
    expected = ghz.ghz_fidelity(pairs)
    sampled = ghz.sample_ghz_fidelity(pairs, shots, seed=4)
    assert abs(sampled - expected) < 5 * np.sqrt(expected * (1 - expected) / shots) + 1e-9


@pytest.mark.parametrize("pairs", [100, 1_000, 10_000])
def test_clock_offset_error_scales_as_one_over_sqrt_pairs(pairs):
    """Offset estimate from N pairs (Jozsa et al., PRL 85, 2010 (2000) protocol, X and Y quadratures):
    unbiased within 5 standard errors (plus 5% of sigma at N = 100, where atan2 is slightly biased) and
    standard deviation within 5% of the delta-method value,
    which scales as 1/sqrt(N). f = 1 GHz, offset 100 ps, V = 0.8; 20,000 repeats."""
    rng = np.random.default_rng(pairs)
    estimates = clock.estimate_offset_s(
        rng, pairs=pairs, offset_s=1e-10, frequency_hz=1e9, visibility=0.8, repeats=20_000
    )
    predicted = clock.offset_standard_deviation_s(pairs=pairs, offset_s=1e-10, frequency_hz=1e9, visibility=0.8)
    assert abs(estimates.mean() - 1e-10) < 5 * predicted / np.sqrt(estimates.size) + (
        0.05 * predicted if pairs == 100 else 0.0
    )
    assert estimates.std() == pytest.approx(predicted, rel=0.05)
