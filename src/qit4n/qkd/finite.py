"""Finite-key decoy-state BB84 of Lim, Curty, Walenta, Xu and Zbinden 2014 (``bb84-decoy-finite``).

Three intensities ``mu1 > mu2 + mu3``, ``mu2 > mu3 >= 0`` (``mu3`` a near-vacuum fixed by the
hardware, 2e-4 in the paper), biased bases (key from ``X`` with probability ``q_x``), all intensities
used for the key. The secret key length is their Eq. (1)::

    l = s_X0 + s_X1 (1 - h2(phi_X)) - lambda_EC - 6 log2(21 / eps_sec) - log2(2 / eps_cor)

with the decoy bounds of Eqs. (2)-(4) (Hoeffding margins ``sqrt(n/2 ln(21/eps_sec))``) and the
phase-error bound of Eq. (5); ``lambda_EC = f_EC n_X h2(E_X)``. The key rate per pulse is ``l / N``.
The finite size is given either as the number of pulses ``N`` (``pulses``) or, as in the paper's
Fig. 1, as the post-processing block ``n_X`` (``block_size_x``). ``secrecy_per_bit`` reproduces
the paper's ``eps_sec = kappa * l``.

Settings left ``None`` (``intensity_signal``, ``intensity_decoy``, ``probability_signal``,
``probability_decoy``, ``probability_basis_x``) are optimised at every point by a vectorised
cross-entropy search: a population of candidates per point, seeded near the typical asymptotic
optimum (mu1 ~ 0.5, mu2 ~ 0.1) and with neighbouring points' best settings (continuation), ranked
on a score that keeps a slope where the key is zero, so the search does not stop on a false zero.
It agrees with ``scipy.optimize.differential_evolution`` to 1e-4 relative at 50, 100 and 150 km
(``benchmarks/bench_qkd_finite.py``) and never loses to a brute-force grid (unit tests).

References
----------
Lim, C. C. W., Curty, M., Walenta, N., Xu, F. and Zbinden, H., Phys. Rev. A 89, 022307 (2014),
doi:10.1103/PhysRevA.89.022307, arXiv:1311.7129.
Rubinstein, R. Y., Methodol. Comput. Appl. Probab. 1, 127 (1999) (cross-entropy method).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from pydantic import Field, model_validator

from qit4n.errors import ParameterError
from qit4n.maths import binary_entropy
from qit4n.physics.detector import background_yield, detection_and_error_probability
from qit4n.qkd._bb84_channel import BB84Parameters, error_rate, in_blocks, key_rate_bps
from qit4n.qkd.base import ProtocolSpec, RateResult
from qit4n.qkd.finite_key import lim_bounds, lim_security_bits, single_photon_key_bits

__all__ = ["PROTOCOL", "FiniteKeyParameters", "KeyLength", "Settings", "asymptotic_key_rate", "key_length", "key_rate"]

#: Largest signal intensity the optimiser considers.
MAX_SIGNAL_INTENSITY = 1.5
#: Seed of the optimiser's own generator: results are deterministic.
OPTIMISER_SEED = 20140210
_POPULATION = 96
_ELITE = 12
_GENERATIONS = 36
_SECRECY_ITERATIONS = 3
#: Points optimised together: the population is points x 96 candidates, so this bounds memory.
_OPTIMISER_BLOCK_POINTS = 256
#: Starting point in the optimiser's coordinates (mu1 ~ 0.5, mu2 ~ 0.1, p1 ~ 0.7, p2 ~ 0.2, q_x ~ 0.85).
_SEED_POINT = np.array([-1.0, -1.5, 0.85, 0.4, 1.7])


class FiniteKeyParameters(BB84Parameters):
    """Lim et al. 2014 protocol: receiver model, intensities, probabilities and security parameters."""

    intensity_signal: float | None = Field(None, gt=0.0, le=5.0, description="mu1; None = optimised per point")
    intensity_decoy: float | None = Field(None, gt=0.0, le=5.0, description="mu2; None = optimised per point")
    intensity_vacuum: float = Field(2e-4, ge=0.0, le=0.1, description="mu3, near-vacuum intensity (fixed)")
    pulses: float = Field(1e10, ge=1e3, le=1e18, description="N, pulses sent (unless block_size_x is set)")
    block_size_x: float | None = Field(
        None, ge=1e2, le=1e16, description="n_X, X-basis detections per block; sets N from the detection rate"
    )
    probability_signal: float | None = Field(None, gt=0.0, lt=1.0, description="p_mu1; None = optimised")
    probability_decoy: float | None = Field(None, gt=0.0, lt=1.0, description="p_mu2; None = optimised")
    probability_basis_x: float | None = Field(None, gt=0.0, lt=1.0, description="q_x; None = optimised")
    epsilon_sec: float = Field(1e-10, gt=0.0, lt=1.0, description="secrecy parameter")
    epsilon_cor: float = Field(1e-15, gt=0.0, lt=1.0, description="correctness parameter")
    secrecy_per_bit: float | None = Field(
        None,
        gt=0.0,
        lt=1e-3,
        description="kappa: eps_sec = kappa * key length (Lim 2014 Sec. IV), instead of epsilon_sec",
    )

    @model_validator(mode="after")
    def _consistent(self) -> FiniteKeyParameters:
        if self.block_size_x is not None and "pulses" in self.model_fields_set:
            raise ValueError("pulses and block_size_x: set one of them, not both")
        if self.secrecy_per_bit is not None and "epsilon_sec" in self.model_fields_set:
            raise ValueError("epsilon_sec and secrecy_per_bit: set one of them, not both (secrecy_per_bit = null)")
        signal, decoy, vacuum = self.intensity_signal, self.intensity_decoy, self.intensity_vacuum
        if signal is not None and decoy is not None and signal <= decoy + vacuum:
            raise ValueError(f"intensity_signal = {signal:g}: must be > intensity_decoy + intensity_vacuum")
        if self.intensity_decoy is not None and self.intensity_decoy <= self.intensity_vacuum:
            raise ValueError(f"intensity_decoy = {self.intensity_decoy:g}: must be > intensity_vacuum")
        if self.intensity_signal is not None and self.intensity_signal <= 2.0 * self.intensity_vacuum + 2e-4:
            raise ValueError(f"intensity_signal = {self.intensity_signal:g}: must be > 2 intensity_vacuum + 2e-4")
        if signal is None and decoy is not None and 1.001 * (decoy + vacuum) >= MAX_SIGNAL_INTENSITY:
            raise ValueError(
                f"intensity_decoy = {decoy:g}: must be < {MAX_SIGNAL_INTENSITY:g} / 1.001 - "
                "intensity_vacuum when intensity_signal is optimised"
            )
        p_signal, p_decoy = self.probability_signal, self.probability_decoy
        if p_signal is not None and p_decoy is not None and p_signal + p_decoy >= 1.0:
            raise ValueError("probability_signal + probability_decoy: must be < 1 (the vacuum needs pulses)")
        return self


@dataclass(frozen=True)
class Settings:
    """Alice's intensities and probabilities (arrays that broadcast together)."""

    mu1: np.ndarray
    mu2: np.ndarray
    mu3: np.ndarray
    p1: np.ndarray
    p2: np.ndarray
    q_x: np.ndarray


@dataclass(frozen=True)
class KeyLength:
    """Key length ``length`` (bits, unclipped), pulses ``pulses`` and the intermediate bounds."""

    length: np.ndarray
    score: np.ndarray
    pulses: np.ndarray
    n_x: np.ndarray
    s_x0: np.ndarray
    s_x1: np.ndarray
    phase_error: np.ndarray
    qber_x: np.ndarray


def key_length(
    eta: np.ndarray,
    settings: Settings,
    params: BB84Parameters,
    *,
    pulses: float | np.ndarray | None,
    block_size_x: float | None,
    epsilon_sec: float | np.ndarray,
    epsilon_cor: float,
    finite: bool = True,
) -> KeyLength:
    """Lim et al. 2014 Eq. (1) at total transmittance ``eta`` for the expected counts of ``N`` pulses.

    The counts are those of the paper's evaluation (Sec. IV) with the receiver model of
    :mod:`qit4n.qkd._bb84_channel` (:mod:`qit4n.physics.detector`): ``n_{X,k} = N q_x^2 p_k Q_k`` detections and
    ``m_{X,k} = N q_x^2 p_k EQ_k`` errors (``Z`` likewise with ``(1 - q_x)^2``); the bounds are
    :func:`qit4n.qkd.finite_key.lim_bounds`. Exactly one of ``pulses`` (N) and ``block_size_x``
    (n_X, then N follows from the expected detection rate) is given. ``finite=False`` drops every
    statistical term and keeps the three intensities: the paper's asymptotic (dashed) curve.
    ``score`` equals ``length`` where the bounds are meaningful and otherwise ranks infeasible
    settings by how far they miss, so an optimiser is never left on a flat zero.
    """
    y0 = background_yield(params.dark_count_probability)
    p_ap, e_d = params.afterpulse_probability, params.misalignment_error
    intensities = (settings.mu1, settings.mu2, settings.mu3)
    weights = (settings.p1, settings.p2, 1.0 - settings.p1 - settings.p2)
    gains, errors = [], []
    for mu, weight in zip(intensities, weights, strict=True):
        gain, error = detection_and_error_probability(
            mu, eta_detector=eta, dark_count_probability=y0, misalignment=e_d, afterpulse_probability=p_ap
        )
        gains.append(weight * gain)
        errors.append(weight * error)
    gain_total = gains[0] + gains[1] + gains[2]
    x_weight = settings.q_x**2 if finite else 1.0
    z_weight = (1.0 - settings.q_x) ** 2 if finite else 1.0
    if block_size_x is not None:
        pulses = block_size_x / (x_weight * np.maximum(gain_total, 1e-300))
    n_pulses = np.asarray(pulses, dtype=float)
    bounds = lim_bounds(
        intensities=intensities,
        probabilities=weights,
        detections_x=[n_pulses * x_weight * g for g in gains],
        detections_z=[n_pulses * z_weight * g for g in gains],
        errors_z=[n_pulses * z_weight * e for e in errors],
        epsilon_sec=epsilon_sec,
        finite=finite,
    )
    n_x = n_pulses * x_weight * gain_total
    m_x = n_pulses * x_weight * (errors[0] + errors[1] + errors[2])
    qber_x = error_rate(m_x, n_x)
    leak = params.error_correction_efficiency * n_x * binary_entropy(qber_x)
    security = lim_security_bits(epsilon_sec, epsilon_cor) if finite else 0.0
    base = bounds.vacuum_x - leak - security
    length = base + single_photon_key_bits(bounds)
    # Beyond phase = 1/2 keep penalising (h2 continued linearly) so the optimiser sees a slope.
    phase = bounds.phase_error
    extended = np.where(phase < 0.5, binary_entropy(np.minimum(phase, 0.5)), 1.0 + 2.0 * (phase - 0.5))
    score = np.where(
        bounds.feasible,
        base + bounds.single_x * (1.0 - extended),
        -10.0 * n_x + np.minimum(bounds.single_x, bounds.single_z),
    )
    return KeyLength(
        length, score, n_pulses * np.ones_like(length), n_x, bounds.vacuum_x, bounds.single_x, phase, qber_x
    )


def _sigmoid(u: np.ndarray) -> np.ndarray:
    """Logistic map into the open interval (1e-9, 1 - 1e-9): no probability is ever exactly 0 or 1."""
    return np.clip(0.5 * (1.0 + np.tanh(0.5 * u)), 1e-9, 1.0 - 1e-9)


def _settings(u: np.ndarray, params: FiniteKeyParameters) -> Settings:
    """Map unconstrained coordinates ``u[..., 5]`` to settings that satisfy the protocol's constraints."""
    mu3 = params.intensity_vacuum
    if params.intensity_decoy is not None:
        decoy = np.full(u.shape[:-1], params.intensity_decoy)
        mu2: np.ndarray | None = decoy
        mu1_low: float | np.ndarray = 1.001 * (decoy + mu3)
    else:
        mu1_low = 3.0 * mu3 + 1e-3
        mu2 = None
    if params.intensity_signal is not None:
        mu1 = np.full(u.shape[:-1], params.intensity_signal)
    else:
        mu1 = mu1_low + (MAX_SIGNAL_INTENSITY - mu1_low) * _sigmoid(u[..., 0])
    if mu2 is None:
        mu2 = mu3 + 1e-4 + (mu1 - 2.0 * mu3 - 2e-4) * _sigmoid(u[..., 1])
    p1_fixed, p2_fixed = params.probability_signal, params.probability_decoy
    if p1_fixed is not None:
        p1 = np.full(u.shape[:-1], p1_fixed)
        p2 = np.full(u.shape[:-1], p2_fixed) if p2_fixed is not None else (1.0 - p1) * _sigmoid(u[..., 3])
    elif p2_fixed is not None:
        p2 = np.full(u.shape[:-1], p2_fixed)
        p1 = (1.0 - p2) * _sigmoid(u[..., 2])
    else:
        p1 = _sigmoid(u[..., 2])
        p2 = (1.0 - p1) * _sigmoid(u[..., 3])
    if params.probability_basis_x is not None:
        q_x = np.full(u.shape[:-1], params.probability_basis_x)
    else:
        q_x = _sigmoid(u[..., 4])
    return Settings(mu1, mu2, np.full(u.shape[:-1], mu3), p1, p2, q_x)


def _evaluate(eta: np.ndarray, settings: Settings, params: FiniteKeyParameters, finite: bool) -> KeyLength:
    """Key length with ``eps_sec`` fixed or, with ``secrecy_per_bit``, solved for ``eps_sec = kappa l``."""

    def length(epsilon_sec: float | np.ndarray) -> KeyLength:
        return key_length(
            eta,
            settings,
            params,
            pulses=params.pulses,
            block_size_x=params.block_size_x,
            epsilon_sec=epsilon_sec,
            epsilon_cor=params.epsilon_cor,
            finite=finite,
        )

    if params.secrecy_per_bit is None or not finite:
        return length(params.epsilon_sec)
    epsilon = np.full(np.broadcast(eta, settings.mu1).shape, params.epsilon_sec)
    for _ in range(_SECRECY_ITERATIONS):
        result = length(epsilon)
        epsilon = np.clip(params.secrecy_per_bit * np.maximum(result.length, 1.0), 1e-300, 0.5)
    return length(epsilon)


def _rank(result: KeyLength) -> np.ndarray:
    """Key per pulse where positive; below zero, the deficit per detected X event.

    Dividing a negative length by ``N`` would reward ever more pulses (the ratio tends to zero from
    below), which drags the search to ``q_x -> 0``; per detection it keeps pointing to feasibility.
    """
    return np.where(result.score > 0.0, result.score / result.pulses, result.score / np.maximum(result.n_x, 1.0))


def _optimise(eta: np.ndarray, params: FiniteKeyParameters, finite: bool) -> np.ndarray:
    """Best coordinates ``u`` per point (shape ``eta.shape + (5,)``) by a cross-entropy search."""
    rng = np.random.default_rng(OPTIMISER_SEED)
    points = eta.reshape(-1)
    n = points.size
    mean = np.broadcast_to(_SEED_POINT, (n, 5)).copy()
    spread = np.full((n, 5), 1.5)
    best_u = mean.copy()
    best_score = np.full(n, -np.inf)
    column = points[:, None]
    for generation in range(_GENERATIONS):
        population = mean[:, None, :] + spread[:, None, :] * rng.standard_normal((n, _POPULATION, 5))
        population[:, 0, :] = best_u
        # Continuation: try the neighbouring points' best settings too.
        population[:, 1, :] = np.roll(best_u, 1, axis=0)
        population[:, 2, :] = np.roll(best_u, -1, axis=0)
        if generation == 0:
            population[:, 3, :] = _SEED_POINT
        result = _evaluate(column, _settings(population, params), params, finite)
        score = _rank(result)
        order = np.argsort(-score, axis=1)
        elite = np.take_along_axis(population, order[:, :_ELITE, None], axis=1)
        top = np.take_along_axis(score, order[:, :1], axis=1)[:, 0]
        improved = top > best_score
        best_score = np.where(improved, top, best_score)
        best_u = np.where(improved[:, None], elite[:, 0, :], best_u)
        mean = 0.3 * mean + 0.7 * elite.mean(axis=1)
        spread = np.maximum(0.3 * spread + 0.7 * elite.std(axis=1), 0.02)
    return best_u.reshape(eta.shape + (5,))


def _free(params: FiniteKeyParameters) -> bool:
    fixed = (
        params.intensity_signal,
        params.intensity_decoy,
        params.probability_signal,
        params.probability_decoy,
        params.probability_basis_x,
    )
    return any(value is None for value in fixed)


def _solve(eta_channel: np.ndarray, params: FiniteKeyParameters, finite: bool) -> RateResult:
    eta_channel = np.asarray(eta_channel, dtype=float)
    if np.any((eta_channel < 0.0) | (eta_channel > 1.0)):
        raise ParameterError("eta_channel: must be within [0, 1]")
    return in_blocks(lambda block: _solve_block(block, params, finite), eta_channel, _OPTIMISER_BLOCK_POINTS)


def _solve_block(eta_channel: np.ndarray, params: FiniteKeyParameters, finite: bool) -> RateResult:
    eta = eta_channel * params.eta_detector
    u = _optimise(eta, params, finite) if _free(params) else np.zeros(eta.shape + (5,))
    settings = _settings(u, params)
    result = _evaluate(eta, settings, params, finite)
    rate = np.maximum(result.length, 0.0) / result.pulses
    gain = result.n_x / (result.pulses * (settings.q_x**2 if finite else 1.0))
    details = {
        "intensity_signal": settings.mu1,
        "intensity_decoy": settings.mu2,
        "probability_signal": settings.p1,
        "probability_decoy": settings.p2,
        "probability_basis_x": settings.q_x,
        "pulses": result.pulses,
        "block_size_x": result.n_x,
        "s_x0_lower": result.s_x0,
        "s_x1_lower": result.s_x1,
        "phase_error_upper": result.phase_error,
    }
    return RateResult(rate, key_rate_bps(rate, gain, params), result.qber_x, details)


def key_rate(eta_channel: np.ndarray, params: FiniteKeyParameters) -> RateResult:
    """Finite-key rate ``l / N`` per pulse at each channel transmittance (any shape).

    ``details`` holds the chosen settings, ``pulses`` (N), ``block_size_x`` (n_X), the bounds
    ``s_x0_lower``, ``s_x1_lower`` and ``phase_error_upper``.

    >>> from qit4n.qkd import make_parameters
    >>> params = make_parameters("bb84-decoy-finite", "lim2014", {"block_size_x": 1e7})
    >>> result = key_rate(np.array([10 ** (-0.2 * 100 / 10)]), params)
    >>> f"{float(result.key_rate_per_pulse[0]):.1e}"
    '4.8e-05'
    """
    return _solve(eta_channel, params, finite=True)


def asymptotic_key_rate(eta_channel: np.ndarray, params: FiniteKeyParameters) -> RateResult:
    """The same three-intensity protocol without statistical terms and with ``q_x -> 1``.

    This is the dashed (asymptotic) curve of Lim et al. 2014, Figs. 1-2: the limit the finite-key
    rate approaches as the block grows.
    """
    return _solve(eta_channel, params, finite=False)


PROTOCOL = ProtocolSpec(
    name="bb84-decoy-finite",
    title="BB84, two decoys, finite key (Lim et al. 2014)",
    parameters=FiniteKeyParameters,
    key_rate=key_rate,
    reference="Lim, Curty, Walenta, Xu, Zbinden, Phys. Rev. A 89, 022307 (2014), doi:10.1103/PhysRevA.89.022307",
    key_kind="finite-key",
)
