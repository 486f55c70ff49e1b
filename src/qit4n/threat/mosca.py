"""Mosca's inequality with distributions: the probability that protected data or trust is exposed.

Mosca's rule says to worry when ``x + y > z``: ``x`` years the data must stay secret, ``y`` years
to migrate, ``z`` years until a CRQC. With ``z`` distributed as an expert timeline (CDF ``F``) and
``x``, ``y`` given as numbers or triangular distributions, independent of ``z``:

* harvest-now-decrypt-later on key exchange: data sent until the migration ends (``now + y``) must
  stay secret ``x`` more years, so ``P = E[F(now + x + y)]``;
* forgery on signatures: a vulnerable key can be forged while relying parties still trust it, until
  the migration ends or, for roots and firmware keys trusted longer (``t`` years), until then:
  ``P = E[F(now + max(y, t))]``.

The expectation is computed by deterministic numerical integration, not Monte Carlo: each of
``x`` and ``y`` is replaced by ``n`` equally likely quantiles at the probability midpoints
``(i + 1/2) / n`` (closed-form triangular quantiles), and ``F`` is averaged over the ``n x n`` grid.
Point values are exact. The result is non-decreasing in ``x``, ``y`` and ``t`` because ``F`` is.

References
----------
M. Mosca, Cybersecurity in an era with quantum computers: will we be ready?, IEEE Security &
Privacy 16(5), 38-41 (2018), IACR ePrint 2015/1075.
"""

from __future__ import annotations

import numpy as np
from pydantic import Field, model_validator

from qit4n.schema import StrictModel
from qit4n.threat.catalog import TimelineScenario
from qit4n.threat.timeline import crqc_probability

__all__ = [
    "Triangular",
    "Years",
    "exposure_probabilities",
    "forgery_probability",
    "hndl_probability",
    "quantiles",
    "typical",
]

#: Quantile nodes per distributed variable in the numerical integration.
DEFAULT_NODES = 64


class Triangular(StrictModel):
    """A triangular distribution of a duration in years (``low <= mode <= high``)."""

    low: float = Field(ge=0.0, le=200.0)
    mode: float = Field(ge=0.0, le=200.0)
    high: float = Field(ge=0.0, le=200.0)

    @model_validator(mode="after")
    def _ordered(self) -> Triangular:
        if not self.low <= self.mode <= self.high:
            raise ValueError(
                f"low = {self.low:g}, mode = {self.mode:g}, high = {self.high:g}: must satisfy low <= mode <= high"
            )
        return self


#: A duration in years: a number or a triangular distribution.
Years = float | Triangular


def quantiles(value: Years, nodes: int = DEFAULT_NODES) -> np.ndarray:
    """``nodes`` equally likely values of ``value`` (its quantiles at ``(i + 1/2) / nodes``); one for a number.

    >>> quantiles(3.0, 4).tolist()
    [3.0]
    >>> quantiles(Triangular(low=0, mode=0, high=2), 2).round(4).tolist()
    [0.2679, 1.0]
    """
    if not isinstance(value, Triangular):
        return np.full(1, float(value))
    probability = (np.arange(nodes) + 0.5) / nodes
    low, mode, high = value.low, value.mode, value.high
    if high == low:
        return np.full(nodes, low)
    split = (mode - low) / (high - low)
    rising = low + np.sqrt(probability * (high - low) * (mode - low))
    falling = high - np.sqrt((1.0 - probability) * (high - low) * (high - mode))
    return np.where(probability < split, rising, falling)


def typical(value: Years) -> float:
    """The mode of a triangular distribution, or the number itself."""
    return value.mode if isinstance(value, Triangular) else float(value)


def _grid(secrecy_years: Years, migration_years: Years, nodes: int) -> tuple[np.ndarray, np.ndarray]:
    secrecy = quantiles(secrecy_years, nodes)[:, None]
    migration = quantiles(migration_years, nodes)[None, :]
    return secrecy, migration


def hndl_probability(
    timeline: TimelineScenario,
    *,
    now_year: float,
    secrecy_years: Years,
    migration_years: Years,
    nodes: int = DEFAULT_NODES,
) -> float:
    """P(data whose key exchange is quantum-vulnerable is decrypted while still secret): ``E[F(now + x + y)]``.

    >>> from qit4n.threat.catalog import load_catalog
    >>> gri = load_catalog().timeline("gri-2023")
    >>> round(hndl_probability(gri, now_year=2026, secrecy_years=5, migration_years=2), 3)
    0.31
    """
    secrecy, migration = _grid(secrecy_years, migration_years, nodes)
    return float(np.mean(crqc_probability(timeline, now_year + secrecy + migration)))


def forgery_probability(
    timeline: TimelineScenario,
    *,
    now_year: float,
    migration_years: Years,
    trust_years: float = 0.0,
    nodes: int = DEFAULT_NODES,
) -> float:
    """P(a quantum-vulnerable signature key is forged while still trusted): ``E[F(now + max(y, t))]``."""
    migration = quantiles(migration_years, nodes)
    return float(np.mean(crqc_probability(timeline, now_year + np.maximum(migration, trust_years))))


def exposure_probabilities(
    timeline: TimelineScenario,
    *,
    now_year: float,
    secrecy_years: Years,
    migration_years: Years,
    trust_years: float = 0.0,
    key_exchange_vulnerable: bool,
    signature_vulnerable: bool,
    nodes: int = DEFAULT_NODES,
) -> tuple[float, float, float]:
    """``(hndl, forgery, either)`` probabilities; ``either`` is P(z before the later of the two ends).

    Both events are ``{CRQC before some time}`` for the same CRQC arrival, so their union is the
    event for the later time, integrated over the same (x, y) grid.
    """
    secrecy, migration = _grid(secrecy_years, migration_years, nodes)
    hndl_end = now_year + secrecy + migration
    forgery_end = np.broadcast_to(now_year + np.maximum(migration, trust_years), hndl_end.shape)
    hndl = float(np.mean(crqc_probability(timeline, hndl_end))) if key_exchange_vulnerable else 0.0
    forgery = float(np.mean(crqc_probability(timeline, forgery_end))) if signature_vulnerable else 0.0
    if key_exchange_vulnerable and signature_vulnerable:
        either = float(np.mean(crqc_probability(timeline, np.maximum(hndl_end, forgery_end))))
    else:
        either = max(hndl, forgery)
    return hndl, forgery, either
