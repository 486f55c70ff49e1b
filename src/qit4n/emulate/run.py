"""A link end to end: emulate pulses, distil them with :mod:`qit4n.postprocess`, and compare the
measured secret key with the analytic finite-key rate (Lim et al. 2014) for the same pulses."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from qit4n.emulate.bb84 import emulate_bb84
from qit4n.emulate.settings import LinkSettings, link_settings
from qit4n.emulate.statistics import IntensityStatistics, observed_statistics
from qit4n.errors import ParameterError
from qit4n.physics.fibre import fibre_transmittance

__all__ = ["EMULATED_PROTOCOLS", "LinkRun", "run_link", "analytic_finite_rate"]

#: The two detectors of the receiver share the Raman photons: each sees half of them (3 dB).
_DETECTOR_SPLIT_DB = 10.0 * math.log10(2.0)

#: Protocols the emulator can play, by registry name.
EMULATED_PROTOCOLS = ("bb84-decoy", "bb84-decoy-finite")


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


def analytic_finite_rate(settings: LinkSettings, params: Any, pulses: int, epsilon_sec: float, epsilon_cor: float) -> float:
    """Lim et al. 2014 key per pulse (``bb84-decoy-finite``) with the emulator's settings and pulses."""
    from qit4n.qkd import get_protocol, make_parameters

    mu1, mu2, mu3 = settings.intensities
    p1, p2, _ = settings.probabilities
    values = {
        "loss_db_per_km": params.loss_db_per_km,
        "repetition_rate_hz": settings.repetition_rate_hz,
        "eta_detector": settings.eta_detector,
        "dark_count_probability": 1.0 - (1.0 - settings.dark_count_probability) * (1.0 - settings.noise_probability),
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
    return float(get_protocol("bb84-decoy-finite").evaluate(np.array([settings.eta_channel]), finite).key_rate_per_pulse[0])


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
) -> LinkRun:
    """Emulate ``pulses`` pulses over ``distance_km`` of fibre and distil them.

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
        alice.bases, alice.intensities, alice.bits, bob.pulses, bob.bases, bob.bits,
        settings.intensities, settings.probabilities, pipeline, rng,
    )
    analytic = analytic_finite_rate(settings, params, pulses, epsilon_sec, epsilon_cor)
    return LinkRun(protocol, float(distance_km), pulses, settings, statistics, distilled, analytic)
