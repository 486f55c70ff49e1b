"""Exact waiting times of repeater chains with probabilistic links and swaps.

Source: E. Shchukin, F. Schmidt, P. van Loock, "Waiting time in quantum repeaters with
probabilistic entanglement swapping", PRA 100, 032322 (2019), arXiv:1710.06214: the two-segment
closed form ``K_2 = (3 - 2p) / (a p (2 - p))`` and the Markov-chain method for longer doubling
chains; for deterministic swaps (a = 1) the waiting time is the maximum of N geometric times,
``sum_k (-1)^(k+1) C(N,k) / (1 - (1-p)^k)`` (Bernardes, Praxmeyer, van Loock, PRA 83, 012323 (2011)).
"""

import math
import time
from decimal import Decimal, localcontext
from fractions import Fraction
from math import comb

import numpy as np
import pytest

from qit4n.qin import montecarlo, waiting


@pytest.mark.parametrize(("p", "a"), [(0.01, 0.5), (0.1, 0.5), (0.3, 0.25), (0.5, 1.0), (0.9, 0.9)])
def test_two_segment_closed_form(p, a):
    """Markov-chain solution of the 2-segment chain equals Shchukin et al.'s K_2; relative tolerance 1e-10."""
    assert waiting.doubling_mean_waiting_time(2, p, a) == pytest.approx((3 - 2 * p) / (a * p * (2 - p)), rel=1e-10)


def test_two_segment_values_by_hand():
    """K_2 evaluated by hand at p = 0.1: a = 1 gives 2.8/0.19 = 14.74 attempts, a = 0.5 twice that
    (29.47); tolerance 1e-9."""
    assert waiting.doubling_mean_waiting_time(2, 0.1, 1.0) == pytest.approx(14.736842105, rel=1e-9)
    assert waiting.doubling_mean_waiting_time(2, 0.1, 0.5) == pytest.approx(29.473684211, rel=1e-9)


@pytest.mark.parametrize("segments", [2, 4, 8])
@pytest.mark.parametrize("p", [0.05, 0.3, 0.8])
def test_deterministic_swaps_order_statistic(segments, p):
    """With a = 1 the doubling Markov chain gives the mean maximum of N geometric times; rel. tol. 1e-9."""
    assert waiting.doubling_mean_waiting_time(segments, p, 1.0) == pytest.approx(
        waiting.mean_waiting_time_deterministic_swaps(segments, p), rel=1e-9
    )


@pytest.mark.parametrize(("segments", "p", "a"), [(4, 0.1, 0.5), (4, 0.5, 0.8), (8, 0.2, 0.5), (8, 0.05, 0.9)])
def test_monte_carlo_agrees_with_exact(segments, p, a):
    """The vectorised Monte Carlo (2e5 samples) reproduces the exact Markov-chain mean within 5 standard errors."""
    rng = np.random.default_rng(20190321 + segments)
    drawn = montecarlo.sample_chain(
        rng, 200_000, segments=segments, link_success_probability=p, swap_success_probability=a
    )
    exact = waiting.doubling_mean_waiting_time(segments, p, a)
    error = drawn.waiting_steps.std() / np.sqrt(drawn.waiting_steps.size)
    assert abs(drawn.waiting_steps.mean() - exact) < 5 * error


def test_exact_distribution_matches_samples():
    """The exact CDF (propagated Markov chain) and the sampled CDF of a 4-segment chain, p = 0.3, a = 0.6,
    differ by less than the Dvoretzky-Kiefer-Wolfowitz band at 99.9% (eps = sqrt(ln(2/0.001)/(2n)))."""
    samples = 100_000
    rng = np.random.default_rng(5)
    drawn = montecarlo.sample_chain(
        rng, samples, segments=4, link_success_probability=0.3, swap_success_probability=0.6
    )
    cdf = waiting.doubling_waiting_time_cdf(4, 0.3, 0.6, 200)
    empirical = np.searchsorted(np.sort(drawn.waiting_steps), np.arange(201), side="right") / samples
    assert np.max(np.abs(empirical - cdf)) < np.sqrt(np.log(2 / 0.001) / (2 * samples))
    assert cdf[-1] > 0.999


def _exact_deterministic_mean(segments: int, p: Fraction) -> float:
    """The alternating binomial sum (Bernardes et al. 2011) in exact rational arithmetic."""
    q = 1 - p
    return float(sum((-1) ** (k + 1) * comb(segments, k) / (1 - q**k) for k in range(1, segments + 1)))


@pytest.mark.parametrize("segments", [53, 64, 128])
@pytest.mark.parametrize("p", [Fraction(1, 2), Fraction(1, 1000), Fraction(1, 10**5), Fraction(1, 10**9)])
def test_deterministic_swaps_mean_keeps_its_precision_for_long_chains(segments, p):
    """Issue 15: from ~53 segments the alternating sum cancelled in doubles (64 segments: 44.25 for
    p = 0.5, -64,215 for p = 1e-3). Against the same sum in exact fractions, relative 1e-12 (the
    small-p branch, Euler-Maclaurin H_N/lambda + 1/2, included)."""
    assert waiting.mean_waiting_time_deterministic_swaps(segments, float(p)) == pytest.approx(
        _exact_deterministic_mean(segments, p), rel=1e-12
    )


def test_deterministic_swaps_mean_at_the_issue_values():
    """64 segments, a = 1: p = 0.5 gives 7.34 attempts and p = 1e-3 about 4,742 (issue 15)."""
    assert waiting.mean_waiting_time_deterministic_swaps(64, 0.5) == pytest.approx(7.344, abs=1e-3)
    assert waiting.mean_waiting_time_deterministic_swaps(64, 1e-3) == pytest.approx(4742.0, abs=0.1)


@pytest.mark.parametrize(
    ("segments", "p", "a"), [(2, 0.5, 0.5), (4, 0.3, 0.6), (8, 0.2, 0.5), (4, 0.01, 0.9), (2, 0.4, 1.0)]
)
def test_quantile_by_squaring_equals_step_by_step_propagation(segments, p, a):
    """The 99th percentile from repeated squaring equals the first crossing of the propagated CDF."""
    cdf = waiting.doubling_waiting_time_cdf(segments, p, a, 5000)
    assert waiting.doubling_waiting_time_quantile(segments, p, a, 0.99) == int(np.searchsorted(cdf, 0.99))


def test_quantile_at_p_1e_12_is_exact_and_fast():
    """Issue 15: two segments at p = 1e-12 ran >10 minutes and 1.9 GB. With a = 1 the quantile is
    the smallest t with (1 - q^t)^2 >= 0.99, t = ceil(ln(1 - sqrt(0.99)) / ln(1 - 1e-12)), here
    evaluated at 50 digits; both exact routes must give it, within a second."""
    with localcontext() as context:
        context.prec = 50
        p = Decimal("1e-12")
        expected = math.ceil((1 - Decimal("0.99").sqrt()).ln() / (1 - p).ln())
    started = time.perf_counter()
    assert waiting.doubling_waiting_time_quantile(2, 1e-12, 1.0, 0.99) == expected
    assert waiting.deterministic_swaps_waiting_time_quantile(2, 1e-12, 0.99) == expected
    assert time.perf_counter() - started < 1.0


@pytest.mark.parametrize("a", [1.0, 0.5])
def test_markov_chain_mean_keeps_small_p_digits(a):
    """At p = 1e-12 the fundamental matrix built from 1 - p lost four digits; the increment form
    matches K_2 = (3 - 2p) / (a p (2 - p)) (Shchukin et al. 2019) to a relative 1e-12."""
    assert waiting.doubling_mean_waiting_time(2, 1e-12, a) == pytest.approx(
        waiting.mean_waiting_time_two_segments(1e-12, a), rel=1e-12
    )


@pytest.mark.parametrize(("segments", "p"), [(2, 0.3), (4, 0.05), (8, 0.5)])
def test_deterministic_swaps_quantile_closed_form_equals_the_markov_chain(segments, p):
    """With a = 1 the closed-form quantile of the maximum of N geometric times equals the doubling
    chain's (both exact)."""
    assert waiting.deterministic_swaps_waiting_time_quantile(
        segments, p, 0.99
    ) == waiting.doubling_waiting_time_quantile(segments, p, 1.0, 0.99)
