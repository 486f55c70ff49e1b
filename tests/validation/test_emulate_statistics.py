"""Emulated detection statistics against the analytic models they must reproduce.

Ma, Qi, Zhao and Lo, Phys. Rev. A 72, 012326 (2005), Eqs. (15)-(17): gain ``Q_mu = Y0 + 1 -
exp(-eta mu)`` and error gain ``E_mu Q_mu = Y0 / 2 + e_d (1 - exp(-eta mu))``, as implemented by
``qit4n.qkd`` (``bb84-decoy``, ``details["gain"]`` and ``qber``). The emulator draws pulses one by
one, so observed gains and QBERs must agree within statistical error: tolerance 4.5 standard
deviations of the binomial estimate (plus the O(Y0 eta mu) difference between the exact and the
first-order forms, below 1e-6 relative here).
"""

from __future__ import annotations

import numpy as np
import pytest

from qit4n.emulate import emulate_bb84, expected_statistics, link_settings, observed_statistics
from qit4n.physics import fibre_transmittance
from qit4n.qkd import get_protocol, make_parameters

_PULSES = 10_000_000


@pytest.mark.parametrize("distance_km", [0.0, 50.0, 100.0])
def test_gains_and_qber_match_ma_2005(distance_km):
    """Setting: Lim 2014 receiver defaults (eta_d 0.1, p_dc 6e-7, e_d 0.5 %), mu = 0.5, nu = 0.1, vacuum."""
    params = make_parameters(
        "bb84-decoy", None, {"intensity_signal": 0.5, "intensity_decoy": 0.1, "misalignment_error": 0.015}
    )
    eta_channel = float(fibre_transmittance(distance_km, params.loss_db_per_km))
    settings = link_settings(params, eta_channel)
    stats = observed_statistics(emulate_bb84(settings, _PULSES, np.random.default_rng(int(distance_km) + 1)))
    model = get_protocol("bb84-decoy").evaluate(np.array([eta_channel]), params)
    expected_gain, expected_qber = expected_statistics(settings)
    for index in range(2):
        sigma_gain = np.sqrt(expected_gain[index] * (1 - expected_gain[index]) / stats.sent[index])
        assert abs(stats.gain[index] - expected_gain[index]) < 4.5 * sigma_gain
        sigma_qber = np.sqrt(expected_qber[index] * (1 - expected_qber[index]) / stats.sifted_x[index])
        assert abs(stats.qber_x[index] - expected_qber[index]) < 4.5 * sigma_qber
    sigma_signal = np.sqrt(expected_gain[0] / stats.sent[0])
    assert abs(stats.gain[0] - float(model.details["gain"][0])) < 4.5 * sigma_signal
    sigma_qber_signal = np.sqrt(expected_qber[0] * (1 - expected_qber[0]) / stats.sifted_x[0])
    assert abs(stats.qber_x[0] - float(model.qber[0])) < 4.5 * sigma_qber_signal + 1e-6


def test_vacuum_gain_is_background_yield():
    """Vacuum pulses click only from dark counts: Y0 = 1 - (1 - p_dc)^2 (Ma et al. 2005, Eq. 15)."""
    params = make_parameters("bb84-decoy", None, {"dark_count_probability": 1e-4})
    settings = link_settings(params, 0.01)
    stats = observed_statistics(emulate_bb84(settings, _PULSES, np.random.default_rng(3)))
    y0 = 1.0 - (1.0 - 1e-4) ** 2
    assert abs(stats.gain[2] - y0) < 4.5 * np.sqrt(y0 / stats.sent[2])
    assert abs(stats.qber_x[2] - 0.5) < 4.5 * np.sqrt(0.25 / stats.sifted_x[2])
