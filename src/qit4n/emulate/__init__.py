"""Monte Carlo QKD links: detection records and raw keys from physics parameters.

:func:`emulate_bb84` draws, pulse by pulse, Alice's intensity, basis and bit and Bob's detections
(Poisson photon numbers, loss, detector efficiency, dark counts and extra noise, misalignment,
double clicks, dead time); :func:`link_settings` builds its settings from the parameters of a
BB84-family key-rate model. :func:`emulate_bbm92` draws, slot by slot, the clicks of both
receivers of an entangled-pair (PDC) source on the link. Key lengths are decided by
:mod:`qit4n.postprocess`. :func:`run_link` plays a link end to end through the emulator that
:data:`EMULATORS` holds for the protocol (:mod:`qit4n.emulate.emulator` describes the interface).
Through :func:`run_link` the records stream: :class:`DecoyStream` draws only the slots where a
detector can click, :class:`EntangledStream` runs the BBM92 emulation block by block, and the
distillation consumes them chunk by chunk, so memory follows the detections, not the pulses.
"""

from qit4n.emulate.bb84 import BASIS_X, BASIS_Z, AliceRecords, BobRecords, LinkRecords, emulate_bb84
from qit4n.emulate.decoy_link import LinkRun, analytic_finite_rate
from qit4n.emulate.decoy_stream import BLOCK_PULSES, DecoyChunk, DecoyStream
from qit4n.emulate.emulator import EMULATORS, EmulatedRun, Emulator, LinkRequest
from qit4n.emulate.entangled_link import EntangledDistillResult, EntangledLinkRun, distill_entangled
from qit4n.emulate.entangled_pairs import (
    CoincidenceStatistics,
    DetectionRecords,
    EntangledLinkSettings,
    EntangledRecords,
    coincidence_statistics,
    emulate_bbm92,
    entangled_link_settings,
)
from qit4n.emulate.entangled_stream import EntangledStream
from qit4n.emulate.run import run_link
from qit4n.emulate.settings import LinkSettings, link_settings
from qit4n.emulate.statistics import (
    IntensityStatistics,
    StatisticsTally,
    expected_statistics,
    observed_statistics,
)

__all__ = [
    "BASIS_X",
    "BASIS_Z",
    "BLOCK_PULSES",
    "EMULATORS",
    "AliceRecords",
    "BobRecords",
    "CoincidenceStatistics",
    "DecoyChunk",
    "DecoyStream",
    "DetectionRecords",
    "EmulatedRun",
    "Emulator",
    "EntangledDistillResult",
    "EntangledLinkRun",
    "EntangledLinkSettings",
    "EntangledRecords",
    "EntangledStream",
    "IntensityStatistics",
    "LinkRecords",
    "LinkRequest",
    "LinkRun",
    "LinkSettings",
    "StatisticsTally",
    "analytic_finite_rate",
    "coincidence_statistics",
    "distill_entangled",
    "emulate_bb84",
    "emulate_bbm92",
    "entangled_link_settings",
    "expected_statistics",
    "link_settings",
    "observed_statistics",
    "run_link",
]
