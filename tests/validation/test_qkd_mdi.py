"""Validation of the decoy-state MDI-QKD model against published results and exact limits.

Statements printed in the MDI-QKD papers (vacuum + weak decoys approaching the infinite-decoy
limit, reach beyond decoy-state BB84 on the same detectors) are checked in
test_qkd_mdi_published.py.
"""

from __future__ import annotations

import numpy as np
import pytest

from qit4n.physics.fibre import fibre_transmittance
from qit4n.qkd import make_parameters
from qit4n.qkd.mdi import key_rate
from qit4n.qkd.plob import plob_bound


@pytest.mark.parametrize("decoy_method", ["infinite", "vacuum+weak"])
def test_lcq_2012_devices_tolerate_more_than_40_db(decoy_method):
    """Lo, Curty and Qi, PRL 108, 130503 (2012): with decoy states MDI-QKD on their simulated
    devices (eta_d = 14.5 %, background 6.02e-6 i.e. p_d = 3.0e-6 per detector as tabulated by
    Ma and Razavi, PRA 86, 062319 (2012), Table I; e_d = 1.5 %; f = 1.16; 0.2 dB/km) tolerates
    more than 40 dB of channel loss (about 200 km).

    Checked: positive key at 40 dB and the reach between 40 dB and 50 dB (measured: 231 km
    with infinite decoys, 229 km with the vacuum and a weak decoy nu = 0.01). The figure values
    themselves could not be read from a stored copy of the paper, hence the statement-level
    tolerance.
    """
    params = make_parameters("mdi", "mdi-lcq2012", {"decoy_method": decoy_method})
    length_km = np.arange(100.0, 300.0, 1.0)
    rate = key_rate(fibre_transmittance(length_km, params.loss_db_per_km), params).key_rate_per_pulse
    reach_db = length_km[rate > 0.0][-1] * params.loss_db_per_km
    assert rate[length_km == 200.0][0] > 0.0
    assert 40.0 < reach_db < 50.0


def test_ideal_devices_reach_the_single_photon_pair_limit():
    """Without dark counts or misalignment and with infinite decoys, R = max_mu mu^2 e^(-2 mu)
    eta_a eta_b / 2 = e^(-2) eta_d^2 eta / 2 at mu = 1 (the LCQ 2012 key rate with E_Z = e11 = 0,
    Y11 = eta_a eta_b / 2), to 1e-6.
    """
    params = make_parameters(
        "mdi",
        overrides={
            "decoy_method": "infinite",
            "dark_count_probability": 0.0,
            "misalignment_error": 0.0,
            "eta_detector": 0.5,
        },
    )
    eta = np.array([1e-1, 1e-3, 1e-6])
    result = key_rate(eta, params)
    np.testing.assert_allclose(result.key_rate_per_pulse, np.exp(-2.0) * 0.25 * eta / 2.0, rtol=1e-6)
    np.testing.assert_allclose(result.details["intensity_signal"], 1.0, rtol=1e-3)


def test_key_rate_is_linear_in_the_channel_transmittance():
    """MDI-QKD with decoys scales as O(eta) (LCQ 2012), below PLOB (Pirandola et al., Nat.
    Commun. 8, 15043 (2017)): log-log slope 1 within 0.05 between 40 km and 120 km on the LCQ
    devices, and below -log2(1 - eta eta_d) everywhere.
    """
    params = make_parameters("mdi", "mdi-lcq2012")
    length_km = np.array([40.0, 60.0, 80.0, 100.0, 120.0])
    eta = fibre_transmittance(length_km, params.loss_db_per_km)
    rate = key_rate(eta, params).key_rate_per_pulse
    slope = np.polyfit(np.log10(eta), np.log10(rate), 1)[0]
    assert slope == pytest.approx(1.0, abs=0.05)
    assert np.all(rate < plob_bound(eta * params.eta_detector))
