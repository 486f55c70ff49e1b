"""The secret-key length of Lim et al. 2014 (their Eqs. 1-5) for expected detection statistics.

All arguments broadcast, so one call scores a whole population of candidate settings at every
distance point (the optimiser in :mod:`qit4n.qkd.finite` relies on this). Counts are the expected
values for ``N`` pulses of the channel model in :mod:`qit4n.qkd._bb84_channel`, as in the paper's
evaluation (Sec. IV): ``n_{X,k} = N q_x^2 p_k Q_k`` detections and ``m_{X,k} = N q_x^2 p_k EQ_k``
errors (``Z`` likewise with ``(1 - q_x)^2``).

References
----------
Lim, C. C. W., Curty, M., Walenta, N., Xu, F. and Zbinden, H., Phys. Rev. A 89, 022307 (2014),
doi:10.1103/PhysRevA.89.022307, arXiv:1311.7129.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from qit4n.maths import binary_entropy
from qit4n.qkd._bb84_channel import (
    BB84Parameters,
    background_yield,
    click_probability,
    error_probability,
    error_rate,
)

__all__ = ["KeyLength", "Settings", "key_length"]

#: The secrecy budget of Lim et al. is split into 21 equal terms (their Eq. B4).
SECRECY_TERMS = 21.0
_LN2 = np.log(2.0)


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


def _decoy_lower_bounds(counts, total, settings, taus, delta_scale):
    """Vacuum and single-photon events (Eqs. 2, 3) from per-intensity counts with Hoeffding margins."""
    mu1, mu2, mu3 = settings.mu1, settings.mu2, settings.mu3
    p3 = 1.0 - settings.p1 - settings.p2
    delta = delta_scale * np.sqrt(0.5 * total)
    n1_up = np.exp(mu1) / settings.p1 * (counts[0] + delta)
    n2_low = np.exp(mu2) / settings.p2 * (counts[1] - delta)
    n2_up = np.exp(mu2) / settings.p2 * (counts[1] + delta)
    n3_low = np.exp(mu3) / p3 * (counts[2] - delta)
    n3_up = np.exp(mu3) / p3 * (counts[2] + delta)
    tau0, tau1 = taus
    s0 = tau0 * (mu2 * n3_low - mu3 * n2_up) / (mu2 - mu3)
    ratio = (mu2 * mu2 - mu3 * mu3) / (mu1 * mu1)
    s1 = tau1 * mu1 * (n2_low - n3_up - ratio * (n1_up - s0 / tau0)) / (mu1 * (mu2 - mu3) - mu2 * mu2 + mu3 * mu3)
    return np.maximum(s0, 0.0), s1


def _gamma(epsilon, b, c, d):
    """Random-sampling correction of the phase-error rate (Eq. 5)."""
    b = np.clip(b, 1e-15, 0.5)
    spread = (c + d) * (1.0 - b) * b / (c * d * _LN2)
    return np.sqrt(spread * np.log2((c + d) / (c * d * (1.0 - b) * b) * SECRECY_TERMS**2 / epsilon**2))


def key_length(
    eta: np.ndarray,
    settings: Settings,
    params: BB84Parameters,
    *,
    pulses: np.ndarray | None,
    block_size_x: float | None,
    epsilon_sec: np.ndarray,
    epsilon_cor: float,
    finite: bool = True,
) -> KeyLength:
    """Lim et al. 2014 Eq. (1) at total transmittance ``eta``.

    Exactly one of ``pulses`` (N) and ``block_size_x`` (n_X, then N follows from the expected
    detection rate) is given. ``finite=False`` drops every statistical term and keeps the three
    intensities: the paper's asymptotic (dashed) curve. ``score`` equals ``length`` where the
    bounds are meaningful and otherwise ranks infeasible settings by how far they miss, so an
    optimiser is never left on a flat zero.
    """
    y0 = background_yield(params.dark_count_probability)
    p_ap, e_d = params.afterpulse_probability, params.misalignment_error
    intensities = (settings.mu1, settings.mu2, settings.mu3)
    weights = (settings.p1, settings.p2, 1.0 - settings.p1 - settings.p2)
    gains = [w * click_probability(k, eta, y0, p_ap) for k, w in zip(intensities, weights, strict=True)]
    errors = [w * error_probability(k, eta, y0, e_d, p_ap) for k, w in zip(intensities, weights, strict=True)]
    taus = (
        sum(w * np.exp(-k) for k, w in zip(intensities, weights, strict=True)),
        sum(w * k * np.exp(-k) for k, w in zip(intensities, weights, strict=True)),
    )
    gain_total = gains[0] + gains[1] + gains[2]
    x_weight = settings.q_x**2 if finite else 1.0
    z_weight = (1.0 - settings.q_x) ** 2 if finite else 1.0
    if block_size_x is not None:
        pulses = block_size_x / (x_weight * np.maximum(gain_total, 1e-300))
    x_counts = [pulses * x_weight * g for g in gains]
    z_counts = [pulses * z_weight * g for g in gains]
    z_errors = [pulses * z_weight * e for e in errors]
    n_x = pulses * x_weight * gain_total
    n_z = pulses * z_weight * gain_total
    m_x = pulses * x_weight * (errors[0] + errors[1] + errors[2])
    m_z = pulses * z_weight * (errors[0] + errors[1] + errors[2])
    log_term = np.sqrt(np.log(SECRECY_TERMS / epsilon_sec)) if finite else 0.0

    s_x0, s_x1 = _decoy_lower_bounds(x_counts, n_x, settings, taus, log_term)
    _, s_z1 = _decoy_lower_bounds(z_counts, n_z, settings, taus, log_term)
    delta_m = log_term * np.sqrt(0.5 * m_z)
    mu2, mu3, p3 = settings.mu2, settings.mu3, 1.0 - settings.p1 - settings.p2
    v_z1 = (
        taus[1]
        * (np.exp(mu2) / settings.p2 * (z_errors[1] + delta_m) - np.exp(mu3) / p3 * (z_errors[2] - delta_m))
        / (mu2 - mu3)
    )

    feasible = (s_x1 > 0.0) & (s_z1 > 0.0)
    s_x1_safe = np.where(feasible, s_x1, 1.0)
    s_z1_safe = np.where(feasible, s_z1, 1.0)
    ratio = np.maximum(v_z1, 0.0) / s_z1_safe
    phase = ratio + (_gamma(epsilon_sec, ratio, s_z1_safe, s_x1_safe) if finite else 0.0)
    qber_x = error_rate(m_x, n_x)
    leak = params.error_correction_efficiency * n_x * binary_entropy(qber_x)
    overhead = 6.0 * np.log2(SECRECY_TERMS / epsilon_sec) + np.log2(2.0 / epsilon_cor) if finite else 0.0
    base = s_x0 - leak - overhead
    length = base + np.where(feasible, s_x1 * (1.0 - binary_entropy(np.minimum(phase, 0.5))), 0.0)
    # Beyond phase = 1/2 keep penalising (h2 continued linearly) so the optimiser sees a slope.
    extended = np.where(phase < 0.5, binary_entropy(np.minimum(phase, 0.5)), 1.0 + 2.0 * (phase - 0.5))
    score = np.where(feasible, base + s_x1 * (1.0 - extended), -10.0 * n_x + np.minimum(s_x1, s_z1))
    phase = np.where(feasible, phase, 0.5)
    return KeyLength(length, score, pulses * np.ones_like(length), n_x, s_x0, s_x1, phase, qber_x)
