"""Physical constants and unit conversions shared by the physics modules (SI, CODATA 2018 exact values)."""

from __future__ import annotations

__all__ = [
    "BOLTZMANN_J_PER_K",
    "EARTH_EQUATORIAL_RADIUS_KM",
    "EARTH_GM_KM3_PER_S2",
    "EARTH_J2",
    "EARTH_RADIUS_KM",
    "EARTH_ROTATION_RAD_PER_S",
    "M_PER_KM",
    "M_PER_NM",
    "NEPERS_PER_DB",
    "PLANCK_J_S",
    "RAD_PER_URAD",
    "SPEED_OF_LIGHT_M_PER_S",
    "W_PER_MW",
]

#: Planck constant, J s (exact, SI 2019).
PLANCK_J_S = 6.626_070_15e-34
#: Speed of light in vacuum, m/s (exact).
SPEED_OF_LIGHT_M_PER_S = 299_792_458.0
#: Boltzmann constant, J/K (exact, SI 2019).
BOLTZMANN_J_PER_K = 1.380_649e-23

#: Mean Earth radius of a spherical Earth, km (IUGG mean radius R1 = 6371.0088 km, rounded).
EARTH_RADIUS_KM = 6371.0
#: Equatorial radius of WGS 84, km: the reference radius of the J2 coefficient.
EARTH_EQUATORIAL_RADIUS_KM = 6378.137
#: Geocentric gravitational constant, km^3/s^2 (WGS 84).
EARTH_GM_KM3_PER_S2 = 398_600.4418
#: Second zonal harmonic of the geopotential (WGS 84 / EGM96), dimensionless.
EARTH_J2 = 1.082_626_68e-3
#: Earth rotation rate relative to inertial space (sidereal), rad/s (WGS 84).
EARTH_ROTATION_RAD_PER_S = 7.292_115e-5

M_PER_KM = 1e3
M_PER_NM = 1e-9
RAD_PER_URAD = 1e-6
W_PER_MW = 1e-3
#: Conversion of an attenuation in dB to nepers of power: alpha[1/km] = NEPERS_PER_DB * loss[dB/km].
NEPERS_PER_DB = 0.230_258_509_299_404_57
