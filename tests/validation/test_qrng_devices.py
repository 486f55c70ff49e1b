"""QRNG device models against their papers' formulas, computed independently.

Each model is checked against an independent computation of the published formula (numerical
integration of the bin probabilities and a brute-force worst case over the classical offset), plus
the closed-form limits the papers state. The numbers printed in papers (Xu et al. 2012; Herrero-Collantes
and Garcia-Escartin 2017), and why those of Haw et al. 2015, Abellan et al. 2014 and Gabriel et al.
2010 cannot be reproduced from what is published, are in ``test_qrng_published.py``.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate, stats

from qit4n.qrng import (
    BeamSplitterSource,
    beam_splitter_bit_probabilities,
    beam_splitter_min_entropy,
    emulate,
    homodyne_min_entropy,
    noise_ratio_to_sigmas,
    phase_noise_bin_probabilities,
    phase_noise_min_entropy,
)


def _homodyne_brute_force(qcnr_db: float, adc_bits: int, range_sigmas: float, bound: float) -> float:
    """Haw et al. 2015, eqs. (5)-(9): max over a grid of offsets |e| <= e_max and over all ADC bins of
    P(m_i | e), each bin integrated numerically (end bins take the tails)."""
    sigma_q, sigma_e = (float(s) for s in noise_ratio_to_sigmas(qcnr_db))
    bins = 2**adc_bits
    edges = np.linspace(-range_sigmas, range_sigmas, bins + 1)
    edges[0], edges[-1] = -np.inf, np.inf
    worst = 0.0
    for e in np.linspace(-bound * sigma_e, bound * sigma_e, 2001):
        density = stats.norm(loc=e, scale=sigma_q)
        worst = max(worst, float(np.max(np.diff(density.cdf(edges)))))
    return -math.log2(worst)


@pytest.mark.parametrize(
    ("qcnr_db", "adc_bits", "range_sigmas"),
    [(0.0, 8, 3.0), (10.0, 8, 2.0), (20.0, 8, 3.0), (20.0, 10, 4.0), (5.0, 12, 5.0), (30.0, 6, 1.5)],
)
def test_homodyne_conditional_min_entropy_matches_brute_force(
    qcnr_db: float, adc_bits: int, range_sigmas: float
) -> None:
    """Haw et al., Phys. Rev. Applied 3, 054004 (2015), eq. (9); tolerance 1e-3 bits (grid of offsets)."""
    ours = float(homodyne_min_entropy(qcnr_db, adc_bits=adc_bits, range_sigmas=range_sigmas))
    assert ours == pytest.approx(_homodyne_brute_force(qcnr_db, adc_bits, range_sigmas, 5.0), abs=1e-3)


def test_homodyne_trends_of_haw_fig3() -> None:
    """Haw et al. (2015), Fig. 3: conditional min-entropy grows with the noise ratio toward the
    unconditional value (Gabriel et al. 2010), and has an interior optimum in the ADC range."""
    ratios = np.array([0.0, 5.0, 10.0, 15.0, 20.0, 30.0])
    conditional = homodyne_min_entropy(ratios, adc_bits=8, range_sigmas=3.0)
    assert np.all(np.diff(conditional) > 0)
    unconditional = homodyne_min_entropy(60.0, adc_bits=8, range_sigmas=3.0, conditional=False)
    assert float(homodyne_min_entropy(60.0, adc_bits=8, range_sigmas=3.0)) == pytest.approx(
        float(unconditional), abs=1e-3
    )
    ranges = np.linspace(0.5, 8.0, 151)
    curve = homodyne_min_entropy(15.0, adc_bits=8, range_sigmas=ranges)
    best = int(np.argmax(curve))
    assert 0 < best < ranges.size - 1 and curve[best] < 8.0


def test_gabriel_unconditional_limit() -> None:
    """Gabriel et al., Nature Photonics 4, 711 (2010): with a wide range the most likely bin is the
    central one, p_max = erf(delta / (2 sqrt(2) sigma)); tolerance 1e-12."""
    delta = 2 * 6.0 / 2**8
    expected = -math.log2(math.erf(delta / (2 * math.sqrt(2))))
    ours = float(homodyne_min_entropy(20.0, adc_bits=8, range_sigmas=6.0, conditional=False))
    assert ours == pytest.approx(expected, abs=1e-12)


def test_phase_noise_arcsine_limit() -> None:
    """Abellan et al., Optics Express 22, 1645 (2014), section 2: with the phase fully diffused, V =
    cos(theta) follows the arcsine law, P(a < V < b) = (arccos a - arccos b) / pi; tolerance 1e-4."""
    edges = np.linspace(-1.0, 1.0, 17)
    exact = (np.arccos(edges[:-1]) - np.arccos(edges[1:])) / np.pi
    assert np.allclose(phase_noise_bin_probabilities(100.0, adc_bits=4), exact, atol=1e-4)
    end_bin = math.acos(1 - 2 / 256) / math.pi
    assert phase_noise_min_entropy(100.0, adc_bits=8) == pytest.approx(-math.log2(end_bin), abs=1e-3)
    assert phase_noise_min_entropy(100.0, adc_bits=8, classical_sigma=0.05) < phase_noise_min_entropy(100.0, adc_bits=8)


@pytest.mark.parametrize(("classical_sigma", "adc_bits"), [(0.02, 8), (0.05, 10), (0.01, 12)])
def test_phase_noise_worst_classical_offset_closed_form(classical_sigma: float, adc_bits: int) -> None:
    """Fully diffused phase (arcsine law) plus an offset |e| <= e_max = 5 sigma_c over an ADC range
    +-(1 + e_max): the adversary's best offset puts the fringe's edge at the top of the range, so the
    end bin of width delta = 2 (1 + e_max) / 2^n holds arccos(1 - delta) / pi; tolerance 1e-9 bits.
    (The grid-based bins used before this was exact gave 4.5859 bits at sigma_c 0.02, 8 bits: 0.004
    too many.)"""
    delta = 2 * (1 + 5 * classical_sigma) / 2**adc_bits
    expected = -math.log2(math.acos(1 - delta) / math.pi)
    ours = phase_noise_min_entropy(100.0, adc_bits=adc_bits, classical_sigma=classical_sigma)
    assert ours == pytest.approx(expected, abs=1e-9)


def test_phase_noise_small_diffusion_concentrates() -> None:
    """A phase spread well below pi (insufficient diffusion, Abellan et al. 2014 Fig. 2) leaves far less
    entropy than the arcsine law; compared with direct integration of the normal density, 1e-3."""
    sigma = 0.3
    probabilities = phase_noise_bin_probabilities(sigma, adc_bits=6)
    edges = np.linspace(-1.0, 1.0, 65)

    def bin_mass(low: float, high: float) -> float:
        # V = cos(theta + pi/2) = -sin(theta) lies in [low, high] for theta in [-asin(high), -asin(low)].
        a, b = -math.asin(high), -math.asin(low)
        return integrate.quad(lambda t: stats.norm.pdf(t, scale=sigma), a, b)[0]

    direct = np.array([bin_mass(lo, hi) for lo, hi in zip(edges[:-1], edges[1:])])
    assert np.allclose(probabilities, direct, atol=1e-3)


def test_beam_splitter_efficiency_mismatch_limit() -> None:
    """Jennewein et al., Rev. Sci. Instrum. 71, 1675 (2000) and Stefanov et al., J. Mod. Opt. 47, 595
    (2000): for weak light the bias is T eta_0 / (T eta_0 + (1 - T) eta_1); tolerance 1e-5."""
    p0, p1 = beam_splitter_bit_probabilities(1e-6, eta=(0.6, 0.5), transmissivity=0.5)
    assert float(p0 / (p0 + p1)) == pytest.approx(0.6 / 1.1, abs=1e-5)
    assert float(beam_splitter_min_entropy(1e-6, eta=(0.5, 0.5))) == pytest.approx(1.0, abs=1e-9)


def test_beam_splitter_emulation_matches_the_formula() -> None:
    """Monte Carlo of 400,000 kept bits against the closed form (dead time removes slots symmetrically
    when the detectors match in efficiency); within 5 standard deviations."""
    source = BeamSplitterSource(mean_photons=0.2, eta=(0.6, 0.45), dark_probability=(1e-4, 1e-4), dead_slots=0)
    bits = np.concatenate(list(emulate(source, 400_000, np.random.default_rng(21))))
    p0, p1 = beam_splitter_bit_probabilities(0.2, eta=(0.6, 0.45), dark_probability=(1e-4, 1e-4))
    share = float(p0 / (p0 + p1))
    assert abs((1.0 - bits.mean()) - share) < 5 * math.sqrt(share * (1 - share) / bits.size)
