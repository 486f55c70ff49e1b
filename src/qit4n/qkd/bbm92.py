"""Entanglement-based QKD (BBM92) with a parametric down-conversion source, asymptotic (``bbm92``).

A type-II PDC source emits into two polarisation mode pairs, each a two-mode squeezed vacuum of
mean ``lambda`` pairs, so a time slot holds ``n`` pairs with probability
``P(n) = (n + 1) lambda^n / (1 + lambda)^(n + 2)``, of mean ``mu = 2 lambda`` (Ma, Fung and Lo
2007, Sec. II). Alice and Bob each measure in Z or X with threshold detectors of overall
transmittances ``eta_A``, ``eta_B`` (channel times detector) and background yields ``Y0A``,
``Y0B``; double clicks become a random bit (squashing). Ma, Fung and Lo give the gain and QBER of
the coincidences (Sec. II, "overall gain" and "overall QBER", ``e0 = 1/2``)::

    Q = 1 - (1 - Y0A) / (1 + eta_A l)^2 - (1 - Y0B) / (1 + eta_B l)^2
          + (1 - Y0A)(1 - Y0B) / (1 + eta_A l + eta_B l - eta_A eta_B l)^2
    E Q = e0 Q - 2 (e0 - e_d) eta_A eta_B l (1 + l)
                 / [(1 + eta_A l)(1 + eta_B l)(1 + eta_A l + eta_B l - eta_A eta_B l)]

and, since the source is basis independent, the Koashi-Preskill key rate with one-way
post-processing (Sec. III) ``R = q Q [1 - f H2(E) - H2(E)]``, ``q`` the probability that the
bases agree (1/2 for BBM92). The correlation term is ``2 Cov`` of the two sides' clicks on one
mode pair; for a multimode (Poisson) pair source, each mode pair Poisson of mean ``mu / 2``, the
same derivation gives ``Q = 1 - (1 - Y0A) e^{-eta_A mu} - (1 - Y0B) e^{-eta_B mu} + (1 - Y0A)(1 -
Y0B) e^{-(eta_A + eta_B - eta_A eta_B) mu}`` and the correlation term ``2 e^{-(eta_A + eta_B) mu / 2}
(e^{eta_A eta_B mu / 2} - 1)``. (With dark counts the exact threshold-detector model multiplies
the correlation term by ``sqrt((1 - Y0A)(1 - Y0B))``; Ma, Fung and Lo drop this factor, a relative
change of order ``Y0``.)

The fibre of transmittance ``eta_channel`` is split at the source: ``source_position`` is the
fraction of its length (and of its loss in dB) between Alice and the source, so 0.5 puts the
source in the middle and 0 at Alice.

References
----------
Bennett, C. H., Brassard, G. and Mermin, N. D., Phys. Rev. Lett. 68, 557 (1992), doi:10.1103/PhysRevLett.68.557.
Ma, X., Fung, C.-H. F. and Lo, H.-K., Phys. Rev. A 76, 012307 (2007), doi:10.1103/PhysRevA.76.012307,
arXiv:quant-ph/0703122.
Koashi, M. and Preskill, J., Phys. Rev. Lett. 90, 057902 (2003), doi:10.1103/PhysRevLett.90.057902.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from pydantic import Field

from qit4n.maths import binary_entropy
from qit4n.physics.detector import DetectorParameters, MisalignmentError
from qit4n.physics.source import PairStatistics
from qit4n.qkd.base import ChannelParameters, ErrorCorrectionEfficiency, ProtocolSpec, RateResult

__all__ = [
    "PROTOCOL",
    "BBM92Parameters",
    "key_per_slot",
    "key_rate",
    "optimal_mean_pair_number",
    "pdc_gain_qber",
    "split_transmittance",
]

#: Error rate of a background click (a coin toss), ``e0`` of Ma, Fung and Lo.
BACKGROUND_ERROR = 0.5
#: Mean pair numbers searched when the model leaves ``mu`` to the optimiser (log-spaced).
_MU_GRID = np.geomspace(1e-5, 2.0, 241)


class BBM92Parameters(DetectorParameters, ChannelParameters):
    """A PDC source somewhere on the fibre and two receivers with identical detectors.

    Defaults: the detectors of :class:`qit4n.physics.detector.DetectorParameters` on each side
    (Lim et al. 2014, Sec. IV: two per side, counted per slot) and the source in the middle of the
    link.
    """

    misalignment_error: MisalignmentError = Field(
        0.005, description="probability e_d that a coincidence's bits disagree by misalignment"
    )
    error_correction_efficiency: ErrorCorrectionEfficiency = 1.16
    mean_pair_number: float | None = Field(
        None, gt=0.0, le=10.0, description="mean photon pairs per slot mu = 2 lambda (None: optimised)"
    )
    pair_statistics: PairStatistics = Field(
        PairStatistics.THERMAL, description="pair-number statistics: thermal | poisson"
    )
    source_position: float = Field(
        0.5, ge=0.0, le=1.0, description="fraction of the fibre between Alice and the source (0.5: middle)"
    )
    probability_basis_x: float = Field(0.5, gt=0.0, lt=1.0, description="probability of the X basis, each side")


def split_transmittance(eta_channel: ArrayLike, source_position: float) -> tuple[np.ndarray, np.ndarray]:
    """Channel transmittances ``(eta^s, eta^(1 - s))`` of Alice's and Bob's arms (loss in dB splits).

    >>> [round(float(arm), 6) for arm in split_transmittance(0.001, 1.0 / 3.0)]
    [0.1, 0.01]
    """
    eta = np.asarray(eta_channel, dtype=float)
    return eta**source_position, eta ** (1.0 - source_position)


def pdc_gain_qber(
    eta_alice: ArrayLike,
    eta_bob: ArrayLike,
    mean_pair_number: ArrayLike,
    *,
    background_alice: ArrayLike,
    background_bob: ArrayLike,
    misalignment_error: ArrayLike,
    statistics: PairStatistics = PairStatistics.THERMAL,
) -> tuple[np.ndarray, np.ndarray]:
    """Coincidence gain ``Q`` and QBER ``E`` (bases agree) of Ma, Fung and Lo 2007, Sec. II.

    ``eta_*`` are overall transmittances (channel times detector), ``background_*`` the yields
    ``Y0`` of each side's two detectors in the dark. Broadcasts over all arguments.

    >>> q, e = pdc_gain_qber(1.0, 1.0, 0.2, background_alice=0.0, background_bob=0.0, misalignment_error=0.0)
    >>> round(float(q), 6), round(float(e), 6)  # l = 0.1: Q = 1 - 1/1.1^2, E Q = l^2 / (2 (1 + l)^2)
    (0.173554, 0.02381)
    """
    eta_a = np.asarray(eta_alice, dtype=float)
    eta_b = np.asarray(eta_bob, dtype=float)
    mu = np.asarray(mean_pair_number, dtype=float)
    keep_a = 1.0 - np.asarray(background_alice, dtype=float)
    keep_b = 1.0 - np.asarray(background_bob, dtype=float)
    either = eta_a + eta_b - eta_a * eta_b
    if statistics is PairStatistics.THERMAL:
        lam = mu / 2.0
        none_a, none_b, none_ab = 1.0 / (1.0 + eta_a * lam), 1.0 / (1.0 + eta_b * lam), 1.0 / (1.0 + either * lam)
        correlation = 2.0 * eta_a * eta_b * lam * (1.0 + lam) * none_a * none_b * none_ab
        gain = 1.0 - keep_a * none_a**2 - keep_b * none_b**2 + keep_a * keep_b * none_ab**2
    else:
        correlation = 2.0 * np.exp(-(eta_a + eta_b) * mu / 2.0) * np.expm1(eta_a * eta_b * mu / 2.0)
        gain = (
            1.0 - keep_a * np.exp(-eta_a * mu) - keep_b * np.exp(-eta_b * mu) + keep_a * keep_b * np.exp(-either * mu)
        )
    error_gain = (
        BACKGROUND_ERROR * gain - (BACKGROUND_ERROR - np.asarray(misalignment_error, dtype=float)) * correlation
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        qber = np.where(gain > 0.0, error_gain / np.where(gain > 0.0, gain, 1.0), BACKGROUND_ERROR)
    return gain, qber


def key_per_slot(
    gain: ArrayLike, qber: ArrayLike, error_correction_efficiency: float, sifting: float = 0.5
) -> np.ndarray:
    """``max(0, q Q [1 - f H2(E) - H2(E)])``: secret bits per slot (Ma, Fung and Lo 2007, Sec. III).

    >>> round(float(key_per_slot(0.01, 0.03, 1.16)), 6)
    0.002901
    """
    entropy = binary_entropy(np.asarray(qber, dtype=float))
    return np.maximum(
        0.0, sifting * np.asarray(gain, dtype=float) * (1.0 - error_correction_efficiency * entropy - entropy)
    )


def _sifting(params: BBM92Parameters) -> float:
    p = params.probability_basis_x
    return p * p + (1.0 - p) * (1.0 - p)


def _rate_at(
    eta_alice: np.ndarray, eta_bob: np.ndarray, mu: np.ndarray, params: BBM92Parameters
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    background = params.dark_count_probability * (2.0 - params.dark_count_probability)
    gain, qber = pdc_gain_qber(
        eta_alice,
        eta_bob,
        mu,
        background_alice=background,
        background_bob=background,
        misalignment_error=params.misalignment_error,
        statistics=params.pair_statistics,
    )
    return key_per_slot(gain, qber, params.error_correction_efficiency, _sifting(params)), gain, qber


def optimal_mean_pair_number(eta_alice: ArrayLike, eta_bob: ArrayLike, params: BBM92Parameters) -> np.ndarray:
    """The mean pair number ``mu`` that maximises the key per slot at each point (grid search on
    241 log-spaced values in [1e-5, 2], refined on a grid 30 times finer around the best)."""
    eta_a, eta_b = np.broadcast_arrays(np.asarray(eta_alice, dtype=float), np.asarray(eta_bob, dtype=float))
    flat_a, flat_b = eta_a.reshape(-1, 1), eta_b.reshape(-1, 1)
    best = _MU_GRID[np.argmax(_rate_at(flat_a, flat_b, _MU_GRID, params)[0], axis=1)]
    step = _MU_GRID[1] / _MU_GRID[0]
    fine = best[:, None] * step ** np.linspace(-1.0, 1.0, 61)
    chosen = fine[np.arange(fine.shape[0]), np.argmax(_rate_at(flat_a, flat_b, fine, params)[0], axis=1)]
    return chosen.reshape(eta_a.shape)


def key_rate(eta_channel: ArrayLike, params: BBM92Parameters) -> RateResult:
    """BBM92 key per slot at fibre transmittances ``eta_channel`` (any shape), with the source at
    ``params.source_position`` and ``mu`` fixed or optimised per point.

    >>> from qit4n.qkd import make_parameters
    >>> result = key_rate(np.array([1e-2, 1e-4]), make_parameters("bbm92", None, {"mean_pair_number": 0.1}))
    >>> [f"{r:.3e}" for r in result.key_rate_per_pulse]
    ['2.307e-06', '2.253e-08']
    """
    eta = np.asarray(eta_channel, dtype=float)
    arm_a, arm_b = split_transmittance(eta, params.source_position)
    eta_a, eta_b = arm_a * params.eta_detector, arm_b * params.eta_detector
    if params.mean_pair_number is None:
        mu = optimal_mean_pair_number(eta_a, eta_b, params)
    else:
        mu = np.full(eta.shape, params.mean_pair_number)
    rate, gain, qber = _rate_at(eta_a, eta_b, mu, params)
    return RateResult(rate, rate * params.repetition_rate_hz, qber, {"gain": gain, "mean_pair_number": mu})


PROTOCOL = ProtocolSpec(
    name="bbm92",
    title="BBM92 with a PDC entangled-pair source on the link (asymptotic)",
    parameters=BBM92Parameters,
    key_rate=key_rate,
    reference="Ma, Fung, Lo, Phys. Rev. A 76, 012307 (2007), doi:10.1103/PhysRevA.76.012307",
)
