"""Low-Earth-orbit downlinks: slant range, link loss over a pass, and pass windows.

The Earth is a sphere of radius ``EARTH_RADIUS_KM``. The satellite flies a circular orbit of
the given altitude, inclination, right ascension of the ascending node (RAAN) and initial
argument of latitude; its plane precesses by the J2 secular rate
``dRAAN/dt = -3/2 n J2 (R_eq / a)^2 cos i`` when ``include_j2`` is set [1]_. The ground station
turns with the Earth at the sidereal rate; at ``t = 0`` the inertial x axis points at the
Greenwich meridian, so ``raan_deg`` is measured from Greenwich at the start of the time axis.
The elevation is the angle of the line of sight above the station's local horizontal (the plane
normal to the geocentric radius), and the slant range the length of that line [1]_.

The link loss of a downlink at elevation ``el`` combines diffraction and pointing jitter over
the slant range, the atmosphere's ``T0^(1/sin el)`` and the optics efficiencies
(:mod:`qit4n.physics.freespace`).

References
----------
.. [1] D. A. Vallado, Fundamentals of Astrodynamics and Applications, 4th ed., Microcosm Press
   (2013), sections 3.3 (site coordinates), 9.6 (J2 secular rates), 11.2 (look angles).
.. [2] S.-K. Liao et al., "Satellite-to-ground quantum key distribution", Nature 549, 43 (2017),
   doi:10.1038/nature23655, arXiv:1707.00542.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

import numpy as np
from numpy.typing import ArrayLike

from qit4n.errors import ParameterError
from qit4n.physics.constants import (
    EARTH_EQUATORIAL_RADIUS_KM,
    EARTH_GM_KM3_PER_S2,
    EARTH_J2,
    EARTH_RADIUS_KM,
    EARTH_ROTATION_RAD_PER_S,
    M_PER_KM,
)
from qit4n.physics.fibre import loss_db_from_transmittance
from qit4n.physics.freespace import (
    SatelliteOptics,
    collection_efficiency,
    slant_atmospheric_transmittance,
    validate_optics,
)

__all__ = [
    "LinkLossPoints",
    "PassGeometry",
    "elevation_from_slant_range_deg",
    "micius_link_loss_points",
    "micius_optics",
    "orbital_period_s",
    "pass_geometry",
    "pass_windows",
    "raan_drift_deg_per_day",
    "satellite_link_loss_db",
    "satellite_link_transmittance",
    "slant_range_km",
]


_SECONDS_PER_DAY = 86_400.0


@dataclass(frozen=True)
class PassGeometry:
    """Look angles and link loss at each time of a satellite's motion (arrays of one shape).

    ``loss_db`` is infinite where the satellite is below the horizon; ``visible`` marks the times
    at or above the optics' ``min_elevation_deg``.
    """

    elevation_deg: np.ndarray
    slant_range_km: np.ndarray
    loss_db: np.ndarray
    visible: np.ndarray


def _check_altitudes(altitude_km: np.ndarray, ground_altitude_m: np.ndarray) -> None:
    if np.any(altitude_km * M_PER_KM <= ground_altitude_m):
        raise ParameterError("altitude_km: must be above the ground station (ground_altitude_m)")


def slant_range_km(elevation_deg: ArrayLike, altitude_km: ArrayLike, ground_altitude_m: ArrayLike = 0.0) -> np.ndarray:
    """Distance from a ground station to a satellite seen at ``elevation_deg``, km.

    ``d = sqrt(r_g^2 sin^2(el) + r_s^2 - r_g^2) - r_g sin(el)`` with ``r_g = R + h_g`` and
    ``r_s = R + h_s`` (law of cosines in the triangle Earth centre, station, satellite).

    >>> float(slant_range_km(90.0, 500.0))
    500.0
    >>> round(float(slant_range_km(0.0, 500.0)), 1)
    2573.1
    """
    elevation = np.radians(np.asarray(elevation_deg, dtype=float))
    altitude = np.asarray(altitude_km, dtype=float)
    ground = np.asarray(ground_altitude_m, dtype=float)
    _check_altitudes(altitude, ground)
    r_ground = EARTH_RADIUS_KM + ground / M_PER_KM
    r_sat = EARTH_RADIUS_KM + altitude
    sine = np.sin(elevation)
    return np.sqrt((r_ground * sine) ** 2 + r_sat**2 - r_ground**2) - r_ground * sine


def elevation_from_slant_range_deg(
    slant_range_km: ArrayLike, altitude_km: ArrayLike, ground_altitude_m: ArrayLike = 0.0
) -> np.ndarray:
    """Elevation (degrees) at which a satellite of ``altitude_km`` is ``slant_range_km`` away.

    Inverse of :func:`slant_range_km`: ``sin(el) = (r_s^2 - r_g^2 - d^2) / (2 r_g d)``.

    >>> round(float(elevation_from_slant_range_deg(slant_range_km(35.0, 500.0), 500.0)), 9)
    35.0
    """
    distance = np.asarray(slant_range_km, dtype=float)
    altitude = np.asarray(altitude_km, dtype=float)
    ground = np.asarray(ground_altitude_m, dtype=float)
    _check_altitudes(altitude, ground)
    r_ground = EARTH_RADIUS_KM + ground / M_PER_KM
    r_sat = EARTH_RADIUS_KM + altitude
    sine = (r_sat**2 - r_ground**2 - distance**2) / (2.0 * r_ground * distance)
    if np.any(np.abs(sine) > 1.0):
        raise ParameterError(
            "slant_range_km: out of the range the satellite can be seen at (altitude to the horizon distance)"
        )
    return np.degrees(np.arcsin(sine))


def orbital_period_s(altitude_km: ArrayLike) -> np.ndarray:
    """Period ``2 pi sqrt(a^3 / GM)`` of a circular orbit at ``altitude_km``, s.

    >>> round(float(orbital_period_s(500.0)) / 60.0, 2)
    94.47
    """
    semi_major_km = EARTH_RADIUS_KM + np.asarray(altitude_km, dtype=float)
    return 2.0 * np.pi * np.sqrt(semi_major_km**3 / EARTH_GM_KM3_PER_S2)


def _raan_rate_rad_per_s(altitude_km: ArrayLike, inclination_deg: ArrayLike) -> np.ndarray:
    semi_major_km = EARTH_RADIUS_KM + np.asarray(altitude_km, dtype=float)
    mean_motion = np.sqrt(EARTH_GM_KM3_PER_S2 / semi_major_km**3)
    inclination = np.radians(np.asarray(inclination_deg, dtype=float))
    return -1.5 * mean_motion * EARTH_J2 * (EARTH_EQUATORIAL_RADIUS_KM / semi_major_km) ** 2 * np.cos(inclination)


def raan_drift_deg_per_day(altitude_km: ArrayLike, inclination_deg: ArrayLike) -> np.ndarray:
    """J2 secular drift of the ascending node of a circular orbit, degrees per (solar) day [1]_.

    About +0.9856 degrees/day (one turn a year) for a sun-synchronous orbit.

    >>> round(float(raan_drift_deg_per_day(500.0, 97.4)), 3)
    0.989
    """
    return np.degrees(_raan_rate_rad_per_s(altitude_km, inclination_deg)) * _SECONDS_PER_DAY


def satellite_link_transmittance(
    optics: SatelliteOptics, elevation_deg: ArrayLike, *, ground_altitude_m: float = 0.0
) -> np.ndarray:
    """Downlink transmittance at ``elevation_deg`` (detector efficiency excluded); 0 below the horizon.

    Transmitter efficiency x collection (diffraction and pointing over the slant range) x
    atmosphere ``T0^(1/sin el)`` x receiver efficiency.
    """
    elevation = np.asarray(elevation_deg, dtype=float)
    distance_km = slant_range_km(np.where(elevation > 0.0, elevation, 90.0), optics.altitude_km, ground_altitude_m)
    return _downlink_transmittance(optics, elevation, distance_km)


def _downlink_transmittance(optics: SatelliteOptics, elevation_deg: np.ndarray, distance_km: np.ndarray) -> np.ndarray:
    collected = collection_efficiency(optics, distance_km)
    air = slant_atmospheric_transmittance(elevation_deg, optics.zenith_transmittance)
    eta = optics.transmitter_efficiency * collected * air * optics.receiver_efficiency
    return np.where(elevation_deg > 0.0, eta, 0.0)


def satellite_link_loss_db(
    optics: SatelliteOptics, elevation_deg: ArrayLike, *, ground_altitude_m: float = 0.0
) -> np.ndarray:
    """Downlink loss in dB at ``elevation_deg`` (diffraction + pointing + atmosphere + optics).

    Infinite at or below the horizon; decreasing in elevation.

    >>> optics = SatelliteOptics(altitude_km=500.0, beam_divergence_urad=5.0, receiver_aperture_m=1.0)
    >>> bool(satellite_link_loss_db(optics, 20.0) > satellite_link_loss_db(optics, 60.0))
    True
    """
    return loss_db_from_transmittance(
        satellite_link_transmittance(optics, elevation_deg, ground_altitude_m=ground_altitude_m)
    )


def _satellite_position_km(optics: SatelliteOptics, time_s: np.ndarray) -> np.ndarray:
    """Inertial position of the satellite, shape ``time_s.shape + (3,)``, km."""
    semi_major_km = EARTH_RADIUS_KM + optics.altitude_km
    mean_motion = np.sqrt(EARTH_GM_KM3_PER_S2 / semi_major_km**3)
    inclination = np.radians(optics.inclination_deg)
    raan_rate = float(_raan_rate_rad_per_s(optics.altitude_km, optics.inclination_deg)) if optics.include_j2 else 0.0
    raan = np.radians(optics.raan_deg) + raan_rate * time_s
    latitude_argument = np.radians(optics.phase_deg) + mean_motion * time_s
    cos_u, sin_u = np.cos(latitude_argument), np.sin(latitude_argument)
    cos_raan, sin_raan = np.cos(raan), np.sin(raan)
    return semi_major_km * np.stack(
        (
            cos_raan * cos_u - sin_raan * sin_u * np.cos(inclination),
            sin_raan * cos_u + cos_raan * sin_u * np.cos(inclination),
            sin_u * np.sin(inclination),
        ),
        axis=-1,
    )


def _station_position_km(
    latitude_deg: float, longitude_deg: float, altitude_m: float, time_s: np.ndarray
) -> np.ndarray:
    """Inertial position of a ground station on the rotating spherical Earth, shape ``time_s.shape + (3,)``, km."""
    radius_km = EARTH_RADIUS_KM + altitude_m / M_PER_KM
    latitude = np.radians(latitude_deg)
    longitude = np.radians(longitude_deg) + EARTH_ROTATION_RAD_PER_S * time_s
    return radius_km * np.stack(
        (
            np.cos(latitude) * np.cos(longitude),
            np.cos(latitude) * np.sin(longitude),
            np.full_like(longitude, np.sin(latitude)),
        ),
        axis=-1,
    )


def _check_station(latitude_deg: float, longitude_deg: float, altitude_m: float) -> None:
    if not -90.0 <= latitude_deg <= 90.0:
        raise ParameterError(f"ground_latitude_deg = {latitude_deg:g}: must be in [-90, 90]")
    if not -180.0 <= longitude_deg <= 360.0:
        raise ParameterError(f"ground_longitude_deg = {longitude_deg:g}: must be in [-180, 360]")
    if not -500.0 <= altitude_m <= 10_000.0:
        raise ParameterError(f"ground_altitude_m = {altitude_m:g}: must be in [-500, 10000]")


def _look_angles(
    optics: SatelliteOptics, latitude_deg: float, longitude_deg: float, altitude_m: float, time_s: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    station = _station_position_km(latitude_deg, longitude_deg, altitude_m, time_s)
    line_of_sight = _satellite_position_km(optics, time_s) - station
    distance = np.linalg.norm(line_of_sight, axis=-1)
    up = station / np.linalg.norm(station, axis=-1, keepdims=True)
    sine = np.sum(line_of_sight * up, axis=-1) / distance
    return np.degrees(np.arcsin(np.clip(sine, -1.0, 1.0))), distance


def pass_geometry(
    optics: SatelliteOptics,
    ground_latitude_deg: float,
    ground_longitude_deg: float,
    ground_altitude_m: float,
    time_s: ArrayLike,
) -> PassGeometry:
    """Elevation, slant range, downlink loss and visibility of the satellite at each ``time_s``.

    Parameters
    ----------
    optics : SatelliteOptics
        Downlink optics and circular orbit.
    ground_latitude_deg, ground_longitude_deg : float
        Geocentric latitude and east longitude of the ground station, degrees.
    ground_altitude_m : float
        Height of the station above the spherical Earth, m.
    time_s : array_like
        Seconds from the epoch of the orbit (any shape).

    Returns
    -------
    PassGeometry
        Arrays of the shape of ``time_s``.

    >>> optics = SatelliteOptics(inclination_deg=0.0, phase_deg=0.0, include_j2=False)
    >>> geometry = pass_geometry(optics, 0.0, 0.0, 0.0, [0.0])
    >>> round(float(geometry.elevation_deg[0]), 6), round(float(geometry.slant_range_km[0]), 6)
    (90.0, 500.0)
    """
    _check_station(ground_latitude_deg, ground_longitude_deg, ground_altitude_m)
    times = np.asarray(time_s, dtype=float)
    elevation, distance = _look_angles(optics, ground_latitude_deg, ground_longitude_deg, ground_altitude_m, times)
    return PassGeometry(
        elevation_deg=elevation,
        slant_range_km=distance,
        loss_db=loss_db_from_transmittance(_downlink_transmittance(optics, elevation, distance)),
        visible=elevation >= optics.min_elevation_deg,
    )


def pass_windows(
    optics: SatelliteOptics,
    ground_latitude_deg: float,
    ground_longitude_deg: float,
    ground_altitude_m: float,
    start_s: float,
    duration_s: float,
    *,
    step_s: float = 10.0,
) -> list[tuple[float, float]]:
    """Start and end (s) of each interval in ``[start_s, start_s + duration_s]`` above ``min_elevation_deg``.

    The elevation is sampled every ``step_s`` seconds and each crossing of the minimum elevation is
    refined to 1 ms by root finding, so passes shorter than ``step_s`` may be missed. An interval
    cut by the ends of the time range starts or ends there.

    >>> optics = SatelliteOptics(altitude_km=500.0, inclination_deg=0.0, include_j2=False, min_elevation_deg=10.0)
    >>> windows = pass_windows(optics, 0.0, 0.0, 0.0, 0.0, 86400.0)
    >>> len(windows) > 10
    True
    """
    from scipy.optimize import brentq

    if not duration_s > 0.0:
        raise ParameterError(f"duration_s = {duration_s:g}: must be > 0")
    if not step_s > 0.0:
        raise ParameterError(f"step_s = {step_s:g}: must be > 0")
    _check_station(ground_latitude_deg, ground_longitude_deg, ground_altitude_m)
    end_s = start_s + duration_s
    times = np.append(np.arange(start_s, end_s, step_s), end_s)

    def margin_deg(t: float) -> float:
        elevation, _ = _look_angles(
            optics, ground_latitude_deg, ground_longitude_deg, ground_altitude_m, np.asarray([t])
        )
        return float(elevation[0]) - optics.min_elevation_deg

    elevation, _ = _look_angles(optics, ground_latitude_deg, ground_longitude_deg, ground_altitude_m, times)
    above = elevation >= optics.min_elevation_deg
    windows: list[tuple[float, float]] = []
    opened = float(start_s) if above[0] else None
    for index in np.flatnonzero(above[1:] != above[:-1]):
        crossing = float(brentq(margin_deg, times[index], times[index + 1], xtol=1e-3))
        if above[index + 1]:
            opened = crossing
        elif opened is not None:
            windows.append((opened, crossing))
            opened = None
    if opened is not None:
        windows.append((opened, float(end_s)))
    return windows


def _micius_document() -> dict[str, object]:
    import yaml

    text = resources.files("qit4n.physics").joinpath("data/micius_optics.yaml").read_text(encoding="utf-8")
    document = yaml.safe_load(text)
    if not isinstance(document, dict):
        raise ParameterError("micius_optics.yaml: must be a mapping")
    return document


def micius_optics() -> SatelliteOptics:
    """The Micius downlink of [2]_ (``physics/data/micius_optics.yaml``, values and sources inside).

    Its receiver efficiency and zenith transmittance are the least-squares fit of this module's
    link model to :func:`micius_link_loss_points`.

    >>> micius_optics().receiver_aperture_m, micius_optics().receiver_efficiency
    (1.0, 0.06)
    """
    optics = _micius_document()["optics"]
    if not isinstance(optics, dict):
        raise ParameterError("micius_optics.yaml:optics: must be a mapping")
    model = validate_optics(optics, "satellite", "micius_optics.yaml:optics")
    if not isinstance(model, SatelliteOptics):
        raise ParameterError("micius_optics.yaml:optics: must describe a satellite link")
    return model


@dataclass(frozen=True)
class LinkLossPoints:
    """Published link loss at given slant ranges (arrays of one shape), with their source."""

    slant_range_km: np.ndarray
    loss_db: np.ndarray
    source: str


def micius_link_loss_points() -> LinkLossPoints:
    """Link loss of the Micius downlink against slant range, detectors excluded: Liao et al.'s
    measured curve [2]_ as digitised by the Baidu QNET team (13 points, 645 to 1190 km).

    >>> points = micius_link_loss_points()
    >>> float(points.slant_range_km[0]), float(points.loss_db[0])
    (645.0, 29.754)
    """
    curve = _micius_document()["digitised_link_loss"]
    if not isinstance(curve, dict):
        raise ParameterError("micius_optics.yaml:digitised_link_loss: must be a mapping")
    return LinkLossPoints(
        np.asarray(curve["slant_range_km"], dtype=float),
        np.asarray(curve["loss_db"], dtype=float),
        str(curve["source"]),
    )
