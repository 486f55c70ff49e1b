"""The one front door of the emulators: a link by protocol name, emulated and distilled.

:func:`run_link` finds the emulator in :data:`qit4n.emulate.EMULATORS` and calls it through the
:class:`~qit4n.emulate.emulator.Emulator` interface; it knows no protocol itself.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from qit4n.emulate.emulator import EMULATORS, EmulatedRun, LinkRequest
from qit4n.errors import ParameterError
from qit4n.randomness import RandomnessSource
from qit4n.workload import ProgressCallback

__all__ = ["MAX_PULSES", "run_link"]

#: Most pulses (slots) of one run: the records stream in chunks, so memory follows the detections.
MAX_PULSES = 10**12


def run_link(
    protocol: str,
    distance_km: float,
    pulses: int,
    *,
    preset: str | None = None,
    overrides: Mapping[str, Any] | None = None,
    reconciler: str = "cascade",
    seed: int = 0,
    classical_channels: Sequence[Any] = (),
    receiver: Any = None,
    randomness: RandomnessSource | None = None,
    on_progress: ProgressCallback | None = None,
) -> EmulatedRun:
    """Emulate ``pulses`` pulses (slots) over ``distance_km`` of fibre and distil them.

    ``protocol`` names an emulator of :data:`qit4n.emulate.EMULATORS` (``bb84-decoy``,
    ``bb84-decoy-finite`` return a :class:`~qit4n.emulate.decoy_link.LinkRun`, ``bbm92`` an
    :class:`~qit4n.emulate.entangled_link.EntangledLinkRun`). ``preset`` and ``overrides`` set
    the model's parameters; ``classical_channels`` (:class:`qit4n.scenario.ClassicalChannel`)
    sharing the fibre add Raman noise, filtered by ``receiver``
    (:class:`qit4n.scenario.QuantumReceiver`, defaults if omitted), where the emulator models it.
    The generator is seeded with ``seed``. ``randomness`` (a QRNG,
    :class:`qit4n.qrng.source.QrngSource`) supplies the parties' basis, intensity and bit choices
    and the post-processing seeds instead of the generator; when its health tests fail the run
    stops with :class:`~qit4n.errors.RandomnessError`, and the distilled result's ``randomness``
    entry shows its health. ``on_progress(pulses_drawn, pulses)`` follows the emulation, for an
    emulator whose ``emulate`` takes that keyword.

    >>> run = run_link("bb84-decoy", 10.0, 2_000_000, seed=1)
    >>> run.distilled.result.keys_match
    True
    """
    if protocol not in EMULATORS:
        raise ParameterError(f"protocol = {protocol!r}: the emulator plays {', '.join(EMULATORS.names())}")
    if distance_km < 0:
        raise ParameterError(f"distance_km = {distance_km:g}: must be >= 0")
    if not 10_000 <= pulses <= MAX_PULSES:
        raise ParameterError(f"pulses = {pulses}: must be in [1e4, 1e12]")
    emulator = EMULATORS.get(protocol)
    request = LinkRequest(
        protocol=protocol,
        distance_km=distance_km,
        pulses=pulses,
        preset=preset,
        overrides=dict(overrides or {}),
        reconciler=reconciler,
        classical_channels=classical_channels,
        receiver=receiver,
    )
    prepared = emulator.prepare(request)
    rng = np.random.default_rng(seed)
    progress: dict[str, Any] = (
        {} if on_progress is None or not _takes_progress(emulator) else {"on_progress": on_progress}
    )
    if randomness is None:
        records = emulator.emulate(prepared, pulses, rng, **progress)
        return emulator.distil(prepared, records, rng)
    records = emulator.emulate(prepared, pulses, rng, randomness=randomness, **progress)
    return emulator.distil(prepared, records, rng, randomness=randomness)


def _takes_progress(emulator: Any) -> bool:
    """Whether ``emulator.emulate`` takes an ``on_progress`` keyword (the built-in emulators do)."""
    try:
        return "on_progress" in inspect.signature(emulator.emulate).parameters
    except (TypeError, ValueError):
        return False
