"""Finite-key theory of BB84, vectorised: one module for the rate models and the estimators.

The same equations serve :mod:`qit4n.qkd.finite` (``bb84-decoy-finite``), which feeds them the
*expected* counts of its channel model for a whole population of settings at every distance, and
:mod:`qit4n.postprocess.estimation`, which feeds them the counts *observed* on an emulated or
measured block. Every function broadcasts over numpy arrays.

Lim, Curty, Walenta, Xu and Zbinden 2014, Eqs. (1)-(5), decoy-state BB84 with three intensities
``mu1 > mu2 + mu3``, ``mu2 > mu3 >= 0``, from per-intensity counts ``n_{X,k}`` (key basis) and
``n_{Z,k}``, ``m_{Z,k}`` (test basis detections and errors), with ``n^{+-}_{X,k} = e^k / p_k
(n_{X,k} +- sqrt(n_X / 2 ln(21 / eps_sec)))`` (:func:`lim_bounds`, :func:`lim_key_length_bits`)::

    s_{X,0} >= tau_0 (mu2 n^-_{X,mu3} - mu3 n^+_{X,mu2}) / (mu2 - mu3)
    s_{X,1} >= tau_1 mu1 [n^-_{X,mu2} - n^+_{X,mu3} - (mu2^2 - mu3^2) / mu1^2 (n^+_{X,mu1} - s_{X,0} / tau_0)]
               / (mu1 (mu2 - mu3) - mu2^2 + mu3^2)
    v_{Z,1} <= tau_1 (m^+_{Z,mu2} - m^-_{Z,mu3}) / (mu2 - mu3)
    phi_X   <= v_{Z,1} / s_{Z,1} + gamma(eps_sec, v_{Z,1} / s_{Z,1}, s_{Z,1}, s_{X,1})
    l = s_{X,0} + s_{X,1} (1 - h(phi_X)) - leak_EC - 6 log2(21 / eps_sec) - log2(2 / eps_cor)

The vacuum bound is clipped at zero before it enters the single-photon bound (Eq. 3): the paper
prints the raw expression, but ``s_{X,1}`` grows with ``s_{X,0}``, the vacuum count cannot be
negative, and so ``max(s_{X,0}, 0)`` is also a valid and tighter lower bound; with small blocks,
where the raw bound is negative, it gives up to ~2 % more key.

Tomamichel, Lim, Gisin and Renner 2012, Theorem 2, Eq. (2) (:func:`secret_key_length_bits`): with
``n`` key bits (basis X), ``k`` test bits (basis Z) and the abort threshold ``Q_tol`` on the test
error rate, the protocol is ``eps_sec``-secret for::

    l <= n (q - h(Q_tol + mu)) - leak_EC - log2(2 / (eps_sec^2 eps_cor)),
    mu = sqrt((n + k) / (n k) * (k + 1) / k * ln(4 / eps_sec)),

with ``h(x) = 1`` for ``x > 1/2`` and ``q = 1`` for qubit BB84. It is Supplementary Eq. (S3),
``n (q - h(Q_tol + mu(eps))) - 2 log2(1 / (2 eps~)) - leak_EC - log2(2 / eps_cor)`` with ``mu(eps)``
of Eq. (S15) (``ln(1 / eps)``, Serfling's bound reaching ``eps^2``), taken at ``eps = eps_sec / 4``
and ``eps~ = eps_sec / 2`` (S3 needs ``2 eps + eps~ <= eps_sec``).

In both, the term ``log2(2 / eps_cor)`` bounds the ``ceil(log2(1 / eps_cor))`` bits of the
verification hash; a caller that counts the hash bits it disclosed in the leak passes
``epsilon_cor=None`` (Tomamichel then keeps ``2 log2(1 / eps_sec)``, Lim the remaining 1 bit).

The expected secret key rate of Tomamichel et al., Eq. (3), is ``r = (1 - eps_rob) l / M(n, k)``
per detected signal, where both parties choose the key basis with ``p_x = (1 + sqrt(k / n))^-1``
(Table I), so that ``M(n, k) = n / p_x^2 = (sqrt(n) + sqrt(k))^2`` signals are expected before
``n`` key and ``k`` test bits are sifted. The paper optimises ``r`` over ``k`` and ``Q_tol`` for a
depolarising channel of error rate ``Q``, with ``leak_EC = xi n h(Q_tol)``, ``xi = 1.1``, and a
fixed security rate ``eps / l`` (Fig. 1, Table II) (:func:`optimal_key_rate`). It bounds
``eps_rob`` by the probability that the test error rate exceeds ``Q_tol`` without printing the
bound; :func:`abort_probability` uses the exact binomial tail. It does not print how ``eps`` is
split either; here ``eps_sec = eps_cor = eps / 2``.

References
----------
Lim, C. C. W., Curty, M., Walenta, N., Xu, F. and Zbinden, H., Phys. Rev. A 89, 022307 (2014),
doi:10.1103/PhysRevA.89.022307, arXiv:1311.7129.
Tomamichel, M., Lim, C. C. W., Gisin, N. and Renner, R., "Tight finite-key analysis for quantum
cryptography", Nat. Commun. 3, 634 (2012), doi:10.1038/ncomms1631, arXiv:1103.4130.
Serfling, R. J., Ann. Stat. 2, 39 (1974), doi:10.1214/aos/1176342611.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from qit4n.errors import ParameterError
from qit4n.maths import binary_entropy

__all__ = [
    "SECRECY_TERMS",
    "LimBounds",
    "RateOptimum",
    "abort_probability",
    "expected_key_rate",
    "expected_signals",
    "key_basis_probability",
    "lim_bounds",
    "lim_key_length_bits",
    "lim_security_bits",
    "optimal_key_rate",
    "secret_key_length_bits",
    "single_photon_key_bits",
    "statistical_deviation",
]

#: The secrecy budget of Lim et al. 2014 is split into 21 equal terms (their Eq. B4).
SECRECY_TERMS = 21.0
_LN2 = np.log(2.0)

#: Three arrays, one per intensity ``mu1, mu2, mu3`` (in that order).
PerIntensity = Sequence[ArrayLike] | np.ndarray


@dataclass(frozen=True)
class LimBounds:
    """Lim et al. 2014 bounds, arrays of one broadcast shape.

    ``vacuum_x`` is clipped at zero; ``single_x``, ``single_z`` and ``single_errors_z`` are the
    bounds as computed (negative where the counts prove nothing); ``feasible`` marks points with
    ``single_x > 0`` and ``single_z > 0``; ``phase_error`` is ``v_Z1 / s_Z1 + gamma`` there (not
    clipped at 1/2, so an optimiser keeps a slope) and 1/2 elsewhere.
    """

    vacuum_x: np.ndarray
    single_x: np.ndarray
    single_z: np.ndarray
    single_errors_z: np.ndarray
    phase_error: np.ndarray
    feasible: np.ndarray


def _vacuum_single(
    counts: PerIntensity,
    intensities: PerIntensity,
    probabilities: PerIntensity,
    taus: tuple[np.ndarray, np.ndarray],
    margin: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Vacuum and single-photon events (Eqs. 2, 3) from per-intensity counts with Hoeffding margins."""
    mu1, mu2, mu3 = (np.asarray(mu, dtype=float) for mu in intensities)
    p1, p2, p3 = probabilities
    c1, c2, c3 = (np.asarray(c, dtype=float) for c in counts)
    delta = np.sqrt((c1 + c2 + c3) / 2.0 * margin)
    n1_up = np.exp(mu1) / p1 * (c1 + delta)
    n2_low = np.exp(mu2) / p2 * (c2 - delta)
    n2_up = np.exp(mu2) / p2 * (c2 + delta)
    n3_low = np.exp(mu3) / p3 * (c3 - delta)
    n3_up = np.exp(mu3) / p3 * (c3 + delta)
    tau0, tau1 = taus
    s0 = np.maximum(tau0 * (mu2 * n3_low - mu3 * n2_up) / (mu2 - mu3), 0.0)
    ratio = (mu2 * mu2 - mu3 * mu3) / (mu1 * mu1)
    s1 = tau1 * mu1 * (n2_low - n3_up - ratio * (n1_up - s0 / tau0)) / (mu1 * (mu2 - mu3) - mu2 * mu2 + mu3 * mu3)
    return s0, s1


def _gamma(epsilon: ArrayLike, b: np.ndarray, c: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Random-sampling correction of the phase-error rate (Eq. 5)."""
    b = np.clip(b, 1e-15, 0.5)
    spread = (c + d) * (1.0 - b) * b / (c * d * _LN2)
    return np.sqrt(spread * np.log2((c + d) / (c * d * (1.0 - b) * b) * SECRECY_TERMS**2 / np.square(epsilon)))


def lim_bounds(
    *,
    intensities: PerIntensity,
    probabilities: PerIntensity,
    detections_x: PerIntensity,
    detections_z: PerIntensity,
    errors_z: PerIntensity,
    epsilon_sec: ArrayLike,
    finite: bool = True,
) -> LimBounds:
    """Lim et al. 2014, Eqs. (2)-(5): vacuum and single-photon bounds and the phase-error rate.

    Each argument but ``epsilon_sec`` holds three arrays (or floats), one per intensity
    ``mu1 > mu2 > mu3``; counts are expected or observed numbers of events. ``finite=False`` drops
    every statistical margin (the paper's asymptotic curve).

    >>> bounds = lim_bounds(
    ...     intensities=(0.5, 0.1, 2e-4), probabilities=(0.7, 0.2, 0.1),
    ...     detections_x=(22349442, 1280895, 2048), detections_z=(1396840, 80056, 128), errors_z=(7150, 448, 24),
    ...     epsilon_sec=1e-10)
    >>> round(float(bounds.single_x)), round(float(bounds.phase_error), 4)
    (13505886, 0.0254)
    """
    weights = [np.asarray(p, dtype=float) for p in probabilities]
    mus = [np.asarray(mu, dtype=float) for mu in intensities]
    taus = (
        sum(w * np.exp(-k) for k, w in zip(mus, weights, strict=True)),
        sum(w * k * np.exp(-k) for k, w in zip(mus, weights, strict=True)),
    )
    margin = np.log(SECRECY_TERMS / np.asarray(epsilon_sec, dtype=float)) if finite else np.zeros(())
    vacuum_x, single_x = _vacuum_single(detections_x, mus, weights, taus, margin)
    _, single_z = _vacuum_single(detections_z, mus, weights, taus, margin)
    m1, m2, m3 = (np.asarray(m, dtype=float) for m in errors_z)
    delta_m = np.sqrt((m1 + m2 + m3) / 2.0 * margin)
    mu2, mu3 = mus[1], mus[2]
    v_z1 = (
        taus[1] * (np.exp(mu2) / weights[1] * (m2 + delta_m) - np.exp(mu3) / weights[2] * (m3 - delta_m)) / (mu2 - mu3)
    )
    feasible = (single_x > 0.0) & (single_z > 0.0)
    single_x_safe = np.where(feasible, single_x, 1.0)
    single_z_safe = np.where(feasible, single_z, 1.0)
    ratio = np.maximum(v_z1, 0.0) / single_z_safe
    phase = ratio + (_gamma(epsilon_sec, ratio, single_z_safe, single_x_safe) if finite else 0.0)
    return LimBounds(vacuum_x, single_x, single_z, v_z1, np.where(feasible, phase, 0.5), feasible)


def lim_security_bits(epsilon_sec: ArrayLike, epsilon_cor: ArrayLike | None = None) -> np.ndarray:
    """``6 log2(21 / eps_sec) + log2(2 / eps_cor)`` of Eq. (1); 1 bit for the hash with ``epsilon_cor=None``.

    >>> round(float(lim_security_bits(1e-10, 1e-15)), 3)
    276.499
    """
    correctness = 1.0 if epsilon_cor is None else np.log2(2.0 / np.asarray(epsilon_cor, dtype=float))
    return 6.0 * np.log2(SECRECY_TERMS / np.asarray(epsilon_sec, dtype=float)) + correctness


def single_photon_key_bits(bounds: LimBounds) -> np.ndarray:
    """``s_X1 (1 - h(phi_X))`` of Eq. (1) where the bounds are feasible, else 0."""
    return np.where(bounds.feasible, bounds.single_x * (1.0 - binary_entropy(np.minimum(bounds.phase_error, 0.5))), 0.0)


def lim_key_length_bits(
    bounds: LimBounds, leak_bits: ArrayLike, epsilon_sec: ArrayLike, epsilon_cor: ArrayLike | None = None
) -> np.ndarray:
    """Lim et al. 2014, Eq. (1) in bits, before flooring (negative when no key can be drawn).

    ``epsilon_cor=None`` leaves the verification cost to ``leak_bits`` (1 bit of the bound remains).
    """
    base = bounds.vacuum_x - np.asarray(leak_bits, dtype=float) - lim_security_bits(epsilon_sec, epsilon_cor)
    return base + single_photon_key_bits(bounds)


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
            np.power(10.0, log_test_bits),
            qber,
            threshold,
            security_rate=security_rate,
            ec_efficiency=ec_efficiency,
            robustness=robustness,
        )

    grid = rate(log_k[None, :], q_tol)
    row, col = (int(index) for index in np.unravel_index(int(np.argmax(grid)), grid.shape))
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
