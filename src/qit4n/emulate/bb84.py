"""Monte Carlo of a decoy-state BB84 link, pulse by pulse, vectorised over pulses.

Alice picks an intensity, a basis (X with probability ``q_x``) and a bit per pulse. A
phase-randomised coherent pulse of mean ``mu`` carries a Poisson number of photons; each reaches
and is detected by Bob with probability ``eta`` (channel times detector), so the number detected
is Poisson with mean ``eta mu`` and the number lost Poisson with mean ``(1 - eta) mu``
(Poisson thinning; exact, and what makes the emulator fast: only pulses with a detection are
followed further). Each detected photon reaches the detector of Alice's bit with probability
``1 - e_d`` when the bases agree and ``1/2`` when they do not; each detector also fires in a gate
from dark counts and extra noise. A double click becomes a random bit (squashing). After a
click the receiver is blind for the dead time (non-paralysable).

The parties' choices (Alice's intensity, basis and bit, Bob's basis, the bit a double click
becomes) come from the seeded generator, or from a :class:`~qit4n.randomness.RandomnessSource`
(a QRNG) when one is given; the physics (photon numbers, detection, dark counts) always comes from
the generator.

References
----------
Lo, H.-K., Ma, X. and Chen, K., Phys. Rev. Lett. 94, 230504 (2005), doi:10.1103/PhysRevLett.94.230504.
Ma, X., Qi, B., Zhao, Y. and Lo, H.-K., Phys. Rev. A 72, 012326 (2005), doi:10.1103/PhysRevA.72.012326.
Lütkenhaus, N., Phys. Rev. A 59, 3301 (1999), doi:10.1103/PhysRevA.59.3301 (double clicks).
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np

from qit4n.emulate.settings import LinkSettings
from qit4n.errors import ParameterError
from qit4n.physics.raman import dark_count_with_noise_probability
from qit4n.postprocess.bits import random_bits
from qit4n.randomness import RandomnessSource, uniforms
from qit4n.randomness import random_bits as source_bits

__all__ = ["BASIS_X", "BASIS_Z", "AliceRecords", "BobRecords", "LinkRecords", "emulate_bb84"]

#: Basis label of the records for X, the basis that carries the key.
BASIS_X = 0
#: Basis label of the records for Z, the basis that estimates the phase error.
BASIS_Z = 1


@dataclass(frozen=True)
class AliceRecords:
    """Per pulse sent: basis, intensity index (0 signal, 1 decoy, 2 vacuum) and bit."""

    bases: np.ndarray
    intensities: np.ndarray
    bits: np.ndarray


@dataclass(frozen=True)
class BobRecords:
    """Per registered detection: pulse index (sorted), basis, bit and whether both detectors fired."""

    pulses: np.ndarray
    bases: np.ndarray
    bits: np.ndarray
    double_clicks: np.ndarray


@dataclass(frozen=True)
class LinkRecords:
    """Both parties' records of ``num_pulses`` pulses; ``photon_numbers`` when asked for."""

    alice: AliceRecords
    bob: BobRecords
    num_pulses: int
    photon_numbers: np.ndarray | None = None


def sorted_union(num_slots: int, *arrays: np.ndarray) -> np.ndarray:
    """Sorted distinct slot indices in the given arrays: by a mask over all slots when they are
    dense, else by a sort (both faster than ``np.union1d``'s hashing)."""
    if sum(array.size for array in arrays) * 16 > num_slots:
        mask = np.zeros(num_slots, bool)
        for array in arrays:
            mask[array] = True
        return np.flatnonzero(mask)
    merged = np.sort(np.concatenate(arrays))
    keep = np.ones(merged.size, bool)
    keep[1:] = merged[1:] != merged[:-1]
    return merged[keep]


def noise_positions(num_pulses: int, probability: float, rng: np.random.Generator) -> np.ndarray:
    """Gates where an independent per-gate event of ``probability`` happens (geometric gaps)."""
    if probability <= 0.0:
        return np.zeros(0, dtype=np.int64)
    expected = num_pulses * probability
    positions = []
    last = -1
    while last < num_pulses:
        draws = int(expected + 6.0 * np.sqrt(expected) + 16)
        steps = np.cumsum(rng.geometric(probability, size=draws)) + last
        positions.append(steps)
        last = int(steps[-1])
    merged = np.concatenate(positions)
    return merged[merged < num_pulses]


@numba.njit(cache=True)
def _register(pulses, fires, bases, dead_gates, afterpulse, basis_x, pool):
    """Clicks the receiver registers, in gate order, with dead time and afterpulses.

    A registered click blinds the receiver for ``dead_gates`` gates; with probability
    ``afterpulse`` it also fires a random detector at the first gate after that, where Bob's basis
    is drawn afresh (X with probability ``basis_x``). Returns the registered ``(pulses, fires,
    bases)``; ``pool`` holds uniforms consumed in order (afterpulses stop if it runs out).
    """
    capacity = 2 * pulses.size + 16
    out_pulses = np.empty(capacity, dtype=np.int64)
    out_fires = np.zeros((2, capacity), dtype=np.bool_)
    out_bases = np.empty(capacity, dtype=np.uint8)
    count = 0
    ready = -1
    pending = -1
    pending_detector = 0
    pending_basis = np.uint8(0)
    used = 0
    index = 0
    while index < pulses.size or pending >= 0:
        take_pending = pending >= 0 and (index >= pulses.size or pending <= pulses[index])
        if take_pending:
            gate = pending
            fire0 = pending_detector == 0
            fire1 = pending_detector == 1
            basis = pending_basis
            if index < pulses.size and pulses[index] == gate:
                fire0 = fire0 or fires[0, index]
                fire1 = fire1 or fires[1, index]
                basis = bases[index]
                index += 1
            pending = -1
        else:
            gate = pulses[index]
            fire0 = fires[0, index]
            fire1 = fires[1, index]
            basis = bases[index]
            index += 1
        if gate <= ready or count >= capacity:
            continue
        out_pulses[count] = gate
        out_fires[0, count] = fire0
        out_fires[1, count] = fire1
        out_bases[count] = basis
        count += 1
        ready = gate + dead_gates
        if afterpulse > 0.0 and used + 3 <= pool.size:
            if pool[used] < afterpulse:
                pending = ready + 1
                pending_detector = 0 if pool[used + 1] < 0.5 else 1
                pending_basis = np.uint8(0 if pool[used + 2] < basis_x else 1)
            used += 3
    return out_pulses[:count].copy(), out_fires[:, :count].copy(), out_bases[:count].copy()


@numba.njit(cache=True)
def _choose(
    uniforms: np.ndarray, cumulative: np.ndarray, probabilities: np.ndarray, detection: np.ndarray, basis_x: float
):
    """Intensity, Alice's basis and whether a photon is detected, all from one uniform per pulse.

    The uniform picks the intensity interval; its position inside the interval, itself uniform and
    independent of the choice, decides detection; its position inside the detected or undetected
    sub-interval decides the basis. Returns ``(intensities, bases, detected pulse indices)``.
    """
    size = uniforms.size
    intensities = np.empty(size, dtype=np.uint8)
    bases = np.empty(size, dtype=np.uint8)
    detected = np.empty(size, dtype=np.int64)
    count = 0
    for index in range(size):
        u = uniforms[index]
        k = 0
        if u >= cumulative[1]:
            k = 1 if u < cumulative[2] else 2
        v = (u - cumulative[k]) / probabilities[k]
        d = detection[k]
        if v < d:
            w = v / d
            detected[count] = index
            count += 1
        else:
            w = (v - d) / (1.0 - d)
        intensities[index] = k
        bases[index] = 0 if w < basis_x else 1
    return intensities, bases, detected[:count].copy()


def _choose_from_source(
    choice_uniforms: np.ndarray,
    detection_uniforms: np.ndarray,
    cumulative: np.ndarray,
    probabilities: np.ndarray,
    detection: np.ndarray,
    basis_x: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`_choose` with the choices and the detection from separate uniforms: ``choice_uniforms``
    (from a randomness source) pick the intensity interval and, by their position inside it, the
    basis; ``detection_uniforms`` (physics, from the generator) decide detection."""
    intensities = np.clip(np.searchsorted(cumulative, choice_uniforms, side="right") - 1, 0, probabilities.size - 1)
    inside = (choice_uniforms - cumulative[intensities]) / probabilities[intensities]
    bases = (inside >= basis_x).astype(np.uint8)
    detected = np.flatnonzero(detection_uniforms < detection[intensities])
    return intensities.astype(np.uint8), bases, detected


def zero_truncated_poisson(mean: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Poisson counts conditioned on being at least one, by inversion of the conditional tail
    ``P(N > k | N >= 1) = P(k + 1, mean) / P(1, mean)`` (regularised incomplete gamma), exact and
    fast even for tiny means."""
    from scipy.special import gammainc

    uniforms = rng.random(mean.size)
    counts = np.ones(mean.size, dtype=np.int64)
    norm = gammainc(1.0, mean)
    active = np.arange(mean.size)
    photons = 1
    while active.size:
        tail = gammainc(photons + 1.0, mean[active]) / norm[active]
        active = active[uniforms[active] < tail]
        counts[active] += 1
        photons += 1
    return counts


def emulate_bb84(
    settings: LinkSettings,
    num_pulses: int,
    rng: np.random.Generator,
    *,
    photon_numbers: bool = False,
    choices: RandomnessSource | None = None,
) -> LinkRecords:
    """Emulate ``num_pulses`` pulses of decoy-state BB84 and return Alice's and Bob's records.

    ``choices``, when given, supplies the parties' random choices (see the module docstring);
    without it every draw comes from ``rng`` as before.

    >>> from qit4n.emulate.settings import LinkSettings
    >>> records = emulate_bb84(LinkSettings(eta_channel=0.1), 100_000, np.random.default_rng(1))
    >>> 300 < records.bob.pulses.size < 450  # N * sum_k p_k (1 - exp(-0.01 mu_k)) = 370
    True
    """
    if num_pulses < 1:
        raise ParameterError(f"pulses = {num_pulses}: must be >= 1")
    mus = np.asarray(settings.intensities)
    probabilities = np.asarray(settings.probabilities)
    cumulative = np.concatenate([[0.0], np.cumsum(probabilities)[:-1]])
    eta = settings.eta_total
    detection = -np.expm1(-eta * mus)
    basis_x = settings.probability_basis_x
    if choices is None:
        intensities, alice_bases, detected = _choose(
            rng.random(num_pulses), cumulative, probabilities, detection, basis_x
        )
        alice_bits = random_bits(num_pulses, rng)
    else:
        choice_uniforms = uniforms(choices, num_pulses)
        intensities, alice_bases, detected = _choose_from_source(
            choice_uniforms, rng.random(num_pulses), cumulative, probabilities, detection, basis_x
        )
        alice_bits = source_bits(choices, num_pulses)
    photons_detected = zero_truncated_poisson(eta * mus[intensities[detected]], rng)

    noise = float(dark_count_with_noise_probability(settings.dark_count_probability, settings.noise_probability))
    dark = [noise_positions(num_pulses, noise, rng) for _ in range(2)]
    candidates = sorted_union(num_pulses, detected, *dark)
    photons = np.zeros(candidates.size, dtype=np.int64)
    photons[np.searchsorted(candidates, detected)] = photons_detected
    bob_uniforms = rng.random(candidates.size) if choices is None else uniforms(choices, candidates.size)
    bob_bases = (bob_uniforms >= basis_x).astype(np.uint8)
    match = bob_bases == alice_bases[candidates]
    right_probability = np.where(match, 1.0 - settings.misalignment_error, 0.5)
    to_right = rng.binomial(photons, right_probability)
    bit = alice_bits[candidates]
    fires = np.zeros((2, candidates.size), dtype=bool)
    fires[bit, np.arange(candidates.size)] = to_right > 0
    fires[1 - bit, np.arange(candidates.size)] = photons - to_right > 0
    for detector in range(2):
        fires[detector, np.searchsorted(candidates, dark[detector])] = True

    if settings.dead_gates > 0 or settings.afterpulse_probability > 0.0:
        pool = rng.random(6 * candidates.size + 48)
        candidates, fires, bob_bases = _register(
            candidates,
            fires,
            bob_bases,
            settings.dead_gates,
            settings.afterpulse_probability,
            settings.probability_basis_x,
            pool,
        )
    double = fires[0] & fires[1]
    squash = random_bits(candidates.size, rng) if choices is None else source_bits(choices, candidates.size)
    bob_bits = np.where(double, squash, fires[1]).astype(np.uint8)
    bob = BobRecords(candidates, bob_bases, bob_bits, double)
    numbers = None
    if photon_numbers:
        numbers = rng.poisson((1.0 - eta) * mus[intensities])
        numbers[detected] += photons_detected
    return LinkRecords(AliceRecords(alice_bases, intensities, alice_bits), bob, num_pulses, numbers)
