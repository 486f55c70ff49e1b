"""Validation of the midpoint-source scheme (Jones et al. 2016) against a photon-level Monte Carlo.

Scheme: C. Jones, D. Kim, M. T. Rakher, P. G. Kwiat, T. D. Ladd, New J. Phys. 18, 083015 (2016),
arXiv:1505.01536 ("MidpointSource": a pair source at the midpoint, absorptive memories heralding
at the nodes). Pair statistics: thermal ``P(n) = (1-x) x^n``, ``x = mu/(1+mu)`` for a single-mode
SPDC source (N. Sangouard et al., Rev. Mod. Phys. 83, 33 (2011)), and Poisson. The closed form of
:func:`qit4n.qin.midpoint.midpoint_source` (generating functions, see its module docstring) is
checked against :func:`sample_midpoint_source`, which draws pair numbers, per-photon heralding and
dark counts one attempt at a time, at parameters spanning low to high brightness
(``mu`` = 0.01 to 1, ``eta`` = 0.05 to 0.9, dark counts 0 to 1e-2). Tolerance: 4 standard errors of
the Monte Carlo estimate (binomial for the success probability, of the heralded-pair mean for the
fidelity), 10^6 attempts per point. The single-pair limit of the scheme, success ``mu eta_a eta_b``
with fidelity 1 (the paper's premise that one photon per node heralds the Bell pair), is checked to
1e-4 relative at ``mu`` = 1e-6.
"""

from __future__ import annotations

import numpy as np
import pytest

from qit4n.qin.midpoint import midpoint_source, sample_midpoint_source

ATTEMPTS = 1_000_000

CASES = [
    (0.01, 0.9, 0.9, 0.0, "thermal"),
    (0.1, 0.5, 0.2, 1e-4, "thermal"),
    (1.0, 0.8, 0.6, 1e-2, "thermal"),
    (0.3, 0.05, 0.5, 1e-3, "poisson"),
    (1.0, 0.9, 0.9, 0.0, "poisson"),
]


@pytest.mark.parametrize(("mean_pairs", "eta_a", "eta_b", "dark", "statistics"), CASES)
def test_closed_form_matches_photon_level_monte_carlo(
    mean_pairs: float, eta_a: float, eta_b: float, dark: float, statistics: str
) -> None:
    outcome = midpoint_source(
        mean_pairs=mean_pairs, eta_a=eta_a, eta_b=eta_b, dark_count_probability=dark, statistics=statistics
    )
    p = float(outcome.success_probability)
    fidelity = float(outcome.fidelity)
    rng = np.random.default_rng(20260101)
    p_mc, fidelity_mc = sample_midpoint_source(
        rng,
        ATTEMPTS,
        mean_pairs=mean_pairs,
        eta_a=eta_a,
        eta_b=eta_b,
        dark_count_probability=dark,
        statistics=statistics,
    )
    heralded = p * ATTEMPTS
    assert abs(p_mc - p) < 4.0 * np.sqrt(p * (1.0 - p) / ATTEMPTS)
    # Heralded pairs have fidelity 1 or 1/4: the share of genuine ones is binomial.
    genuine = (fidelity - 0.25) / 0.75
    assert abs(fidelity_mc - fidelity) < 4.0 * 0.75 * np.sqrt(genuine * (1.0 - genuine) / heralded) + 1e-12


@pytest.mark.parametrize("statistics", ["thermal", "poisson"])
def test_single_pair_limit(statistics: str) -> None:
    outcome = midpoint_source(mean_pairs=1e-6, eta_a=0.4, eta_b=0.25, statistics=statistics)
    assert float(outcome.success_probability) == pytest.approx(1e-6 * 0.4 * 0.25, rel=1e-4)
    assert float(outcome.fidelity) == pytest.approx(1.0, abs=1e-5)
