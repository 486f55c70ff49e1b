"""Recipe "A new reconciler" of docs/extending.md: a toy reconciler through RECONCILERS and the pipeline."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from types import ModuleType

import pytest

from qit4n.errors import ParameterError
from qit4n.postprocess import RECONCILERS, PipelineSettings, distill_simulated
from qit4n.schema import validate_parameters


@pytest.fixture
def recipe(run_recipe: Callable[[str], ModuleType]) -> Iterator[ModuleType]:
    try:
        yield run_recipe("A new reconciler")
    finally:
        RECONCILERS.unregister("disclose")


def test_toy_reconciler_runs_in_the_pipeline_with_its_leak_counted(recipe: ModuleType) -> None:
    assert RECONCILERS.get("disclose") is recipe.RECONCILERS.get("disclose")
    result = distill_simulated(30_000, 0.03, PipelineSettings(reconciler="disclose", frame_bits=8192), seed=5)
    rec = result.reconciliation
    assert rec.frames == 4 and rec.frame_errors == 0
    assert rec.leak_ec_bits == rec.reconciled_bits == result.traffic["reconciliation"].disclosed_bits
    assert result.keys_match and result.net_key_bits == 0


def test_toy_reconciler_is_listed_and_removed(recipe: ModuleType) -> None:
    assert "disclose" in RECONCILERS.names()
    with pytest.raises(ParameterError, match="already registered"):
        RECONCILERS.register("disclose", recipe.DisclosingReconciler())
    RECONCILERS.unregister("disclose")
    with pytest.raises(ParameterError, match=r"reconciler = 'disclose': must be one of "):
        validate_parameters(PipelineSettings, {"reconciler": "disclose"})
    assert sorted(RECONCILERS.names()) == ["cascade", "cascade-original", "ldpc"]
