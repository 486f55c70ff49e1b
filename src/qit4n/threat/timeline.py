"""When a cryptographically relevant quantum computer (CRQC) arrives: expert timelines as CDFs.

A :class:`~qit4n.threat.catalog.TimelineScenario` lists anchors ``P(CRQC by year) = p`` taken
from a source. :func:`crqc_probability` interpolates linearly between them and is 0 at and before
the survey year. After the last anchor a scenario either stays at that value (``flat``: the
remaining probability is "later than the source says, or never") or keeps rising at the slope of
its last segment until it reaches 1 (``last-slope``). The second is qit4n's assumption, not the
source's; it exists because a survey whose last bin is 10 years out says nothing about 30 years,
and a flat tail would rate a 10-year and a 50-year secret alike.
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
    >>> crqc_probability(gri, [2023, 2028, 2030.5, 2033, 2038, 2060]).round(3).tolist()
    [0.0, 0.11, 0.21, 0.31, 0.51, 1.0]
    """
    years = [scenario.start_year] + [anchor.year for anchor in scenario.anchors]
    probabilities = [0.0] + [anchor.probability for anchor in scenario.anchors]
    slope = (probabilities[-1] - probabilities[-2]) / (years[-1] - years[-2])
    if scenario.after_last_anchor == "last-slope" and slope > 0.0 and probabilities[-1] < 1.0:
        years.append(years[-1] + (1.0 - probabilities[-1]) / slope)
        probabilities.append(1.0)
    grid, values = np.array(years, dtype=float), np.array(probabilities, dtype=float)
    return np.interp(np.asarray(year, dtype=float), grid, values, left=0.0, right=values[-1])


def crqc_table(scenarios: list[TimelineScenario], years: ArrayLike) -> dict[str, list[float]]:
    """``{scenario id: [P(CRQC by year) for year in years]}`` for a table or a JSON dump."""
    grid = np.asarray(years, dtype=float)
    return {scenario.id: crqc_probability(scenario, grid).tolist() for scenario in scenarios}
