"""When a cryptographically relevant quantum computer (CRQC) arrives: expert timelines as CDFs.

A :class:`~qit4n.threat.catalog.TimelineScenario` lists anchors ``P(CRQC by year) = p`` taken
from a source. :func:`crqc_probability` interpolates linearly between them, is 0 at and before the
survey year, and stays at the last anchor's value afterwards: the remaining probability is "later
than the source says, or never", so qit4n never extrapolates beyond its sources.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from qit4n.threat.catalog import TimelineScenario

__all__ = ["crqc_probability", "crqc_table"]


def crqc_probability(scenario: TimelineScenario, year: ArrayLike) -> np.ndarray:
    """P(a CRQC exists by ``year``) under ``scenario``; broadcasts over ``year``.

    Parameters
    ----------
    scenario : TimelineScenario
        Anchors of the cumulative distribution, each citing a source.
    year : array_like
        Calendar years (fractions allowed).

    Returns
    -------
    numpy.ndarray
        Probabilities in [0, 1], non-decreasing in ``year``, same shape as ``year``.

    Examples
    --------
    >>> from qit4n.threat.catalog import load_catalog
    >>> gri = load_catalog().timeline("gri-2023")
    >>> crqc_probability(gri, [2023, 2028, 2030.5, 2033]).round(3).tolist()
    [0.0, 0.11, 0.21, 0.31]
    """
    years = np.array([scenario.start_year] + [anchor.year for anchor in scenario.anchors], dtype=float)
    probabilities = np.array([0.0] + [anchor.probability for anchor in scenario.anchors], dtype=float)
    return np.interp(np.asarray(year, dtype=float), years, probabilities, left=0.0, right=probabilities[-1])


def crqc_table(scenarios: list[TimelineScenario], years: ArrayLike) -> dict[str, list[float]]:
    """``{scenario id: [P(CRQC by year) for year in years]}`` for a table or a JSON dump."""
    grid = np.asarray(years, dtype=float)
    return {scenario.id: crqc_probability(scenario, grid).tolist() for scenario in scenarios}
