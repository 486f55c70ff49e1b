"""docs/extending.md, "A new emulator": a toy emulator registered through the public pattern and
run through the public entry point :func:`qit4n.emulate.run_link`."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

from qit4n.emulate import EMULATORS, LinkRequest, run_link
from qit4n.errors import ParameterError
from qit4n.postprocess import PipelineSettings, distill_sifted, noisy_copy, random_bits


@dataclass(frozen=True)
class ToySettings:
    """A binary symmetric channel that delivers every pulse with error rate ``qber``."""

    qber: float
    repetition_rate_hz: float = 1e6


@dataclass(frozen=True)
class ToyRecords:
    alice_bits: np.ndarray
    bob_bits: np.ndarray


@dataclass(frozen=True)
class ToyDistilled:
    result: Any

    def as_dict(self) -> dict[str, Any]:
        return self.result.as_dict()


@dataclass(frozen=True)
class ToyRun:
    protocol: str
    pulses: int
    settings: ToySettings
    distilled: ToyDistilled

    @property
    def measured_key_per_pulse(self) -> float:
        return self.distilled.result.net_key_bits / self.pulses

    def as_dict(self) -> dict[str, Any]:
        return {"protocol": self.protocol, "measured_key_per_pulse": self.measured_key_per_pulse}


class ToyEmulator:
    """Sifted bits straight from a noisy channel: 0.1 % error per km."""

    def prepare(self, request: LinkRequest) -> tuple[ToySettings, PipelineSettings]:
        qber = float(request.overrides.get("qber_per_km", 1e-3)) * request.distance_km
        if not 0.0 <= qber < 0.11:
            raise ParameterError(f"qber = {qber:g}: must be in [0, 0.11)")
        return ToySettings(qber), PipelineSettings(reconciler=request.reconciler)

    def emulate(
        self, prepared: tuple[ToySettings, PipelineSettings], pulses: int, rng: np.random.Generator
    ) -> ToyRecords:
        alice = random_bits(pulses, rng)
        return ToyRecords(alice, noisy_copy(alice, prepared[0].qber, rng))

    def distil(
        self, prepared: tuple[ToySettings, PipelineSettings], records: ToyRecords, rng: np.random.Generator
    ) -> ToyRun:
        result = distill_sifted(records.alice_bits, records.bob_bits, prepared[1], rng)
        return ToyRun("toy-bsc", records.alice_bits.size, prepared[0], ToyDistilled(result))


@pytest.fixture
def toy_registered() -> Iterator[None]:
    EMULATORS.register("toy-bsc", ToyEmulator())
    yield
    EMULATORS.unregister("toy-bsc")


def test_a_registered_emulator_runs_through_run_link(toy_registered: None) -> None:
    assert "toy-bsc" in EMULATORS.names()
    run = run_link("toy-bsc", 20.0, 100_000, seed=4)
    assert run.protocol == "toy-bsc" and run.pulses == 100_000
    assert run.distilled.result.keys_match
    assert 0.0 < run.measured_key_per_pulse < 1.0
    assert run.as_dict()["measured_key_per_pulse"] == run.measured_key_per_pulse


def test_the_toy_emulator_is_deterministic_and_checks_its_fields(toy_registered: None) -> None:
    first = run_link("toy-bsc", 10.0, 50_000, seed=1).measured_key_per_pulse
    assert run_link("toy-bsc", 10.0, 50_000, seed=1).measured_key_per_pulse == first
    with pytest.raises(ParameterError, match=r"qber = 0\.2"):
        run_link("toy-bsc", 200.0, 50_000)


def test_unknown_emulators_are_listed() -> None:
    with pytest.raises(ParameterError, match="the emulator plays bb84-decoy, bb84-decoy-finite, bbm92"):
        run_link("toy-bsc", 10.0, 50_000)
