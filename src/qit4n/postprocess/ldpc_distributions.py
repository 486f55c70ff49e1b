"""Irregular LDPC degree distributions optimised for the binary symmetric channel.

Edge-perspective variable-node distributions ``lambda(x) = sum_i lambda_i x^(i-1)`` of Table I of
Elkouss, Leverrier, Alleaume and Boutros (ISIT 2009), found by differential evolution with
discretised density evolution for code rates 0.5 to 0.9, with their BSC thresholds (the largest
crossover probability decoded by belief propagation as the length goes to infinity). The
check-node side is left to the progressive-edge-growth construction, which keeps check degrees
concentrated on one or two consecutive values as the published ``rho(x)`` are.

References
----------
Elkouss, D., Leverrier, A., Alleaume, R. and Boutros, J. J., "Efficient reconciliation protocol for
discrete-variable quantum key distribution", Proc. IEEE ISIT 2009, 1879, arXiv:0901.2140, Table I.
"""

from __future__ import annotations

import numpy as np

from qit4n.errors import ParameterError

__all__ = ["DISTRIBUTIONS", "MOTHER_RATES", "THRESHOLDS", "node_degree_counts"]

#: rate -> ((variable degree i, lambda_i), ...), Table I of arXiv:0901.2140 (x^k is degree k + 1).
DISTRIBUTIONS: dict[float, tuple[tuple[int, float], ...]] = {
    0.90: ((2, 0.07689), (3, 0.28096), (5, 0.08933), (9, 0.19620), (12, 0.30631), (21, 0.05031)),
    0.85: (
        (2, 0.04528),
        (3, 0.20537),
        (4, 0.05878),
        (5, 0.094274),
        (6, 0.08454),
        (7, 0.01176),
        (9, 0.05137),
        (21, 0.50015),
    ),
    0.80: ((2, 0.09420), (3, 0.18088), (6, 0.11972), (7, 0.08550), (8, 0.09816), (17, 0.07194), (26, 0.34960)),
    0.75: (
        (2, 0.10805),
        (3, 0.09511),
        (4, 0.01449),
        (5, 0.13764),
        (6, 0.10667),
        (7, 0.05288),
        (28, 0.01107),
        (31, 0.47408),
    ),
    0.70: (
        (2, 0.05343),
        (3, 0.29406),
        (6, 0.00896),
        (9, 0.15571),
        (12, 0.12189),
        (25, 0.19872),
        (46, 0.09572),
        (62, 0.02741),
        (65, 0.04056),
        (73, 0.00354),
    ),
    0.65: (
        (2, 0.10451),
        (3, 0.15652),
        (4, 0.08057),
        (5, 0.00056),
        (9, 0.12151),
        (13, 0.10485),
        (15, 0.10719),
        (21, 0.00771),
        (51, 0.31656),
    ),
    0.60: (
        (2, 0.11040),
        (3, 0.20804),
        (8, 0.14163),
        (9, 0.14858),
        (26, 0.14438),
        (27, 0.08909),
        (46, 0.00748),
        (71, 0.15038),
    ),
    0.55: (
        (2, 0.16880),
        (3, 0.20994),
        (6, 0.18095),
        (15, 0.03846),
        (16, 0.02635),
        (18, 0.23454),
        (19, 0.05815),
        (31, 0.08280),
    ),
    0.50: (
        (2, 0.14438),
        (3, 0.19026),
        (4, 0.01836),
        (5, 0.00233),
        (6, 0.04697),
        (8, 0.053943),
        (9, 0.05590),
        (10, 0.01290),
        (11, 0.00162),
        (14, 0.06159),
        (15, 0.13115),
        (17, 0.01481),
        (47, 0.00879),
        (49, 0.00650),
        (55, 0.00210),
        (56, 0.00099),
        (57, 0.11178),
        (58, 0.06238),
        (59, 0.05094),
        (66, 0.02230),
    ),
}

#: rate -> BSC threshold (crossover probability), Table I of arXiv:0901.2140.
THRESHOLDS: dict[float, float] = {
    0.90: 0.0109,
    0.85: 0.0199,
    0.80: 0.0298,
    0.75: 0.0392,
    0.70: 0.0504,
    0.65: 0.0633,
    0.60: 0.0766,
    0.55: 0.0904,
    0.50: 0.1071,
}

#: The mother-code rates, highest first.
MOTHER_RATES: tuple[float, ...] = tuple(sorted(DISTRIBUTIONS, reverse=True))


def node_degree_counts(rate: float, num_variables: int, max_degree: int) -> np.ndarray:
    """Degree of each of ``num_variables`` nodes (sorted, non-decreasing) for the published rate.

    The node-perspective fractions are ``(lambda_i / i) / sum_j (lambda_j / j)``; counts are
    rounded and the remainder goes to the most common degree; degrees are capped at ``max_degree``.

    >>> degrees = node_degree_counts(0.8, 1000, 100)
    >>> degrees.size, int(degrees.min()), int(degrees.max())
    (1000, 2, 26)
    """
    if rate not in DISTRIBUTIONS:
        raise ParameterError(f"rate = {rate}: must be one of the published rates {sorted(DISTRIBUTIONS)}")
    degrees = np.array([degree for degree, _ in DISTRIBUTIONS[rate]])
    weights = np.array([share for _, share in DISTRIBUTIONS[rate]]) / degrees
    counts = np.floor(weights / weights.sum() * num_variables).astype(np.int64)
    counts[int(np.argmax(counts))] += num_variables - int(counts.sum())
    return np.minimum(np.repeat(degrees, counts), max_degree)
