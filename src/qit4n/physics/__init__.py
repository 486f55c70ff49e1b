"""Channel and device physics: pure numpy functions of arrays (fibre, Raman noise, free space, satellites, detectors, sources)."""

from qit4n.physics.fibre import DEFAULT_FIBRE_LOSS_DB_PER_KM, fibre_loss_db, fibre_transmittance, transmittance_from_loss_db, loss_db_from_transmittance

__all__ = [
    "DEFAULT_FIBRE_LOSS_DB_PER_KM",
    "fibre_loss_db",
    "fibre_transmittance",
    "transmittance_from_loss_db",
    "loss_db_from_transmittance",
]
