"""Parameter estimation: QBER on a disclosed random sample, and secret key lengths from the
finite-key bounds of Tomamichel et al. (2012) and, for decoy-state BB84 from observed counts,
Lim et al. (2014).

Tomamichel et al. 2012, Theorem 2, Eq. (2) (BB84 with ``n`` key bits and ``k`` test bits whose
error rate must not exceed ``Q_tol``; see :mod:`qit4n.postprocess.finite_key`)::

    l <= n (q - h(Q_tol + mu)) - leak_EC - log2(2 / (eps_sec^2 eps_cor)),
    mu = sqrt((n + k) / (n k) * (k + 1) / k * ln(4 / eps_sec)).

Lim et al. 2014 (Eqs. 1-5), from per-intensity counts ``n_{X,k}`` (key basis) and ``n_{Z,k}``,
``m_{Z,k}`` (test basis detections and errors), with ``n^{+-}_{X,k} = e^k / p_k (n_{X,k} +- sqrt(n_X
/ 2 ln(21 / eps_sec)))``::

    s_{X,0} >= tau_0 (mu2 n^-_{X,mu3} - mu3 n^+_{X,mu2}) / (mu2 - mu3)
    s_{X,1} >= tau_1 mu1 [n^-_{X,mu2} - n^+_{X,mu3} - (mu2^2 - mu3^2) / mu1^2 (n^+_{X,mu1} - s_{X,0} / tau_0)]
               / (mu1 (mu2 - mu3) - mu2^2 + mu3^2)
    v_{Z,1} <= tau_1 (m^+_{Z,mu2} - m^-_{Z,mu3}) / (mu2 - mu3)
    phi_X   <= v_{Z,1} / s_{Z,1} + gamma(eps_sec, v_{Z,1} / s_{Z,1}, s_{Z,1}, s_{X,1})
    l = s_{X,0} + s_{X,1} (1 - h(phi_X)) - leak_EC - 6 log2(21 / eps_sec) - log2(2 / eps_cor)

As printed in the paper, the single-photon bound uses the vacuum bound before it is clipped at
zero (clipping it first would give a slightly larger, also valid, bound). In both, the term
``log2(2/eps_cor)`` bounds the ``ceil(log2(1/eps_cor))`` bits of the verification hash; with
``epsilon_cor=None`` the hash bits actually disclosed are expected in ``leak`` instead (the Lim
length still subtracts the remaining 1 bit). Lengths are floored and never negative.

References
----------
Tomamichel, M., Lim, C. C. W., Gisin, N. and Renner, R., Nat. Commun. 3, 634 (2012), doi:10.1038/ncomms1631,
arXiv:1103.4130.
Lim, C. C. W., Curty, M., Walenta, N., Xu, F. and Zbinden, H., Phys. Rev. A 89, 022307 (2014),
doi:10.1103/PhysRevA.89.022307, arXiv:1311.7129.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from qit4n.errors import ParameterError
from qit4n.maths import binary_entropy
from qit4n.postprocess.channel import Message, MessageKind, PublicChannel, Role
from qit4n.postprocess.finite_key import secret_key_length_bits

__all__ = [
    "DecoyBounds",
    "DecoyCounts",
    "SampleEstimate",
    "estimate_qber_by_sampling",
    "lim_decoy_bounds",
    "lim_key_length",
    "tomamichel_key_length",
]

#: Lim et al. 2014 split the secrecy parameter into 21 terms (their Appendix B).
SECRECY_TERMS = 21.0


@dataclass(frozen=True)
class SampleEstimate:
    """A QBER estimated on ``sample_size`` disclosed bits, and the keys left after removing them."""

    qber: float
    sample_size: int
    errors: int
    alice_key: np.ndarray
    bob_key: np.ndarray


def estimate_qber_by_sampling(
    alice_key: np.ndarray, bob_key: np.ndarray, sample_size: int, channel: PublicChannel, rng: np.random.Generator
) -> SampleEstimate:
    """Bob discloses ``sample_size`` random bits with their positions; Alice counts the errors and
    announces them; both drop the sample from their keys.

    >>> from qit4n.postprocess.bits import random_bits, noisy_copy
    >>> rng = np.random.default_rng(0)
    >>> a = random_bits(10000, rng); b = noisy_copy(a, 0.05, rng)
    >>> est = estimate_qber_by_sampling(a, b, 2000, PublicChannel(), rng)
    >>> est.alice_key.size, 0.03 < est.qber < 0.07
    (8000, True)
    """
    if not 0 < sample_size < alice_key.size:
        raise ParameterError(f"sample_size = {sample_size}: must be in (0, {alice_key.size})")
    positions = np.sort(rng.choice(bob_key.size, size=sample_size, replace=False)).astype(np.uint32)
    received = channel.send(
        Message(
            MessageKind.SAMPLE_BITS, Role.BOB, public={"positions": positions}, disclosed={"bits": bob_key[positions]}
        )
    )
    errors = int(np.count_nonzero(alice_key[received.public["positions"]] != received.disclosed["bits"]))
    answer = channel.send(
        Message(MessageKind.SAMPLE_BITS, Role.ALICE, public={"errors": np.array([errors], dtype=np.uint32)})
    )
    keep = np.ones(alice_key.size, dtype=bool)
    keep[positions] = False
    return SampleEstimate(
        int(answer.public["errors"][0]) / sample_size, sample_size, errors, alice_key[keep], bob_key[keep]
    )


def tomamichel_key_length(
    key_bits: int,
    test_bits: int,
    test_qber: float,
    leak_bits: float,
    epsilon_sec: float,
    epsilon_cor: float | None = None,
    *,
    preparation_quality: float = 1.0,
) -> int:
    """Secret key length of Tomamichel et al. 2012, Theorem 2, Eq. (2), floored and never negative.

    ``test_qber`` plays ``Q_tol``: the theorem holds for a threshold fixed before the run, the
    protocol aborting when the test error rate exceeds it. Passing the observed rate itself, as
    :func:`qit4n.postprocess.pipeline.distill_sifted` does, is the usual practice but outside the
    theorem's letter. The paper tests on the complementary basis; a random sample of the sifted key
    stands for it only on a channel with the same error rate in both bases. ``epsilon_cor=None``
    leaves the verification cost to ``leak_bits`` (hash bits disclosed), keeping ``2 log2(1/eps_sec)``
    (Supplementary Eq. S3 at ``eps~ = eps_sec / 2``). A rate of 1/2 or more (``h = 1``, also what a
    tampered error count yields) gives no key. :class:`ParameterError` for an epsilon outside
    ``(0, 1)``, a negative ``test_qber`` or a negative leak.

    >>> tomamichel_key_length(10**6, 10**5, 0.02, 0.0, 1e-10)
    774459
    """
    if not 0.0 < epsilon_sec < 1.0:
        raise ParameterError(f"epsilon_sec = {epsilon_sec}: must be in (0, 1)")
    if epsilon_cor is not None and not 0.0 < epsilon_cor < 1.0:
        raise ParameterError(f"epsilon_cor = {epsilon_cor}: must be in (0, 1)")
    if not test_qber >= 0.0:
        raise ParameterError(f"test_qber = {test_qber}: must be >= 0")
    if leak_bits < 0:
        raise ParameterError(f"leak_bits = {leak_bits}: must be >= 0")
    if key_bits <= 0 or test_bits <= 0:
        return 0
    length = float(
        secret_key_length_bits(
            key_bits, test_bits, test_qber, leak_bits, epsilon_sec, epsilon_cor, preparation_quality=preparation_quality
        )
    )
    return max(0, math.floor(length))


@dataclass(frozen=True)
class DecoyCounts:
    """Observed per-intensity statistics (intensities ``mu1 > mu2 > mu3``, in that order)."""

    intensities: Sequence[float]
    probabilities: Sequence[float]
    detections_x: Sequence[float]
    detections_z: Sequence[float]
    errors_z: Sequence[float]


@dataclass(frozen=True)
class DecoyBounds:
    """Bounds on vacuum and single-photon events in the key basis and the phase-error rate."""

    vacuum_x: float
    single_x: float
    single_z: float
    single_errors_z: float
    phase_error: float


def _tau(photons: int, counts: DecoyCounts) -> float:
    return sum(
        p * math.exp(-mu) * mu**photons / math.factorial(photons)
        for mu, p in zip(counts.intensities, counts.probabilities)
    )


def _vacuum_single(
    counts: Sequence[float], mus: Sequence[float], ps: Sequence[float], tau0: float, tau1: float, margin: float
) -> tuple[float, float]:
    total = float(sum(counts))
    delta = math.sqrt(total / 2.0 * margin)
    low = [math.exp(mu) / p * (c - delta) for c, mu, p in zip(counts, mus, ps)]
    high = [math.exp(mu) / p * (c + delta) for c, mu, p in zip(counts, mus, ps)]
    mu1, mu2, mu3 = mus
    vacuum = tau0 * (mu2 * low[2] - mu3 * high[1]) / (mu2 - mu3)
    single = (
        tau1
        * mu1
        * (low[1] - high[2] - (mu2**2 - mu3**2) / mu1**2 * (high[0] - vacuum / tau0))
        / (mu1 * (mu2 - mu3) - mu2**2 + mu3**2)
    )
    return max(0.0, vacuum), single


def _gamma(epsilon: float, b: float, c: float, d: float) -> float:
    b = min(max(b, 1e-15), 0.5)
    spread = (c + d) * (1.0 - b) * b / (c * d * math.log(2.0))
    return math.sqrt(spread * math.log2((c + d) / (c * d * (1.0 - b) * b) * SECRECY_TERMS**2 / epsilon**2))


def lim_decoy_bounds(counts: DecoyCounts, epsilon_sec: float) -> DecoyBounds:
    """Lim et al. 2014, Eqs. (2)-(5), from observed counts.

    :class:`ParameterError` if the intensities are not ``mu1 > mu2 + mu3``, ``mu2 > mu3 >= 0``.
    """
    mu1, mu2, mu3 = counts.intensities
    if not (mu1 > mu2 + mu3 and mu2 > mu3 >= 0.0):
        raise ParameterError(f"intensities = {tuple(counts.intensities)}: need mu1 > mu2 + mu3 and mu2 > mu3 >= 0")
    margin = math.log(SECRECY_TERMS / epsilon_sec)
    tau0, tau1 = _tau(0, counts), _tau(1, counts)
    vacuum_x, single_x = _vacuum_single(
        counts.detections_x, counts.intensities, counts.probabilities, tau0, tau1, margin
    )
    _, single_z = _vacuum_single(counts.detections_z, counts.intensities, counts.probabilities, tau0, tau1, margin)
    delta = math.sqrt(float(sum(counts.errors_z)) / 2.0 * margin)
    ps = counts.probabilities
    errors_z = counts.errors_z
    v_z1 = (
        tau1
        * (math.exp(mu2) / ps[1] * (errors_z[1] + delta) - math.exp(mu3) / ps[2] * (errors_z[2] - delta))
        / (mu2 - mu3)
    )
    if single_x <= 0.0 or single_z <= 0.0:
        return DecoyBounds(vacuum_x, max(single_x, 0.0), max(single_z, 0.0), max(v_z1, 0.0), 0.5)
    ratio = max(v_z1, 0.0) / single_z
    phase = min(0.5, ratio + _gamma(epsilon_sec, ratio, single_z, single_x))
    return DecoyBounds(vacuum_x, single_x, single_z, max(v_z1, 0.0), phase)


def lim_key_length(bounds: DecoyBounds, leak_bits: float, epsilon_sec: float, epsilon_cor: float | None = None) -> int:
    """Lim et al. 2014, Eq. (1); ``epsilon_cor=None`` leaves the verification cost to ``leak_bits``."""
    length = (
        bounds.vacuum_x
        + bounds.single_x * (1.0 - float(binary_entropy(bounds.phase_error)))
        - leak_bits
        - 6.0 * math.log2(SECRECY_TERMS / epsilon_sec)
        - (math.log2(2.0 / epsilon_cor) if epsilon_cor else 1.0)
    )
    return max(0, math.floor(length))
