"""Fibre attenuation: loss in dB and transmittance of single-mode fibre."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

__all__ = [
    "DEFAULT_FIBRE_LOSS_DB_PER_KM",
    "fibre_loss_db",
    "fibre_transmittance",
    "loss_db_from_transmittance",
    "transmittance_from_loss_db",
]

#: Attenuation of standard single-mode fibre at 1550 nm (ITU-T G.652), dB/km.
DEFAULT_FIBRE_LOSS_DB_PER_KM = 0.2


def fibre_loss_db(length_km: ArrayLike, loss_db_per_km: ArrayLike = DEFAULT_FIBRE_LOSS_DB_PER_KM) -> np.ndarray:
    """Total attenuation of a fibre span in dB.

    >>> float(fibre_loss_db(50.0))
    10.0
    """
    return np.asarray(length_km, dtype=float) * np.asarray(loss_db_per_km, dtype=float)


def transmittance_from_loss_db(loss_db: ArrayLike) -> np.ndarray:
    """Transmittance eta = 10^(-loss_db / 10) in [0, 1].

    >>> float(transmittance_from_loss_db(10.0))
    0.1
    """
    return np.power(10.0, -np.asarray(loss_db, dtype=float) / 10.0)


def loss_db_from_transmittance(eta: ArrayLike) -> np.ndarray:
    """Loss in dB of a channel with transmittance ``eta``; infinite at ``eta = 0``."""
    with np.errstate(divide="ignore"):
        return -10.0 * np.log10(np.asarray(eta, dtype=float))


def fibre_transmittance(length_km: ArrayLike, loss_db_per_km: ArrayLike = DEFAULT_FIBRE_LOSS_DB_PER_KM) -> np.ndarray:
    """Transmittance of a fibre of ``length_km`` with attenuation ``loss_db_per_km``.

    >>> round(float(fibre_transmittance(100.0, 0.2)), 6)
    0.01
    """
    return transmittance_from_loss_db(fibre_loss_db(length_km, loss_db_per_km))
