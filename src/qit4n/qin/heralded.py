"""Heralded entanglement generation with a midpoint station: single-click and Barrett-Kok (double-click).

Both nodes entangle a memory qubit with a photon and send it to a 50:50 beam splitter with two
detectors at the midpoint; an attempt succeeds when exactly one detector clicks (in each round
for Barrett-Kok). ``eta`` is the efficiency of one arm (emission and collection, fibre to the
midpoint, detector); ``dark_count_probability`` is the probability that a detector clicks
without light in one detection window. Photon-number-resolving detectors are not assumed: two
photons in one detector give one click. The heralded pair is returned Bell-diagonal after the
Pauli correction that maps the heralded Bell state to ``|Phi+>``.

Schemes are members of :data:`HERALDING_SCHEMES` (one :class:`HeraldingScheme` interface, so
:func:`qit4n.qin.chain.link_model` has no branch per scheme); the midpoint source of
:mod:`qit4n.qin.midpoint` is a third.

Branches of an attempt: *genuine* (the click came from the single emitted photon: the right Bell
state), *random sign* (a dark count stood in for a lost photon: Psi+ or Psi- with probability 1/2)
and *product* (``|00>`` or ``|11>`` spins: no entanglement, fidelity 0).

References
----------
C. Cabrillo et al., Phys. Rev. A 59, 1025 (1999) (single click);
B. Hensen et al. / P. C. Humphreys et al., Nature 558, 268 (2018): F ~ 1 - alpha, p ~ 2 alpha eta;
S. D. Barrett, P. Kok, Phys. Rev. A 71, 060310(R) (2005): success probability eta^2 / 2.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import numpy as np
from numpy.typing import ArrayLike

from qit4n.errors import ParameterError
from qit4n.qin.bell import werner
from qit4n.qin.density import from_bell_diagonal
from qit4n.registry import Registry

if TYPE_CHECKING:
    from qit4n.qin.chain import ChainParameters

__all__ = [
    "HERALDING_SCHEMES",
    "BarrettKok",
    "HeraldedOutcome",
    "HeraldingScheme",
    "SingleClick",
    "barrett_kok",
    "sample_barrett_kok",
    "sample_single_click",
    "single_click",
    "with_raw_fidelity",
]


@dataclass(frozen=True)
class HeraldedOutcome:
    """Success probability per attempt and the heralded state (arrays broadcast).

    ``state`` is Bell-diagonal (the twirled state: exact for every Pauli-noise model); ``rho``, when
    given, is the exact 4x4 density matrix in the ``|Phi+>`` frame (qubit order: left node, right
    node), which the density-matrix formalism uses instead of the twirled state.
    """

    success_probability: np.ndarray
    state: np.ndarray
    rho: np.ndarray | None = None

    @property
    def fidelity(self) -> np.ndarray:
        """Fidelity of the heralded pair with the target Bell state."""
        return self.state[..., 0]

    @property
    def density_matrix(self) -> np.ndarray:
        """The heralded pair as a density matrix (the Bell-diagonal state when no exact one is known)."""
        return from_bell_diagonal(self.state) if self.rho is None else self.rho


def _check(name: str, value: ArrayLike, upper: float = 1.0) -> np.ndarray:
    array = np.asarray(value, dtype=float)
    if np.any(array < 0.0) or np.any(array > upper):
        raise ParameterError(f"{name} = {array.tolist()}: must be in [0, {upper:g}]")
    return array


def _arms(eta: ArrayLike, efficiency_mismatch: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Efficiencies ``eta (1 + m)`` and ``eta (1 - m)`` of the left and right arm."""
    eta_arm = _check("eta", eta)
    mismatch = np.asarray(efficiency_mismatch, dtype=float)
    if np.any(mismatch < 0.0) or np.any(mismatch >= 1.0):
        raise ParameterError(f"efficiency_mismatch = {mismatch.tolist()}: must be in [0, 1)")
    left = eta_arm * (1.0 + mismatch)
    if np.any(left > 1.0):
        raise ParameterError(f"eta * (1 + efficiency_mismatch) = {left.tolist()}: must be <= 1")
    return left, eta_arm * (1.0 - mismatch)


def _one_photon(eta: np.ndarray, dark: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Exactly one click when one photon of arm efficiency ``eta`` arrives: (its own click, a dark stand-in)."""
    return eta * (1.0 - dark), (1.0 - eta) * 2.0 * dark * (1.0 - dark)


def _two_photons(eta_left: np.ndarray, eta_right: np.ndarray, visibility: np.ndarray, dark: np.ndarray) -> np.ndarray:
    """Exactly one click when both arms send a photon: both survive and bunch (probability ``(1 + V) / 2``),
    one survives, or none does and one detector fires dark."""
    both = eta_left * eta_right * (1.0 + visibility) / 2.0
    one = eta_left * (1.0 - eta_right) + eta_right * (1.0 - eta_left)
    return (both + one) * (1.0 - dark) + (1.0 - eta_left) * (1.0 - eta_right) * 2.0 * dark * (1.0 - dark)


def _twirled(target: np.ndarray, flipped: np.ndarray, product: np.ndarray, total: np.ndarray) -> np.ndarray:
    safe = np.where(total > 0.0, total, 1.0)
    return np.stack([target, product / 2.0, product / 2.0, flipped], axis=-1) / safe[..., None]


def single_click(
    *,
    bright_state_population: ArrayLike,
    eta: ArrayLike,
    dark_count_probability: ArrayLike = 0.0,
    visibility: ArrayLike = 1.0,
    phase_noise_rad: ArrayLike = 0.0,
    efficiency_mismatch: ArrayLike = 0.0,
) -> HeraldedOutcome:
    """Single-click scheme: each node emits with probability ``alpha``; one click heralds Psi+-.

    Without dark counts ``p = 2 alpha eta (1 - alpha) + alpha^2 eta (2 - eta)`` and
    ``F = 2 (1 - alpha) / (2 (1 - alpha) + alpha (2 - eta))`` (about ``1 - alpha`` for small eta).

    Imperfections (ideal by default): ``visibility`` is the two-photon (Hong-Ou-Mandel) visibility
    ``V = |<a|b>|^2`` of the two nodes' photons, so the heralded one-photon superposition keeps the
    coherence ``sqrt(V)`` and two photons bunch with probability ``(1 + V) / 2``; ``phase_noise_rad``
    is the standard deviation of a Gaussian optical phase difference of the arms, which multiplies the
    coherence by ``<cos phi> = exp(-sigma^2 / 2)``; ``efficiency_mismatch`` ``m`` gives the arms the
    efficiencies ``eta (1 +- m)``, so the heralded state is the non-maximally entangled
    ``sqrt(1 + m) |10> + sqrt(1 - m) |01>`` (coherence ``sqrt(1 - m^2)``). The genuine branch then has
    fidelity ``(1 + sqrt(V) exp(-sigma^2 / 2) sqrt(1 - m^2)) / 2`` (Hermans et al. 2023).

    >>> outcome = single_click(bright_state_population=0.1, eta=0.01)
    >>> round(float(outcome.success_probability), 6), round(float(outcome.fidelity), 4)
    (0.001999, 0.9005)
    """
    alpha = _check("bright_state_population", bright_state_population)
    eta_left, eta_right = _arms(eta, efficiency_mismatch)
    dark = _check("dark_count_probability", dark_count_probability, 0.5)
    overlap = np.sqrt(_check("visibility", visibility)) * np.exp(
        -(_check("phase_noise_rad", phase_noise_rad, np.pi) ** 2) / 2.0
    )
    one = alpha * (1.0 - alpha)
    genuine_left, stand_in_left = (one * term for term in _one_photon(eta_left, dark))
    genuine_right, stand_in_right = (one * term for term in _one_photon(eta_right, dark))
    none_emitted = (1.0 - alpha) ** 2 * 2.0 * dark * (1.0 - dark)
    both_emitted = alpha**2 * _two_photons(eta_left, eta_right, np.asarray(visibility, dtype=float), dark)
    diagonal = (genuine_left + genuine_right + stand_in_left + stand_in_right) / 2.0
    coherence = overlap * np.sqrt(genuine_left * genuine_right)
    total = 2.0 * diagonal + none_emitted + both_emitted
    state = _twirled(diagonal + coherence, diagonal - coherence, none_emitted + both_emitted, total)
    # Exact state in the |Phi+> frame (the herald's Pauli X on the right qubit maps |10> -> |11>, |01> -> |00>).
    safe = np.where(total > 0.0, total, 1.0)
    rho = np.zeros(np.shape(total) + (4, 4))
    rho[..., 0, 0] = (genuine_right + stand_in_right) / safe
    rho[..., 3, 3] = (genuine_left + stand_in_left) / safe
    rho[..., 0, 3] = rho[..., 3, 0] = coherence / safe
    rho[..., 1, 1] = none_emitted / safe
    rho[..., 2, 2] = both_emitted / safe
    return HeraldedOutcome(success_probability=total, state=state, rho=rho)


def barrett_kok(
    *,
    eta: ArrayLike,
    dark_count_probability: ArrayLike = 0.0,
    visibility: ArrayLike = 1.0,
    efficiency_mismatch: ArrayLike = 0.0,
) -> HeraldedOutcome:
    """Barrett-Kok scheme: two rounds with a spin flip between them, one click required in each.

    Without dark counts ``p = eta^2 / 2`` and ``F = 1``. With two-photon visibility ``V`` the
    genuine branch keeps the coherence ``V`` (one photon overlap per round), ``F = (1 + V) / 2``;
    the optical phase cancels between the rounds (Barrett & Kok 2005), so there is no phase-noise
    term; with arm efficiencies ``eta (1 +- m)`` the success probability is ``eta^2 (1 - m^2) / 2``
    and the heralded state stays maximally entangled (each branch needs one photon from each arm).

    >>> outcome = barrett_kok(eta=0.1)
    >>> round(float(outcome.success_probability), 6), float(outcome.fidelity)
    (0.005, 1.0)
    """
    eta_left, eta_right = _arms(eta, efficiency_mismatch)
    dark = _check("dark_count_probability", dark_count_probability, 0.5)
    coherence_factor = _check("visibility", visibility)
    genuine_left, stand_in_left = _one_photon(eta_left, dark)
    genuine_right, stand_in_right = _one_photon(eta_right, dark)
    genuine = 0.5 * genuine_left * genuine_right
    random_sign = 0.5 * ((genuine_left + stand_in_left) * (genuine_right + stand_in_right)) - genuine
    product = 0.5 * 2.0 * dark * (1.0 - dark) * _two_photons(eta_left, eta_right, coherence_factor, dark)
    total = genuine + random_sign + product
    target = genuine * (1.0 + coherence_factor) / 2.0 + random_sign / 2.0
    flipped = genuine * (1.0 - coherence_factor) / 2.0 + random_sign / 2.0
    return HeraldedOutcome(success_probability=total, state=_twirled(target, flipped, product, total))


def with_raw_fidelity(outcome: HeraldedOutcome, raw_fidelity: float) -> HeraldedOutcome:
    """The same success probability with the heralded state replaced by the Werner state of fidelity
    ``raw_fidelity`` (the phenomenological pair fidelity of tools such as SeQUeNCe)."""
    state = np.broadcast_to(werner(raw_fidelity), np.shape(outcome.success_probability) + (4,)).copy()
    return HeraldedOutcome(success_probability=outcome.success_probability, state=state)


def _window(
    rng: np.random.Generator,
    emitted: np.ndarray,
    eta: tuple[float, float],
    visibility: float,
    dark: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sample one detection window for photons emitted by the left/right arm (``emitted``: shape (2, n)).

    Returns (exactly one click, clicked detector, the click came from a single surviving photon).
    Two surviving photons leave by the same port with probability ``(1 + V) / 2``.
    """
    attempts = emitted.shape[1]
    survived = emitted & (rng.random(emitted.shape) < np.asarray(eta)[:, None])
    port = rng.integers(0, 2, (2, attempts))
    both = survived[0] & survived[1]
    bunched = rng.random(attempts) < (1.0 + visibility) / 2.0
    port[1] = np.where(both, np.where(bunched, port[0], 1 - port[0]), port[1])
    click = rng.random((2, attempts)) < dark
    for arm in range(2):
        click[0] |= survived[arm] & (port[arm] == 0)
        click[1] |= survived[arm] & (port[arm] == 1)
    single = click[0] ^ click[1]
    return single, np.where(click[0], 0, 1), survived.sum(axis=0) == 1


def _arm_pair(eta: float, efficiency_mismatch: float) -> tuple[float, float]:
    return eta * (1.0 + efficiency_mismatch), eta * (1.0 - efficiency_mismatch)


def sample_single_click(
    rng: np.random.Generator,
    attempts: int,
    *,
    bright_state_population: float,
    eta: float,
    dark_count_probability: float = 0.0,
    visibility: float = 1.0,
    phase_noise_rad: float = 0.0,
    efficiency_mismatch: float = 0.0,
) -> tuple[float, float]:
    """Monte Carlo of single-click attempts: (heralded fraction, mean fidelity of heralded pairs).

    Samples emissions, per-arm losses, beam-splitter ports (two-photon bunching with probability
    ``(1 + V) / 2``), dark counts and a Gaussian optical phase per attempt. A click from the one
    emitted photon heralds the superposition whose fidelity is
    ``(1 + sqrt(V) cos(phi) sqrt(1 - m^2)) / 2`` (drawn as a Bernoulli outcome); a dark count standing
    in for a lost photon announces a random sign; two or no emitted photons give a product state.
    """
    arms = _arm_pair(eta, efficiency_mismatch)
    emitted = rng.random((2, attempts)) < bright_state_population
    photons = emitted.sum(axis=0)
    single, detector, seen = _window(rng, emitted, arms, visibility, dark_count_probability)
    phase = rng.normal(0.0, phase_noise_rad, attempts) if phase_noise_rad > 0.0 else np.zeros(attempts)
    genuine_fidelity = (1.0 + np.sqrt(visibility) * np.cos(phase) * np.sqrt(1.0 - efficiency_mismatch**2)) / 2.0
    correct_genuine = rng.random(attempts) < genuine_fidelity
    correct_stand_in = rng.integers(0, 2, attempts) == detector
    correct = (photons == 1) & np.where(seen, correct_genuine, correct_stand_in)
    heralded = single.sum()
    return heralded / attempts, float(correct[single].mean()) if heralded else 0.0


def sample_barrett_kok(
    rng: np.random.Generator,
    attempts: int,
    *,
    eta: float,
    dark_count_probability: float = 0.0,
    visibility: float = 1.0,
    efficiency_mismatch: float = 0.0,
) -> tuple[float, float]:
    """Monte Carlo of Barrett-Kok attempts: (heralded fraction, mean fidelity of heralded pairs).

    Spins are drawn per attempt; the bright arms emit in round 1 and the others after the flip in
    round 2. A herald from genuine photons in both rounds is the target state with probability
    ``(1 + V) / 2``; a dark count standing in for a photon in either round announces a random sign.
    """
    arms = _arm_pair(eta, efficiency_mismatch)
    spins = rng.integers(0, 2, (2, attempts)).astype(bool)
    single_1, detector_1, seen_1 = _window(rng, spins, arms, visibility, dark_count_probability)
    single_2, detector_2, seen_2 = _window(rng, ~spins, arms, visibility, dark_count_probability)
    sign_1 = np.where(seen_1, detector_1, rng.integers(0, 2, attempts))
    sign_2 = np.where(seen_2, detector_2, rng.integers(0, 2, attempts))
    heralded = single_1 & single_2
    sign_right = (sign_1 ^ sign_2) == (detector_1 ^ detector_2)
    coherent = np.where(seen_1 & seen_2, rng.random(attempts) < (1.0 + visibility) / 2.0, True)
    correct = (spins.sum(axis=0) == 1) & sign_right & coherent
    count = heralded.sum()
    return count / attempts, float(correct[heralded].mean()) if count else 0.0


class HeraldingScheme(Protocol):
    """How one repeater segment heralds a pair: its per-attempt outcome and the light travel of an attempt."""

    @property
    def light_time_factor(self) -> float:
        """Light travel of one attempt in units of the segment's one-way fibre time ``L0 / c``: 1 when
        both photons meet at a midpoint station and the herald comes back, 1.5 when a midpoint source
        sends them out and the nodes then tell each other."""
        ...

    def herald(self, params: ChainParameters, *, eta_arm: float) -> HeraldedOutcome:
        """Success probability per attempt and heralded state of one segment of the chain ``params``.

        ``eta_arm`` is the efficiency of one arm, node to midpoint: emission and collection,
        detector, and fibre over half the segment. Scheme-specific fields of ``params`` (such as
        ``bright_state_population``) are read by the scheme that needs them.
        """
        ...


@dataclass(frozen=True)
class SingleClick:
    """:func:`single_click` with ``params.bright_state_population`` as ``alpha``."""

    light_time_factor: float = 1.0

    def herald(self, params: ChainParameters, *, eta_arm: float) -> HeraldedOutcome:
        """Single-click outcome of one segment."""
        return single_click(
            bright_state_population=params.bright_state_population,
            eta=eta_arm,
            dark_count_probability=params.dark_count_probability,
            visibility=params.two_photon_visibility,
            phase_noise_rad=params.phase_noise_rad,
            efficiency_mismatch=params.efficiency_mismatch,
        )


@dataclass(frozen=True)
class BarrettKok:
    """:func:`barrett_kok` of one segment."""

    light_time_factor: float = 1.0

    def herald(self, params: ChainParameters, *, eta_arm: float) -> HeraldedOutcome:
        """Barrett-Kok outcome of one segment."""
        return barrett_kok(
            eta=eta_arm,
            dark_count_probability=params.dark_count_probability,
            visibility=params.two_photon_visibility,
            efficiency_mismatch=params.efficiency_mismatch,
        )


#: Heralding schemes of a repeater segment by name (entry-point group ``qit4n.heralding_schemes``).
HERALDING_SCHEMES: Registry[HeraldingScheme] = Registry("heralding scheme", entry_point_group="qit4n.heralding_schemes")
HERALDING_SCHEMES.register("barrett-kok", BarrettKok())
HERALDING_SCHEMES.register("single-click", SingleClick())
HERALDING_SCHEMES.register_lazy("midpoint-source", "qit4n.qin.midpoint:MIDPOINT_SOURCE")
