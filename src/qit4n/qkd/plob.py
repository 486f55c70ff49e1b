"""The PLOB bound: secret-key capacity of the pure-loss channel (``plob``).

No point-to-point protocol without repeaters can distil more than ``-log2(1 - eta)`` secret bits
per use of a lossy channel of transmittance ``eta`` (Pirandola, Laurenza, Ottaviani and Banchi
2017); for small ``eta`` this is about ``1.44 eta``. ``key_rate_per_pulse`` is the bound per
channel use, ``key_rate_bps`` that times the clock; ``qber`` is ``None``. Apply it to the end-to-end
transmittance (channel times detector efficiency) when comparing with a protocol.

References
----------
Pirandola, S., Laurenza, R., Ottaviani, C. and Banchi, L., Nat. Commun. 8, 15043 (2017),
doi:10.1038/ncomms15043, arXiv:1510.08863.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from qit4n.errors import ParameterError
from qit4n.qkd.base import ChannelParameters, ProtocolSpec, RateResult

__all__ = ["PROTOCOL", "PLOBParameters", "key_rate", "plob_bound"]


class PLOBParameters(ChannelParameters):
    """The bound depends only on the transmittance: fibre attenuation and clock rate."""


def plob_bound(eta: ArrayLike) -> np.ndarray:
    """``-log2(1 - eta)`` bits per channel use; infinite at ``eta = 1``.

    >>> float(plob_bound(0.5))
    1.0
    """
    value = np.asarray(eta, dtype=float)
    if np.any((value < 0.0) | (value > 1.0)):
        raise ParameterError("eta_channel: must be within [0, 1]")
    with np.errstate(divide="ignore"):
        return -np.log1p(-value) / np.log(2.0)


def key_rate(eta_channel: np.ndarray, params: PLOBParameters) -> RateResult:
    """The PLOB bound at each channel transmittance (any shape)."""
    bound = plob_bound(eta_channel)
    return RateResult(bound, bound * params.repetition_rate_hz, None, {})


PROTOCOL = ProtocolSpec(
    name="plob",
    title="PLOB repeaterless bound, -log2(1 - eta)",
    parameters=PLOBParameters,
    key_rate=key_rate,
    reference="Pirandola, Laurenza, Ottaviani, Banchi, Nat. Commun. 8, 15043 (2017), doi:10.1038/ncomms15043",
    key_kind="bound",
)
