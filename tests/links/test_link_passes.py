"""Satellite links: key only during passes, from the orbit model when optics are given, else periodic."""

from __future__ import annotations

import pytest

from qit4n.errors import ParameterError
from qit4n.links import PeriodicPasses, pass_windows_for_link
from qit4n.net import build_network
from qit4n.physics.freespace import SatelliteOptics
from qit4n.physics.satellite import pass_windows
from qit4n.scenario import scenario_from_dict

OPTICS = {"altitude_km": 500.0, "inclination_deg": 97.4, "min_elevation_deg": 15.0}


def _scenario(optics: dict):
    return scenario_from_dict(
        {
            "name": "sat",
            "nodes": [
                {
                    "id": "XL",
                    "role": "ground-station",
                    "latitude_deg": 40.396,
                    "longitude_deg": 117.577,
                    "altitude_m": 890,
                },
                {"id": "SAT", "role": "satellite"},
            ],
            "links": [
                {
                    "id": "down",
                    "endpoints": ["SAT", "XL"],
                    "channel": "satellite",
                    "key_rate_bps": 47800.0,
                    "optics": optics,
                }
            ],
        }
    )


def test_orbit_windows_set_the_duty_cycle():
    network = build_network(_scenario(OPTICS))
    windows = pass_windows(SatelliteOptics.model_validate(OPTICS), 40.396, 117.577, 890.0, 0.0, 86400.0)
    assert windows, "a 500 km sun-synchronous orbit passes over Xinglong every day"
    expected = sum(end - start for start, end in windows) / 86400.0
    link = network.links[0]
    assert link.duty_cycle == pytest.approx(expected, rel=1e-12)
    assert 0 < link.duty_cycle < 0.1
    assert link.average_rate_bps == pytest.approx(47800.0 * expected)


def test_periodic_schedule_without_optics():
    schedule = PeriodicPasses(period_s=43200.0, pass_duration_s=600.0, first_pass_s=0.0)
    network = build_network(_scenario({}), pass_model=schedule)
    assert network.links[0].duty_cycle == pytest.approx(1200.0 / 86400.0)
    assert pass_windows_for_link(network.scenario, 0, 0.0, 86400.0, schedule) == [(0.0, 600.0), (43200.0, 43800.0)]


def test_bad_schedule_is_rejected():
    with pytest.raises(Exception, match="pass_duration_s"):
        PeriodicPasses(period_s=10.0, pass_duration_s=20.0)


def test_orbit_windows_need_a_ground_station():
    scenario = scenario_from_dict(
        {
            "name": "sat",
            "nodes": [{"id": "U", "latitude_deg": 40.0, "longitude_deg": 117.0}, {"id": "SAT", "role": "satellite"}],
            "links": [
                {"id": "down", "endpoints": ["SAT", "U"], "channel": "satellite", "key_rate_bps": 1.0, "optics": OPTICS}
            ],
        }
    )
    with pytest.raises(ParameterError, match="ground-station"):
        build_network(scenario)
