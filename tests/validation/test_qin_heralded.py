"""Heralded entanglement generation against the analytic single-click and Barrett-Kok formulas.

Sources: single click (Cabrillo et al., PRA 59, 1025 (1999); Humphreys et al., Nature 558, 268
(2018)): success probability ``p ~ 2 alpha eta`` and fidelity ``F ~ 1 - alpha`` for small eta;
Barrett & Kok, PRA 71, 060310(R) (2005): ``p = eta^2 / 2`` and ``F = 1`` without dark counts.
The analytic model with dark counts is checked against an independent photon-level Monte Carlo
(2e6 attempts; tolerance 5 standard errors).
"""

import numpy as np
import pytest

from qit4n.qin import heralded


@pytest.mark.parametrize("alpha", [0.02, 0.05, 0.1])
def test_single_click_small_eta_limits(alpha):
    """eta = 1e-4: p / (2 alpha eta) and F / (1 - alpha) within 1e-3 of 1 (the published leading order)."""
    outcome = heralded.single_click(bright_state_population=alpha, eta=1e-4)
    assert float(outcome.success_probability) / (2 * alpha * 1e-4) == pytest.approx(1.0, abs=1e-3 + alpha)
    assert float(outcome.fidelity) == pytest.approx(1 - alpha, abs=1e-3 + alpha**2)


@pytest.mark.parametrize("eta", [0.01, 0.2, 0.7, 1.0])
def test_barrett_kok_ideal(eta):
    """Barrett-Kok without dark counts: p = eta^2/2 exactly and F = 1; tolerance 1e-12."""
    outcome = heralded.barrett_kok(eta=eta)
    assert float(outcome.success_probability) == pytest.approx(eta**2 / 2, abs=1e-12)
    assert float(outcome.fidelity) == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize(("alpha", "eta", "dark"), [(0.1, 0.3, 0.0), (0.2, 0.5, 0.05), (0.05, 0.1, 0.01)])
def test_single_click_against_photon_monte_carlo(alpha, eta, dark):
    """Analytic single click (with dark counts) versus sampled photons, beam splitter and detectors."""
    attempts = 2_000_000
    rate, fidelity = heralded.sample_single_click(
        np.random.default_rng(11), attempts, bright_state_population=alpha, eta=eta, dark_count_probability=dark
    )
    outcome = heralded.single_click(bright_state_population=alpha, eta=eta, dark_count_probability=dark)
    p = float(outcome.success_probability)
    assert abs(rate - p) < 5 * np.sqrt(p * (1 - p) / attempts)
    f = float(outcome.fidelity)
    assert abs(fidelity - f) < 5 * np.sqrt(f * (1 - f) / (p * attempts)) + 1e-12


@pytest.mark.parametrize(("eta", "dark"), [(0.3, 0.0), (0.5, 0.05), (0.2, 0.01)])
def test_barrett_kok_against_photon_monte_carlo(eta, dark):
    """Analytic Barrett-Kok (with dark counts) versus sampled photons in two rounds."""
    attempts = 2_000_000
    rate, fidelity = heralded.sample_barrett_kok(
        np.random.default_rng(12), attempts, eta=eta, dark_count_probability=dark
    )
    outcome = heralded.barrett_kok(eta=eta, dark_count_probability=dark)
    p = float(outcome.success_probability)
    assert abs(rate - p) < 5 * np.sqrt(p * (1 - p) / attempts)
    f = float(outcome.fidelity)
    assert abs(fidelity - f) < 5 * np.sqrt(f * (1 - f) / (p * attempts)) + 1e-12


# Imperfect generation. Single click: Hermans et al., New J. Phys. 25, 013011 (2023), arXiv:2208.07449
# (the heralded one-photon superposition keeps the photon overlap |<a|b>| = sqrt(V) of the two-photon
# visibility V and the phase average <cos phi>; double excitation gives the (1 - alpha) factor);
# Humphreys et al. 2018 (F ~ 1 - alpha). Barrett-Kok: Barrett & Kok 2005 and Bernien et al., Nature
# 497, 86 (2013): the genuine branch has F = (1 + V) / 2, and the optical phase cancels between rounds.


@pytest.mark.parametrize(("visibility", "sigma"), [(1.0, 0.0), (0.9, 0.0), (0.81, 0.3), (0.5, 0.6)])
def test_single_click_fidelity_with_visibility_and_phase_noise(visibility, sigma):
    """alpha = 1e-6, eta = 1e-4, no dark counts: F = (1 + sqrt(V) exp(-sigma^2/2)) / 2 within 1e-5."""
    outcome = heralded.single_click(
        bright_state_population=1e-6, eta=1e-4, visibility=visibility, phase_noise_rad=sigma
    )
    expected = (1 + np.sqrt(visibility) * np.exp(-(sigma**2) / 2)) / 2
    assert float(outcome.fidelity) == pytest.approx(expected, abs=1e-5)


@pytest.mark.parametrize("alpha", [0.05, 0.1, 0.2])
def test_single_click_fidelity_visibility_and_alpha(alpha):
    """Small eta: F = (1 - alpha)(1 + sqrt(V)) / 2 + O(alpha eta) (tolerance 1e-3), V = 0.9."""
    outcome = heralded.single_click(bright_state_population=alpha, eta=1e-4, visibility=0.9)
    assert float(outcome.fidelity) == pytest.approx((1 - alpha) * (1 + np.sqrt(0.9)) / 2, abs=1e-3)


def test_single_click_dark_counts_leading_order():
    """alpha = 0.05, eta = 0.01, d = 1e-4: with a dark rate comparable to the photon rate the dark
    branch (F = 1/2) and the no-emission branch (F = 0) enter as p_dark / p; compared with the
    leading-order sum 2 alpha eta F_g + 2 alpha (1 - eta) d (1/2) over p (tolerance 2e-3)."""
    alpha, eta, d, v = 0.05, 0.01, 1e-4, 0.9
    outcome = heralded.single_click(bright_state_population=alpha, eta=eta, dark_count_probability=d, visibility=v)
    genuine = 2 * alpha * (1 - alpha) * eta * (1 + np.sqrt(v)) / 2
    stand_in = 2 * alpha * (1 - alpha) * (1 - eta) * 2 * d / 2
    assert float(outcome.fidelity) == pytest.approx((genuine + stand_in) / float(outcome.success_probability), abs=2e-3)


@pytest.mark.parametrize(("eta", "visibility", "mismatch"), [(0.3, 0.9, 0.0), (0.5, 0.8, 0.3), (0.05, 1.0, 0.5)])
def test_barrett_kok_visibility_and_mismatch(eta, visibility, mismatch):
    """No dark counts: p = eta^2 (1 - m^2) / 2 and F = (1 + V) / 2, tolerance 1e-12."""
    outcome = heralded.barrett_kok(eta=eta, visibility=visibility, efficiency_mismatch=mismatch)
    assert float(outcome.success_probability) == pytest.approx(eta**2 * (1 - mismatch**2) / 2, abs=1e-12)
    assert float(outcome.fidelity) == pytest.approx((1 + visibility) / 2, abs=1e-12)


@pytest.mark.parametrize(
    ("alpha", "eta", "dark", "visibility", "sigma", "mismatch"),
    [(0.2, 0.5, 0.02, 0.8, 0.4, 0.3), (0.1, 0.3, 0.0, 0.6, 0.0, 0.5)],
)
def test_imperfect_single_click_against_photon_monte_carlo(alpha, eta, dark, visibility, sigma, mismatch):
    """Visibility (bunching and coherence), phase noise, arm mismatch and dark counts: analytic versus
    sampled photons (2e6 attempts, 5 standard errors)."""
    attempts = 2_000_000
    options = {
        "dark_count_probability": dark,
        "visibility": visibility,
        "phase_noise_rad": sigma,
        "efficiency_mismatch": mismatch,
    }
    rate, fidelity = heralded.sample_single_click(
        np.random.default_rng(21), attempts, bright_state_population=alpha, eta=eta, **options
    )
    outcome = heralded.single_click(bright_state_population=alpha, eta=eta, **options)
    p = float(outcome.success_probability)
    assert abs(rate - p) < 5 * np.sqrt(p * (1 - p) / attempts)
    f = float(outcome.fidelity)
    assert abs(fidelity - f) < 5 * np.sqrt(f * (1 - f) / (p * attempts))


@pytest.mark.parametrize(("eta", "dark", "visibility", "mismatch"), [(0.5, 0.05, 0.7, 0.3), (0.3, 0.01, 0.9, 0.0)])
def test_imperfect_barrett_kok_against_photon_monte_carlo(eta, dark, visibility, mismatch):
    """Visibility (bunching and coherence), arm mismatch and dark counts: analytic versus sampled photons."""
    attempts = 2_000_000
    options = {"dark_count_probability": dark, "visibility": visibility, "efficiency_mismatch": mismatch}
    rate, fidelity = heralded.sample_barrett_kok(np.random.default_rng(22), attempts, eta=eta, **options)
    outcome = heralded.barrett_kok(eta=eta, **options)
    p = float(outcome.success_probability)
    assert abs(rate - p) < 5 * np.sqrt(p * (1 - p) / attempts)
    f = float(outcome.fidelity)
    assert abs(fidelity - f) < 5 * np.sqrt(f * (1 - f) / (p * attempts))
