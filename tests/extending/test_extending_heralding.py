"""Recipe "A new heralding scheme" of docs/extending.md: a toy scheme through HERALDING_SCHEMES and the chain."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from types import ModuleType

import numpy as np
import pytest

from qit4n.errors import ParameterError
from qit4n.qin import HERALDING_SCHEMES, ChainParameters, simulate_chain_des, simulate_chain_mc
from qit4n.schema import validate_parameters


@pytest.fixture
def recipe(run_recipe: Callable[[str], ModuleType]) -> Iterator[ModuleType]:
    try:
        yield run_recipe("A new heralding scheme")
    finally:
        HERALDING_SCHEMES.unregister("ideal-two-photon")


def test_toy_scheme_drives_both_chain_engines(recipe: ModuleType) -> None:
    assert np.isclose(recipe.ideal.success_probability, 2 * recipe.barrett_kok.success_probability)
    params = ChainParameters(segments=2, length_km=50.0, scheme="ideal-two-photon", memory={"t2_s": 1e9, "t1_s": 1e9})
    monte_carlo = simulate_chain_mc(params, 2000, np.random.default_rng(3))
    assert monte_carlo.link.link_fidelity == 1.0
    assert np.all(monte_carlo.fidelity > 0.999)
    events = simulate_chain_des(params, duration_s=0.2, seed=3)
    assert events.waiting_time_s.size > 0 and np.all(events.fidelity > 0.999)


def test_toy_scheme_is_listed_and_removed(recipe: ModuleType) -> None:
    assert "ideal-two-photon" in HERALDING_SCHEMES.names()
    HERALDING_SCHEMES.unregister("ideal-two-photon")
    with pytest.raises(ParameterError, match=r"scheme = 'ideal-two-photon': must be one of barrett-kok, single-click"):
        validate_parameters(ChainParameters, {"scheme": "ideal-two-photon"})
