"""The budget of a scenario link (qit4n.links) for fibre, Raman-loaded fibre, free-space and satellite links."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from qit4n.errors import ParameterError
from qit4n.links import link_budget
from qit4n.physics.fibre import fibre_transmittance, transmittance_from_loss_db
from qit4n.physics.freespace import FreeSpaceOptics, SatelliteOptics, free_space_loss_db
from qit4n.physics.raman import dark_count_with_noise_probability, raman_noise_probability
from qit4n.physics.satellite import pass_geometry, pass_windows
from qit4n.qkd import get_protocol, make_parameters
from qit4n.qkd.decoy import DecoyParameters
from qit4n.scenario import ClassicalChannel, load_scenario, scenario_from_dict
from qit4n.scenario.model import Scenario

#: A DWDM data channel 1.6 nm (200 GHz) above the quantum channel at 1550.12 nm, launched at -20 dBm.
DATA_FORWARD = {"wavelength_nm": 1551.72, "launch_power_dbm": -20.0, "direction": "forward"}


def _two_node(link: dict[str, Any], *, roles: tuple[str, str] = ("user", "user"), **node_b: Any) -> Scenario:
    nodes = [{"id": "A", "role": roles[0]}, {"id": "B", "role": roles[1], **node_b}]
    return scenario_from_dict({"name": "t", "nodes": nodes, "links": [{"endpoints": ["A", "B"], **link}]}, "test")


def test_fibre_link_is_the_protocol_at_the_fibre_transmittance_times_its_systems() -> None:
    scenario = _two_node({"length_km": 50.0, "preset": "gys", "systems": 2})
    params = make_parameters("bb84-decoy", "gys")
    expected = get_protocol("bb84-decoy").evaluate(fibre_transmittance(50.0, 0.21), params)
    rate = link_budget(scenario, 0)
    assert expected.qber is not None
    assert rate.key_rate_bps == pytest.approx(2.0 * float(expected.key_rate_bps), rel=1e-12)
    assert rate.qber == pytest.approx(float(expected.qber), rel=1e-12)
    assert rate.loss_db == pytest.approx(50.0 * 0.21, rel=1e-12)
    assert (rate.duty_cycle, rate.given) == (1.0, False)


def test_given_loss_takes_precedence_over_length() -> None:
    by_loss = _two_node({"length_km": 50.0, "loss_db": 5.0, "preset": "gys"})
    by_length = _two_node({"length_km": 5.0 / 0.21, "preset": "gys"})
    assert link_budget(by_loss, 0).key_rate_bps == pytest.approx(link_budget(by_length, 0).key_rate_bps, rel=1e-9)


def test_given_key_rate_skips_the_model() -> None:
    rate = link_budget(_two_node({"length_km": 10.0, "key_rate_bps": 1000.0, "systems": 3}), 0)
    assert rate.key_rate_bps == 3000.0 and rate.given and rate.qber is None


@pytest.mark.parametrize("direction", ["forward", "backward"])
def test_classical_channels_raise_the_qber_and_lower_the_key(direction: str) -> None:
    """The Raman clicks of a -20 dBm DWDM neighbour, shared by the two detectors, join the dark counts as an
    independent source of clicks: 1 - (1 - p_dark)(1 - p_raman)."""
    quiet = _two_node({"length_km": 25.0, "preset": "lim2014"})
    loud = _two_node(
        {"length_km": 25.0, "preset": "lim2014", "classical_channels": [{**DATA_FORWARD, "direction": direction}]}
    )
    quiet_rate, loud_rate = link_budget(quiet, 0), link_budget(loud, 0)
    assert loud_rate.qber is not None and quiet_rate.qber is not None
    assert loud_rate.qber > quiet_rate.qber
    assert 0.0 < loud_rate.key_rate_bps < quiet_rate.key_rate_bps

    params = make_parameters("bb84-decoy", "lim2014")
    assert isinstance(params, DecoyParameters)
    channel = ClassicalChannel(**{**DATA_FORWARD, "direction": direction})
    noise = float(
        raman_noise_probability(
            [channel],
            25.0,
            loss_db_per_km=params.loss_db_per_km,
            eta_detector=params.eta_detector,
            receiver_loss_db=10.0 * np.log10(2.0),
        )
    )
    combined = float(dark_count_with_noise_probability(params.dark_count_probability, noise))
    noisy = params.model_copy(update={"dark_count_probability": combined})
    expected = get_protocol("bb84-decoy").evaluate(fibre_transmittance(25.0, params.loss_db_per_km), noisy)
    assert loud_rate.key_rate_bps == pytest.approx(float(expected.key_rate_bps), rel=1e-12)
    assert (loud_rate.raman_noise_probability, loud_rate.noise_probability) == (noise, combined)
    assert loud_rate.dark_count_probability == params.dark_count_probability


def test_more_classical_power_costs_more_key_until_none_is_left() -> None:
    """25 km, 0.8 nm filter, 1 ns gates (the link layer's defaults): a 0 dBm neighbour leaves no key."""
    rates = [
        link_budget(
            _two_node(
                {
                    "length_km": 25.0,
                    "preset": "lim2014",
                    "classical_channels": [{**DATA_FORWARD, "launch_power_dbm": p}],
                }
            ),
            0,
        ).key_rate_bps
        for p in (-40.0, -30.0, -20.0, -15.0, 0.0)
    ]
    assert all(later < earlier for earlier, later in zip(rates[:-2], rates[1:-1], strict=True))
    assert rates[-1] == 0.0


def test_raman_noise_needs_the_link_length() -> None:
    scenario = _two_node({"loss_db": 5.0, "preset": "lim2014", "classical_channels": [DATA_FORWARD]})
    with pytest.raises(ParameterError, match=r"links\[0\]\.length_km: a link with classical_channels needs its length"):
        link_budget(scenario, 0)


def test_receiver_filtering_sets_the_raman_noise() -> None:
    """A narrower filter and a shorter gate let fewer Raman photons through, so more key survives."""
    wide = _two_node({"length_km": 25.0, "preset": "lim2014", "classical_channels": [DATA_FORWARD]})
    narrow = _two_node(
        {
            "length_km": 25.0,
            "preset": "lim2014",
            "classical_channels": [DATA_FORWARD],
            "receiver": {"filter_bandwidth_nm": 0.1, "gate_width_s": 1e-10},
        }
    )
    assert link_budget(narrow, 0).key_rate_bps > link_budget(wide, 0).key_rate_bps


def test_raman_noise_on_a_continuous_variable_link_is_refused() -> None:
    scenario = _two_node({"length_km": 10.0, "protocol": "cv-gg02", "classical_channels": [DATA_FORWARD]})
    with pytest.raises(
        ParameterError, match="classical_channels: Raman noise is modelled for photon-counting protocols"
    ):
        link_budget(scenario, 0)


def test_free_space_link_uses_the_optics_and_length() -> None:
    optics = {"receiver_aperture_m": 0.4, "atmospheric_attenuation_db_per_km": 0.8}
    scenario = _two_node({"channel": "free-space", "length_km": 12.0, "optics": optics})
    loss_db = float(free_space_loss_db(FreeSpaceOptics(**optics), 12.0))
    expected = get_protocol("bb84-decoy").evaluate(transmittance_from_loss_db(loss_db), make_parameters("bb84-decoy"))
    rate = link_budget(scenario, 0)
    assert rate.loss_db == pytest.approx(loss_db, rel=1e-9)
    assert rate.key_rate_bps == pytest.approx(float(expected.key_rate_bps), rel=1e-9)


def test_free_space_link_without_length_or_loss_is_refused() -> None:
    with pytest.raises(ParameterError, match=r"links\[0\]: a free-space link needs length_km or loss_db"):
        link_budget(_two_node({"channel": "free-space"}), 0)


def test_satellite_link_is_the_mean_over_the_day_while_in_view() -> None:
    """micius-xinglong: the mean over the 10 s samples above 10 degrees, and the fraction of the day the
    pass windows cover, recomputed here; the samples in view are those inside the pass windows."""
    scenario = load_scenario("micius-xinglong")
    link, station = scenario.links[0], scenario.node("XL")
    optics = SatelliteOptics.model_validate(link.optics)
    assert station.latitude_deg is not None and station.longitude_deg is not None
    location = (station.latitude_deg, station.longitude_deg, station.altitude_m)
    geometry = pass_geometry(optics, *location, np.arange(0.0, 86_400.0, 10.0))
    visible = np.asarray(geometry.visible)
    windows = pass_windows(optics, *location, 0.0, 86_400.0)
    result = get_protocol("bb84-decoy").evaluate(
        transmittance_from_loss_db(geometry.loss_db[visible]), make_parameters("bb84-decoy", "micius")
    )
    rate = link_budget(scenario, 0)
    assert rate.pass_windows == tuple(windows)
    assert rate.key_rate_bps == pytest.approx(float(np.mean(result.key_rate_bps)), rel=1e-12)
    assert rate.duty_cycle == pytest.approx(sum(end - start for start, end in windows) / 86_400.0, rel=1e-12)
    assert rate.duty_cycle == pytest.approx(float(visible.mean()), abs=10.0 * len(windows) / 86_400.0)
    # A 500 km sun-synchronous orbit is above 10 degrees over 40 N for a quarter to half an hour a day.
    assert 15 * 60 < rate.duty_cycle * 86_400 < 30 * 60
    # Liao et al. (2017) report about 1.1 kbit/s (finite key) on a 645 km pass; the asymptotic mean
    # in view, low passes included, is of that order.
    assert 1e3 < rate.key_rate_bps < 1e4


def test_satellite_never_in_view_gives_no_key() -> None:
    optics = {"inclination_deg": 0.0, "include_j2": False}
    scenario = _two_node(
        {"channel": "satellite", "optics": optics},
        roles=("satellite", "ground-station"),
        latitude_deg=80.0,
        longitude_deg=0.0,
    )
    rate = link_budget(scenario, 0)
    assert (rate.key_rate_bps, rate.duty_cycle, rate.qber) == (0.0, 0.0, None)


def test_satellite_link_needs_a_located_ground_station() -> None:
    without_station = _two_node({"channel": "satellite"}, roles=("satellite", "user"))
    with pytest.raises(ParameterError, match=r"links\[0\].endpoints: a satellite link needs a ground-station node"):
        link_budget(without_station, 0)
    unlocated = _two_node({"channel": "satellite"}, roles=("satellite", "ground-station"))
    with pytest.raises(ParameterError, match=r"nodes\[B\]: a ground station needs latitude_deg and longitude_deg"):
        link_budget(unlocated, 0)
