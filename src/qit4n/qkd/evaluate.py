"""Key rate along fibre distance: the bridge from ``length_km`` to the channel transmittance the models take."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from qit4n.physics.fibre import fibre_transmittance
from qit4n.qkd.base import ChannelParameters, ProtocolSpec, RateResult

__all__ = ["key_rate_at_distance"]


def key_rate_at_distance(spec: ProtocolSpec, params: ChannelParameters, length_km: ArrayLike) -> RateResult:
    """Evaluate ``spec`` over fibre lengths, with the attenuation ``params.loss_db_per_km``.

    The transmittance excludes the receiver's detector efficiency, which is a device parameter.
    """
    eta_channel = fibre_transmittance(np.asarray(length_km, dtype=float), params.loss_db_per_km)
    return spec.evaluate(eta_channel, params)
