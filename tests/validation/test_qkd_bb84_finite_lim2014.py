"""Finite-key decoy BB84 against Lim, Curty, Walenta, Xu and Zbinden 2014, Sec. IV and Fig. 1.

Paper: C. C. W. Lim et al., Phys. Rev. A 89, 022307 (2014), arXiv:1311.7129.
Parameters (Sec. IV, dedicated fibre): mu3 = 2e-4, eta_Bob = 10 %, p_dc = 6e-7, p_ap = 4e-2,
0.2 dB/km, e_mis = 5e-3, f_EC = 1.16, kappa = 1e-15 (eps_sec = kappa * l), eps_cor = 1e-15;
q_x, p_mu1, p_mu2, mu1, mu2 optimised at fixed post-processing block n_X (preset ``lim2014``).
Published numbers (text of Sec. IV): with n_X = 10^4 keys reach 135 km; at 100 km the rate
with n_X = 10^9 is about 1.75 times the rate with n_X = 10^7.

The paper writes the misalignment error as e_mis (1 - exp(-eta_ch k)) with the channel
transmittance; read literally that makes the optical QBER e_mis / eta_Bob = 5 % (our model with
e_mis = 5 % finds no key beyond 120 km for n_X = 10^4 and a 1e9/1e7 ratio of 2.75 at 100 km),
so we take eta_sys (channel times detector), which matches both quoted numbers.
"""

from __future__ import annotations

import numpy as np
import pytest

from qit4n.qkd import get_protocol, make_parameters
from qit4n.qkd.distance import max_distance_km
from qit4n.qkd.finite import key_rate

PAPER_SMALL_BLOCK_REACH_KM = 135.0
PAPER_RATIO_1E9_OVER_1E7_AT_100_KM = 1.75


def test_small_block_reach() -> None:
    """n_X = 10^4: maximal distance 135 km in the paper; ours 130.7 km; tolerance 5 %."""
    params = make_parameters("bb84-decoy-finite", "lim2014", {"block_size_x": 1e4})
    distance = max_distance_km(get_protocol("bb84-decoy-finite"), params, tolerance_km=0.5)
    assert distance == pytest.approx(PAPER_SMALL_BLOCK_REACH_KM, rel=0.05)


def test_block_size_gain_at_100_km() -> None:
    """R(n_X = 1e9) / R(n_X = 1e7) at 100 km: about 1.75 in the paper; ours 1.81; tolerance 10 %."""
    eta = np.array([10 ** (-0.2 * 100 / 10)])
    large = key_rate(eta, make_parameters("bb84-decoy-finite", "lim2014", {"block_size_x": 1e9}))
    medium = key_rate(eta, make_parameters("bb84-decoy-finite", "lim2014", {"block_size_x": 1e7}))
    ratio = large.key_rate_per_pulse[0] / medium.key_rate_per_pulse[0]
    assert ratio == pytest.approx(PAPER_RATIO_1E9_OVER_1E7_AT_100_KM, rel=0.10)


def test_positive_wherever_the_paper_curve_is() -> None:
    """Fig. 1 curves are positive from 0 km to their reach: no false zeros from the optimiser.

    The text gives 135 km for n_X = 10^4 and larger blocks reach further, so every block size
    of Fig. 1 must give a positive rate on 0..125 km (10 km margin below the quoted reach).
    """
    for block, reach_km in ((1e4, 125.0), (1e6, 125.0), (1e9, 125.0)):
        lengths = np.linspace(0.0, reach_km, 26)
        params = make_parameters("bb84-decoy-finite", "lim2014", {"block_size_x": block})
        rates = key_rate(10 ** (-0.02 * lengths), params).key_rate_per_pulse
        assert np.all(rates > 0.0), (block, lengths[rates <= 0.0])
