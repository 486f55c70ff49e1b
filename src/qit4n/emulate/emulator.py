"""The emulator interface and the registry that finds an emulator by protocol name.

An emulator plays one family of links. :func:`qit4n.emulate.run.run_link` calls every emulator
the same way, with no branch per protocol:

1. :meth:`Emulator.prepare` turns a :class:`LinkRequest` (protocol, distance, preset, ``--set``
   overrides, reconciler) into the emulator's own validated settings;
2. :meth:`Emulator.emulate` draws the detection records of ``pulses`` pulses from a seeded
   generator;
3. :meth:`Emulator.distil` sifts, estimates, reconciles and amplifies the records (with
   :mod:`qit4n.postprocess`) and returns an :class:`EmulatedRun`.

Both :meth:`Emulator.emulate` and :meth:`Emulator.distil` take a keyword ``randomness``: a
:class:`~qit4n.randomness.RandomnessSource` (a QRNG) that supplies the parties' random choices and
the post-processing seeds. ``run_link`` passes it only when the caller gives one, so an emulator
that never draws from a QRNG may leave the keyword out.

A new emulator is a class with these three methods registered in :data:`EMULATORS` under the
protocol names it plays (``EMULATORS.register("my-protocol", MyEmulator())``), or an entry point
of the group ``qit4n.emulators`` in a distribution's ``pyproject.toml``. See ``docs/extending.md``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

import numpy as np

from qit4n.randomness import RandomnessSource
from qit4n.registry import Registry

__all__ = ["EMULATORS", "ClockedSettings", "DistilledBlock", "EmulatedRun", "Emulator", "LinkRequest"]

PreparedT = TypeVar("PreparedT")
RecordsT = TypeVar("RecordsT")


@dataclass(frozen=True)
class LinkRequest:
    """What the caller asks of an emulated link (the arguments of :func:`qit4n.emulate.run.run_link`).

    ``classical_channels`` (:class:`qit4n.scenario.ClassicalChannel`) share the fibre and add Raman
    noise; ``receiver`` (:class:`qit4n.scenario.QuantumReceiver`) sets the filtering (``None``:
    defaults). An emulator that cannot model a field raises :class:`~qit4n.errors.ParameterError`.
    """

    protocol: str
    distance_km: float
    pulses: int
    preset: str | None = None
    overrides: Mapping[str, Any] = field(default_factory=dict)
    reconciler: str = "cascade"
    classical_channels: Sequence[Any] = ()
    receiver: Any = None


class ClockedSettings(Protocol):
    """Settings that know the pulse (slot) rate, to turn key per pulse into key per second."""

    @property
    def repetition_rate_hz(self) -> float: ...


class DistilledBlock(Protocol):
    """A distilled block: the key pipeline's result (:class:`qit4n.postprocess.DistillResult`)."""

    @property
    def result(self) -> Any: ...

    def as_dict(self) -> dict[str, Any]: ...


class EmulatedRun(Protocol):
    """What :func:`qit4n.emulate.run.run_link` returns for any emulator."""

    @property
    def protocol(self) -> str: ...

    @property
    def pulses(self) -> int: ...

    @property
    def settings(self) -> ClockedSettings: ...

    @property
    def distilled(self) -> DistilledBlock: ...

    @property
    def measured_key_per_pulse(self) -> float: ...

    def as_dict(self) -> dict[str, Any]:
        """Plain dictionary (JSON-ready), the ``--json`` of ``qit4n emulate``."""
        ...


class Emulator(Protocol[PreparedT, RecordsT]):
    """One family of emulated links (see the module docstring)."""

    def prepare(self, request: LinkRequest) -> PreparedT:
        """Validated settings for ``request``; :class:`~qit4n.errors.ParameterError` names a bad field."""
        ...

    def emulate(
        self, prepared: PreparedT, pulses: int, rng: np.random.Generator, *, randomness: RandomnessSource | None = None
    ) -> RecordsT:
        """Detection records of ``pulses`` pulses (slots), drawn from ``rng`` (the parties' choices
        from ``randomness`` when given). An emulator may also take an ``on_progress`` keyword
        (``on_progress(pulses_drawn, pulses)``, see :data:`qit4n.workload.ProgressCallback`):
        :func:`~qit4n.emulate.run.run_link` passes it only to an emulator that does."""
        ...

    def distil(
        self,
        prepared: PreparedT,
        records: RecordsT,
        rng: np.random.Generator,
        *,
        randomness: RandomnessSource | None = None,
    ) -> EmulatedRun:
        """The records distilled into a key (seeds from ``randomness`` when given), with the
        analytic references of the model."""
        ...


#: Emulators by the protocol name they play (entry-point group ``qit4n.emulators``).
#: The built-in emulators register themselves where they are defined (:mod:`qit4n.emulate.decoy_link`,
#: :mod:`qit4n.emulate.entangled_link`), which :mod:`qit4n.emulate` imports.
EMULATORS: Registry[Emulator[Any, Any]] = Registry("emulator", entry_point_group="qit4n.emulators")
