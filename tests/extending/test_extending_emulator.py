"""Recipe "A new emulator" of docs/extending.md: a toy emulator registered in EMULATORS and run
through the public entry point :func:`qit4n.emulate.run_link`."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from types import ModuleType

import pytest

from qit4n.emulate import EMULATORS, run_link
from qit4n.errors import ParameterError


@pytest.fixture
def recipe(run_recipe: Callable[[str], ModuleType]) -> Iterator[ModuleType]:
    try:
        yield run_recipe("A new emulator")
    finally:
        EMULATORS.unregister("toy-bsc")


def test_the_toy_emulator_runs_through_run_link(recipe: ModuleType) -> None:
    assert recipe.run.protocol == "toy-bsc" and recipe.run.pulses == 100_000
    assert EMULATORS.names()[-1] == "toy-bsc"
    summary = run_link("toy-bsc", 10.0, 50_000, seed=2).as_dict()
    assert summary["protocol"] == "toy-bsc" and summary["qber"] == pytest.approx(0.01)
    first = run_link("toy-bsc", 10.0, 50_000, seed=1).measured_key_per_pulse
    assert run_link("toy-bsc", 10.0, 50_000, seed=1).measured_key_per_pulse == first


def test_the_toy_emulator_names_a_bad_field_and_the_generic_checks_apply(recipe: ModuleType) -> None:
    with pytest.raises(ParameterError, match=r"qber = 0\.2: must be < 0\.11 \(distance_km = 200\)"):
        run_link("toy-bsc", 200.0, 50_000)
    with pytest.raises(ParameterError, match=r"pulses = 5: must be in \[1e4, 1e12\]"):
        run_link("toy-bsc", 10.0, 5)


def test_unknown_emulators_are_listed_in_registration_order(recipe: ModuleType) -> None:
    EMULATORS.unregister("toy-bsc")
    with pytest.raises(ParameterError, match=r"the emulator plays bb84-decoy, bb84-decoy-finite, bbm92$"):
        run_link("toy-bsc", 10.0, 50_000)
