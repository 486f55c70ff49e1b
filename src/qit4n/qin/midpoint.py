"""Heralded generation with an entangled-pair source in the middle of the link (midpoint source).

A source at the midpoint emits polarisation (or time-bin) entangled photon pairs and sends one
photon of each pair to each node, where an absorptive memory stores it and a memory-side
detection heralds the absorption (the "MidpointSource" scheme of Jones et al. 2016). Per attempt
the source emits ``n`` pairs with thermal statistics ``P(n) = (1 - x) x^n``, ``x = mu / (1 + mu)``
(single-mode spontaneous parametric down-conversion, mean ``mu`` pairs; Sangouard et al. 2011) or
Poisson statistics (a many-mode source). Each photon is heralded at its node with probability
``eta_a`` (``eta_b``): source coupling, fibre to the node, memory absorption and heralding
detector. A node heralds when at least one of its photons was heralded or a dark count fired
(detectors do not resolve photon numbers). The attempt succeeds when both nodes herald.

The heralded memories hold the target Bell state only when exactly one photon was heralded at
each node and both came from the same pair; every other heralded event (photons of different
pairs, two or more photons in a memory, a dark count standing in for a lost photon) is taken as
the maximally mixed state, a conservative model of multi-pair noise. With the generating function
``G(y) = E[y^n]`` and ``q = (1 - eta_a)(1 - eta_b)``:

- success ``p = 1 - (1 - d) G(1 - eta_a) - (1 - d) G(1 - eta_b) + (1 - d)^2 G(q)``,
- genuine ``g = eta_a eta_b G'(q)`` (one pair heralded at both nodes, all others lost at both),
- fidelity ``F = (g + (p - g) / 4) / p``.

For small ``mu`` and no dark counts ``p ~ mu eta_a eta_b`` and ``F -> 1``: unlike the
memory-emission schemes the success probability is linear in the one-way transmittance to each
node, and brightness trades rate for fidelity.

References
----------
C. Jones, D. Kim, M. T. Rakher, P. G. Kwiat, T. D. Ladd, "Design and analysis of communication
protocols for quantum repeater networks", New J. Phys. 18, 083015 (2016), doi:10.1088/1367-2630/18/8/083015
(MidpointSource scheme); N. Sangouard, C. Simon, H. de Riedmatten, N. Gisin, Rev. Mod. Phys. 83,
33 (2011), doi:10.1103/RevModPhys.83.33 (thermal pair statistics of SPDC sources).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np
from numpy.typing import ArrayLike

from qit4n.errors import ParameterError
from qit4n.qin.heralded import HeraldedOutcome

if TYPE_CHECKING:
    from qit4n.qin.chain import ChainParameters

__all__ = ["MIDPOINT_SOURCE", "MidpointSource", "PairStatisticsName", "midpoint_source", "sample_midpoint_source"]

#: The values of :class:`qit4n.physics.source.PairStatistics`, as the repeater chain spells them.
PairStatisticsName = Literal["thermal", "poisson"]


def _check(name: str, value: ArrayLike, upper: float = 1.0) -> np.ndarray:
    array = np.asarray(value, dtype=float)
    if np.any(array < 0.0) or np.any(array > upper):
        raise ParameterError(f"{name} = {array.tolist()}: must be in [0, {upper:g}]")
    return array


def _generating(mean_pairs: np.ndarray, y: np.ndarray, statistics: str) -> tuple[np.ndarray, np.ndarray]:
    """``G(y) = E[y^n]`` and ``G'(y) = E[n y^(n-1)]`` of the pair-number distribution."""
    if statistics == "thermal":
        x = mean_pairs / (1.0 + mean_pairs)
        return (1.0 - x) / (1.0 - x * y), (1.0 - x) * x / (1.0 - x * y) ** 2
    if statistics == "poisson":
        value = np.exp(-mean_pairs * (1.0 - y))
        return value, mean_pairs * value
    raise ParameterError(f"statistics = {statistics!r}: must be one of thermal, poisson")


def midpoint_source(
    *,
    mean_pairs: ArrayLike,
    eta_a: ArrayLike,
    eta_b: ArrayLike | None = None,
    dark_count_probability: ArrayLike = 0.0,
    statistics: PairStatisticsName = "thermal",
) -> HeraldedOutcome:
    """Success probability per attempt and heralded Bell-diagonal state of the midpoint-source scheme.

    ``mean_pairs`` is the source brightness (mean pairs per attempt), ``eta_a`` and ``eta_b`` the
    heralding efficiency of one photon at each node (``eta_b`` defaults to ``eta_a``),
    ``dark_count_probability`` the probability of a false herald per node and attempt.

    >>> outcome = midpoint_source(mean_pairs=0.01, eta_a=0.3)
    >>> round(float(outcome.success_probability), 6), round(float(outcome.fidelity), 4)
    (0.000908, 0.9859)
    """
    mu = _check("mean_pairs", mean_pairs, 1e3)
    eta_1 = _check("eta_a", eta_a)
    eta_2 = eta_1 if eta_b is None else _check("eta_b", eta_b)
    dark = _check("dark_count_probability", dark_count_probability, 0.5)
    quiet = 1.0 - dark
    q = (1.0 - eta_1) * (1.0 - eta_2)
    none_a, _ = _generating(mu, 1.0 - eta_1, statistics)
    none_b, _ = _generating(mu, 1.0 - eta_2, statistics)
    none_both, derivative = _generating(mu, q, statistics)
    success = 1.0 - quiet * none_a - quiet * none_b + quiet**2 * none_both
    genuine = eta_1 * eta_2 * derivative
    noise = (success - genuine) / 4.0
    safe = np.where(success > 0.0, success, 1.0)
    state = np.stack([genuine + noise, noise, noise, noise], axis=-1) / safe[..., None]
    return HeraldedOutcome(success_probability=success, state=state)


def sample_midpoint_source(
    rng: np.random.Generator,
    attempts: int,
    *,
    mean_pairs: float,
    eta_a: float,
    eta_b: float | None = None,
    dark_count_probability: float = 0.0,
    statistics: PairStatisticsName = "thermal",
) -> tuple[float, float]:
    """Photon-level Monte Carlo of midpoint-source attempts: (heralded fraction, mean fidelity of heralded pairs).

    Samples the pair number, then for every pair whether each of its photons is heralded at its
    node (multinomial over both / only a / only b / neither), and the dark counts; a heralded pair
    is the target Bell state (fidelity 1) or maximally mixed (fidelity 1/4) as in :func:`midpoint_source`.
    """
    eta_2 = eta_a if eta_b is None else eta_b
    if statistics == "thermal":
        pairs = rng.geometric(1.0 / (1.0 + mean_pairs), attempts) - 1
    elif statistics == "poisson":
        pairs = rng.poisson(mean_pairs, attempts)
    else:
        raise ParameterError(f"statistics = {statistics!r}: must be one of thermal, poisson")
    classes = rng.multinomial(
        pairs, [eta_a * eta_2, eta_a * (1.0 - eta_2), (1.0 - eta_a) * eta_2, (1.0 - eta_a) * (1.0 - eta_2)]
    )
    both, only_a, only_b = classes[:, 0], classes[:, 1], classes[:, 2]
    dark = rng.random((2, attempts)) < dark_count_probability
    herald_a = (both + only_a > 0) | dark[0]
    herald_b = (both + only_b > 0) | dark[1]
    heralded = herald_a & herald_b
    genuine = (both == 1) & (only_a == 0) & (only_b == 0)
    count = int(heralded.sum())
    if count == 0:
        return 0.0, 0.0
    fidelity = np.where(genuine[heralded], 1.0, 0.25)
    return count / attempts, float(fidelity.mean())


@dataclass(frozen=True)
class MidpointSource:
    """:class:`~qit4n.qin.heralded.HeraldingScheme` ``midpoint-source``: :func:`midpoint_source` with
    the chain's ``source_mean_pairs`` and ``source_statistics``, each photon heralded with
    ``eta_arm`` times ``memory_absorption_efficiency`` (times ``1 +- efficiency_mismatch`` at the two
    nodes); an attempt takes ``1.5 L0 / c``. No photons interfere, so visibility and phase noise do not apply."""

    light_time_factor: float = 1.5

    def herald(self, params: ChainParameters, *, eta_arm: float) -> HeraldedOutcome:
        """Midpoint-source outcome of one segment."""
        eta_node = eta_arm * params.memory_absorption_efficiency
        return midpoint_source(
            mean_pairs=params.source_mean_pairs,
            eta_a=min(1.0, eta_node * (1.0 + params.efficiency_mismatch)),
            eta_b=eta_node * (1.0 - params.efficiency_mismatch),
            dark_count_probability=params.dark_count_probability,
            statistics=params.source_statistics,
        )


#: The registered member ``midpoint-source`` of :data:`~qit4n.qin.heralded.HERALDING_SCHEMES`.
MIDPOINT_SOURCE = MidpointSource()
