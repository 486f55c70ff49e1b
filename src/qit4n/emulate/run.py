"""A link end to end: emulate pulses, distil them with :mod:`qit4n.postprocess`, and compare the
measured secret key with the analytic finite-key rate (Lim et al. 2014) for the same pulses.

``bbm92`` (an entangled-pair source on the link) is sifted on coincidences and distilled with
QBER sampling and the key length of Tomamichel et al. 2012; its analytic references are the
asymptotic rate of Ma, Fung and Lo 2007 and the Tomamichel length at the expected counts."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from qit4n.emulate.bb84 import BASIS_X, emulate_bb84
from qit4n.emulate.bbm92 import (
    CoincidenceStatistics,
    EntangledLinkSettings,
    EntangledRecords,
    coincidence_statistics,
    emulate_bbm92,
    entangled_link_settings,
)
from qit4n.emulate.settings import LinkSettings, link_settings
from qit4n.emulate.statistics import IntensityStatistics, observed_statistics
from qit4n.errors import InfeasibleError, ParameterError
from qit4n.physics.fibre import fibre_transmittance

__all__ = [
    "EMULATED_PROTOCOLS",
    "EntangledDistillResult",
    "EntangledLinkRun",
    "LinkRun",
    "analytic_finite_rate",
    "distill_entangled",
    "run_link",
]

#: The two detectors of the receiver share the Raman photons: each sees half of them (3 dB).
_DETECTOR_SPLIT_DB = 10.0 * math.log10(2.0)

#: Protocols the emulator can play, by registry name.
EMULATED_PROTOCOLS = ("bb84-decoy", "bb84-decoy-finite", "bbm92")


@dataclass(frozen=True)
class LinkRun:
    """An emulated and distilled block of pulses."""

    protocol: str
    distance_km: float
    pulses: int
    settings: LinkSettings
    statistics: IntensityStatistics
    distilled: Any
    analytic_key_per_pulse: float

    @property
    def measured_key_per_pulse(self) -> float:
        """Net secret bits per pulse sent."""
        return self.distilled.result.net_key_bits / self.pulses

    def as_dict(self) -> dict[str, Any]:
        """Plain dictionary (JSON-ready)."""
        stats = self.statistics
        rate = self.settings.repetition_rate_hz
        return {
            "protocol": self.protocol,
            "noise_probability": self.settings.noise_probability,
            "distance_km": self.distance_km,
            "pulses": self.pulses,
            "eta_channel": self.settings.eta_channel,
            "intensities": list(self.settings.intensities),
            "gain": stats.gain.tolist(),
            "qber_x": [None if not np.isfinite(v) else float(v) for v in stats.qber_x],
            "detections": int(stats.gain @ stats.sent),
            "measured_key_per_pulse": self.measured_key_per_pulse,
            "measured_key_rate_bps": self.measured_key_per_pulse * rate,
            "analytic_finite_key_per_pulse": self.analytic_key_per_pulse,
            "analytic_finite_key_rate_bps": self.analytic_key_per_pulse * rate,
            **self.distilled.as_dict(),
        }


def analytic_finite_rate(
    settings: LinkSettings, params: Any, pulses: int, epsilon_sec: float, epsilon_cor: float
) -> float:
    """Lim et al. 2014 key per pulse (``bb84-decoy-finite``) with the emulator's settings and pulses."""
    from qit4n.physics.raman import dark_count_with_noise_probability
    from qit4n.qkd import get_protocol, make_parameters

    mu1, mu2, mu3 = settings.intensities
    p1, p2, _ = settings.probabilities
    values = {
        "loss_db_per_km": params.loss_db_per_km,
        "repetition_rate_hz": settings.repetition_rate_hz,
        "eta_detector": settings.eta_detector,
        "dark_count_probability": float(
            dark_count_with_noise_probability(settings.dark_count_probability, settings.noise_probability)
        ),
        "afterpulse_probability": settings.afterpulse_probability,
        "misalignment_error": settings.misalignment_error,
        "error_correction_efficiency": params.error_correction_efficiency,
        "dead_time_s": settings.dead_time_s,
        "intensity_signal": mu1,
        "intensity_decoy": mu2,
        "intensity_vacuum": mu3,
        "probability_signal": p1,
        "probability_decoy": p2,
        "probability_basis_x": settings.probability_basis_x,
        "pulses": float(pulses),
        "epsilon_sec": epsilon_sec,
        "epsilon_cor": epsilon_cor,
    }
    finite = make_parameters("bb84-decoy-finite", None, values, context="analytic")
    return float(
        get_protocol("bb84-decoy-finite").evaluate(np.array([settings.eta_channel]), finite).key_rate_per_pulse[0]
    )


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


def distill_entangled(records: EntangledRecords, pipeline: Any, rng: np.random.Generator) -> EntangledDistillResult:
    """Coincidences, sifting, then :func:`qit4n.postprocess.pipeline.distill_sifted` on both bases.

    Bob announces his click slots; Alice marks those where she clicked too; the coincidences are
    sifted like BB84 (:func:`qit4n.postprocess.sifting.sift`). :class:`InfeasibleError` if fewer
    than two sifted bits remain.
    """
    from qit4n.postprocess.channel import Message, MessageKind, Role
    from qit4n.postprocess.pipeline import Session, distill_sifted
    from qit4n.postprocess.sifting import sift

    alice, bob = records.alice, records.bob
    session = Session.start(rng, pipeline)
    with session.stage("sifting"):
        clicks = session.channel.send(
            Message(MessageKind.SIFT_BASES, Role.BOB, public={"slots": bob.slots.astype(np.uint64)})
        )
        _, in_alice, in_bob = np.intersect1d(
            alice.slots, clicks.public["slots"].astype(np.int64), assume_unique=True, return_indices=True
        )
        coincident = np.zeros(bob.slots.size, np.uint8)
        coincident[in_bob] = 1
        answer = session.channel.send(
            Message(
                MessageKind.SIFT_MATCHES, Role.ALICE, public={"coincident": np.packbits(coincident, bitorder="little")}
            )
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
    if alice_key.bits.size < 2:
        raise InfeasibleError(
            f"pulses = {records.num_slots}: {alice_key.bits.size} sifted coincidences, too few to distil; emulate more slots"
        )
    result = distill_sifted(alice_key.bits, bob_key.bits, pipeline, rng, session)
    in_x = alice_key.bases == BASIS_X
    return EntangledDistillResult(int(count), int(in_x.sum()), int((~in_x).sum()), result)


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


def _run_bbm92(
    distance_km: float, pulses: int, preset: str | None, overrides: dict[str, Any], pipeline: Any, seed: int
) -> EntangledLinkRun:
    from qit4n.maths import binary_entropy
    from qit4n.postprocess.estimation import tomamichel_key_length
    from qit4n.qkd.bbm92 import key_per_slot, pdc_gain_qber

    params = _bbm92_parameters(preset, overrides)
    eta_channel = float(fibre_transmittance(distance_km, params.loss_db_per_km))
    settings = entangled_link_settings(params, eta_channel)
    rng = np.random.default_rng(seed)
    records = emulate_bbm92(settings, pulses, rng)
    statistics = coincidence_statistics(records)
    distilled = distill_entangled(records, pipeline, rng)
    gain, qber = pdc_gain_qber(
        settings.eta_alice,
        settings.eta_bob,
        settings.mean_pair_number,
        background_alice=settings.background_alice,
        background_bob=settings.background_bob,
        misalignment_error=settings.misalignment_error,
        statistics=settings.pair_statistics,
    )
    gain, qber = float(gain), float(qber)
    asymptotic = float(key_per_slot(gain, qber, params.error_correction_efficiency, settings.sifting))
    sifted = pulses * gain * settings.sifting
    sample = max(1.0, round(pipeline.sample_fraction * sifted))
    key_bits = max(sifted - sample, 0.0)
    leak = params.error_correction_efficiency * key_bits * float(binary_entropy(qber))
    finite = (
        tomamichel_key_length(round(key_bits), round(sample), qber, leak, pipeline.epsilon_sec, pipeline.epsilon_cor)
        / pulses
    )
    return EntangledLinkRun(
        "bbm92",
        float(distance_km),
        pulses,
        params.source_position,
        eta_channel,
        settings,
        statistics,
        distilled,
        finite,
        asymptotic,
        gain,
        qber,
    )


def _raman_noise(classical_channels: Sequence[Any], receiver: Any, distance_km: float, params: Any) -> float:
    if not classical_channels:
        return 0.0
    from qit4n.physics.raman import raman_noise_probability
    from qit4n.scenario import QuantumReceiver

    receiver = receiver or QuantumReceiver()
    return float(
        raman_noise_probability(
            list(classical_channels),
            distance_km,
            quantum_wavelength_nm=receiver.quantum_wavelength_nm,
            loss_db_per_km=params.loss_db_per_km,
            filter_bandwidth_nm=receiver.filter_bandwidth_nm,
            gate_width_s=receiver.gate_width_s,
            eta_detector=params.eta_detector,
            receiver_loss_db=_DETECTOR_SPLIT_DB,
        )
    )


def run_link(
    protocol: str,
    distance_km: float,
    pulses: int,
    *,
    preset: str | None = None,
    overrides: dict[str, Any] | None = None,
    reconciler: str = "cascade",
    seed: int = 0,
    classical_channels: Sequence[Any] = (),
    receiver: Any = None,
) -> LinkRun | EntangledLinkRun:
    """Emulate ``pulses`` pulses (slots) over ``distance_km`` of fibre and distil them.

    ``bbm92`` takes from ``preset`` the device values its model shares (fibre loss, detectors,
    error correction, clock) and the source from ``overrides`` (``mean_pair_number``,
    ``pair_statistics``, ``source_position``, ``probability_basis_x``); it returns an
    :class:`EntangledLinkRun`.

    ``classical_channels`` (:class:`qit4n.scenario.ClassicalChannel`) sharing the fibre add Raman
    noise clicks per detector per gate (:func:`qit4n.physics.raman.raman_noise_probability`, each
    detector seeing half of the Raman photons), with the filtering of ``receiver``
    (:class:`qit4n.scenario.QuantumReceiver`, defaults if omitted).

    >>> run = run_link("bb84-decoy", 10.0, 2_000_000, seed=1)
    >>> run.distilled.result.keys_match
    True
    """
    from qit4n.postprocess.link import distill_decoy_link
    from qit4n.postprocess.pipeline import PipelineSettings
    from qit4n.qkd import make_parameters
    from qit4n.schema import validate_parameters

    if protocol not in EMULATED_PROTOCOLS:
        raise ParameterError(f"protocol = {protocol!r}: the emulator plays {', '.join(EMULATED_PROTOCOLS)}")
    if distance_km < 0:
        raise ParameterError(f"distance_km = {distance_km:g}: must be >= 0")
    if not 10_000 <= pulses <= 10**9:
        raise ParameterError(f"pulses = {pulses}: must be in [1e4, 1e9] (the records take about 12 bytes per pulse)")
    if protocol == "bbm92":
        if classical_channels:
            raise ParameterError(
                "classical_channels: Raman noise is not modelled for bbm92 (two receivers); omit --classical"
            )
        pipeline = validate_parameters(PipelineSettings, {"reconciler": reconciler})
        return _run_bbm92(distance_km, pulses, preset, dict(overrides or {}), pipeline, seed)
    params = make_parameters(protocol, preset, overrides or {}, context="--set")
    eta_channel = float(fibre_transmittance(distance_km, params.loss_db_per_km))
    settings = link_settings(params, eta_channel, _raman_noise(classical_channels, receiver, distance_km, params))
    epsilon_sec = getattr(params, "epsilon_sec", 1e-10)
    epsilon_cor = getattr(params, "epsilon_cor", 1e-15)
    pipeline = validate_parameters(
        PipelineSettings, {"reconciler": reconciler, "epsilon_sec": epsilon_sec, "epsilon_cor": epsilon_cor}
    )
    rng = np.random.default_rng(seed)
    records = emulate_bb84(settings, pulses, rng)
    statistics = observed_statistics(records)
    alice, bob = records.alice, records.bob
    distilled = distill_decoy_link(
        alice.bases,
        alice.intensities,
        alice.bits,
        bob.pulses,
        bob.bases,
        bob.bits,
        settings.intensities,
        settings.probabilities,
        pipeline,
        rng,
    )
    analytic = analytic_finite_rate(settings, params, pulses, epsilon_sec, epsilon_cor)
    return LinkRun(protocol, float(distance_km), pulses, settings, statistics, distilled, analytic)
