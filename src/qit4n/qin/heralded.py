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
]


@dataclass(frozen=True)
class HeraldedOutcome:
    """Success probability per attempt and the heralded Bell-diagonal state (arrays broadcast)."""

    success_probability: np.ndarray
    state: np.ndarray

    @property
    def fidelity(self) -> np.ndarray:
        """Fidelity of the heralded pair with the target Bell state."""
        return self.state[..., 0]


def _check(name: str, value: ArrayLike, upper: float = 1.0) -> np.ndarray:
    array = np.asarray(value, dtype=float)
    if np.any(array < 0.0) or np.any(array > upper):
        raise ParameterError(f"{name} = {array.tolist()}: must be in [0, {upper:g}]")
    return array


def _outcome(genuine: np.ndarray, random_sign: np.ndarray, product: np.ndarray) -> HeraldedOutcome:
    total = genuine + random_sign + product
    safe = np.where(total > 0.0, total, 1.0)
    state = (
        np.stack([genuine + random_sign / 2.0, product / 2.0, product / 2.0, random_sign / 2.0], axis=-1)
        / safe[..., None]
    )
    return HeraldedOutcome(success_probability=total, state=state)


def _click_terms(eta: np.ndarray, dark: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Probability of exactly one click: with no photon, one photon (genuine / dark stand-in), two bunched photons."""
    no_photon = 2.0 * dark * (1.0 - dark)
    one_genuine = eta * (1.0 - dark)
    one_dark = (1.0 - eta) * no_photon
    two = (1.0 - (1.0 - eta) ** 2) * (1.0 - dark) + (1.0 - eta) ** 2 * no_photon
    return no_photon, one_genuine, one_dark, two


def single_click(
    *, bright_state_population: ArrayLike, eta: ArrayLike, dark_count_probability: ArrayLike = 0.0
) -> HeraldedOutcome:
    """Single-click scheme: each node emits with probability ``alpha``; one click heralds Psi+-.

    Without dark counts ``p = 2 alpha eta (1 - alpha) + alpha^2 eta (2 - eta)`` and
    ``F = 2 (1 - alpha) / (2 (1 - alpha) + alpha (2 - eta))`` (about ``1 - alpha`` for small eta).

    >>> outcome = single_click(bright_state_population=0.1, eta=0.01)
    >>> round(float(outcome.success_probability), 6), round(float(outcome.fidelity), 4)
    (0.001999, 0.9005)
    """
    alpha = _check("bright_state_population", bright_state_population)
    eta_arm = _check("eta", eta)
    dark = _check("dark_count_probability", dark_count_probability, 0.5)
    no_photon, one_genuine, one_dark, two = _click_terms(eta_arm, dark)
    one = 2.0 * alpha * (1.0 - alpha)
    return _outcome(one * one_genuine, one * one_dark, (1.0 - alpha) ** 2 * no_photon + alpha**2 * two)


def barrett_kok(*, eta: ArrayLike, dark_count_probability: ArrayLike = 0.0) -> HeraldedOutcome:
    """Barrett-Kok scheme: two rounds with a spin flip between them, one click required in each.

    Without dark counts ``p = eta^2 / 2`` and ``F = 1``.

    >>> outcome = barrett_kok(eta=0.1)
    >>> round(float(outcome.success_probability), 6), float(outcome.fidelity)
    (0.005, 1.0)
    """
    eta_arm = _check("eta", eta)
    dark = _check("dark_count_probability", dark_count_probability, 0.5)
    no_photon, one_genuine, one_dark, two = _click_terms(eta_arm, dark)
    one = one_genuine + one_dark
    return _outcome(0.5 * one_genuine**2, 0.5 * (one**2 - one_genuine**2), 0.5 * no_photon * two)


def _one_round(
    rng: np.random.Generator, photons: np.ndarray, eta: float, dark: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sample a detection window: photons (0, 1 or 2, bunched) -> (exactly one click, clicked detector, photon seen)."""
    size = photons.shape
    port = rng.integers(0, 2, size)
    survived = rng.binomial(photons, eta) > 0
    dark_clicks = rng.random((2,) + size) < dark
    click = dark_clicks.copy()
    click[0] |= survived & (port == 0)
    click[1] |= survived & (port == 1)
    single = click[0] ^ click[1]
    return single, np.where(click[0], 0, 1), survived & ~dark_clicks[1 - port, np.arange(size[0])]


def sample_single_click(
    rng: np.random.Generator,
    attempts: int,
    *,
    bright_state_population: float,
    eta: float,
    dark_count_probability: float = 0.0,
) -> tuple[float, float]:
    """Monte Carlo of single-click attempts: (heralded fraction, mean fidelity of heralded pairs)."""
    emitted = rng.random((2, attempts)) < bright_state_population
    photons = emitted.sum(axis=0)
    single, detector, seen = _one_round(rng, photons, eta, dark_count_probability)
    # One emitted photon: the port it took fixes the Bell state; the herald announces the clicked detector.
    true_sign = np.where(seen, detector, rng.integers(0, 2, attempts))
    correct = (photons == 1) & (true_sign == detector)
    heralded = single.sum()
    return heralded / attempts, float(correct[single].mean()) if heralded else 0.0


def sample_barrett_kok(
    rng: np.random.Generator, attempts: int, *, eta: float, dark_count_probability: float = 0.0
) -> tuple[float, float]:
    """Monte Carlo of Barrett-Kok attempts: (heralded fraction, mean fidelity of heralded pairs)."""
    spins = rng.integers(0, 2, (2, attempts))
    first_photons = spins.sum(axis=0)
    single_1, detector_1, seen_1 = _one_round(rng, first_photons, eta, dark_count_probability)
    single_2, detector_2, seen_2 = _one_round(rng, 2 - first_photons, eta, dark_count_probability)
    sign_1 = np.where(seen_1, detector_1, rng.integers(0, 2, attempts))
    sign_2 = np.where(seen_2, detector_2, rng.integers(0, 2, attempts))
    heralded = single_1 & single_2
    correct = (first_photons == 1) & ((sign_1 ^ sign_2) == (detector_1 ^ detector_2))
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
        )


@dataclass(frozen=True)
class BarrettKok:
    """:func:`barrett_kok` of one segment."""

    light_time_factor: float = 1.0

    def herald(self, params: ChainParameters, *, eta_arm: float) -> HeraldedOutcome:
        """Barrett-Kok outcome of one segment."""
        return barrett_kok(eta=eta_arm, dark_count_probability=params.dark_count_probability)


#: Heralding schemes of a repeater segment by name (entry-point group ``qit4n.heralding_schemes``).
HERALDING_SCHEMES: Registry[HeraldingScheme] = Registry("heralding scheme", entry_point_group="qit4n.heralding_schemes")
HERALDING_SCHEMES.register("barrett-kok", BarrettKok())
HERALDING_SCHEMES.register("single-click", SingleClick())
HERALDING_SCHEMES.register_lazy("midpoint-source", "qit4n.qin.midpoint:MIDPOINT_SOURCE")
