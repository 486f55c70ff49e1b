"""Monte Carlo QKD links: detection records and raw keys from physics parameters.

:func:`emulate_bb84` draws, pulse by pulse, Alice's intensity, basis and bit and Bob's detections
(Poisson photon numbers, loss, detector efficiency, dark counts and extra noise, misalignment,
double clicks, dead time); :func:`link_settings` builds its settings from the parameters of a
BB84-family key-rate model. Key lengths are decided by :mod:`qit4n.postprocess`.
"""

from qit4n.emulate.bb84 import BASIS_X, BASIS_Z, AliceRecords, BobRecords, LinkRecords, emulate_bb84
from qit4n.emulate.settings import LinkSettings, link_settings
from qit4n.emulate.run import EMULATED_PROTOCOLS, LinkRun, analytic_finite_rate, run_link
from qit4n.emulate.statistics import IntensityStatistics, expected_statistics, observed_statistics

__all__ = [
    "BASIS_X",
    "BASIS_Z",
    "AliceRecords",
    "BobRecords",
    "LinkRecords",
    "emulate_bb84",
    "LinkSettings",
    "link_settings",
    "IntensityStatistics",
    "observed_statistics",
    "expected_statistics",
    "EMULATED_PROTOCOLS",
    "LinkRun",
    "run_link",
    "analytic_finite_rate",
]
