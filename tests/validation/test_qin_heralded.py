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
