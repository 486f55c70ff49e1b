"""Decoy-state BB84 with the GYS parameters against Ma, Qi, Zhao and Lo 2005.

Paper: X. Ma, B. Qi, Y. Zhao, H.-K. Lo, Phys. Rev. A 72, 012326 (2005), arXiv:quant-ph/0503005.
Parameters (Table I, GYS column): alpha = 0.21 dB/km, e_detector = 3.3 %, Y0 = 1.7e-6,
eta_Bob = 4.5 %, f(e) = 1.22, 2 MHz; BB84 sifting q = 1/2; GLLP rate.
Published maximal secure distances: 142.05 km for the infinite-decoy limit and
140.55 km for the vacuum+weak decoy protocol.
"""

from __future__ import annotations

import pytest

from qit4n.qkd import get_protocol, make_parameters
from qit4n.qkd.distance import max_distance_km

PAPER_INFINITE_DECOY_KM = 142.05
PAPER_VACUUM_WEAK_KM = 140.55


def test_preset_carries_table_one() -> None:
    """The preset reproduces Table I: Y0 = 1 - (1 - p_dc)^2 = 1.7e-6 within 1e-6 relative."""
    from qit4n.qkd._bb84_channel import background_yield

    params = make_parameters("bb84-decoy", "gys")
    assert float(background_yield(params.dark_count_probability)) == pytest.approx(1.7e-6, rel=1e-6)
    assert (params.loss_db_per_km, params.eta_detector, params.misalignment_error) == (0.21, 0.045, 0.033)
    assert (params.error_correction_efficiency, params.repetition_rate_hz) == (1.22, 2e6)


def test_infinite_decoy_maximal_distance() -> None:
    """Infinite-decoy limit, mu optimised per distance: 142.05 km in the paper; tolerance 0.5 %.

    Ours: 142.21 km (+0.11 %); the residual is below the rounding of the paper's entropy and
    gain approximations (Y1 ~ Y0 + eta).
    """
    distance = max_distance_km(get_protocol("bb84-decoy-inf"), make_parameters("bb84-decoy-inf", "gys"))
    assert distance == pytest.approx(PAPER_INFINITE_DECOY_KM, rel=0.005)


def test_vacuum_weak_maximal_distance() -> None:
    """Vacuum+weak decoy, mu optimised, nu = 0.05: paper 140.55 km; tolerance 1 %.

    The paper's figure is for its chosen weak decoy; the bound is monotone in nu (ours:
    141.97 km at nu = 0.01, 141.01 km at nu = 0.05, 139.79 km at nu = 0.1), so the published
    value is bracketed by practical decoys. The vacuum+weak protocol must stay below the
    infinite-decoy limit.
    """
    spec = get_protocol("bb84-decoy")
    distance = max_distance_km(spec, make_parameters("bb84-decoy", "gys", {"minimum_decoy_intensity": 0.05}))
    assert distance == pytest.approx(PAPER_VACUUM_WEAK_KM, rel=0.01)
    weakest = max_distance_km(spec, make_parameters("bb84-decoy", "gys", {"minimum_decoy_intensity": 0.01}))
    strongest = max_distance_km(spec, make_parameters("bb84-decoy", "gys", {"intensity_decoy": 0.1}))
    assert strongest < PAPER_VACUUM_WEAK_KM < weakest < PAPER_INFINITE_DECOY_KM * 1.005
