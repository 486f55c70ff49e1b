"""Entanglement-assisted clock synchronisation: estimate a time offset from shared pairs.

Each delivered pair is used as a shared phase reference: a clock offset ``delta_s`` between the
two sites rotates one half by ``phi = 2 pi f delta_s`` (``f`` the qubit's transition frequency),
so that a joint measurement of the pair in the X basis gives the outcome +1 with probability
``(1 + V cos phi)/2`` and in the Y basis ``(1 + V sin phi)/2``, with visibility ``V = t_x`` of the
pair (``(4F - 1)/3`` for Werner pairs). Half the pairs are measured in each basis and the offset
is ``atan2(2 f_y - 1, 2 f_x - 1) / (2 pi f)``, unambiguous for ``|phi| < pi``. Its standard
deviation follows by the delta method:
``sigma_phi^2 = (1 - 2 V^2 sin^2(phi) cos^2(phi)) / (V^2 N / 2)``, i.e. ``1/sqrt(N)`` scaling
(standard quantum limit for independent pairs).

References
----------
R. Jozsa, D. S. Abrams, J. P. Dowling, C. P. Williams, Phys. Rev. Lett. 85, 2010 (2000),
doi:10.1103/PhysRevLett.85.2010 (quantum clock synchronisation from shared entanglement);
P. Komar et al., Nat. Phys. 10, 582 (2014).
"""

from __future__ import annotations

import numpy as np

from qit4n.errors import ParameterError

__all__ = ["estimate_offset_s", "offset_standard_deviation_s"]


def _phase(offset_s: float, frequency_hz: float) -> float:
    phase = 2.0 * np.pi * frequency_hz * offset_s
    if abs(phase) >= np.pi:
        raise ParameterError(
            f"offset_s = {offset_s:g}: |2 pi f offset| must be < pi "
            f"(ambiguous beyond half a period of {frequency_hz:g} Hz)"
        )
    return phase


def estimate_offset_s(
    rng: np.random.Generator, *, pairs: int, offset_s: float, frequency_hz: float, visibility: float, repeats: int = 1
) -> np.ndarray:
    """Offset estimates (shape ``(repeats,)``) from ``pairs`` pairs each (half in X, half in Y).

    >>> rng = np.random.default_rng(0)
    >>> estimates = estimate_offset_s(rng, pairs=100_000, offset_s=1e-10, frequency_hz=1e9, visibility=0.9)
    >>> float(np.round(estimates[0] * 1e10, 1))
    1.0
    """
    if pairs < 2:
        raise ParameterError(f"pairs = {pairs}: must be >= 2")
    if not 0.0 < visibility <= 1.0:
        raise ParameterError(f"visibility = {visibility:g}: must be in (0, 1]")
    phase = _phase(offset_s, frequency_hz)
    half = pairs // 2
    plus_x = rng.binomial(half, (1.0 + visibility * np.cos(phase)) / 2.0, size=repeats)
    plus_y = rng.binomial(pairs - half, (1.0 + visibility * np.sin(phase)) / 2.0, size=repeats)
    estimate = np.arctan2(2.0 * plus_y / (pairs - half) - 1.0, 2.0 * plus_x / half - 1.0)
    return estimate / (2.0 * np.pi * frequency_hz)


def offset_standard_deviation_s(*, pairs: int, offset_s: float, frequency_hz: float, visibility: float) -> float:
    """Delta-method standard deviation of :func:`estimate_offset_s` (see the module docstring)."""
    phase = _phase(offset_s, frequency_hz)
    variance = (1.0 - 2.0 * visibility**2 * np.sin(phase) ** 2 * np.cos(phase) ** 2) / (visibility**2 * pairs / 2.0)
    return float(np.sqrt(variance) / (2.0 * np.pi * frequency_hz))
