"""Monte Carlo of an entanglement-based (BBM92) link, slot by slot, vectorised over slots.

A PDC source emits, per time slot, photon pairs into two polarisation mode pairs ``j = 0, 1``
(Ma, Fung and Lo 2007, Sec. II): ``n_j`` pairs, thermal or Poisson of mean ``mu / 2`` each. In the
basis both parties measure, the photons of mode pair ``j`` go to Alice's detector ``j`` and to
Bob's detector ``j`` (Bob relabels his outcomes so that matching bases give equal bits); each
photon reaches and is detected by Alice with probability ``eta_alice`` and, independently, by Bob
with ``eta_bob``. Only photons detected somewhere are drawn: per mode pair their number is again
thermal (or Poisson) of mean ``eta_any mu / 2``, ``eta_any = 1 - (1 - eta_alice)(1 - eta_bob)``
(thinning), so only slots with a click are followed further. Each photon so drawn is seen by
Alice with probability ``eta_alice / eta_any``; Bob sees those with probability ``eta_bob`` and
all the others. Where Bob's basis differs from
Alice's, each of his photons goes to either detector with probability 1/2 (these slots are
discarded by sifting; the bosonic correlations of their multi-pair events are not modelled).
Misalignment flips Bob's outcome in a slot with probability ``e_d``. Each detector also fires from
dark counts; a double click becomes a random bit (squashing). Dead time is not modelled.

With these rules the expected coincidence gain and QBER are those of Ma, Fung and Lo 2007
(:func:`qit4n.qkd.bbm92.pdc_gain_qber`), exactly without dark counts and to relative order
``Y0`` with them.

References
----------
Ma, X., Fung, C.-H. F. and Lo, H.-K., Phys. Rev. A 76, 012307 (2007), doi:10.1103/PhysRevA.76.012307.
Bennett, C. H., Brassard, G. and Mermin, N. D., Phys. Rev. Lett. 68, 557 (1992), doi:10.1103/PhysRevLett.68.557.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from pydantic import Field

from qit4n.emulate.bb84 import BASIS_X, BASIS_Z, noise_positions, sorted_union
from qit4n.errors import ParameterError
from qit4n.physics.detector import DarkCountProbability, MisalignmentError, background_yield
from qit4n.physics.source import PairStatistics, nonempty_probability
from qit4n.postprocess.bits import random_bits
from qit4n.qkd.bbm92 import optimal_mean_pair_number, split_transmittance
from qit4n.randomness import RandomnessSource, uniforms
from qit4n.randomness import random_bits as source_bits
from qit4n.schema import StrictModel, validate_parameters

__all__ = [
    "CoincidenceStatistics",
    "DetectionRecords",
    "EntangledLinkSettings",
    "EntangledRecords",
    "coincidence_statistics",
    "emulate_bbm92",
    "entangled_link_settings",
]


class EntangledLinkSettings(StrictModel):
    """Everything the BBM92 emulator draws from: source, both arms, both receivers, clock."""

    mean_pair_number: float = Field(0.1, gt=0.0, le=10.0, description="mean photon pairs per slot mu = 2 lambda")
    pair_statistics: PairStatistics = Field(
        PairStatistics.THERMAL, description="pair-number statistics: thermal | poisson"
    )
    eta_alice: float = Field(..., ge=0.0, le=1.0, description="Alice's arm: channel times detector transmittance")
    eta_bob: float = Field(..., ge=0.0, le=1.0, description="Bob's arm: channel times detector transmittance")
    dark_count_probability_alice: DarkCountProbability = Field(
        6e-7, description="dark counts per detector per slot, Alice"
    )
    dark_count_probability_bob: DarkCountProbability = Field(6e-7, description="dark counts per detector per slot, Bob")
    misalignment_error: MisalignmentError = Field(
        0.005, description="probability that Bob's outcome in a slot is flipped"
    )
    probability_basis_x: float = Field(0.5, gt=0.0, lt=1.0, description="probability of the X basis, each side")
    repetition_rate_hz: float = Field(1e9, gt=0.0, le=1e12, description="slots per second")

    @property
    def background_alice(self) -> float:
        """``Y0A = 1 - (1 - p_dc)^2``: either of Alice's detectors fires in the dark."""
        return float(background_yield(self.dark_count_probability_alice))

    @property
    def background_bob(self) -> float:
        """``Y0B``: either of Bob's detectors fires in the dark."""
        return float(background_yield(self.dark_count_probability_bob))

    @property
    def sifting(self) -> float:
        """Probability that the two parties' bases agree."""
        p = self.probability_basis_x
        return p * p + (1.0 - p) * (1.0 - p)


def entangled_link_settings(params: Any, eta_channel: float) -> EntangledLinkSettings:
    """Settings from :class:`qit4n.qkd.bbm92.BBM92Parameters` over a fibre of ``eta_channel``.

    ``mean_pair_number=None`` (left to the optimiser) becomes the analytic optimum at this
    transmittance.
    """
    arm_a, arm_b = split_transmittance(eta_channel, params.source_position)
    eta_a, eta_b = float(arm_a) * params.eta_detector, float(arm_b) * params.eta_detector
    mu = params.mean_pair_number
    if mu is None:
        mu = float(optimal_mean_pair_number(eta_a, eta_b, params))
    values = {
        "mean_pair_number": mu,
        "pair_statistics": params.pair_statistics,
        "eta_alice": eta_a,
        "eta_bob": eta_b,
        "dark_count_probability_alice": params.dark_count_probability,
        "dark_count_probability_bob": params.dark_count_probability,
        "misalignment_error": params.misalignment_error,
        "probability_basis_x": params.probability_basis_x,
        "repetition_rate_hz": params.repetition_rate_hz,
    }
    return validate_parameters(EntangledLinkSettings, values, context="link")


@dataclass(frozen=True)
class DetectionRecords:
    """One party's clicks: slot index (sorted), basis, bit and whether both detectors fired."""

    slots: np.ndarray
    bases: np.ndarray
    bits: np.ndarray
    double_clicks: np.ndarray


@dataclass(frozen=True)
class EntangledRecords:
    """Both parties' records of ``num_slots`` slots."""

    alice: DetectionRecords
    bob: DetectionRecords
    num_slots: int


def _detected_photons(mean: float, size: int, statistics: PairStatistics, rng: np.random.Generator) -> np.ndarray:
    """Photon numbers of a thermal or Poisson mode of ``mean`` conditioned on being at least one.

    Thermal: memoryless, ``n`` is geometric on ``1, 2, ...``. Poisson: the first of the events of a
    unit-time Poisson process of rate ``mean``, given one occurs, comes at ``t`` (inverted from its
    truncated exponential law) and the rest are Poisson of mean ``mean (1 - t)``.
    """
    if statistics is PairStatistics.THERMAL:
        return rng.geometric(1.0 / (1.0 + mean), size=size)
    first = -np.log1p(rng.random(size) * np.expm1(-mean)) / mean
    return 1 + rng.poisson(mean * (1.0 - first))


def _pair_photons(
    settings: EntangledLinkSettings, num_slots: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Slots where some photon of a mode pair is detected, and per slot the photons detected by
    Alice and by Bob from each mode pair (arrays of shape ``(2, slots)``)."""
    eta_a, eta_b = settings.eta_alice, settings.eta_bob
    either = eta_a + eta_b - eta_a * eta_b
    mean = either * settings.mean_pair_number / 2.0
    if mean <= 0.0:
        return np.zeros(0, np.int64), np.zeros((2, 2, 0), np.int64)
    probability = float(nonempty_probability(mean, settings.pair_statistics))
    per_mode = []
    for _ in range(2):
        slots = noise_positions(num_slots, probability, rng)
        detected = _detected_photons(mean, slots.size, settings.pair_statistics, rng)
        alice = rng.binomial(detected, eta_a / either)
        bob = rng.binomial(alice, eta_b) + detected - alice
        per_mode.append((slots, alice, bob))
    union = sorted_union(num_slots, per_mode[0][0], per_mode[1][0])
    photons = np.zeros((2, 2, union.size), np.int64)  # (party, mode pair, slot)
    for mode, (slots, alice, bob) in enumerate(per_mode):
        where = np.searchsorted(union, slots)
        photons[0, mode, where] = alice
        photons[1, mode, where] = bob
    return union, photons


def _outcomes(
    fires: np.ndarray, rng: np.random.Generator, choices: RandomnessSource | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Clicked slots (mask), bits (a double click becomes a random bit) and double clicks."""
    clicked = fires[0] | fires[1]
    double = fires[0] & fires[1]
    size = fires.shape[1]
    squash = random_bits(size, rng) if choices is None else source_bits(choices, size)
    bits = np.where(double, squash, fires[1]).astype(np.uint8)
    return clicked, bits, double


def emulate_bbm92(
    settings: EntangledLinkSettings,
    num_slots: int,
    rng: np.random.Generator,
    *,
    choices: RandomnessSource | None = None,
) -> EntangledRecords:
    """Emulate ``num_slots`` slots of BBM92 and return Alice's and Bob's click records.

    The basis choices and the bits of double clicks come from ``choices`` (a QRNG) when given, else
    from ``rng``; either way they are drawn only for the slots where some detector may click (the
    choices elsewhere never show). The physics always comes from ``rng``.

    >>> settings = EntangledLinkSettings(eta_alice=0.1, eta_bob=0.1, mean_pair_number=0.1)
    >>> records = emulate_bbm92(settings, 1_000_000, np.random.default_rng(1))
    >>> 9000 < records.alice.slots.size < 10400  # N (1 - 1 / (1 + 0.1 * 0.05)^2) = 9950
    True
    """
    if num_slots < 1:
        raise ParameterError(f"pulses = {num_slots}: must be >= 1")
    slots, photons = _pair_photons(settings, num_slots, rng)
    darks = [
        noise_positions(num_slots, p, rng)
        for p in (settings.dark_count_probability_alice,) * 2 + (settings.dark_count_probability_bob,) * 2
    ]
    candidates = sorted_union(num_slots, slots, *darks)
    where = np.searchsorted(candidates, slots)
    count = candidates.size
    if choices is None:
        alice_uniforms, bob_uniforms = rng.random(count), rng.random(count)
    else:
        alice_uniforms, bob_uniforms = uniforms(choices, count), uniforms(choices, count)
    alice_bases = (alice_uniforms >= settings.probability_basis_x).astype(np.uint8)
    bob_bases = (bob_uniforms >= settings.probability_basis_x).astype(np.uint8)

    alice_fires = np.zeros((2, count), bool)
    alice_fires[:, where] = photons[0] > 0
    bob_photons = np.zeros((2, count), np.int64)
    bob_photons[:, where] = photons[1]
    mismatched = alice_bases != bob_bases
    total = bob_photons[0, mismatched] + bob_photons[1, mismatched]
    to_first = rng.binomial(total, 0.5)
    bob_photons[0, mismatched], bob_photons[1, mismatched] = to_first, total - to_first
    flipped = rng.random(count) < settings.misalignment_error
    bob_photons[:, flipped] = bob_photons[::-1, flipped]
    bob_fires = bob_photons > 0
    for detector, positions in enumerate(darks):
        fires = alice_fires if detector < 2 else bob_fires
        fires[detector % 2, np.searchsorted(candidates, positions)] = True

    records = []
    for fires, bases in ((alice_fires, alice_bases), (bob_fires, bob_bases)):
        clicked, bits, double = _outcomes(fires, rng, choices)
        records.append(DetectionRecords(candidates[clicked], bases[clicked], bits[clicked], double[clicked]))
    return EntangledRecords(records[0], records[1], num_slots)


@dataclass(frozen=True)
class CoincidenceStatistics:
    """Counts of a BBM92 block: slots, each party's clicks, coincidences, and per basis (X, Z) the
    sifted coincidences and their errors."""

    slots: int
    clicks_alice: int
    clicks_bob: int
    coincidences: int
    sifted: np.ndarray
    errors: np.ndarray

    @property
    def gain(self) -> float:
        """Coincidences per slot (Ma, Fung and Lo's ``Q_lambda``)."""
        return self.coincidences / self.slots

    @property
    def qber(self) -> float:
        """Error rate of all sifted coincidences (nan if none)."""
        sifted = float(self.sifted.sum())
        return float(self.errors.sum()) / sifted if sifted else float("nan")

    @property
    def qber_per_basis(self) -> np.ndarray:
        """Error rate of the sifted coincidences in X and in Z."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return self.errors / self.sifted


def coincidence_statistics(records: EntangledRecords) -> CoincidenceStatistics:
    """Counts from both parties' records (a harness view: it reads both sides)."""
    alice, bob = records.alice, records.bob
    _, in_alice, in_bob = np.intersect1d(alice.slots, bob.slots, assume_unique=True, return_indices=True)
    bases = alice.bases[in_alice]
    sifted = bases == bob.bases[in_bob]
    wrong = sifted & (alice.bits[in_alice] != bob.bits[in_bob])
    per_basis = [np.count_nonzero(sifted & (bases == b)) for b in (BASIS_X, BASIS_Z)]
    errors = [np.count_nonzero(wrong & (bases == b)) for b in (BASIS_X, BASIS_Z)]
    return CoincidenceStatistics(
        records.num_slots,
        int(alice.slots.size),
        int(bob.slots.size),
        int(in_alice.size),
        np.array(per_basis, float),
        np.array(errors, float),
    )
