"""Imperfect entanglement generation in both formalisms, and the phenomenological raw fidelity."""

import numpy as np
import pytest

from qit4n.errors import ParameterError
from qit4n.qin import density, heralded
from qit4n.qin.chain import ChainParameters, link_model
from qit4n.qin.des_chain import simulate_chain_des


def test_single_click_density_matrix_is_a_state_whose_twirl_is_the_bell_diagonal_state():
    """Arm mismatch makes the pair non-maximally entangled: the exact matrix is a state (trace 1, PSD),
    its Bell populations are the Bell-diagonal state (1e-12), and the coherence is sqrt(1 - m^2) times
    the balanced one."""
    options = {"bright_state_population": 0.1, "eta": 0.2, "dark_count_probability": 1e-3, "visibility": 0.9}
    skewed = heralded.single_click(efficiency_mismatch=0.4, **options)
    balanced = heralded.single_click(**options)
    rho = skewed.density_matrix
    assert np.trace(rho) == pytest.approx(1.0, abs=1e-12)
    assert np.min(np.linalg.eigvalsh(rho)) > -1e-12
    np.testing.assert_allclose(density.to_bell_diagonal(rho), skewed.state, atol=1e-12)
    ratio = (rho[0, 3] * skewed.success_probability) / (balanced.density_matrix[0, 3] * balanced.success_probability)
    assert float(ratio) == pytest.approx(np.sqrt(1 - 0.4**2), rel=1e-3)
    assert rho[0, 0] != pytest.approx(rho[3, 3], abs=1e-3)


def test_raw_fidelity_gives_werner_pairs_with_the_modelled_rate():
    """raw_fidelity = 0.9: link fidelity 0.9, Werner populations, success probability unchanged."""
    base = link_model(ChainParameters(segments=2, length_km=50.0))
    raw = link_model(ChainParameters(segments=2, length_km=50.0, raw_fidelity=0.9))
    assert raw.link_fidelity == pytest.approx(0.9, abs=1e-12)
    np.testing.assert_allclose(raw.heralded.state, [0.9, 0.1 / 3, 0.1 / 3, 0.1 / 3], atol=1e-12)
    assert raw.success_probability == base.success_probability


def test_ideal_defaults_reproduce_the_perfect_models():
    """The new fields at their defaults leave every scheme's link model bit-identical to the explicit ideal values."""
    for scheme in ("barrett-kok", "single-click", "midpoint-source"):
        default = link_model(ChainParameters(scheme=scheme))
        explicit = link_model(
            ChainParameters(scheme=scheme, two_photon_visibility=1.0, phase_noise_rad=0.0, efficiency_mismatch=0.0)
        )
        np.testing.assert_array_equal(default.heralded.state, explicit.heralded.state)
        assert default.success_probability == explicit.success_probability


def test_visibility_lowers_delivered_fidelity_in_both_formalisms():
    """Barrett-Kok, V = 0.9, Pauli-only memory noise: both formalisms deliver the same fidelities (1e-12),
    and the link fidelity is (1 + V) / 2 up to dark counts (1e-4)."""
    params = ChainParameters(segments=2, length_km=50.0, two_photon_visibility=0.9, memory={"t2_s": 0.5})
    assert link_model(params).link_fidelity == pytest.approx(0.95, abs=1e-4)
    bell = simulate_chain_des(params, duration_s=0.2, seed=5)
    dense = simulate_chain_des(params, duration_s=0.2, seed=5, formalism="density-matrix")
    assert bell.fidelity.size == dense.fidelity.size > 10
    np.testing.assert_allclose(dense.fidelity, bell.fidelity, atol=1e-12)
    assert np.all(bell.fidelity < 0.95**2 + 0.05)


@pytest.mark.parametrize(
    ("field", "value"),
    [("two_photon_visibility", 1.2), ("phase_noise_rad", -0.1), ("efficiency_mismatch", 1.0), ("raw_fidelity", 0.2)],
)
def test_out_of_range_imperfections_are_refused(field, value):
    with pytest.raises(ValueError, match=field):
        ChainParameters(**{field: value})


def test_mismatch_beyond_unit_efficiency_is_refused():
    with pytest.raises(ParameterError, match="efficiency_mismatch"):
        heralded.single_click(bright_state_population=0.1, eta=0.8, efficiency_mismatch=0.5)
