"""Finite-key length and optimised expected key rate of asymmetric BB84 after Tomamichel, Lim,
Gisin and Renner (2012).

Theorem 2, Eq. (2): with ``n`` key bits (basis X), ``k`` test bits (basis Z) and the abort
threshold ``Q_tol`` on the test error rate, the protocol is ``eps_sec``-secret for::

    l <= n (q - h(Q_tol + mu)) - leak_EC - log2(2 / (eps_sec^2 eps_cor)),
    mu = sqrt((n + k) / (n k) * (k + 1) / k * ln(4 / eps_sec)),

with ``h(x) = 1`` for ``x > 1/2`` and ``q = 1`` for qubit BB84. It is Supplementary Eq. (S3),
``n (q - h(Q_tol + mu(eps))) - 2 log2(1 / (2 eps~)) - leak_EC - log2(2 / eps_cor)`` with ``mu(eps)``
of Eq. (S15) (``ln(1 / eps)``, Serfling's bound reaching ``eps^2``), taken at ``eps = eps_sec / 4``
and ``eps~ = eps_sec / 2`` (S3 needs ``2 eps + eps~ <= eps_sec``). The ``log2(2 / eps_cor)`` bounds
the ``ceil(log2(1 / eps_cor))`` bits of the verification hash; a caller that counts the hash bits it
disclosed in the leak passes ``epsilon_cor=None``, leaving ``2 log2(1 / eps_sec)``.

The expected secret key rate, Eq. (3), is ``r = (1 - eps_rob) l / M(n, k)`` per detected signal,
where both parties choose the key basis with ``p_x = (1 + sqrt(k / n))^-1`` (Table I), so that
``M(n, k) = n / p_x^2 = (sqrt(n) + sqrt(k))^2`` signals are expected before ``n`` key and ``k``
test bits are sifted. The paper optimises ``r`` over ``k`` and ``Q_tol`` for a depolarising channel
of error rate ``Q``, with ``leak_EC = xi n h(Q_tol)``, ``xi = 1.1``, and a fixed security rate
``eps / l`` (Fig. 1, Table II). It bounds ``eps_rob`` by the probability that the test error rate
exceeds ``Q_tol`` without printing the bound; :func:`abort_probability` uses the exact
binomial tail. It does not print how ``eps`` is split either; here ``eps_sec = eps_cor = eps / 2``.

References
----------
Tomamichel, M., Lim, C. C. W., Gisin, N. and Renner, R., "Tight finite-key analysis for quantum
cryptography", Nat. Commun. 3, 634 (2012), doi:10.1038/ncomms1631, arXiv:1103.4130.
Serfling, R. J., Ann. Stat. 2, 39 (1974), doi:10.1214/aos/1176342611.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from qit4n.errors import ParameterError
from qit4n.maths import binary_entropy

__all__ = [
    "RateOptimum",
    "abort_probability",
    "expected_key_rate",
    "expected_signals",
    "key_basis_probability",
    "optimal_key_rate",
    "secret_key_length_bits",
    "statistical_deviation",
]

#: Error-correction leak factor the paper assumes for its figures and Table II.
PAPER_EC_EFFICIENCY = 1.1
#: Fixed-point steps for ``eps = security_rate * l`` (the length depends on eps only through logs).
_FIXED_POINT_STEPS = 8
_K_GRID_POINTS = 400
_QTOL_GRID_POINTS = 240


def statistical_deviation(key_bits: ArrayLike, test_bits: ArrayLike, epsilon_sec: ArrayLike) -> np.ndarray:
    """``mu`` of Eq. (2): how far the key-bit error rate may exceed the test error rate.

    >>> round(float(statistical_deviation(1e6, 1e5, 1e-10)), 5)
    0.01639
    """
    n, k = np.asarray(key_bits, dtype=float), np.asarray(test_bits, dtype=float)
    return np.sqrt((n + k) / (n * k) * (k + 1.0) / k * np.log(4.0 / np.asarray(epsilon_sec, dtype=float)))


def secret_key_length_bits(
    key_bits: ArrayLike,
    test_bits: ArrayLike,
    tolerated_qber: ArrayLike,
    leak_bits: ArrayLike,
    epsilon_sec: ArrayLike,
    epsilon_cor: ArrayLike | None = None,
    *,
    preparation_quality: float = 1.0,
) -> np.ndarray:
    """Right-hand side of Eq. (2) in bits, before flooring (negative when no key can be drawn).

    ``epsilon_cor=None`` drops the ``log2(2 / eps_cor)`` bound on the verification hash, for
    callers that count the hash bits they disclosed in ``leak_bits``.

    >>> round(float(secret_key_length_bits(1e6, 1e5, 0.02, 1.1e6 * 0.1414, 1e-10, 1e-12)))
    618878
    """
    n = np.asarray(key_bits, dtype=float)
    mu = statistical_deviation(n, test_bits, epsilon_sec)
    phase = np.minimum(np.asarray(tolerated_qber, dtype=float) + mu, 0.5)
    security = 2.0 * np.log2(1.0 / np.asarray(epsilon_sec, dtype=float))
    if epsilon_cor is not None:
        security = security + np.log2(2.0 / np.asarray(epsilon_cor, dtype=float))
    return n * (preparation_quality - binary_entropy(phase)) - np.asarray(leak_bits, dtype=float) - security


def key_basis_probability(key_bits: ArrayLike, test_bits: ArrayLike) -> np.ndarray:
    """``p_x = (1 + sqrt(k / n))^-1`` of Table I, the basis bias that sifts ``n`` and ``k`` bits soonest."""
    return 1.0 / (1.0 + np.sqrt(np.asarray(test_bits, dtype=float) / np.asarray(key_bits, dtype=float)))


def expected_signals(key_bits: ArrayLike, test_bits: ArrayLike) -> np.ndarray:
    """``M(n, k) = (sqrt(n) + sqrt(k))^2``, detected signals expected for ``n`` key and ``k`` test bits."""
    return (np.sqrt(np.asarray(key_bits, dtype=float)) + np.sqrt(np.asarray(test_bits, dtype=float))) ** 2


def abort_probability(test_bits: ArrayLike, qber: ArrayLike, tolerated_qber: ArrayLike) -> np.ndarray:
    """Probability that ``round(k)`` test bits on a channel of error rate ``qber`` show an error
    rate above ``tolerated_qber`` (the protocol then aborts): the parameter-estimation robustness.

    >>> float(abort_probability(100, 0.02, 0.5)) < 1e-50
    True
    """
    from scipy.stats import binom

    k = np.round(np.asarray(test_bits, dtype=float))
    return binom.sf(np.floor(k * np.asarray(tolerated_qber, dtype=float) + 1e-9), k, qber)


def expected_key_rate(
    key_bits: ArrayLike,
    test_bits: ArrayLike,
    qber: ArrayLike,
    tolerated_qber: ArrayLike,
    *,
    security_rate: float,
    ec_efficiency: float = PAPER_EC_EFFICIENCY,
    robustness: ArrayLike | None = None,
) -> np.ndarray:
    """Eq. (3), ``(1 - eps_rob) l / M(n, k)`` with ``l`` from Eq. (2) at ``eps_sec = eps_cor = eps / 2``,
    ``eps = min(security_rate * l, 1)`` and ``leak_EC = ec_efficiency * n * h(Q_tol)``; zero where ``l <= 0``.

    ``robustness=None`` takes ``eps_rob`` from :func:`abort_probability`.

    >>> round(float(expected_key_rate(1e6, 2e4, 0.01, 0.0173, security_rate=1e-14, robustness=0.006)), 4)
    0.4384
    """
    n = np.asarray(key_bits, dtype=float)
    k = np.asarray(test_bits, dtype=float)
    leak = ec_efficiency * n * binary_entropy(tolerated_qber)
    length = n
    for _ in range(_FIXED_POINT_STEPS):
        epsilon = np.minimum(security_rate * np.maximum(length, 1.0), 1.0)
        length = secret_key_length_bits(n, k, tolerated_qber, leak, epsilon / 2.0, epsilon / 2.0)
    if robustness is None:
        robustness = abort_probability(k, qber, tolerated_qber)
    return np.maximum(length, 0.0) * (1.0 - np.asarray(robustness, dtype=float)) / expected_signals(n, k)


@dataclass(frozen=True)
class RateOptimum:
    """The best expected rate for ``key_bits`` and the protocol parameters that reach it.

    ``rate`` is Eq. (3) in key bits per detected signal, ``test_bits`` is ``k``, ``robustness`` is
    ``eps_rob`` and ``key_length_bits`` is ``l`` of Eq. (2) (before flooring).
    """

    rate: float
    key_bits: float
    test_bits: float
    tolerated_qber: float
    robustness: float
    key_basis_probability: float
    key_length_bits: float


def optimal_key_rate(
    key_bits: float,
    qber: float,
    *,
    security_rate: float = 1e-14,
    ec_efficiency: float = PAPER_EC_EFFICIENCY,
    tolerated_qber: float | None = None,
    robustness: float | None = None,
) -> RateOptimum:
    """Maximise Eq. (3) over the test sample ``k`` (hence the basis bias ``p_x``) and, unless given,
    the threshold ``Q_tol``, as for the optimised protocols of the paper's Fig. 1 and Table II.

    A grid over ``log k`` (and over ``log(Q_tol - Q)``, 5 % steps) is refined by a bounded scalar
    search over ``log k``. :class:`ParameterError` for ``key_bits < 10``, ``qber`` outside ``[0, 0.5)`` or
    ``security_rate`` outside ``(0, 1)``.

    >>> best = optimal_key_rate(1e6, 0.01, tolerated_qber=0.0173, robustness=0.006)
    >>> round(1 - best.key_basis_probability, 3), round(best.rate, 3)
    (0.122, 0.438)
    """
    from scipy.optimize import minimize_scalar

    if not key_bits >= 10:
        raise ParameterError(f"key_bits = {key_bits}: must be >= 10")
    if not 0.0 <= qber < 0.5:
        raise ParameterError(f"qber = {qber}: must be in [0, 0.5)")
    if not 0.0 < security_rate < 1.0:
        raise ParameterError(f"security_rate = {security_rate}: must be in (0, 1)")
    log_k = np.linspace(0.0, np.log10(key_bits) + 0.5, _K_GRID_POINTS)
    if tolerated_qber is None:
        q_tol = np.minimum(qber + np.geomspace(1e-6, 0.2, _QTOL_GRID_POINTS), 0.5)[:, None]
    else:
        q_tol = np.array([[tolerated_qber]])

    def rate(log_test_bits: ArrayLike, threshold: ArrayLike) -> np.ndarray:
        return expected_key_rate(
            key_bits,
            10.0**log_test_bits,
            qber,
            threshold,
            security_rate=security_rate,
            ec_efficiency=ec_efficiency,
            robustness=robustness,
        )

    grid = rate(log_k[None, :], q_tol)
    row, col = np.unravel_index(int(np.argmax(grid)), grid.shape)
    threshold = float(q_tol[row, 0])
    low, high = log_k[max(col - 1, 0)], log_k[min(col + 1, log_k.size - 1)]
    refined = minimize_scalar(
        lambda x: -float(rate(x, threshold)), bounds=(low, high), method="bounded", options={"xatol": 1e-6}
    )
    best_log_k = float(refined.x) if -refined.fun >= grid[row, col] else float(log_k[col])
    test_bits = 10.0**best_log_k
    best_rate = float(rate(best_log_k, threshold))
    eps_rob = float(abort_probability(test_bits, qber, threshold)) if robustness is None else float(robustness)
    length = best_rate * float(expected_signals(key_bits, test_bits))
    return RateOptimum(
        rate=best_rate,
        key_bits=float(key_bits),
        test_bits=test_bits,
        tolerated_qber=threshold,
        robustness=eps_rob,
        key_basis_probability=float(key_basis_probability(key_bits, test_bits)),
        key_length_bits=length / (1.0 - eps_rob) if eps_rob < 1.0 else 0.0,
    )
