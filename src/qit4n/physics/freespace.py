"""Free-space optical channels: Gaussian-beam diffraction, pointing jitter, atmosphere, receiver optics.

A transmitter of aperture ``D_t`` sends a Gaussian beam of waist ``w0 = D_t / 2`` (1/e^2
intensity radius) and far-field half-angle divergence ``theta = lambda / (pi w0)`` at the
diffraction limit, or a given larger ``theta`` (a beam of quality M^2 > 1, or one defocused on
purpose). At distance ``z`` its radius is ``w(z) = sqrt(w0^2 + (theta z)^2)`` [1]_. A receiver
aperture of radius ``a`` centred on the beam collects ``1 - exp(-2 a^2 / w^2)`` of the power.
A random pointing error with rms angle ``sigma`` per axis displaces the beam by a 2-D Gaussian
offset; the mean collected fraction is then exactly that of a Gaussian beam of radius
``sqrt(w^2 + 4 sigma^2 z^2)`` (the mean intensity is the beam convolved with the jitter).

Horizontal links lose ``atmospheric_attenuation_db_per_km`` per km of air (see
:func:`kim_attenuation_db_per_km` for the value from the visibility [2]_). Slant paths to a
satellite see the zenith transmittance raised to the air mass ``1 / sin(elevation)``, the
plane-parallel model used for satellite QKD link budgets [3]_ (accurate above about 20 degrees).
Turbulence-induced beam wander and scintillation are not modelled; include their mean loss in
``receiver_efficiency`` where they matter.

References
----------
.. [1] A. E. Siegman, Lasers, University Science Books (1986), ch. 17 (Gaussian beams).
.. [2] I. I. Kim, B. McArthur, E. Korevaar, "Comparison of laser beam propagation at 785 nm and
   1550 nm in fog and haze for optical wireless communications", Proc. SPIE 4214, 26 (2001),
   doi:10.1117/12.417512.
.. [3] J.-P. Bourgoin et al., "A comprehensive design and performance analysis of low Earth orbit
   satellite quantum communication", New J. Phys. 15, 023006 (2013),
   doi:10.1088/1367-2630/15/2/023006.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from pydantic import Field, model_validator

from qit4n.errors import ParameterError
from qit4n.physics.constants import M_PER_KM, M_PER_NM, RAD_PER_URAD
from qit4n.physics.fibre import loss_db_from_transmittance, transmittance_from_loss_db
from qit4n.schema import StrictModel, validate_parameters

__all__ = [
    "BeamOptics",
    "FreeSpaceOptics",
    "SatelliteOptics",
    "air_mass",
    "beam_radius_m",
    "collection_efficiency",
    "diffraction_divergence_urad",
    "free_space_loss_db",
    "free_space_transmittance",
    "kim_attenuation_db_per_km",
    "slant_atmospheric_transmittance",
    "validate_optics",
]


class BeamOptics(StrictModel):
    """Transmitter, beam and receiver of an optical link (fields shared by both kinds of link)."""

    wavelength_nm: float = Field(850.0, ge=300.0, le=2000.0, description="wavelength of the quantum signal, nm")
    transmitter_aperture_m: float = Field(0.1, gt=0.0, le=10.0, description="diameter of the transmit telescope, m")
    receiver_aperture_m: float = Field(0.3, gt=0.0, le=50.0, description="diameter of the receive telescope, m")
    beam_divergence_urad: float | None = Field(
        None,
        gt=0.0,
        le=1e5,
        description=(
            "far-field half-angle divergence at the 1/e^2 radius, urad; default: diffraction limit of the transmitter"
        ),
    )
    pointing_error_urad: float = Field(0.0, ge=0.0, le=1e4, description="rms pointing jitter per axis, urad")
    transmitter_efficiency: float = Field(1.0, gt=0.0, le=1.0, description="transmittance of the transmitter optics")
    receiver_efficiency: float = Field(
        1.0,
        gt=0.0,
        le=1.0,
        description="transmittance of the receiver optics up to the detectors (not the detector efficiency)",
    )

    @model_validator(mode="after")
    def _not_below_diffraction(self) -> BeamOptics:
        limit = float(diffraction_divergence_urad(self.wavelength_nm, self.transmitter_aperture_m))
        if self.beam_divergence_urad is not None and self.beam_divergence_urad < limit * (1.0 - 1e-9):
            raise ValueError(
                f"beam_divergence_urad = {self.beam_divergence_urad:g}: must be >= {limit:.3g}, "
                f"the diffraction limit of transmitter_aperture_m = {self.transmitter_aperture_m:g} "
                f"at wavelength_nm = {self.wavelength_nm:g}"
            )
        return self

    @property
    def divergence_urad(self) -> float:
        """The half-angle divergence in use: the given one or the diffraction limit."""
        if self.beam_divergence_urad is not None:
            return self.beam_divergence_urad
        return float(diffraction_divergence_urad(self.wavelength_nm, self.transmitter_aperture_m))


class FreeSpaceOptics(BeamOptics):
    """A terrestrial, horizontal free-space link (``channel: free-space``)."""

    atmospheric_attenuation_db_per_km: float = Field(
        0.42,
        ge=0.0,
        le=500.0,
        description="clear-air extinction, dB/km (default: 23 km visibility at 850 nm, Kim et al. 2001)",
    )


class SatelliteOptics(BeamOptics):
    """A satellite-to-ground downlink and the circular orbit of its satellite (``channel: satellite``)."""

    transmitter_aperture_m: float = Field(0.3, gt=0.0, le=10.0, description="diameter of the satellite telescope, m")
    receiver_aperture_m: float = Field(1.0, gt=0.0, le=50.0, description="diameter of the ground telescope, m")
    zenith_transmittance: float = Field(0.8, gt=0.0, le=1.0, description="atmospheric transmittance towards the zenith")
    altitude_km: float = Field(500.0, ge=150.0, le=40_000.0, description="altitude of the circular orbit, km")
    inclination_deg: float = Field(97.4, ge=0.0, le=180.0, description="orbital inclination, degrees")
    raan_deg: float = Field(
        0.0,
        ge=0.0,
        lt=360.0,
        description="right ascension of the ascending node at t = 0, from the Greenwich meridian, degrees",
    )
    phase_deg: float = Field(
        0.0, ge=0.0, lt=360.0, description="argument of latitude at t = 0 (angle from the ascending node), degrees"
    )
    min_elevation_deg: float = Field(
        10.0, ge=0.0, lt=90.0, description="lowest elevation at which the link is usable, degrees"
    )
    include_j2: bool = Field(True, description="precess the orbital plane by Earth's oblateness (J2)")


def validate_optics(
    optics: Mapping[str, Any], channel: str, context: str = "optics"
) -> FreeSpaceOptics | SatelliteOptics:
    """Build the optics model of a link from its ``optics`` mapping.

    Parameters
    ----------
    optics : mapping
        The ``optics`` field of a scenario link.
    channel : str
        ``"free-space"`` (:class:`FreeSpaceOptics`) or ``"satellite"`` (:class:`SatelliteOptics`).
    context : str
        Path of the mapping in the scenario, e.g. ``"links[2].optics"``, prefixed to messages.

    Raises
    ------
    ParameterError
        Naming every bad field, e.g. ``links[2].optics.receiver_aperture_m = -1: must be > 0``.

    >>> validate_optics({"receiver_aperture_m": 0.5}, "free-space", "links[0].optics").receiver_aperture_m
    0.5
    """
    models: dict[str, type[FreeSpaceOptics] | type[SatelliteOptics]] = {
        "free-space": FreeSpaceOptics,
        "satellite": SatelliteOptics,
    }
    if channel not in models:
        raise ParameterError(f"{context}: channel {channel!r} has no optics model; must be one of {sorted(models)}")
    if not isinstance(optics, Mapping):
        raise ParameterError(f"{context}: must be a mapping of optics fields, got {type(optics).__name__}")
    return validate_parameters(models[channel], optics, context)


def diffraction_divergence_urad(wavelength_nm: ArrayLike, transmitter_aperture_m: ArrayLike) -> np.ndarray:
    """Far-field half-angle divergence ``lambda / (pi w0)`` of a Gaussian beam with ``w0 = D_t / 2``, urad.

    >>> round(float(diffraction_divergence_urad(850.0, 0.3)), 3)
    1.804
    """
    waist_m = np.asarray(transmitter_aperture_m, dtype=float) / 2.0
    return np.asarray(wavelength_nm, dtype=float) * M_PER_NM / (np.pi * waist_m) / RAD_PER_URAD


def beam_radius_m(optics: BeamOptics, distance_km: ArrayLike) -> np.ndarray:
    """1/e^2 intensity radius ``sqrt(w0^2 + (theta z)^2)`` of the beam at ``distance_km``, m.

    >>> round(float(beam_radius_m(BeamOptics(transmitter_aperture_m=0.3, beam_divergence_urad=5.0), 1000.0)), 3)
    5.002
    """
    z_m = np.asarray(distance_km, dtype=float) * M_PER_KM
    waist_m = optics.transmitter_aperture_m / 2.0
    return np.hypot(waist_m, optics.divergence_urad * RAD_PER_URAD * z_m)


def collection_efficiency(optics: BeamOptics, distance_km: ArrayLike) -> np.ndarray:
    """Mean fraction of the beam collected by the receiver aperture, with pointing jitter.

    ``1 - exp(-2 a^2 / (w^2 + 4 sigma^2 z^2))`` with ``a`` the receiver radius, ``w`` from
    :func:`beam_radius_m` and ``sigma`` the rms pointing error per axis.

    >>> optics = BeamOptics(receiver_aperture_m=1.0, transmitter_aperture_m=0.3, beam_divergence_urad=5.0)
    >>> round(float(collection_efficiency(optics, 1000.0)), 5)
    0.01978
    """
    z_m = np.asarray(distance_km, dtype=float) * M_PER_KM
    radius_m = beam_radius_m(optics, distance_km)
    jitter_m = optics.pointing_error_urad * RAD_PER_URAD * z_m
    effective_sq = radius_m**2 + 4.0 * jitter_m**2
    aperture_radius_m = optics.receiver_aperture_m / 2.0
    return -np.expm1(-2.0 * aperture_radius_m**2 / effective_sq)


def air_mass(elevation_deg: ArrayLike) -> np.ndarray:
    """Relative air mass ``1 / sin(elevation)`` of the plane-parallel atmosphere [3]_; infinite at or below 0.

    >>> round(float(air_mass(30.0)), 6)
    2.0
    """
    elevation = np.radians(np.asarray(elevation_deg, dtype=float))
    sine = np.sin(elevation)
    with np.errstate(divide="ignore"):
        return np.where(sine > 0.0, 1.0 / np.where(sine > 0.0, sine, 1.0), np.inf)


def slant_atmospheric_transmittance(elevation_deg: ArrayLike, zenith_transmittance: ArrayLike) -> np.ndarray:
    """Atmospheric transmittance ``T0^(1 / sin(elevation))`` of a slant path; 0 at or below the horizon.

    >>> round(float(slant_atmospheric_transmittance(30.0, 0.8)), 4)
    0.64
    """
    mass = air_mass(elevation_deg)
    t0 = np.asarray(zenith_transmittance, dtype=float)
    return np.where(np.isfinite(mass), t0 ** np.where(np.isfinite(mass), mass, 1.0), 0.0)


def kim_attenuation_db_per_km(visibility_km: ArrayLike, wavelength_nm: ArrayLike) -> np.ndarray:
    """Extinction of clear air, haze or fog from the visibility, dB/km (Kim et al. [2]_).

    ``sigma = (3.91 / V) (lambda / 550 nm)^(-q)`` per km, with ``q = 1.6`` for V > 50 km,
    1.3 for 6-50 km, ``0.16 V + 0.34`` for 1-6 km, ``V - 0.5`` for 0.5-1 km and 0 below.

    >>> round(float(kim_attenuation_db_per_km(23.0, 850.0)), 3)
    0.419
    """
    visibility = np.asarray(visibility_km, dtype=float)
    if np.any(visibility <= 0.0):
        raise ParameterError(f"visibility_km = {float(visibility[visibility <= 0.0].flat[0]):g}: must be > 0")
    q = np.select(
        [visibility > 50.0, visibility > 6.0, visibility > 1.0, visibility > 0.5],
        [1.6, 1.3, 0.16 * visibility + 0.34, visibility - 0.5],
        default=0.0,
    )
    per_km = 3.91 / visibility * (np.asarray(wavelength_nm, dtype=float) / 550.0) ** (-q)
    return 10.0 * np.log10(np.e) * per_km


def free_space_transmittance(optics: FreeSpaceOptics, length_km: ArrayLike) -> np.ndarray:
    """Transmittance of a horizontal free-space link of ``length_km`` (detector efficiency excluded).

    Product of the transmitter efficiency, :func:`collection_efficiency`, the air's
    ``10^(-attenuation * length / 10)`` and the receiver efficiency.

    >>> link = FreeSpaceOptics(
    ...     transmitter_aperture_m=0.1, receiver_aperture_m=0.3, atmospheric_attenuation_db_per_km=0.0
    ... )
    >>> round(float(free_space_transmittance(link, 1.0)), 6)
    1.0
    """
    length = np.asarray(length_km, dtype=float)
    if np.any(length < 0.0):
        raise ParameterError(f"length_km = {float(length[length < 0.0].flat[0]):g}: must be >= 0")
    air = transmittance_from_loss_db(optics.atmospheric_attenuation_db_per_km * length)
    return optics.transmitter_efficiency * collection_efficiency(optics, length) * air * optics.receiver_efficiency


def free_space_loss_db(optics: FreeSpaceOptics, length_km: ArrayLike) -> np.ndarray:
    """Loss in dB of a horizontal free-space link, ``-10 log10`` of :func:`free_space_transmittance`.

    Non-decreasing in ``length_km``; broadcasts over it.

    >>> link = FreeSpaceOptics(wavelength_nm=850.0, transmitter_aperture_m=0.1, receiver_aperture_m=0.3)
    >>> np.round(free_space_loss_db(link, [1.0, 10.0, 100.0]), 2)
    array([ 0.42,  4.2 , 50.5 ])
    """
    return loss_db_from_transmittance(free_space_transmittance(optics, length_km))
