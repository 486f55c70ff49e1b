"""The maximal distance is the first sign change of the key rate (issue 15)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from qit4n.qkd.base import ChannelParameters, ProtocolSpec, RateResult
from qit4n.qkd.distance import max_distance_km


def _rate_with_a_spurious_tail(eta: np.ndarray, params: Any) -> RateResult:
    """Key falling linearly to zero at 100 km, plus 1e-14 of "key" between 600 and 700 km."""
    length_km = -10.0 * np.log10(np.maximum(eta, 1e-300)) / params.loss_db_per_km
    rate = np.maximum(1.0 - length_km / 100.0, 0.0) + np.where((length_km > 600.0) & (length_km < 700.0), 1e-14, 0.0)
    return RateResult(rate, rate, None, {})


def test_max_distance_is_the_first_sign_change() -> None:
    """A rate that comes back (as rounding noise did in GG02 beyond 550 km, where the last positive
    grid point gave ~7,705 km for every setting) does not move the answer past 100 km."""
    spec = ProtocolSpec("tail", "a rate with a spurious tail", ChannelParameters, _rate_with_a_spurious_tail, "test")
    assert max_distance_km(spec, ChannelParameters()) == pytest.approx(100.0, abs=1e-3)


def test_max_distance_stops_at_the_cap_when_the_key_never_ends() -> None:
    spec = ProtocolSpec("flat", "key everywhere", ChannelParameters, lambda eta, _: RateResult(eta, eta), "test")
    assert max_distance_km(spec, ChannelParameters(), max_length_km=250.0) == 250.0
