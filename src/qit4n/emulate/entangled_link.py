"""An entangled-pair (BBM92) link end to end: emulate slots, sift coincidences, distil them with
:mod:`qit4n.postprocess`, and compare with the model's analytic references.

The coincidences are distilled with QBER sampling and the key length of Tomamichel et al. 2012;
the analytic references are the asymptotic rate of Ma, Fung and Lo 2007 and the Tomamichel length
at the expected counts.

References
----------
Ma, X., Fung, C.-H. F. and Lo, H.-K., Phys. Rev. A 76, 012307 (2007), doi:10.1103/PhysRevA.76.012307.
Tomamichel, M., Lim, C. C. W., Gisin, N. and Renner, R., Nat. Commun. 3, 634 (2012), doi:10.1038/ncomms1631.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from qit4n.emulate.bb84 import BASIS_X
from qit4n.emulate.emulator import EMULATORS, LinkRequest
from qit4n.emulate.entangled_pairs import (
    CoincidenceStatistics,
    EntangledLinkSettings,
    EntangledRecords,
    coincidence_statistics,
    entangled_link_settings,
)
from qit4n.emulate.entangled_stream import EntangledStream
from qit4n.errors import InfeasibleError, ParameterError
from qit4n.physics.fibre import fibre_transmittance
from qit4n.randomness import RandomnessSource
from qit4n.workload import ProgressCallback

__all__ = [
    "ENTANGLED_LINK",
    "EntangledDistillResult",
    "EntangledLinkEmulator",
    "EntangledLinkPlan",
    "EntangledLinkRun",
    "distill_entangled",
]


@dataclass(frozen=True)
class EntangledDistillResult:
    """A distilled BBM92 block: coincidences, sifted bits per basis and the key pipeline's result."""

    coincidences: int
    sifted_x_bits: int
    sifted_z_bits: int
    result: Any

    def as_dict(self) -> dict[str, Any]:
        """Plain dictionary (JSON-ready); the decoy-bound keys of BB84 are ``None``."""
        return {
            "coincidences": self.coincidences,
            "sifted_x_bits": self.sifted_x_bits,
            "sifted_z_bits": self.sifted_z_bits,
            "vacuum_x_lower": None,
            "single_photon_x_lower": None,
            "phase_error_upper": None,
            **self.result.as_dict(),
        }


def distill_entangled(
    chunks: Iterable[EntangledRecords],
    pipeline: Any,
    rng: np.random.Generator,
    *,
    seeds: RandomnessSource | None = None,
) -> EntangledDistillResult:
    """Coincidences, sifting, then :func:`qit4n.postprocess.pipeline.distill_sifted` on both bases
    (the pre-shared key and amplification seeds from ``seeds`` if given).

    Per chunk of records (consumed as they come; only the sifted bits are kept), Bob announces his
    click slots, Alice marks those where she clicked too, and the coincidences are sifted like
    BB84 (:func:`qit4n.postprocess.sifting.sift`). :class:`InfeasibleError` if fewer than two
    sifted bits remain.
    """
    from qit4n.postprocess.pipeline import Session, distill_sifted

    session = Session.start(rng, pipeline, seeds=seeds)
    keys: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    slots = 0
    coincidences = 0
    for chunk in chunks:
        slots += chunk.num_slots
        with session.stage("sifting"):
            count, alice_key, bob_key = _sift_chunk(chunk, session)
        coincidences += count
        keys.append((alice_key.bits, bob_key.bits, alice_key.bases))
    alice_bits, bob_bits, bases = (
        np.concatenate([key[part] for key in keys]) if keys else np.zeros(0, np.uint8) for part in range(3)
    )
    keys.clear()
    if alice_bits.size < 2:
        raise InfeasibleError(
            f"pulses = {slots}: {alice_bits.size} sifted coincidences, too few to distil; emulate more slots"
        )
    result = distill_sifted(alice_bits, bob_bits, pipeline, rng, session)
    in_x = bases == BASIS_X
    return EntangledDistillResult(coincidences, int(in_x.sum()), int((~in_x).sum()), result)


def _sift_chunk(records: EntangledRecords, session: Any) -> tuple[int, Any, Any]:
    """One chunk's coincidences and sifted keys: ``(coincidences, alice, bob)``."""
    from qit4n.postprocess.channel import Message, MessageKind, Role
    from qit4n.postprocess.sifting import sift

    alice, bob = records.alice, records.bob
    clicks = session.channel.send(
        Message(MessageKind.SIFT_BASES, Role.BOB, public={"slots": bob.slots.astype(np.uint64)})
    )
    _, in_alice, in_bob = np.intersect1d(
        alice.slots, clicks.public["slots"].astype(np.int64), assume_unique=True, return_indices=True
    )
    coincident = np.zeros(bob.slots.size, np.uint8)
    coincident[in_bob] = 1
    answer = session.channel.send(
        Message(MessageKind.SIFT_MATCHES, Role.ALICE, public={"coincident": np.packbits(coincident, bitorder="little")})
    )
    bob_keeps = np.unpackbits(answer.public["coincident"], bitorder="little", count=bob.slots.size).astype(bool)
    count = in_alice.size
    alice_key, bob_key = sift(
        alice.bases[in_alice],
        np.zeros(count, np.uint8),
        alice.bits[in_alice],
        np.arange(count),
        bob.bases[bob_keeps],
        bob.bits[bob_keeps],
        session.channel,
    )
    return int(count), alice_key, bob_key


@dataclass(frozen=True)
class EntangledLinkRun:
    """An emulated and distilled BBM92 block with its analytic references (per slot)."""

    protocol: str
    distance_km: float
    pulses: int
    source_position: float
    eta_channel: float
    settings: EntangledLinkSettings
    statistics: CoincidenceStatistics
    distilled: EntangledDistillResult
    analytic_key_per_pulse: float
    analytic_asymptotic_key_per_pulse: float
    analytic_gain: float
    analytic_qber: float
    analytic_key_per_pulse_realised_ec: float

    @property
    def measured_key_per_pulse(self) -> float:
        """Net secret bits per slot."""
        return self.distilled.result.net_key_bits / self.pulses

    def as_dict(self) -> dict[str, Any]:
        """Plain dictionary (JSON-ready): the keys of :meth:`LinkRun.as_dict` (``intensities``
        holds ``mu``, ``gain`` and ``qber_x`` the coincidence gain and X-basis QBER, ``detections``
        the coincidences) and the source, arms and analytic values of BBM92."""
        stats, settings = self.statistics, self.settings
        rate = settings.repetition_rate_hz
        qber_x, qber_z = (float(value) for value in stats.qber_per_basis)
        return {
            "protocol": self.protocol,
            "noise_probability": 0.0,
            "distance_km": self.distance_km,
            "pulses": self.pulses,
            "eta_channel": self.eta_channel,
            "intensities": [settings.mean_pair_number],
            "gain": [stats.gain],
            "qber_x": [qber_x if np.isfinite(qber_x) else None],
            "detections": stats.coincidences,
            "measured_key_per_pulse": self.measured_key_per_pulse,
            "measured_key_rate_bps": self.measured_key_per_pulse * rate,
            "analytic_finite_key_per_pulse": self.analytic_key_per_pulse,
            "analytic_finite_key_rate_bps": self.analytic_key_per_pulse * rate,
            "analytic_finite_key_per_pulse_realised_ec": self.analytic_key_per_pulse_realised_ec,
            "analytic_finite_key_rate_bps_realised_ec": self.analytic_key_per_pulse_realised_ec * rate,
            "mean_pair_number": settings.mean_pair_number,
            "pair_statistics": settings.pair_statistics.value,
            "source_position": self.source_position,
            "eta_alice": settings.eta_alice,
            "eta_bob": settings.eta_bob,
            "clicks_alice": stats.clicks_alice,
            "clicks_bob": stats.clicks_bob,
            "qber": stats.qber if np.isfinite(stats.qber) else None,
            "qber_z": qber_z if np.isfinite(qber_z) else None,
            "analytic_gain": self.analytic_gain,
            "analytic_qber": self.analytic_qber,
            "analytic_asymptotic_key_per_pulse": self.analytic_asymptotic_key_per_pulse,
            "analytic_asymptotic_key_rate_bps": self.analytic_asymptotic_key_per_pulse * rate,
            **self.distilled.as_dict(),
        }


def _bbm92_parameters(preset: str | None, overrides: dict[str, Any]) -> Any:
    """BBM92 parameters: the device values a preset shares with this model (fibre loss, detectors,
    error correction, clock), then ``overrides`` (source and anything else, validated)."""
    from qit4n.qkd.bbm92 import BBM92Parameters
    from qit4n.qkd.presets import get_preset
    from qit4n.schema import validate_parameters

    values: dict[str, Any] = {}
    if preset:
        chosen = get_preset(preset)
        shared = {**chosen.parameters, **chosen.protocol_parameters.get("bbm92", {})}
        values = {name: value for name, value in shared.items() if name in BBM92Parameters.model_fields}
    values.update(overrides)
    return validate_parameters(BBM92Parameters, values, context="--set")


@dataclass(frozen=True)
class EntangledLinkPlan:
    """A prepared BBM92 link: the request, the model's parameters, the channel and the settings."""

    request: LinkRequest
    params: Any
    eta_channel: float
    settings: EntangledLinkSettings
    pipeline: Any


class EntangledLinkEmulator:
    """BBM92 with a PDC source on the link (:func:`qit4n.emulate.entangled_pairs.emulate_bbm92`).

    Takes from the preset the device values its model shares (fibre loss, detectors, error
    correction, clock) and the source from the overrides (``mean_pair_number``,
    ``pair_statistics``, ``source_position``, ``probability_basis_x``). Raman noise is not modelled
    (two receivers): classical channels are refused.
    """

    def prepare(self, request: LinkRequest) -> EntangledLinkPlan:
        """Parameters, arms and settings (``mean_pair_number=None`` becomes the analytic optimum)."""
        from qit4n.postprocess.pipeline import PipelineSettings
        from qit4n.schema import validate_parameters

        if request.classical_channels:
            raise ParameterError(
                "classical_channels: Raman noise is not modelled for bbm92 (two receivers); omit --classical"
            )
        pipeline = validate_parameters(PipelineSettings, {"reconciler": request.reconciler})
        params = _bbm92_parameters(request.preset, dict(request.overrides))
        eta_channel = float(fibre_transmittance(request.distance_km, params.loss_db_per_km))
        settings = entangled_link_settings(params, eta_channel)
        return EntangledLinkPlan(request, params, eta_channel, settings, pipeline)

    def emulate(
        self,
        prepared: EntangledLinkPlan,
        pulses: int,
        rng: np.random.Generator,
        *,
        randomness: RandomnessSource | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> EntangledStream:
        """Both receivers' clicks over ``pulses`` slots, streamed from a seed drawn from ``rng``
        (choices from ``randomness`` if given; ``on_progress(slots_drawn, pulses)`` after each chunk)."""
        return EntangledStream(
            prepared.settings, pulses, entropy=int(rng.integers(2**63)), choices=randomness, on_progress=on_progress
        )

    def distil(
        self,
        prepared: EntangledLinkPlan,
        records: EntangledStream,
        rng: np.random.Generator,
        *,
        randomness: RandomnessSource | None = None,
    ) -> EntangledLinkRun:
        """Coincidences distilled; the analytic gain, QBER, asymptotic rate and Tomamichel length."""
        from qit4n.maths import binary_entropy
        from qit4n.postprocess.estimation import tomamichel_key_length
        from qit4n.qkd.bbm92 import key_per_slot, pdc_gain_qber

        params, settings, pipeline = prepared.params, prepared.settings, prepared.pipeline
        pulses = records.num_slots
        tally: list[CoincidenceStatistics] = []
        distilled = distill_entangled(_counted(records.chunks(), tally), pipeline, rng, seeds=randomness)
        statistics = _added(tally)
        expected_gain, expected_qber = pdc_gain_qber(
            settings.eta_alice,
            settings.eta_bob,
            settings.mean_pair_number,
            background_alice=settings.background_alice,
            background_bob=settings.background_bob,
            misalignment_error=settings.misalignment_error,
            statistics=settings.pair_statistics,
        )
        gain, qber = float(expected_gain), float(expected_qber)
        asymptotic = float(key_per_slot(gain, qber, params.error_correction_efficiency, settings.sifting))
        sifted = pulses * gain * settings.sifting
        sample = max(1.0, round(pipeline.sample_fraction * sifted))
        key_bits = max(sifted - sample, 0.0)

        def finite_key_per_slot(efficiency: float) -> float:
            leak = efficiency * key_bits * float(binary_entropy(qber))
            length = tomamichel_key_length(
                round(key_bits), round(sample), qber, leak, pipeline.epsilon_sec, pipeline.epsilon_cor
            )
            return length / pulses

        realised = distilled.result.reconciliation.efficiency
        finite = finite_key_per_slot(params.error_correction_efficiency)
        finite_realised = finite_key_per_slot(realised) if math.isfinite(realised) else finite
        return EntangledLinkRun(
            prepared.request.protocol,
            float(prepared.request.distance_km),
            pulses,
            params.source_position,
            prepared.eta_channel,
            settings,
            statistics,
            distilled,
            finite,
            asymptotic,
            gain,
            qber,
            finite_realised,
        )


def _counted(chunks: Iterable[EntangledRecords], tally: list[CoincidenceStatistics]) -> Iterator[EntangledRecords]:
    """Yield ``chunks``, appending each one's :func:`coincidence_statistics` to ``tally``."""
    for chunk in chunks:
        tally.append(coincidence_statistics(chunk))
        yield chunk


def _added(parts: list[CoincidenceStatistics]) -> CoincidenceStatistics:
    """The counts of consecutive chunks added up."""
    return CoincidenceStatistics(
        sum(part.slots for part in parts),
        sum(part.clicks_alice for part in parts),
        sum(part.clicks_bob for part in parts),
        sum(part.coincidences for part in parts),
        np.sum([part.sifted for part in parts], axis=0),
        np.sum([part.errors for part in parts], axis=0),
    )


#: The registered instance (:data:`qit4n.emulate.EMULATORS` ``bbm92``).
ENTANGLED_LINK = EntangledLinkEmulator()
EMULATORS.register("bbm92", ENTANGLED_LINK)
