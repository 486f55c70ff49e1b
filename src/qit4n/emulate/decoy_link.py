"""A decoy-state BB84 link end to end: emulate pulses, distil them with :mod:`qit4n.postprocess`,
and compare the measured secret key with the analytic finite-key rate (Lim et al. 2014) for the
same pulses. Plays ``bb84-decoy`` and ``bb84-decoy-finite``.

Intensities and probabilities the user leaves open are those that maximise the analytic
finite-key rate (``bb84-decoy-finite``) for the requested pulses and distance, so the emulator runs
the protocol the model would run. Measured and analytic keys use the same bounds
(:mod:`qit4n.qkd.finite_key`, :func:`~qit4n.qkd.finite_key.lim_bounds`) on observed and expected
counts respectively; the analytic rate is given twice, with the model's ``f_EC`` and with the
efficiency the reconciler realised on the block (the like-for-like reference of the measured key).

References
----------
Lim, C. C. W., Curty, M., Walenta, N., Xu, F. and Zbinden, H., Phys. Rev. A 89, 022307 (2014),
doi:10.1103/PhysRevA.89.022307, arXiv:1311.7129.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from qit4n.emulate.bb84 import emulate_bb84
from qit4n.emulate.decoy_stream import DecoyChunk, DecoyStream, chunk_from_records
from qit4n.emulate.emulator import EMULATORS, LinkRequest
from qit4n.emulate.settings import LinkSettings, link_settings
from qit4n.emulate.statistics import IntensityStatistics, StatisticsTally
from qit4n.errors import ParameterError
from qit4n.physics.fibre import fibre_transmittance
from qit4n.randomness import RandomnessSource
from qit4n.workload import ProgressCallback

__all__ = ["DECOY_LINK", "DecoyLinkEmulator", "DecoyLinkPlan", "LinkRun", "analytic_finite_rate", "optimised_settings"]

#: The settings the analytic optimiser chooses where the user leaves them open.
_FREE_SETTINGS = (
    "intensity_signal",
    "intensity_decoy",
    "probability_signal",
    "probability_decoy",
    "probability_basis_x",
)

#: Most pulses of a per-pulse emulation (choices from a randomness source): about 12 bytes a pulse.
_MAX_PER_PULSE = 10**9

#: The two detectors of the receiver share the Raman photons: each sees half of them (3 dB).
_DETECTOR_SPLIT_DB = 10.0 * math.log10(2.0)


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
    analytic_key_per_pulse_realised_ec: float

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
            "analytic_finite_key_per_pulse_realised_ec": self.analytic_key_per_pulse_realised_ec,
            "analytic_finite_key_rate_bps_realised_ec": self.analytic_key_per_pulse_realised_ec * rate,
            **self.distilled.as_dict(),
        }


def _finite_values(
    settings: LinkSettings, params: Any, pulses: int, epsilon_sec: float, epsilon_cor: float
) -> dict[str, Any]:
    """``bb84-decoy-finite`` parameters for the emulator's receiver, source and pulses."""
    from qit4n.physics.raman import dark_count_with_noise_probability

    mu1, mu2, mu3 = settings.intensities
    p1, p2, _ = settings.probabilities
    return {
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


def analytic_finite_rate(
    settings: LinkSettings,
    params: Any,
    pulses: int,
    epsilon_sec: float,
    epsilon_cor: float,
    error_correction_efficiency: float | None = None,
) -> float:
    """Lim et al. 2014 key per pulse (``bb84-decoy-finite``) with the emulator's settings and pulses
    (and ``error_correction_efficiency`` instead of the model's ``f_EC`` where given)."""
    from qit4n.qkd import get_protocol, make_parameters

    values = _finite_values(settings, params, pulses, epsilon_sec, epsilon_cor)
    if error_correction_efficiency is not None:
        values["error_correction_efficiency"] = error_correction_efficiency
    finite = make_parameters("bb84-decoy-finite", None, values, context="analytic")
    return float(
        get_protocol("bb84-decoy-finite").evaluate(np.array([settings.eta_channel]), finite).key_rate_per_pulse[0]
    )


def optimised_settings(
    params: Any, eta_channel: float, noise: float, pulses: int, epsilon_sec: float, epsilon_cor: float
) -> LinkSettings:
    """Link settings whose intensities and probabilities left open by ``params`` maximise the
    analytic finite-key rate for ``pulses`` pulses at ``eta_channel`` (``bb84-decoy-finite``)."""
    from qit4n.qkd import get_protocol, make_parameters

    settings = link_settings(params, eta_channel, noise)
    free = [name for name in _FREE_SETTINGS if getattr(params, name, None) is None]
    if not free:
        return settings
    values = _finite_values(settings, params, pulses, epsilon_sec, epsilon_cor)
    values.update(dict.fromkeys(free))
    finite = make_parameters("bb84-decoy-finite", None, values, context="analytic")
    details = get_protocol("bb84-decoy-finite").evaluate(np.array([eta_channel]), finite).details
    return link_settings(params, eta_channel, noise, {name: float(details[name][0]) for name in free})


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


@dataclass(frozen=True)
class DecoyLinkPlan:
    """A prepared decoy-state link: the request, the protocol's parameters, the emulator's settings
    and the key pipeline's settings."""

    request: LinkRequest
    params: Any
    settings: LinkSettings
    pipeline: Any


class DecoyLinkEmulator:
    """Decoy-state BB84 (:func:`qit4n.emulate.bb84.emulate_bb84`, :func:`qit4n.postprocess.link.distill_decoy_link`).

    The parameters are those of the requested BB84-family model (``make_parameters``), so presets
    and ``--set`` overrides mean what they mean to ``qit4n rate``.
    """

    def prepare(self, request: LinkRequest) -> DecoyLinkPlan:
        """Parameters, settings (with Raman noise from the classical channels) and pipeline."""
        from qit4n.postprocess.pipeline import PipelineSettings
        from qit4n.qkd import make_parameters
        from qit4n.schema import validate_parameters

        params = make_parameters(request.protocol, request.preset, request.overrides, context="--set")
        eta_channel = float(fibre_transmittance(request.distance_km, params.loss_db_per_km))
        noise = _raman_noise(request.classical_channels, request.receiver, request.distance_km, params)
        pipeline = validate_parameters(
            PipelineSettings,
            {
                "reconciler": request.reconciler,
                "epsilon_sec": getattr(params, "epsilon_sec", 1e-10),
                "epsilon_cor": getattr(params, "epsilon_cor", 1e-15),
            },
        )
        settings = optimised_settings(
            params, eta_channel, noise, request.pulses, pipeline.epsilon_sec, pipeline.epsilon_cor
        )
        return DecoyLinkPlan(request, params, settings, pipeline)

    def emulate(
        self,
        prepared: DecoyLinkPlan,
        pulses: int,
        rng: np.random.Generator,
        *,
        randomness: RandomnessSource | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> DecoyStream | list[DecoyChunk]:
        """Alice's and Bob's records of ``pulses`` pulses: a :class:`~qit4n.emulate.decoy_stream.DecoyStream`
        seeded from ``rng``, drawn as the distillation consumes it (``on_progress(pulses_drawn, pulses)``
        after each chunk); with ``randomness`` (the choices from a QRNG, one per pulse) the per-pulse
        emulation as one chunk, up to 1e9 pulses."""
        if randomness is None:
            return DecoyStream(prepared.settings, pulses, entropy=int(rng.integers(2**63)), on_progress=on_progress)
        if pulses > _MAX_PER_PULSE:
            raise ParameterError(
                f"pulses = {pulses}: must be <= 1e9 with a randomness source (its choices are drawn pulse by pulse)"
            )
        return [chunk_from_records(emulate_bb84(prepared.settings, pulses, rng, choices=randomness))]

    def distil(
        self,
        prepared: DecoyLinkPlan,
        records: DecoyStream | list[DecoyChunk],
        rng: np.random.Generator,
        *,
        randomness: RandomnessSource | None = None,
    ) -> LinkRun:
        """Sifting, decoy bounds on the observed counts, reconciliation and amplification (seeds from
        ``randomness`` if given); the analytic Lim et al. key per pulse for the same settings and pulses."""
        from qit4n.postprocess.link import distill_decoy_link
        from qit4n.postprocess.pipeline import Session

        settings, pipeline = prepared.settings, prepared.pipeline
        tally = StatisticsTally()
        chunks = records.chunks() if isinstance(records, DecoyStream) else records
        distilled = distill_decoy_link(
            tally.watch(chunks),
            settings.intensities,
            settings.probabilities,
            pipeline,
            rng,
            None if randomness is None else Session.start(rng, pipeline, seeds=randomness),
        )
        statistics = tally.result()
        request = prepared.request
        pulses = int(statistics.sent.sum())
        epsilons = (pipeline.epsilon_sec, pipeline.epsilon_cor)
        analytic = analytic_finite_rate(settings, prepared.params, pulses, *epsilons)
        realised = distilled.result.reconciliation.efficiency
        analytic_realised = (
            analytic_finite_rate(settings, prepared.params, pulses, *epsilons, min(max(realised, 1.0), 3.0))
            if math.isfinite(realised)
            else analytic
        )
        return LinkRun(
            request.protocol,
            float(request.distance_km),
            pulses,
            settings,
            statistics,
            distilled,
            analytic,
            analytic_realised,
        )


#: The registered instance (:data:`qit4n.emulate.EMULATORS` ``bb84-decoy``, ``bb84-decoy-finite``).
DECOY_LINK = DecoyLinkEmulator()
EMULATORS.register("bb84-decoy", DECOY_LINK)
EMULATORS.register("bb84-decoy-finite", DECOY_LINK)
