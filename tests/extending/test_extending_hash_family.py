"""Recipe "A new hash family" of docs/extending.md: a toy family through HASH_FAMILIES and the pipeline."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from types import ModuleType

import numpy as np
import pytest

from qit4n.errors import ParameterError
from qit4n.postprocess import HASH_FAMILIES, PipelineSettings, PublicChannel, amplify, random_bits
from qit4n.schema import validate_parameters


@pytest.fixture
def recipe(run_recipe: Callable[[str], ModuleType]) -> Iterator[ModuleType]:
    try:
        yield run_recipe("A new hash family")
    finally:
        HASH_FAMILIES.unregister("toeplitz-direct")


def test_toy_family_matches_the_builtin_toeplitz_on_the_same_seed(recipe: ModuleType) -> None:
    key = random_bits(3000, np.random.default_rng(4))
    direct = amplify(key, key, 1000, HASH_FAMILIES.get("toeplitz-direct"), PublicChannel(), np.random.default_rng(9))
    fast = amplify(key, key, 1000, HASH_FAMILIES.get("toeplitz"), PublicChannel(), np.random.default_rng(9))
    assert np.array_equal(direct[0], fast[0]) and np.array_equal(direct[1], fast[1])
    assert recipe.direct.net_key_bits > 0


def test_toy_family_is_listed_and_removed(recipe: ModuleType) -> None:
    assert "toeplitz-direct" in HASH_FAMILIES.names()
    assert (
        validate_parameters(PipelineSettings, {"amplification": "toeplitz-direct"}).amplification == "toeplitz-direct"
    )
    HASH_FAMILIES.unregister("toeplitz-direct")
    with pytest.raises(
        ParameterError,
        match=r"amplification = 'toeplitz-direct': must be one of (toeplitz, modular|modular, toeplitz)$",
    ):
        validate_parameters(PipelineSettings, {"amplification": "toeplitz-direct"})
