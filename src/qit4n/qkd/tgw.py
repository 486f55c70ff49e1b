"""The TGW bound: squashed-entanglement bound on repeaterless key over a lossy channel (``tgw``).

Takeoka, Guha and Wilde 2014 bound the secret-key rate of any protocol over a pure-loss
channel by ``log2((1 + eta) / (1 - eta))`` bits per use, about ``2.88 eta`` for small ``eta``: twice
as loose as PLOB (:mod:`qit4n.qkd.plob`) at high loss, which later proved the tight value.

References
----------
Takeoka, M., Guha, S. and Wilde, M. M., Nat. Commun. 5, 5235 (2014), doi:10.1038/ncomms6235,
arXiv:1310.0129.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from qit4n.errors import ParameterError
from qit4n.qkd.base import ChannelParameters, ProtocolSpec, RateResult

__all__ = ["PROTOCOL", "TGWParameters", "key_rate", "tgw_bound"]


class TGWParameters(ChannelParameters):
    """The bound depends only on the transmittance: fibre attenuation and clock rate."""


def tgw_bound(eta: ArrayLike) -> np.ndarray:
    """``log2((1 + eta) / (1 - eta))`` bits per channel use; infinite at ``eta = 1``.

    >>> round(float(tgw_bound(0.5)), 6)
    1.584963
    """
    value = np.asarray(eta, dtype=float)
    if np.any((value < 0.0) | (value > 1.0)):
        raise ParameterError("eta_channel: must be within [0, 1]")
    with np.errstate(divide="ignore"):
        return (np.log1p(value) - np.log1p(-value)) / np.log(2.0)


def key_rate(eta_channel: np.ndarray, params: TGWParameters) -> RateResult:
    """The TGW bound at each channel transmittance (any shape)."""
    bound = tgw_bound(eta_channel)
    return RateResult(bound, bound * params.repetition_rate_hz, None, {})


PROTOCOL = ProtocolSpec(
    name="tgw",
    title="TGW repeaterless bound, log2((1 + eta) / (1 - eta))",
    parameters=TGWParameters,
    key_rate=key_rate,
    reference="Takeoka, Guha, Wilde, Nat. Commun. 5, 5235 (2014), doi:10.1038/ncomms6235",
    key_kind="bound",
)
