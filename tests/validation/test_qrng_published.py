"""QRNG device models against numbers printed in papers, with the papers' own parameters.

Reproduced (also anchors of ``qit4n validate``, :mod:`qit4n.qrng.anchors`):

- homodyne and phase noise: Xu et al., Opt. Express 20, 12366 (2012), section 3, steps 1-4. A laser
  phase-noise QRNG read in its linear regime (eq. 2, sin(d theta) ~ d theta), so its quantum signal
  is Gaussian: 8-bit ADC over [-15, 15] mV, total variance 24.4 mV^2, quantum-to-classical ratio
  gamma = 21 (Fig. 3) -> sigma_Q^2 = 23.3 mV^2, P_max = 9.6e-3, 6.7 bits per sample;
- beam splitter: Herrero-Collantes and Garcia-Escartin, Rev. Mod. Phys. 89, 015004 (2017), section
  VII.B footnote 5 (single-click probability largest at alpha = sqrt(2 ln 2)) and section VII.D
  eq. (18) (detected rate with a non-paralysable dead time, lambda / (1 + lambda t_dead), rate and
  dead time in units of the counting period).

Not reproducible from what is published (scans below say what is missing):

- Abellan et al., Opt. Express 22, 1645 (2014), abstract: 43 Gbps from 5.825 GHz pulses digitised
  at 14 bits, i.e. 7.38 bits per sample. The ADC range against the fringe, the visibility and the
  classical noise are not given in what could be read here.
- Haw et al., Phys. Rev. Applied 3, 054004 (2015): only the abstract could be read (14 Mbps/MHz);
  its Fig. 3 values and ADC settings were not.
- Gabriel et al., Nat. Photon. 4, 711 (2010): Shannon entropies on 32 equiprobable bins (H_quant
  3.25 bits) at a signal-to-noise ratio given only as a lower bound (25 dB); our models compute
  min-entropy on equally spaced ADC bins.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from scipy.optimize import brentq

from qit4n.qkd.anchors import evaluate_anchors
from qit4n.qrng import BeamSplitterSource, beam_splitter_bit_probabilities, phase_noise_min_entropy
from qit4n.qrng.anchors import optimal_mean_photons, qrng_anchor_specs, xu2012_homodyne_bits, xu2012_phase_noise_bits


def test_xu2012_min_entropy_from_the_homodyne_model() -> None:
    """Xu et al. 2012, section 3: 6.7 bits per 8-bit sample (printed to 0.1: tolerance 0.05 bits) and
    P_max = 9.6e-3. Ours is 9.69e-3: the printed inputs (sigma_total^2 24.4, gamma 21) give sigma_Q =
    4.826 mV; the paper's rounded sigma_Q = 4.8 mV gives 9.74e-3, so 9.6e-3 is not met to its last digit
    from any printed input; tolerance 1.5 % relative."""
    bits = xu2012_homodyne_bits()
    assert bits == pytest.approx(6.7, abs=0.05)
    assert 2.0**-bits == pytest.approx(9.6e-3, rel=0.015)
    assert 2.0**-bits == pytest.approx(
        math.erf((30.0 / 256) / (2 * math.sqrt(2) * math.sqrt(24.4 * 21 / 22))), rel=1e-12
    )


def test_xu2012_min_entropy_from_the_phase_noise_model() -> None:
    """The same operating point through the phase-noise model, V = cos(theta + pi/2) with a phase of
    1e-4 rad per mV (sin(theta) ~ theta to 1e-7): 6.7 bits, tolerance 0.05; equal to the Gaussian
    model to 1e-3 bits."""
    bits = xu2012_phase_noise_bits()
    assert bits == pytest.approx(6.7, abs=0.05)
    assert bits == pytest.approx(xu2012_homodyne_bits(), abs=1e-3)


def test_xu2012_with_an_adversarial_classical_offset() -> None:
    """Xu et al. assume the quantum Gaussian centred. An adversary holding the classical noise (|e| up
    to 5 sigma_E, Haw et al. 2015) shifts it toward an end bin: 1 - Phi((15 - 0.117 - 5.27) / 4.83)
    = 0.023, so 5.43 bits, well below the printed 6.7; both models agree to 1e-3 bits."""
    homodyne, phase = xu2012_homodyne_bits(5.0), xu2012_phase_noise_bits(5.0)
    assert homodyne == pytest.approx(5.433, abs=1e-3)
    assert phase == pytest.approx(homodyne, abs=1e-3)


def test_beam_splitter_single_click_optimum() -> None:
    """Herrero-Collantes and Garcia-Escartin 2017, sec. VII.B footnote 5: the single-click probability
    of a coherent pulse on a 50/50 beam splitter peaks at |alpha|^2 = 2 ln 2 = 1.386 (there it is 1/2);
    tolerance 1e-6."""
    assert optimal_mean_photons() == pytest.approx(2 * math.log(2), rel=1e-6)
    p0, p1 = beam_splitter_bit_probabilities(2 * math.log(2))
    assert float(p0 + p1) == pytest.approx(0.5, abs=1e-12)


@pytest.mark.parametrize("dead_slots", [0, 5, 40])
def test_beam_splitter_dead_time_matches_the_nonparalysable_rate(dead_slots: int) -> None:
    """Herrero-Collantes and Garcia-Escartin 2017, sec. VII.D eq. (18): a detector blind for t_dead after
    each click registers lambda / (1 + lambda t_dead). With one detector lit (eta_1 = 0) every registered
    click is a kept bit; per slot, lambda = p = 1 - exp(-mu eta_0 / 2) and t_dead = dead_slots. 400,000
    slots, within 5 standard deviations."""
    source = BeamSplitterSource(mean_photons=0.2, eta=(0.6, 0.0), dark_probability=(0.0, 0.0), dead_slots=dead_slots)
    slots = 400_000
    kept = source.bits(np.random.default_rng(7), slots, True, 1.0).size
    p = 1.0 - math.exp(-0.2 * 0.6 / 2)
    expected = p / (1.0 + p * dead_slots)
    assert abs(kept / slots - expected) < 5 * math.sqrt(expected / slots)


def test_abellan2014_rate_is_below_the_ideal_phase_diffusion_bound() -> None:
    """Abellan et al. 2014 (abstract): 43 Gbps at 5.825 GHz and 14 bits, 7.38 bits per sample. Fully
    diffused phase, 14-bit ADC exactly over the fringe: the arcsine end bin gives 7.651 bits, an upper
    bound that the published rate respects. Reaching 7.38 with our worst case over |e| <= 5 sigma_c needs
    classical noise sigma_c = 0.0906 of the fringe amplitude; the paper's ADC range, visibility and
    noise, which would fix this, are not in what could be read, so 7.38 is not an anchor."""
    published = 43.0 / 5.825
    ideal = phase_noise_min_entropy(100.0, adc_bits=14)
    assert ideal == pytest.approx(-math.log2(math.acos(1 - 2 / 2**14) / math.pi), abs=1e-9)
    assert ideal == pytest.approx(7.651, abs=1e-3) and published < ideal
    needed = brentq(
        lambda sigma: phase_noise_min_entropy(100.0, adc_bits=14, classical_sigma=sigma, offsets=51) - published,
        0.05,
        0.2,
        xtol=1e-5,
    )
    assert needed == pytest.approx(0.0906, abs=5e-4)


def test_the_qrng_anchors_are_on_the_validation_page() -> None:
    """Every QRNG anchor is within its tolerance and has its row on docs/validation.md (which
    ``test_validation_page.py`` keeps equal to ``collect_anchors()``)."""
    anchors = evaluate_anchors(qrng_anchor_specs())
    assert len(anchors) == 4 and all(anchor.within for anchor in anchors)
    page = (Path(__file__).resolve().parents[2] / "docs" / "validation.md").read_text(encoding="utf-8")
    assert all(f"## {anchor.model}" in page and anchor.place in page for anchor in anchors)
