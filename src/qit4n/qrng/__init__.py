"""Quantum random number generation: device models, emulation, SP 800-90B assessment, health tests, extraction.

:class:`QrngSource` (device, online health tests, extractor) and :class:`FileSource` implement
:class:`qit4n.randomness.RandomnessSource`, which the emulator, the post-processing pipeline and
the KME accept.

Layering: ``qrng`` sits above ``postprocess`` (its extractor reuses the GF(2)[x] product of
:mod:`qit4n.postprocess.gf2_polynomial`) and below ``emulate``; consumers above it (emulator,
KMS) draw from it, and ``postprocess`` receives QRNG seeds from its caller, never by importing it.
"""

from __future__ import annotations

from qit4n.qrng.assessment import (
    NonIidAssessment,
    RestartAssessment,
    assess_non_iid,
    assess_restarts,
    read_samples,
    to_bitstring,
)
from qit4n.qrng.devices import (
    beam_splitter_bit_probabilities,
    beam_splitter_min_entropy,
    homodyne_min_entropy,
    noise_ratio_to_sigmas,
    phase_noise_bin_probabilities,
    phase_noise_min_entropy,
)
from qit4n.qrng.emulation import (
    BeamSplitterSource,
    Fault,
    FaultKind,
    HomodyneSource,
    PhaseNoiseSource,
    Source,
    emulate,
    write_samples,
)
from qit4n.qrng.estimators import Estimate
from qit4n.qrng.extraction import ToeplitzExtractor, leftover_hash_output_bits, samples_to_packed_bits
from qit4n.qrng.health import (
    Alarm,
    HealthMonitor,
    adaptive_proportion_cutoff,
    apt_window,
    repetition_count_cutoff,
)
from qit4n.qrng.iid import IidAssessment, assess_iid
from qit4n.qrng.source import FileSource, QrngSource, open_source

__all__ = [
    "Alarm",
    "BeamSplitterSource",
    "Estimate",
    "Fault",
    "FaultKind",
    "FileSource",
    "HealthMonitor",
    "HomodyneSource",
    "IidAssessment",
    "NonIidAssessment",
    "PhaseNoiseSource",
    "QrngSource",
    "RestartAssessment",
    "Source",
    "ToeplitzExtractor",
    "adaptive_proportion_cutoff",
    "apt_window",
    "assess_iid",
    "assess_non_iid",
    "assess_restarts",
    "beam_splitter_bit_probabilities",
    "beam_splitter_min_entropy",
    "emulate",
    "homodyne_min_entropy",
    "leftover_hash_output_bits",
    "noise_ratio_to_sigmas",
    "open_source",
    "phase_noise_bin_probabilities",
    "phase_noise_min_entropy",
    "read_samples",
    "repetition_count_cutoff",
    "samples_to_packed_bits",
    "to_bitstring",
    "write_samples",
]
