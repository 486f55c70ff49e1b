"""What the relay of polarisation-encoded MDI-QKD observes: gains, error gains and single-photon terms.

Alice and Bob send phase-randomised weak coherent pulses of intensities ``mu_a`` and ``mu_b``
through arms of transmittance ``eta_a`` and ``eta_b`` (detector efficiency included) to an
untrusted Bell-state measurement with four threshold detectors of dark-count probability ``p_d``.
The closed forms below are those of Ma and Razavi 2012 and Xu, Curty, Qi and Lo 2013 (symmetric
detectors, misalignment ``e_d``; both Bell states psi+ and psi- kept)::

    Z basis:  Q_C  = 2 (1-p_d)^2 e^(-mu'/2) [1 - (1-p_d) e^(-eta_a mu_a/2)] [1 - (1-p_d) e^(-eta_b mu_b/2)]
              Q_E  = 2 p_d (1-p_d)^2 e^(-mu'/2) [I0(2x) - (1-p_d) e^(-mu'/2)]
              Q_Z  = Q_C + Q_E,    E_Z Q_Z = e_d Q_C + (1 - e_d) Q_E
    X basis:  Q_X  = 2 y^2 [1 + 2 y^2 - 4 y I0(x) + I0(2x)]
              E_X Q_X = Q_X / 2 - 2 (1/2 - e_d) y^2 [I0(2x) - 1]

with ``mu' = eta_a mu_a + eta_b mu_b``, ``x = sqrt(eta_a mu_a eta_b mu_b) / 2`` and
``y = (1-p_d) e^(-mu'/4)``. When both send one photon::

    Y11 = (1-p_d)^2 [eta_a eta_b / 2 + (2 eta_a + 2 eta_b - 3 eta_a eta_b) p_d + 4 (1-eta_a)(1-eta_b) p_d^2]
    e11_X Y11 = Y11 / 2 - (1/2 - e_d) (1-p_d)^2 eta_a eta_b / 2

At long distance these gains are differences of terms of order one that nearly cancel (the
X-basis bracket is ``~ p_d^2``), and the decoy bounds subtract the gains once more. The code
therefore evaluates the algebraically equal forms::

    1 + 2y^2 - 4y I0(x) + I0(2x) = 2 (1-y)^2 + 4 (1-y) [I0(x) - 1] + J(x),
    J(x) = I0(2x) - 1 - 4 [I0(x) - 1] = sum_{k>=2} (1 - 4^(1-k)) x^(2k) / (k!)^2

with ``1 - y`` from ``expm1`` and ``I0 - 1``, ``J`` from their power series for small arguments,
so that every term is computed to full relative precision.

References
----------
Ma, X. and Razavi, M., Phys. Rev. A 86, 062319 (2012), doi:10.1103/PhysRevA.86.062319, arXiv:1204.4856.
Xu, F., Curty, M., Qi, B. and Lo, H.-K., New J. Phys. 15, 113007 (2013),
doi:10.1088/1367-2630/15/11/113007, arXiv:1305.6965.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import i0

__all__ = [
    "BasisGains",
    "click_probability",
    "gains_x",
    "gains_z",
    "i0_minus_one",
    "single_photon_error_x",
    "single_photon_yield",
]

#: Below this argument the Bessel differences are summed from their series (6 terms reach 1e-16).
_SERIES_BELOW = 0.1
_SERIES_TERMS = 6


@dataclass(frozen=True)
class BasisGains:
    """Gain ``Q`` (BSM successes per pulse pair) and error gain ``EQ`` in one basis."""

    gain: np.ndarray
    error_gain: np.ndarray


def _bessel_series(x: np.ndarray, weight) -> np.ndarray:
    """``sum_{k>=1} weight(k) (x/2)^(2k) / (k!)^2`` for small ``x``."""
    quarter = np.minimum(x, _SERIES_BELOW) ** 2 / 4.0
    term = np.ones_like(quarter)
    total = np.zeros_like(quarter)
    for k in range(1, _SERIES_TERMS + 1):
        term = term * quarter / (k * k)
        total = total + weight(k) * term
    return total


def i0_minus_one(x: np.ndarray) -> np.ndarray:
    """``I0(x) - 1`` without cancellation for small ``x``."""
    return np.where(x < _SERIES_BELOW, _bessel_series(x, lambda k: 1.0), i0(x) - 1.0)


def _bessel_j(x: np.ndarray) -> np.ndarray:
    """``J(x) = I0(2x) - 1 - 4 [I0(x) - 1]`` (order ``x^4``) without cancellation for small ``x``."""
    # In terms of (x/2)^(2k): I0(2x) - 1 has weight 4^k, 4 [I0(x) - 1] has weight 4.
    series = _bessel_series(x, lambda k: 4.0**k - 4.0)
    return np.where(x < _SERIES_BELOW, series, i0(2.0 * x) - 1.0 - 4.0 * (i0(x) - 1.0))


def click_probability(p_d: float, light: np.ndarray) -> np.ndarray:
    """``1 - (1 - p_d) e^(-light)``: a threshold detector's click probability, to full relative precision."""
    return -np.expm1(np.log1p(-p_d) - light)


def gains_z(
    mu_a: np.ndarray, mu_b: np.ndarray, eta_a: np.ndarray, eta_b: np.ndarray, p_d: float, e_d: float
) -> BasisGains:
    """Rectilinear-basis gain ``Q_Z`` and error gain ``E_Z Q_Z`` (Ma and Razavi 2012)."""
    a = eta_a * mu_a
    b = eta_b * mu_b
    keep = 1.0 - p_d
    total = a + b
    root = np.sqrt(a * b)
    correct = 2.0 * keep**2 * np.exp(-total / 2.0) * click_probability(p_d, a / 2.0) * click_probability(p_d, b / 2.0)
    # I0(2x) - (1-p_d) e^(-mu'/2) = [I0(2x) - 1] + [1 - (1-p_d) e^(-mu'/2)].
    bracket = i0_minus_one(root) + click_probability(p_d, total / 2.0)
    error = 2.0 * p_d * keep**2 * np.exp(-total / 2.0) * bracket
    return BasisGains(correct + error, e_d * correct + (1.0 - e_d) * error)


def gains_x(
    mu_a: np.ndarray, mu_b: np.ndarray, eta_a: np.ndarray, eta_b: np.ndarray, p_d: float, e_d: float
) -> BasisGains:
    """Diagonal-basis gain ``Q_X`` and error gain ``E_X Q_X`` (Ma and Razavi 2012)."""
    a = eta_a * mu_a
    b = eta_b * mu_b
    x = np.sqrt(a * b) / 2.0
    one_minus_y = click_probability(p_d, (a + b) / 4.0)
    y = 1.0 - one_minus_y
    bracket = 2.0 * one_minus_y**2 + 4.0 * one_minus_y * i0_minus_one(x) + _bessel_j(x)
    gain = 2.0 * y**2 * bracket
    error_gain = 0.5 * gain - 2.0 * (0.5 - e_d) * y**2 * i0_minus_one(2.0 * x)
    return BasisGains(gain, error_gain)


def single_photon_yield(eta_a: np.ndarray, eta_b: np.ndarray, p_d: float) -> np.ndarray:
    """``Y11``: BSM success probability when each user sends exactly one photon (either basis)."""
    keep = 1.0 - p_d
    return keep**2 * (
        eta_a * eta_b / 2.0
        + (2.0 * eta_a + 2.0 * eta_b - 3.0 * eta_a * eta_b) * p_d
        + 4.0 * (1.0 - eta_a) * (1.0 - eta_b) * p_d**2
    )


def single_photon_error_x(eta_a: np.ndarray, eta_b: np.ndarray, p_d: float, e_d: float) -> np.ndarray:
    """``e11`` in the diagonal basis: the phase-error rate of the single-photon pairs."""
    y11 = single_photon_yield(eta_a, eta_b, p_d)
    error_yield = 0.5 * y11 - (0.5 - e_d) * (1.0 - p_d) ** 2 * eta_a * eta_b / 2.0
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(y11 > 0.0, error_yield / y11, 0.5)
