"""Free-space optics: models, validation messages, beam collection, atmosphere."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qit4n.errors import ParameterError, ScenarioError
from qit4n.physics.freespace import (
    BeamOptics,
    FreeSpaceOptics,
    SatelliteOptics,
    air_mass,
    beam_radius_m,
    collection_efficiency,
    diffraction_divergence_urad,
    free_space_loss_db,
    free_space_transmittance,
    kim_attenuation_db_per_km,
    slant_atmospheric_transmittance,
    validate_optics,
)
from qit4n.scenario.load import scenario_from_dict


def test_validate_optics_returns_the_model_of_the_channel() -> None:
    assert isinstance(validate_optics({}, "free-space", "links[0].optics"), FreeSpaceOptics)
    satellite = validate_optics({"altitude_km": 600}, "satellite", "links[1].optics")
    assert isinstance(satellite, SatelliteOptics)
    assert satellite.altitude_km == 600.0


def test_validate_optics_names_field_value_and_range() -> None:
    with pytest.raises(ParameterError, match=r"links\[2\]\.optics\.receiver_aperture_m = -1: must be > 0"):
        validate_optics({"receiver_aperture_m": -1}, "free-space", "links[2].optics")


def test_validate_optics_lists_every_problem_and_rejects_unknown_fields() -> None:
    with pytest.raises(ParameterError) as error:
        validate_optics({"altitude_km": 10, "zenith_transmitance": 0.5}, "satellite", "links[2].optics")
    message = str(error.value)
    assert "links[2].optics.altitude_km = 10: must be >= 150" in message
    assert "links[2].optics.zenith_transmitance = 0.5: unknown field; allowed fields:" in message


def test_satellite_fields_are_not_free_space_fields() -> None:
    with pytest.raises(ParameterError, match=r"links\[0\]\.optics\.altitude_km = 500: unknown field"):
        validate_optics({"altitude_km": 500}, "free-space", "links[0].optics")


def test_divergence_below_the_diffraction_limit_is_refused() -> None:
    with pytest.raises(ParameterError, match=r"beam_divergence_urad = 0\.5: must be >= 1\.8"):
        validate_optics(
            {"beam_divergence_urad": 0.5, "transmitter_aperture_m": 0.3, "wavelength_nm": 850},
            "satellite",
            "links[0].optics",
        )


def test_unknown_channel_is_refused() -> None:
    with pytest.raises(ParameterError, match=r"links\[0\]\.optics: channel 'fibre' has no optics model"):
        validate_optics({}, "fibre", "links[0].optics")


def test_scenario_loader_reports_optics_problems_with_their_path() -> None:
    data = {
        "name": "sat",
        "nodes": [{"id": "G", "role": "ground-station"}, {"id": "S", "role": "satellite"}],
        "links": [{"endpoints": ["S", "G"], "channel": "satellite", "optics": {"min_elevation_deg": 95}}],
    }
    with pytest.raises(ScenarioError) as error:
        scenario_from_dict(data)
    assert any("links[0].optics.min_elevation_deg = 95: must be < 90" in problem for problem in error.value.problems)


def test_diffraction_limited_beam_is_the_gaussian_beam() -> None:
    """w(z) = w0 sqrt(1 + (z / z_R)^2) with z_R = pi w0^2 / lambda (Siegman)."""
    optics = BeamOptics(wavelength_nm=1550.0, transmitter_aperture_m=0.05)
    w0, wavelength = 0.025, 1550e-9
    z_m = np.array([0.0, 100.0, 1e3, 1e4, 1e5])
    rayleigh = np.pi * w0**2 / wavelength
    np.testing.assert_allclose(beam_radius_m(optics, z_m / 1e3), w0 * np.sqrt(1 + (z_m / rayleigh) ** 2), rtol=1e-12)
    assert float(diffraction_divergence_urad(1550.0, 0.05)) == pytest.approx(wavelength / (np.pi * w0) * 1e6)


def test_collection_with_pointing_jitter_matches_monte_carlo() -> None:
    """Average the exact off-axis collected power over a seeded Gaussian jitter."""
    from scipy.special import i0e

    optics = BeamOptics(
        transmitter_aperture_m=0.2, receiver_aperture_m=0.5, beam_divergence_urad=4.0, pointing_error_urad=3.0
    )
    distance_km = 800.0
    w = float(beam_radius_m(optics, distance_km))
    a = 0.25
    rng = np.random.default_rng(7)
    offsets = rng.normal(scale=3e-6 * distance_km * 1e3, size=(5_000, 2))
    d = np.hypot(offsets[:, 0], offsets[:, 1])
    # Power of an off-axis Gaussian through a centred circular aperture (radial integral).
    r = np.linspace(0.0, a, 401)
    weights = (
        np.exp(-2 * (r[None, :] - d[:, None]) ** 2 / w**2)
        * i0e(4 * r[None, :] * d[:, None] / w**2)
        * 4
        * r[None, :]
        / w**2
    )
    collected = np.trapezoid(weights, r, axis=1)
    assert float(collection_efficiency(optics, distance_km)) == pytest.approx(float(collected.mean()), rel=0.02)


def test_air_mass_and_slant_transmittance() -> None:
    assert float(air_mass(90.0)) == pytest.approx(1.0)
    assert np.isinf(air_mass(0.0))
    assert float(slant_atmospheric_transmittance(-5.0, 0.9)) == 0.0
    assert float(slant_atmospheric_transmittance(90.0, 0.7)) == pytest.approx(0.7)


def test_kim_model_branches() -> None:
    """sigma = 3.91 / V (lambda / 550)^-q per km, q by visibility (Kim et al. 2001)."""
    to_db = 10 * np.log10(np.e)
    assert float(kim_attenuation_db_per_km(100.0, 1550.0)) == pytest.approx(to_db * 3.91 / 100 * (1550 / 550) ** -1.6)
    assert float(kim_attenuation_db_per_km(3.0, 1550.0)) == pytest.approx(
        to_db * 3.91 / 3 * (1550 / 550) ** -(0.16 * 3 + 0.34)
    )
    assert float(kim_attenuation_db_per_km(0.2, 1550.0)) == pytest.approx(to_db * 3.91 / 0.2)
    with pytest.raises(ParameterError, match=r"visibility_km = 0: must be > 0"):
        kim_attenuation_db_per_km(0.0, 850.0)


def test_free_space_loss_is_minus_ten_log_transmittance_and_broadcasts() -> None:
    optics = FreeSpaceOptics(receiver_efficiency=0.5, transmitter_efficiency=0.8)
    length = np.linspace(0.0, 50.0, 6).reshape(2, 3)
    loss = free_space_loss_db(optics, length)
    assert loss.shape == (2, 3)
    np.testing.assert_allclose(loss, -10 * np.log10(free_space_transmittance(optics, length)))
    with pytest.raises(ParameterError, match=r"length_km = -1: must be >= 0"):
        free_space_loss_db(optics, -1.0)


optics_strategy = st.builds(
    FreeSpaceOptics,
    wavelength_nm=st.floats(min_value=400.0, max_value=1700.0),
    transmitter_aperture_m=st.floats(min_value=0.01, max_value=1.0),
    receiver_aperture_m=st.floats(min_value=0.01, max_value=2.0),
    pointing_error_urad=st.floats(min_value=0.0, max_value=50.0),
    atmospheric_attenuation_db_per_km=st.floats(min_value=0.0, max_value=5.0),
    receiver_efficiency=st.floats(min_value=0.01, max_value=1.0),
)


@settings(max_examples=80, deadline=None)
@given(optics_strategy, st.lists(st.floats(min_value=0.0, max_value=500.0), min_size=2, max_size=20))
def test_transmittance_in_unit_interval_and_loss_non_decreasing_in_length(
    optics: FreeSpaceOptics, lengths: list[float]
) -> None:
    length = np.sort(np.asarray(lengths))
    eta = free_space_transmittance(optics, length)
    assert np.all((eta >= 0.0) & (eta <= 1.0))
    loss = free_space_loss_db(optics, length)
    assert np.all(np.diff(loss) >= -1e-9)
