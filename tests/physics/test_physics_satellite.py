"""Satellite geometry, link loss over elevation, pass geometry and pass windows."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qit4n.errors import ParameterError
from qit4n.physics.constants import EARTH_GM_KM3_PER_S2, EARTH_RADIUS_KM, EARTH_ROTATION_RAD_PER_S
from qit4n.physics.freespace import SatelliteOptics, collection_efficiency
from qit4n.physics.satellite import (
    PassGeometry,
    elevation_from_slant_range_deg,
    micius_optics,
    pass_geometry,
    pass_windows,
    satellite_link_loss_db,
    satellite_link_transmittance,
    slant_range_km,
)


def test_slant_range_limits_and_inverse() -> None:
    assert float(slant_range_km(90.0, 600.0, 1000.0)) == pytest.approx(599.0)
    elevation = np.linspace(0.5, 90.0, 50)
    distance = slant_range_km(elevation, 550.0, 200.0)
    assert np.all(np.diff(distance) < 0)
    np.testing.assert_allclose(elevation_from_slant_range_deg(distance, 550.0, 200.0), elevation, atol=1e-9)


def test_slant_range_refuses_a_satellite_below_the_station() -> None:
    with pytest.raises(ParameterError, match="altitude_km"):
        slant_range_km(30.0, 0.5, 1000.0)
    with pytest.raises(ParameterError, match="slant_range_km"):
        elevation_from_slant_range_deg(100.0, 500.0)


def test_link_loss_parts() -> None:
    optics = SatelliteOptics(
        beam_divergence_urad=6.0, zenith_transmittance=0.7, receiver_efficiency=0.5, transmitter_efficiency=0.9
    )
    distance = float(slant_range_km(40.0, optics.altitude_km))
    expected = 0.9 * float(collection_efficiency(optics, distance)) * 0.7 ** (1 / np.sin(np.radians(40.0))) * 0.5
    assert float(satellite_link_transmittance(optics, 40.0)) == pytest.approx(expected, rel=1e-12)
    assert np.isinf(satellite_link_loss_db(optics, -3.0))


@settings(max_examples=60, deadline=None)
@given(
    st.floats(min_value=200.0, max_value=2000.0),
    st.floats(min_value=2.0, max_value=30.0),
    st.floats(min_value=0.05, max_value=1.0),
    st.lists(st.floats(min_value=0.1, max_value=90.0), min_size=2, max_size=20),
)
def test_loss_decreases_with_elevation(
    altitude_km: float, divergence_urad: float, zenith: float, elevations: list[float]
) -> None:
    optics = SatelliteOptics(altitude_km=altitude_km, beam_divergence_urad=divergence_urad, zenith_transmittance=zenith)
    elevation = np.sort(np.asarray(elevations))
    loss = satellite_link_loss_db(optics, elevation)
    eta = satellite_link_transmittance(optics, elevation)
    assert np.all((eta >= 0.0) & (eta <= 1.0))
    assert np.all(np.diff(eta) >= 0.0)
    finite = np.isfinite(loss)
    if finite.any():
        assert np.all(finite[np.argmax(finite) :]), "once the link is open it stays open at higher elevation"
    assert np.all(np.diff(loss[finite]) <= 1e-9)


def test_pass_geometry_agrees_with_the_slant_range_formula() -> None:
    optics = SatelliteOptics(
        altitude_km=520.0, inclination_deg=97.5, raan_deg=30.0, phase_deg=40.0, beam_divergence_urad=5.0
    )
    times = np.linspace(0.0, 20_000.0, 4001)
    geometry = pass_geometry(optics, 40.0, 20.0, 500.0, times)
    assert isinstance(geometry, PassGeometry)
    up = geometry.elevation_deg > 0.0
    assert up.any() and (~up).any()
    np.testing.assert_allclose(
        geometry.slant_range_km[up], slant_range_km(geometry.elevation_deg[up], 520.0, 500.0), rtol=1e-9
    )
    np.testing.assert_allclose(
        geometry.loss_db[up],
        satellite_link_loss_db(optics, geometry.elevation_deg[up], ground_altitude_m=500.0),
        rtol=1e-9,
    )
    assert np.all(np.isinf(geometry.loss_db[~up]))
    np.testing.assert_array_equal(geometry.visible, geometry.elevation_deg >= optics.min_elevation_deg)


def test_pass_geometry_keeps_the_shape_of_time() -> None:
    geometry = pass_geometry(SatelliteOptics(), 10.0, 10.0, 0.0, np.zeros((2, 5)))
    assert geometry.elevation_deg.shape == geometry.loss_db.shape == geometry.visible.shape == (2, 5)


def test_equatorial_overhead_pass_duration_matches_the_analytic_value() -> None:
    """Prograde equatorial orbit over an equatorial station: the satellite gains on the station at n - omega_E."""
    altitude, min_elevation = 500.0, 20.0
    optics = SatelliteOptics(
        altitude_km=altitude, inclination_deg=0.0, include_j2=False, min_elevation_deg=min_elevation, phase_deg=300.0
    )
    radius = EARTH_RADIUS_KM + altitude
    central_angle = np.arccos(EARTH_RADIUS_KM * np.cos(np.radians(min_elevation)) / radius) - np.radians(min_elevation)
    relative_rate = np.sqrt(EARTH_GM_KM3_PER_S2 / radius**3) - EARTH_ROTATION_RAD_PER_S
    windows = pass_windows(optics, 0.0, 0.0, 0.0, 0.0, 12_000.0, step_s=5.0)
    assert len(windows) >= 1
    durations = [end - start for start, end in windows if start > 0.0 and end < 12_000.0]
    assert durations
    for duration in durations:
        assert duration == pytest.approx(2 * central_angle / relative_rate, abs=0.01)


def test_pass_windows_match_the_sampled_visibility() -> None:
    optics = micius_optics()
    start, duration = 0.0, 86_400.0
    windows = pass_windows(optics, 40.39, 117.58, 900.0, start, duration)
    assert windows, "a sun-synchronous satellite passes over a mid-latitude station every day"
    times = np.arange(start, start + duration, 1.0)
    visible = pass_geometry(optics, 40.39, 117.58, 900.0, times).visible
    inside = np.zeros_like(visible)
    for begin, end in windows:
        assert end > begin
        assert end - begin < 15 * 60, "a LEO pass above 10 degrees lasts minutes"
        inside |= (times >= begin) & (times <= end)
    mismatched = np.flatnonzero(inside != visible)
    assert mismatched.size <= 2 * len(windows)


def test_window_cut_by_the_time_range_starts_at_its_start() -> None:
    optics = SatelliteOptics(inclination_deg=0.0, phase_deg=0.0, include_j2=False)
    windows = pass_windows(optics, 0.0, 0.0, 0.0, 0.0, 60.0, step_s=5.0)
    assert windows == [(0.0, 60.0)]


@pytest.mark.parametrize(
    ("latitude", "longitude", "altitude", "message"),
    [
        (95.0, 0.0, 0.0, r"ground_latitude_deg = 95: must be in \[-90, 90\]"),
        (0.0, -200.0, 0.0, r"ground_longitude_deg = -200: must be in \[-180, 360\]"),
        (0.0, 0.0, 20_000.0, r"ground_altitude_m = 20000: must be in \[-500, 10000\]"),
    ],
)
def test_bad_station_is_named(latitude: float, longitude: float, altitude: float, message: str) -> None:
    with pytest.raises(ParameterError, match=message):
        pass_geometry(SatelliteOptics(), latitude, longitude, altitude, [0.0])


def test_bad_window_arguments_are_named() -> None:
    with pytest.raises(ParameterError, match=r"duration_s = 0: must be > 0"):
        pass_windows(SatelliteOptics(), 0.0, 0.0, 0.0, 0.0, 0.0)
    with pytest.raises(ParameterError, match=r"step_s = -1: must be > 0"):
        pass_windows(SatelliteOptics(), 0.0, 0.0, 0.0, 0.0, 10.0, step_s=-1.0)
