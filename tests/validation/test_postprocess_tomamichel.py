"""The finite-key length of Tomamichel, Lim, Gisin and Renner, Nat. Commun. 3, 634 (2012),
arXiv:1103.4130, against the paper's equations and its Table II.

Source of the numbers: a Markdown transcription of the arXiv paper (GitHub A-DaRo/qia-challenge-2025,
docs/literature/Tight Finite-Key Analysis for Quantum Cryptography.md, commit ce4164a8), read
through the search tool: Theorem 2, Eq. (2); Eq. (3); Tables I and II; Supplementary Eqs. (S3),
(S15). The transcription drops the square on eps_sec in Eq. (2) and sets ln outside the square
root; (S3) at the split below, the Serfling derivation (S10)-(S15) and the same equation quoted
elsewhere (arxiv.org/html/1103.4130v2) give the forms used here. No figure data (Figs. 1, 2 are
images) could be read, so no points were digitised.

Table II ("Optimized parameters for a given security rate eps/l = 1e-14", depolarising channel,
q = 1, leak_EC = 1.1 n h(Q_tol)) gives, for n key bits and channel error rate Q, the optimised
expected rate r of Eq. (3), the basis probability, Q_tol and eps_rob:

    n     Q %   r %    basis %  Q_tol %  eps_rob %
    1e4   1.0   11.7   38.2     2.48     2.3
    1e4   2.5    6.8   43.0     3.78     3.0
    1e5   1.0   30.4   22.0     2.14     0.8
    1e5   2.5   21.5   23.3     3.58     1.0
    1e6   1.0   47.8   12.5     1.73     0.6
    1e6   2.5   35.7   13.7     3.21     0.7

The basis column is headed p_x but falls towards 0 as n grows, so it is the test-basis
probability 1 - p_x of Table I (p_x -> 1 asymptotically). The paper does not print its
robustness bound (only that it decays exponentially in Q_tol - Q) nor its split of eps between
eps_sec and eps_cor (here eps_sec = eps_cor = eps / 2; eps_sec = 0.9 eps would raise r by 0.4-1.4 %).

What is reproduced and what is not (measured, this implementation):

- The optimal basis bias at the table's (n, Q, Q_tol, eps_rob): 38.2, 42.5, 21.8, 24.2, 12.2,
  13.3 % against 38.2, 43.0, 22.0, 23.3, 12.5, 13.7 %, within 1.5 percentage points (largest
  difference 0.9). With h(Q) instead of h(Q_tol) in the leak the n = 1e4 rows move to 34.8 and
  39.2 %; with mu^2 halved all rows move by 2-6.5 points; M = n / p_x instead of n / p_x^2 moves
  them by 4-8 points: the column pins the form of Eq. (2) and of M(n, k).
- The rate at the table's (Q_tol, eps_rob) is 10.0, 6.1, 26.5, 18.7, 43.8, 32.6 %: 0.85-0.92 of
  the published r. Optimising Q_tol too, with the exact binomial robustness, gives 14.1, 8.5,
  31.9, 22.4, 48.5, 35.9 %: 1.006-1.25 of it, within 2 % at n = 1e6. The published optimum lies
  between the two for every row; the residual at small n could not be traced to any single
  convention (leak, M, eps split, robustness bound) and is left open.

Further checks (issue 15, item 6; scripts not kept, numbers measured):

- The table's eps_rob column is not the abort probability of its own p_x and Q_tol under any
  standard tail: with k = n (p_z / p_x)^2 (3821, 5691, 7955, 9228, 20408, 25201 test bits) the
  exact binomial tail is 5e-15, 3e-9, 3e-19, 2e-10, 8e-22, 2e-12, Chernoff's bound 3e-20 to 6e-8
  and Hoeffding's 18.8, 15.5, 12.6, 11.6, 11.4, 7.9 %, against the printed 2.3, 3.0, 0.8, 1.0,
  0.6, 0.7 %. The binomial tail reaches the printed values only at k = 242 to 3178 (p_z 8-25
  points lower than printed). So the paper's robustness bound, which it does not print, decides
  the rates, and the rows cannot be recomputed from the columns alone.
- Alternative readings at the table's (p_x, Q_tol, eps_rob), Eq. (2): Supplementary (S3)
  maximised over the eps split, and the exact binomial sum of (S19) in place of n h, change the
  rates by under 1 % (0.86-0.92 of r). Reading the table's n as the whole sifted block n + k and
  the leak as 1.1 n h(Q) instead of h(Q_tol) (both against the paper's text) gives 1.004, 0.924,
  1.013, 1.016, 0.998, 0.997 of r: five rows within 2 %, the n = 1e4, Q = 2.5 % row 8 % low. No
  reading consistent with the text reproduces all six rows to the printed digits, so the rates
  stay bracketed.
"""

from __future__ import annotations

import itertools
import math

import pytest

from qit4n.errors import ParameterError
from qit4n.maths import binary_entropy
from qit4n.postprocess.estimation import tomamichel_key_length
from qit4n.qkd.finite_key import (
    expected_key_rate,
    expected_signals,
    key_basis_probability,
    optimal_key_rate,
    secret_key_length_bits,
)

#: Table II of the paper: n, Q, r, test-basis probability, Q_tol, eps_rob (fractions).
TABLE_II = [
    (1e4, 0.010, 0.117, 0.382, 0.0248, 0.023),
    (1e4, 0.025, 0.068, 0.430, 0.0378, 0.030),
    (1e5, 0.010, 0.304, 0.220, 0.0214, 0.008),
    (1e5, 0.025, 0.215, 0.233, 0.0358, 0.010),
    (1e6, 0.010, 0.478, 0.125, 0.0173, 0.006),
    (1e6, 0.025, 0.357, 0.137, 0.0321, 0.007),
]
SECURITY_RATE = 1e-14


def _h(x: float) -> float:
    """Binary entropy with h(x) = 1 for x > 1/2 (the paper's footnote to Theorem 2)."""
    if x >= 0.5:
        return 1.0
    return -x * math.log2(x) - (1 - x) * math.log2(1 - x) if x > 0 else 0.0


def _supplementary_s3(n, k, q_tol, leak, eps_smooth, eps_hash, eps_cor):
    """Supplementary Eq. (S3) with mu(eps) of Eq. (S15), written out independently."""
    mu = math.sqrt((n + k) / (n * k) * (k + 1) / k * math.log(1.0 / eps_smooth))
    return n * (1.0 - _h(q_tol + mu)) - 2.0 * math.log2(1.0 / (2.0 * eps_hash)) - leak - math.log2(2.0 / eps_cor)


@pytest.mark.parametrize("n, k", [(1e4, 3e3), (1e5, 1e4), (1e6, 2e4), (1e8, 1e6)])
@pytest.mark.parametrize("q_tol", [0.01, 0.03, 0.06])
@pytest.mark.parametrize("eps_sec, eps_cor", [(1e-10, 1e-12), (1e-6, 1e-15)])
def test_eq2_is_supplementary_theorem_at_the_stated_split(n, k, q_tol, eps_sec, eps_cor):
    """Eq. (2) equals (S3) at smoothing eps = eps_sec/4 and hashing eps~ = eps_sec/2 (so that
    2 eps + eps~ = eps_sec, the constraint of S3), to 1e-9 relative, and the integer length is its
    floor. (S3 maximised over the split can give more, up to a few % at small n; Eq. (2), as
    printed, does not take that maximum.)"""
    leak = 1.1 * n * _h(q_tol)
    ours = float(secret_key_length_bits(n, k, q_tol, leak, eps_sec, eps_cor))
    reference = _supplementary_s3(n, k, q_tol, leak, eps_sec / 4, eps_sec / 2, eps_cor)
    assert ours == pytest.approx(reference, rel=1e-9, abs=1e-6)
    assert tomamichel_key_length(int(n), int(k), q_tol, leak, eps_sec, eps_cor) == max(0, math.floor(reference))


def test_hash_bits_in_the_leak_replace_the_correctness_term():
    """Counting the log2(2/eps_cor) bound on the hash in ``leak_bits`` (``epsilon_cor=None``)
    gives the same length as passing ``epsilon_cor``, to the flooring bit."""
    n, k, q, eps_sec, eps_cor = 10**6, 10**5, 0.02, 1e-10, 1e-12
    with_cor = tomamichel_key_length(n, k, q, 1e5, eps_sec, eps_cor)
    hash_in_leak = tomamichel_key_length(n, k, q, 1e5 + math.log2(2 / eps_cor), eps_sec)
    assert abs(with_cor - hash_in_leak) <= 1


@pytest.mark.parametrize("n, qber, rate, test_basis, q_tol, robustness", TABLE_II)
def test_table2_optimal_basis_bias(n, qber, rate, test_basis, q_tol, robustness):
    """Table II, basis column: maximising Eq. (3) over k at the table's n, Q, Q_tol, eps_rob and
    eps/l = 1e-14 (leak 1.1 n h(Q_tol)) gives the published test-basis probability 1 - p_x to
    1.5 percentage points (table printed to 0.1 point; Q_tol printed to 0.01 point; measured
    largest difference 0.9 point)."""
    best = optimal_key_rate(n, qber, security_rate=SECURITY_RATE, tolerated_qber=q_tol, robustness=robustness)
    assert abs((1.0 - best.key_basis_probability) - test_basis) <= 0.015


@pytest.mark.parametrize("n, qber, rate, test_basis, q_tol, robustness", TABLE_II)
def test_table2_rate_is_bracketed(n, qber, rate, test_basis, q_tol, robustness):
    """Table II, rate column (not reproduced exactly; see the module docstring): the published
    optimum r lies between our rate at the table's own (Q_tol, eps_rob), measured 0.85-0.92 r,
    and our optimum over Q_tol with the exact binomial robustness, measured 1.006-1.25 r; the
    two brackets are asserted at [0.80, 1.00] r and [1.00, 1.30] r, and at n = 1e6 the optimum
    is within 3 % of r (measured 1.5 % and 0.7 %)."""
    at_table = optimal_key_rate(n, qber, security_rate=SECURITY_RATE, tolerated_qber=q_tol, robustness=robustness)
    joint = optimal_key_rate(n, qber, security_rate=SECURITY_RATE)
    assert 0.80 * rate <= at_table.rate <= rate
    assert rate <= joint.rate <= 1.30 * rate
    if n >= 1e6:
        assert joint.rate == pytest.approx(rate, rel=0.03)


def test_table2_rate_definition():
    """Eq. (3) and Table I: r = (1 - eps_rob) l / M with M = n / p_x^2 = (sqrt n + sqrt k)^2,
    checked against Eq. (2) evaluated by hand at the n = 1e6, Q = 1 % row (k from the table's
    basis column), to 1e-9 relative."""
    n, q_tol, robustness = 1e6, 0.0173, 0.006
    k = n * (0.125 / 0.875) ** 2
    assert float(key_basis_probability(n, k)) == pytest.approx(0.875, rel=1e-12)
    assert float(expected_signals(n, k)) == pytest.approx(n / 0.875**2, rel=1e-12)
    rate = float(expected_key_rate(n, k, 0.01, q_tol, security_rate=SECURITY_RATE, robustness=robustness))
    length = rate * n / 0.875**2 / (1 - robustness)
    eps = SECURITY_RATE * length
    reference = _supplementary_s3(n, k, q_tol, 1.1 * n * _h(q_tol), eps / 8, eps / 4, eps / 2)
    assert length == pytest.approx(reference, rel=1e-9)


@pytest.mark.parametrize("qber", [0.01, 0.025, 0.05])
def test_optimised_rate_reaches_the_asymptotic_limit(qber):
    """Discussion section: with leak_EC = n h(Q) (xi = 1) and k growing slower than n the rate
    tends to r_max = 1 - 2 h(Q) for any fixed security. Measured r / r_max at n = 1e6, 1e8, 1e10,
    1e12: 0.59, 0.85, 0.95, 0.986 (Q = 1 %) and alike for 2.5 % and 5 %; asserted increasing,
    never above 1, and above 0.97 at n = 1e12."""
    r_max = 1.0 - 2.0 * float(binary_entropy(qber))
    ratios = [optimal_key_rate(n, qber, ec_efficiency=1.0).rate / r_max for n in (1e6, 1e8, 1e10, 1e12)]
    assert all(a < b for a, b in itertools.pairwise(ratios))
    assert ratios[-1] <= 1.0
    assert ratios[-1] > 0.97


def test_length_tends_to_n_minus_leak_minus_n_h():
    """Eq. (2) with k = n: mu -> 0 and l / n -> q - h(Q) - leak / n; at n = 1e12 to 1e-3."""
    n = 10**12
    length = tomamichel_key_length(n, n, 0.02, 0.1 * n, 1e-10, 1e-15)
    assert abs(length / n - (1.0 - float(binary_entropy(0.02)) - 0.1)) < 1e-3


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"epsilon_sec": 0.0}, "epsilon_sec"),
        ({"epsilon_cor": 1.5}, "epsilon_cor"),
        ({"leak_bits": -1.0}, "leak_bits"),
        ({"test_qber": -0.1}, "test_qber"),
    ],
)
def test_bad_inputs_name_the_field(kwargs, field):
    args = {
        "key_bits": 1000,
        "test_bits": 100,
        "test_qber": 0.02,
        "leak_bits": 10.0,
        "epsilon_sec": 1e-10,
        "epsilon_cor": 1e-12,
    }
    args.update(kwargs)
    with pytest.raises(ParameterError, match=field):
        tomamichel_key_length(**args)
    with pytest.raises(ParameterError, match="qber"):
        optimal_key_rate(1e4, 0.6)
