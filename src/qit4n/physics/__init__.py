"""Channel and device physics: pure numpy functions of arrays.

Fibre, Raman noise, free space, satellites, detectors, sources.
"""

from qit4n.physics.detector import (
    dark_count_probability,
    dead_time_click_rate_hz,
    detection_probability,
    error_probability,
    quantum_bit_error_rate,
)
from qit4n.physics.fibre import (
    DEFAULT_FIBRE_LOSS_DB_PER_KM,
    fibre_loss_db,
    fibre_transmittance,
    loss_db_from_transmittance,
    transmittance_from_loss_db,
)
from qit4n.physics.freespace import (
    FreeSpaceOptics,
    SatelliteOptics,
    free_space_loss_db,
    free_space_transmittance,
    validate_optics,
)
from qit4n.physics.raman import (
    dark_count_with_noise_probability,
    raman_noise_probability,
    raman_scattering_coefficient,
)
from qit4n.physics.satellite import (
    LinkLossPoints,
    PassGeometry,
    micius_link_loss_points,
    micius_optics,
    pass_geometry,
    pass_windows,
    satellite_link_loss_db,
    satellite_link_transmittance,
    slant_range_km,
)
from qit4n.physics.source import poisson_photon_probability, thermal_photon_probability

__all__ = [
    "DEFAULT_FIBRE_LOSS_DB_PER_KM",
    "FreeSpaceOptics",
    "LinkLossPoints",
    "PassGeometry",
    "SatelliteOptics",
    "dark_count_probability",
    "dark_count_with_noise_probability",
    "dead_time_click_rate_hz",
    "detection_probability",
    "error_probability",
    "fibre_loss_db",
    "fibre_transmittance",
    "free_space_loss_db",
    "free_space_transmittance",
    "loss_db_from_transmittance",
    "micius_link_loss_points",
    "micius_optics",
    "pass_geometry",
    "pass_windows",
    "poisson_photon_probability",
    "quantum_bit_error_rate",
    "raman_noise_probability",
    "raman_scattering_coefficient",
    "satellite_link_loss_db",
    "satellite_link_transmittance",
    "slant_range_km",
    "thermal_photon_probability",
    "transmittance_from_loss_db",
    "validate_optics",
]
