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

import math

import numpy as np
import pytest

from qit4n.qkd import get_protocol, make_parameters
from qit4n.qkd.distance import max_distance_km
from qit4n.qkd.finite import key_rate
from qit4n.qkd.finite_key import lim_bounds

PAPER_SMALL_BLOCK_REACH_KM = 135.0
PAPER_RATIO_1E9_OVER_1E7_AT_100_KM = 1.75


def test_small_block_reach() -> None:
    """n_X = 10^4: maximal distance 135 km in the paper; ours 130.9 km; tolerance 5 %."""
    params = make_parameters("bb84-decoy-finite", "lim2014", {"block_size_x": 1e4})
    distance = max_distance_km(get_protocol("bb84-decoy-finite"), params, tolerance_km=0.5)
    assert distance == pytest.approx(PAPER_SMALL_BLOCK_REACH_KM, rel=0.05)


def test_block_size_gain_at_100_km() -> None:
    """R(n_X = 1e9) / R(n_X = 1e7) at 100 km: about 1.75 in the paper; ours 1.79; tolerance 10 %."""
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


def _single_photon_bound_by_hand(counts, mus, probabilities, epsilon_sec, clip_vacuum):
    """Lim et al. 2014, Eqs. (2)-(3) written out for one basis, in plain floats."""
    mu1, mu2, mu3 = mus
    tau0 = sum(p * math.exp(-mu) for mu, p in zip(mus, probabilities, strict=True))
    tau1 = sum(p * mu * math.exp(-mu) for mu, p in zip(mus, probabilities, strict=True))
    delta = math.sqrt(sum(counts) / 2.0 * math.log(21.0 / epsilon_sec))
    n_up = [math.exp(mu) / p * (n + delta) for mu, p, n in zip(mus, probabilities, counts, strict=True)]
    n_low = [math.exp(mu) / p * (n - delta) for mu, p, n in zip(mus, probabilities, counts, strict=True)]
    vacuum = tau0 * (mu2 * n_low[2] - mu3 * n_up[1]) / (mu2 - mu3)
    if clip_vacuum:
        vacuum = max(vacuum, 0.0)
    bracket = n_low[1] - n_up[2] - (mu2**2 - mu3**2) / mu1**2 * (n_up[0] - vacuum / tau0)
    return vacuum, tau1 * mu1 * bracket / (mu1 * (mu2 - mu3) - mu2**2 + mu3**2)


def test_small_block_vacuum_bound_is_clipped_before_eq_3() -> None:
    """Issue 15: with small blocks the Eq. (2) vacuum bound is negative; a vacuum count cannot be,
    and s_X1 (Eq. 3) grows with s_X0, so max(s_X0, 0) is the valid, tighter input. Counts of a
    10^4-bit block (mu = 0.5, 0.1, 2e-4; p = 0.7, 0.2, 0.1; eps_sec = 1e-10): the raw bound is
    negative and clipping raises s_X1 by ~1-2 %; qit4n must give the clipped value to 1e-12."""
    # Expected counts of 1e8 pulses at channel-and-detector transmittance 1e-2 with 1.2e-6 background.
    mus, probabilities, counts = (0.5, 0.1, 2e-4), (0.5, 0.4, 0.1), (249436.0, 40028.0, 32.0)
    raw_vacuum, raw_single = _single_photon_bound_by_hand(counts, mus, probabilities, 1e-10, clip_vacuum=False)
    vacuum, single = _single_photon_bound_by_hand(counts, mus, probabilities, 1e-10, clip_vacuum=True)
    assert raw_vacuum < 0.0 and single == pytest.approx(1.015 * raw_single, rel=1e-3)
    bounds = lim_bounds(
        intensities=mus,
        probabilities=probabilities,
        detections_x=counts,
        detections_z=counts,
        errors_z=(40.0, 5.0, 2.0),
        epsilon_sec=1e-10,
    )
    assert float(bounds.vacuum_x) == vacuum == 0.0
    assert float(bounds.single_x) == pytest.approx(single, rel=1e-12)
