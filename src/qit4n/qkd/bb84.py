"""BB84 with an ideal single-photon source, asymptotic key rate (``bb84``).

Each pulse carries exactly one photon, so every detection is a single-photon event and no decoy
states are needed. With the receiver model of :mod:`qit4n.qkd._bb84_channel` (``mu`` replaced by
one photon) the gain and QBER are ``Q = Y1`` and ``E = e1`` and the Shor-Preskill rate with an
error-correction inefficiency ``f_EC`` is::

    R = q Q [1 - h2(E) - f_EC h2(E)],   q = 1/2.

References
----------
Shor, P. W. and Preskill, J., Phys. Rev. Lett. 85, 441 (2000), doi:10.1103/PhysRevLett.85.441.
Lo, H.-K., Ma, X. and Chen, K., Phys. Rev. Lett. 94, 230504 (2005), doi:10.1103/PhysRevLett.94.230504.
"""

from __future__ import annotations

import numpy as np

from qit4n.maths import binary_entropy
from qit4n.qkd._bb84_channel import BB84Parameters, key_rate_bps
from qit4n.qkd.base import ProtocolSpec, RateResult
from qit4n.qkd.decoy_infinite import single_photon_terms

__all__ = ["PROTOCOL", "SinglePhotonParameters", "key_rate"]

SIFTING_FACTOR = 0.5


class SinglePhotonParameters(BB84Parameters):
    """BB84 with a perfect single-photon source: only the shared receiver model."""


def key_rate(eta_channel: np.ndarray, params: SinglePhotonParameters) -> RateResult:
    """Single-photon BB84 key rate per pulse at each channel transmittance (any shape).

    >>> from qit4n.qkd import make_parameters
    >>> result = key_rate(np.array([1.0, 0.0]), make_parameters("bb84"))
    >>> [round(float(r), 4) for r in result.key_rate_per_pulse]
    [0.0451, 0.0]
    """
    eta = np.asarray(eta_channel, dtype=float) * params.eta_detector
    gain, qber = single_photon_terms(eta, params)
    entropy = binary_entropy(qber)
    rate = np.maximum(SIFTING_FACTOR * gain * (1.0 - entropy - params.error_correction_efficiency * entropy), 0.0)
    return RateResult(rate, key_rate_bps(rate, gain, params), qber, {"gain": gain})


PROTOCOL = ProtocolSpec(
    name="bb84",
    title="BB84, ideal single-photon source (asymptotic)",
    parameters=SinglePhotonParameters,
    key_rate=key_rate,
    reference="Shor, Preskill, Phys. Rev. Lett. 85, 441 (2000), doi:10.1103/PhysRevLett.85.441",
)
