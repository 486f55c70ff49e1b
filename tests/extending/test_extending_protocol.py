"""Recipe "A new QKD protocol" of docs/extending.md: a toy protocol through PROTOCOLS and the rate model."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from types import ModuleType

import numpy as np
import pytest

import qit4n.qkd


@pytest.fixture
def recipe(run_recipe: Callable[[str], ModuleType]) -> Iterator[ModuleType]:
    try:
        yield run_recipe("A new QKD protocol")
    finally:
        qit4n.qkd.PROTOCOLS.unregister("fixed-fraction")


def test_toy_protocol_through_get_protocol_and_the_rate_model(recipe: ModuleType) -> None:
    from qit4n.qkd import get_protocol, key_rate_at_distance, make_parameters

    assert get_protocol("fixed-fraction") is recipe.spec
    params = make_parameters("fixed-fraction", overrides={"key_fraction": 0.2, "repetition_rate_hz": 1e6})
    result = key_rate_at_distance(recipe.spec, params, np.array([0.0, 25.0, 100.0]))
    expected = 0.2 * 0.5 * 10 ** (-0.02 * np.array([0.0, 25.0, 100.0]))
    assert np.allclose(result.key_rate_per_pulse, expected)
    assert np.allclose(result.key_rate_bps, expected * 1e6)


def test_toy_protocol_is_listed_and_removed(recipe: ModuleType) -> None:
    from qit4n.errors import ParameterError
    from qit4n.qkd import get_protocol

    assert "fixed-fraction" in qit4n.qkd.PROTOCOLS.names()
    qit4n.qkd.PROTOCOLS.unregister("fixed-fraction")
    with pytest.raises(ParameterError, match=r"protocol = 'fixed-fraction': must be one of"):
        get_protocol("fixed-fraction")
