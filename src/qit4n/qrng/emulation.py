"""Raw samples from the QRNG device models, in chunks, with drift and injected failures.

Every draw comes from the caller's seeded :class:`numpy.random.Generator`, so a stream is
reproducible. A source is one of the device models of :mod:`qit4n.qrng.devices` with its
parameters; :func:`emulate` yields chunks of samples (``uint8``, one sample each, the format the
assessment and the reference tool read), applying a slow drift of the classical offset and the
faults that start at given sample indices:

- ``stuck-value``: the ADC output freezes at ``value``;
- ``stuck-bit``: bit ``bit`` of every sample is forced to ``value``;
- ``signal-loss``: the quantum signal vanishes (local oscillator or laser off, or a beam blocked),
  leaving the classical noise alone;
- ``bias``: an offset of ``value`` times the ADC half-range (for the beam splitter, a relative
  drop ``value`` of detector 0's efficiency).
"""

from __future__ import annotations

import enum
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numba
import numpy as np

from qit4n.errors import InputError, ParameterError
from qit4n.qrng.devices import (
    beam_splitter_min_entropy,
    homodyne_min_entropy,
    noise_ratio_to_sigmas,
    phase_noise_min_entropy,
)

__all__ = [
    "BeamSplitterSource",
    "Fault",
    "FaultKind",
    "HomodyneSource",
    "PhaseNoiseSource",
    "Source",
    "emulate",
    "write_samples",
]


class FaultKind(str, enum.Enum):
    """The failure modes :func:`emulate` can inject."""

    STUCK_VALUE = "stuck-value"
    STUCK_BIT = "stuck-bit"
    SIGNAL_LOSS = "signal-loss"
    BIAS = "bias"


@dataclass(frozen=True)
class Fault:
    """A failure from sample ``start_sample`` on (``bit`` for stuck bits; ``value``: the stuck value
    or bit, or the bias)."""

    kind: FaultKind
    start_sample: int
    value: float = 0.0
    bit: int = 0


@dataclass(frozen=True)
class HomodyneSource:
    """Vacuum-homodyne QRNG: quantum-to-classical noise ratio ``qcnr_db``, an ``adc_bits`` ADC over
    ``+-range_sigmas`` standard deviations of the measured noise."""

    qcnr_db: float = 20.0
    adc_bits: int = 8
    range_sigmas: float = 3.0
    classical_bound_sigmas: float = 5.0

    @property
    def bits_per_sample(self) -> int:
        return self.adc_bits

    def min_entropy_per_sample(self) -> float:
        return float(
            homodyne_min_entropy(
                self.qcnr_db,
                adc_bits=self.adc_bits,
                range_sigmas=self.range_sigmas,
                classical_bound_sigmas=self.classical_bound_sigmas,
            )
        )

    def analog(self, rng: np.random.Generator, size: int, quantum: np.ndarray, offset: np.ndarray) -> np.ndarray:
        sigma_q, sigma_e = noise_ratio_to_sigmas(self.qcnr_db)
        noise = quantum * sigma_q * rng.standard_normal(size) + sigma_e * rng.standard_normal(size)
        return noise + offset * self.range_sigmas

    def digitise(self, analog: np.ndarray) -> np.ndarray:
        bins = 2**self.adc_bits
        scaled = (analog + self.range_sigmas) / (2.0 * self.range_sigmas) * bins
        return np.clip(np.floor(scaled), 0, bins - 1).astype(np.uint8)


@dataclass(frozen=True)
class PhaseNoiseSource:
    """Phase-diffusion QRNG: phase spread ``phase_sigma_rad`` between pulses, interference amplitude 1,
    classical noise ``classical_sigma``, an ``adc_bits`` ADC over ``+-(1 + 5 classical_sigma)``."""

    phase_sigma_rad: float = 100.0
    classical_sigma: float = 0.02
    adc_bits: int = 8
    classical_bound_sigmas: float = 5.0

    @property
    def bits_per_sample(self) -> int:
        return self.adc_bits

    def min_entropy_per_sample(self) -> float:
        return phase_noise_min_entropy(
            self.phase_sigma_rad,
            adc_bits=self.adc_bits,
            classical_sigma=self.classical_sigma,
            classical_bound_sigmas=self.classical_bound_sigmas,
        )

    def analog(self, rng: np.random.Generator, size: int, quantum: np.ndarray, offset: np.ndarray) -> np.ndarray:
        theta = quantum * self.phase_sigma_rad * rng.standard_normal(size)
        noise = self.classical_sigma * rng.standard_normal(size)
        return np.cos(theta + np.pi / 2) + noise + offset * (1.0 + self.classical_bound_sigmas * self.classical_sigma)

    def digitise(self, analog: np.ndarray) -> np.ndarray:
        half = 1.0 + self.classical_bound_sigmas * self.classical_sigma
        bins = 2**self.adc_bits
        return np.clip(np.floor((analog + half) / (2.0 * half) * bins), 0, bins - 1).astype(np.uint8)


@numba.njit(cache=True)
def _dead_time_filter(clicks0, clicks1, dead_slots):
    """Bits from single-click slots whose detectors are both live (a click blinds its detector for
    ``dead_slots`` slots); ``-1`` marks a discarded slot."""
    n = clicks0.size
    out = np.full(n, -1, dtype=np.int8)
    live0 = 0
    live1 = 0
    for i in range(n):
        ready = i >= live0 and i >= live1
        c0 = clicks0[i] and i >= live0
        c1 = clicks1[i] and i >= live1
        if ready and c0 != c1:
            out[i] = 1 if c1 else 0
        if c0:
            live0 = i + 1 + dead_slots
        if c1:
            live1 = i + 1 + dead_slots
    return out


@dataclass(frozen=True)
class BeamSplitterSource:
    """Beam-splitter QRNG: pulses of ``mean_photons``, detector efficiencies ``eta`` and dark-count
    probabilities ``dark_probability`` per slot, dead time ``dead_slots`` slots; one bit per kept slot."""

    mean_photons: float = 0.1
    eta: tuple[float, float] = (0.6, 0.6)
    dark_probability: tuple[float, float] = (1e-6, 1e-6)
    dead_slots: int = 10

    @property
    def bits_per_sample(self) -> int:
        return 1

    def min_entropy_per_sample(self) -> float:
        return float(beam_splitter_min_entropy(self.mean_photons, eta=self.eta, dark_probability=self.dark_probability))

    def bits(self, rng: np.random.Generator, slots: int, quantum: bool, eta0_scale: float) -> np.ndarray:
        mu = self.mean_photons if quantum else 0.0
        eta0 = self.eta[0] * eta0_scale
        p0 = 1.0 - (1.0 - self.dark_probability[0]) * math.exp(-mu * 0.5 * eta0)
        p1 = 1.0 - (1.0 - self.dark_probability[1]) * math.exp(-mu * 0.5 * self.eta[1])
        out = _dead_time_filter(rng.random(slots) < p0, rng.random(slots) < p1, self.dead_slots)
        return out[out >= 0].astype(np.uint8)


Source = HomodyneSource | PhaseNoiseSource | BeamSplitterSource


def _check_faults(faults: Sequence[Fault], bits: int) -> None:
    for index, fault in enumerate(faults):
        if fault.start_sample < 0:
            raise ParameterError(f"faults[{index}].start_sample = {fault.start_sample}: must be >= 0")
        if fault.kind is FaultKind.STUCK_BIT and not 0 <= fault.bit < bits:
            raise ParameterError(f"faults[{index}].bit = {fault.bit}: must be in [0, {bits - 1}]")


def _apply_digital(samples: np.ndarray, first: int, faults: Sequence[Fault]) -> None:
    """Stuck values and bits on the samples numbered from ``first``."""
    index = first + np.arange(samples.size)
    for fault in faults:
        hit = index >= fault.start_sample
        if not hit.any():
            continue
        if fault.kind is FaultKind.STUCK_VALUE:
            samples[hit] = np.uint8(int(fault.value))
        elif fault.kind is FaultKind.STUCK_BIT:
            mask = np.uint8(1 << fault.bit)
            samples[hit] = (samples[hit] | mask) if fault.value else (samples[hit] & ~mask)


def emulate(
    source: Source,
    num_samples: int,
    rng: np.random.Generator,
    *,
    chunk_samples: int = 1 << 20,
    faults: Sequence[Fault] = (),
    drift_per_sample: float = 0.0,
) -> Iterator[np.ndarray]:
    """Chunks of raw samples (``uint8``) from ``source``, ``num_samples`` in all.

    ``drift_per_sample`` moves the classical offset linearly (in ADC half-ranges per sample;
    ignored by the beam splitter). For the beam splitter a sample is a kept bit.

    >>> chunks = list(emulate(HomodyneSource(), 10, np.random.default_rng(1), chunk_samples=4))
    >>> [c.size for c in chunks]
    [4, 4, 2]
    """
    if num_samples < 0 or chunk_samples <= 0:
        raise ParameterError(f"num_samples = {num_samples}, chunk_samples = {chunk_samples}: must be >= 0 and > 0")
    _check_faults(faults, source.bits_per_sample)
    done = 0
    while done < num_samples:
        size = min(chunk_samples, num_samples - done)
        index = done + np.arange(size)
        quantum = np.ones(size)
        offset = drift_per_sample * index.astype(float)
        for fault in faults:
            hit = index >= fault.start_sample
            if fault.kind is FaultKind.SIGNAL_LOSS:
                quantum[hit] = 0.0
            elif fault.kind is FaultKind.BIAS:
                offset = offset + np.where(hit, fault.value, 0.0)
        if isinstance(source, BeamSplitterSource):
            chunk = _beam_splitter_chunk(source, rng, done, size, faults)
        else:
            chunk = source.digitise(source.analog(rng, size, quantum, offset))
        _apply_digital(chunk, done, faults)
        done += size
        yield chunk


def _beam_splitter_chunk(
    source: BeamSplitterSource, rng: np.random.Generator, first: int, size: int, faults: Sequence[Fault]
) -> np.ndarray:
    """Kept bits ``first .. first + size``, in segments between the faults' start indices."""
    edges = sorted({first, first + size} | {f.start_sample for f in faults if first < f.start_sample < first + size})
    pieces = []
    for start, stop in zip(edges[:-1], edges[1:]):
        active = [f for f in faults if f.start_sample <= start]
        quantum = not any(f.kind is FaultKind.SIGNAL_LOSS for f in active)
        eta0_scale = 1.0
        for fault in active:
            if fault.kind is FaultKind.BIAS:
                eta0_scale *= max(0.0, 1.0 - fault.value)
        pieces.append(_beam_splitter_bits(source, rng, stop - start, quantum, eta0_scale))
    return np.concatenate(pieces)


def _beam_splitter_bits(
    source: BeamSplitterSource, rng: np.random.Generator, size: int, quantum: bool, eta0_scale: float
) -> np.ndarray:
    out = np.zeros(0, dtype=np.uint8)
    while out.size < size:
        slots = max(1024, int(1.3 * (size - out.size) / max(source.mean_photons * 0.3, 1e-6)))
        fresh = source.bits(rng, min(slots, 1 << 26), quantum, eta0_scale)
        if fresh.size == 0 and not quantum:
            fresh = np.zeros(size - out.size, dtype=np.uint8)  # no light and no dark counts: a dead output
        out = np.concatenate((out, fresh))
    return out[:size]


def write_samples(path: Path | str, chunks: Iterator[np.ndarray]) -> int:
    """Write chunks to a file, one byte per sample; returns the number of samples written."""
    file = Path(path)
    written = 0
    try:
        with file.open("wb") as handle:
            for chunk in chunks:
                handle.write(np.ascontiguousarray(chunk, dtype=np.uint8).tobytes())
                written += chunk.size
    except OSError as error:
        raise InputError(f"--out = {str(file)!r}: cannot write ({error.strerror or error})") from None
    return written
