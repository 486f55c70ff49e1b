"""The decoy-state finite-key length computed from counts (postprocess) against the analytic model.

Lim, Curty, Walenta, Xu and Zbinden, Phys. Rev. A 89, 022307 (2014), Eqs. (1)-(5). Given the
expected counts of their Sec. IV channel model (``n_{X,k} = N q_x^2 p_k Q_k``, ``m_{Z,k} = N (1 -
q_x)^2 p_k E_k Q_k``) and the leak ``f_EC n_X h(E_X)``, :func:`lim_key_length` must return the
length of ``qit4n.qkd`` ``bb84-decoy-finite`` (an independent implementation of the same
equations, validated there against the paper's figures) to 1e-4 relative (measured: 2e-5; the
single-photon bounds agree to 1e-9 and the residual is a 1e-6 difference in the phase-error bound). Settings: their
receiver (eta_d 10 %, p_dc 6e-7, e_d 0.5 %, no afterpulses), mu = (0.5, 0.1, 2e-4),
p = (0.7, 0.2, 0.1), q_x = 0.8, N = 1e10 and 1e11 pulses, 25 and 75 km at 0.2 dB/km.

Tomamichel, Lim, Gisin and Renner, Nat. Commun. 3, 634 (2012), Eq. (2): with n = k the statistical
correction mu tends to 0 and the length per bit to ``1 - h(Q) - leak/n``; checked at n = 1e12
to 1e-3.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from qit4n.maths import binary_entropy
from qit4n.physics import fibre_transmittance
from qit4n.postprocess.estimation import DecoyCounts, lim_decoy_bounds, lim_key_length, tomamichel_key_length
from qit4n.qkd import get_protocol, make_parameters


@pytest.mark.parametrize("pulses", [1e10, 1e11])
@pytest.mark.parametrize("distance_km", [25.0, 75.0])
def test_lim_length_from_counts_matches_analytic(pulses, distance_km):
    mus, probs, q_x = (0.5, 0.1, 2e-4), (0.7, 0.2, 0.1), 0.8
    params = make_parameters(
        "bb84-decoy-finite",
        None,
        {
            "intensity_signal": mus[0],
            "intensity_decoy": mus[1],
            "intensity_vacuum": mus[2],
            "probability_signal": probs[0],
            "probability_decoy": probs[1],
            "probability_basis_x": q_x,
            "pulses": pulses,
            "afterpulse_probability": 0.0,
        },
    )
    eta = float(fibre_transmittance(distance_km)) * params.eta_detector
    y0 = 1.0 - (1.0 - params.dark_count_probability) ** 2
    gains = [1.0 - (1.0 - y0) * math.exp(-eta * mu) for mu in mus]
    error_gains = [0.5 * y0 + params.misalignment_error * (1.0 - math.exp(-eta * mu)) for mu in mus]
    n_x = [pulses * q_x**2 * p * q for p, q in zip(probs, gains)]
    n_z = [pulses * (1 - q_x) ** 2 * p * q for p, q in zip(probs, gains)]
    m_z = [pulses * (1 - q_x) ** 2 * p * e for p, e in zip(probs, error_gains)]
    m_x_total = pulses * q_x**2 * sum(p * e for p, e in zip(probs, error_gains))
    leak = params.error_correction_efficiency * sum(n_x) * float(binary_entropy(m_x_total / sum(n_x)))
    bounds = lim_decoy_bounds(DecoyCounts(mus, probs, n_x, n_z, m_z), params.epsilon_sec)
    ours = lim_key_length(bounds, leak, params.epsilon_sec, params.epsilon_cor)
    analytic = (
        float(
            get_protocol("bb84-decoy-finite")
            .evaluate(np.array([fibre_transmittance(distance_km)]), params)
            .key_rate_per_pulse[0]
        )
        * pulses
    )
    assert analytic > 0
    assert abs(ours - analytic) <= 1e-4 * analytic


def test_tomamichel_length_tends_to_asymptotic_rate():
    n = 10**12
    length = tomamichel_key_length(n, n, 0.02, 0.1 * n, 1e-10, 1e-15)
    assert abs(length / n - (1.0 - float(binary_entropy(0.02)) - 0.1)) < 1e-3
