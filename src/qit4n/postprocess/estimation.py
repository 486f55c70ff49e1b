"""Parameter estimation: QBER on a disclosed random sample, and secret key lengths from observed
counts with the finite-key bounds of :mod:`qit4n.qkd.finite_key` (Tomamichel et al. 2012 for a
sampled QBER; Lim et al. 2014 for decoy-state BB84 per-intensity counts).

These are the estimator's views of the equations the rate models use with expected counts: plain
integers and floats, validated inputs, lengths floored and never negative.

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
from qit4n.postprocess.channel import Message, MessageKind, PublicChannel, Role
from qit4n.qkd.finite_key import LimBounds, lim_bounds, lim_key_length_bits, secret_key_length_bits

__all__ = [
    "DecoyBounds",
    "DecoyCounts",
    "SampleEstimate",
    "estimate_qber_by_sampling",
    "lim_decoy_bounds",
    "lim_key_length",
    "tomamichel_key_length",
]


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
    detections_x: Sequence[float] | np.ndarray
    detections_z: Sequence[float] | np.ndarray
    errors_z: Sequence[float] | np.ndarray


@dataclass(frozen=True)
class DecoyBounds:
    """Bounds on vacuum and single-photon events in the key basis and the phase-error rate."""

    vacuum_x: float
    single_x: float
    single_z: float
    single_errors_z: float
    phase_error: float


def lim_decoy_bounds(counts: DecoyCounts, epsilon_sec: float) -> DecoyBounds:
    """Lim et al. 2014, Eqs. (2)-(5), from observed counts.

    :class:`ParameterError` if the intensities are not ``mu1 > mu2 + mu3``, ``mu2 > mu3 >= 0``.
    """
    mu1, mu2, mu3 = counts.intensities
    if not (mu1 > mu2 + mu3 and mu2 > mu3 >= 0.0):
        raise ParameterError(f"intensities = {tuple(counts.intensities)}: need mu1 > mu2 + mu3 and mu2 > mu3 >= 0")
    bounds = lim_bounds(
        intensities=counts.intensities,
        probabilities=counts.probabilities,
        detections_x=counts.detections_x,
        detections_z=counts.detections_z,
        errors_z=counts.errors_z,
        epsilon_sec=epsilon_sec,
    )
    return DecoyBounds(
        vacuum_x=float(bounds.vacuum_x),
        single_x=max(float(bounds.single_x), 0.0),
        single_z=max(float(bounds.single_z), 0.0),
        single_errors_z=max(float(bounds.single_errors_z), 0.0),
        phase_error=min(float(bounds.phase_error), 0.5),
    )


def lim_key_length(bounds: DecoyBounds, leak_bits: float, epsilon_sec: float, epsilon_cor: float | None = None) -> int:
    """Lim et al. 2014, Eq. (1), floored and never negative; ``epsilon_cor=None`` leaves the
    verification cost to ``leak_bits``."""
    estimate = LimBounds(
        vacuum_x=np.asarray(bounds.vacuum_x),
        single_x=np.asarray(bounds.single_x),
        single_z=np.asarray(bounds.single_z),
        single_errors_z=np.asarray(bounds.single_errors_z),
        phase_error=np.asarray(bounds.phase_error),
        feasible=np.asarray(bounds.single_x > 0.0 and bounds.single_z > 0.0),
    )
    return max(0, math.floor(float(lim_key_length_bits(estimate, leak_bits, epsilon_sec, epsilon_cor))))
