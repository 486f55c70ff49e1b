"""When a satellite link produces key: pass windows from the orbit model, or a periodic schedule.

A satellite QKD link supplies key only while the satellite is in view of its ground station. This
module is the one path from a scenario link to its ground station (:func:`ground_station`) and to
its pass windows (:func:`pass_windows_for_link`): the link budget's duty cycle and in-view key
rate, and the key-pool simulation's pass events, all read these windows.

When the link's rate is modelled, or its ``optics`` describe the orbit, the windows come from
:func:`qit4n.physics.satellite.pass_windows`. A link rated by a given ``key_rate_bps`` with no
optics (as in the ``beijing-shanghai-backbone`` scenario) uses :class:`PeriodicPasses` instead: one
pass of ``pass_duration_s`` every ``period_s`` starting at ``first_pass_s``. The default, one
300 s pass per night, is a documented assumption of the order of the Micius passes used for QKD
(Liao et al. 2017 report passes of a few minutes with key; Chen et al. 2021 give 47.8 kbit/s as the
mean rate during a typical pass), not an orbit computation.

References
----------
S.-K. Liao et al., Satellite-to-ground quantum key distribution, Nature 549, 43 (2017), doi:10.1038/nature23655.
Y.-A. Chen et al., An integrated space-to-ground quantum communication network over 4,600 kilometres,
Nature 589, 214 (2021), doi:10.1038/s41586-020-03093-8.
"""

from __future__ import annotations

from pydantic import Field, model_validator

from qit4n.errors import ParameterError
from qit4n.physics.freespace import SatelliteOptics, validate_optics
from qit4n.physics.satellite import pass_windows
from qit4n.scenario.model import NodeRole, Scenario
from qit4n.schema import StrictModel

__all__ = ["PeriodicPasses", "ground_station", "pass_windows_for_link", "satellite_optics"]


class PeriodicPasses(StrictModel):
    """A periodic pass schedule: ``pass_duration_s`` of key every ``period_s``, first at ``first_pass_s``."""

    period_s: float = Field(86_400.0, gt=0.0, description="time between pass starts, s")
    pass_duration_s: float = Field(300.0, gt=0.0, description="time with key per pass, s")
    first_pass_s: float = Field(3_600.0, ge=0.0, description="start of the first pass after t = 0, s")

    @model_validator(mode="after")
    def _fits(self) -> PeriodicPasses:
        if self.pass_duration_s > self.period_s:
            raise ValueError(f"pass_duration_s = {self.pass_duration_s:g}: must be <= period_s ({self.period_s:g})")
        return self

    def windows(self, start_s: float, duration_s: float) -> list[tuple[float, float]]:
        """Pass windows ``(start_s, end_s)`` that overlap ``[start_s, start_s + duration_s]``, clipped to it.

        >>> PeriodicPasses(period_s=100, pass_duration_s=10, first_pass_s=5).windows(0, 250)
        [(5.0, 15.0), (105.0, 115.0), (205.0, 215.0)]
        """
        stop_s = start_s + duration_s
        windows = []
        begin = self.first_pass_s - self.period_s * max(0, int((self.first_pass_s - start_s) // self.period_s) + 1)
        while begin < stop_s:
            end = begin + self.pass_duration_s
            if end > start_s:
                windows.append((float(max(begin, start_s)), float(min(end, stop_s))))
            begin += self.period_s
        return windows


def ground_station(scenario: Scenario, index: int) -> tuple[float, float, float]:
    """``(latitude_deg, longitude_deg, altitude_m)`` of the ground-station end of satellite link ``links[index]``.

    Raises :class:`ParameterError` when neither end is a ground station, or the station has no
    latitude and longitude.
    """
    link = scenario.links[index]
    for endpoint in link.endpoints:
        node = scenario.node(endpoint)
        if node.role is NodeRole.GROUND_STATION:
            if node.latitude_deg is None or node.longitude_deg is None:
                raise ParameterError(f"nodes[{endpoint}]: a ground station needs latitude_deg and longitude_deg")
            return node.latitude_deg, node.longitude_deg, node.altitude_m
    raise ParameterError(f"links[{index}].endpoints: a satellite link needs a ground-station node at one end")


def satellite_optics(scenario: Scenario, index: int) -> SatelliteOptics:
    """The downlink optics and orbit of satellite link ``scenario.links[index]`` (defaults where omitted)."""
    optics = validate_optics(scenario.links[index].optics, "satellite", f"links[{index}].optics")
    if not isinstance(optics, SatelliteOptics):
        raise ParameterError(f"links[{index}].optics: must describe a satellite link")
    return optics


def _from_orbit(scenario: Scenario, index: int) -> bool:
    link = scenario.links[index]
    return bool(link.optics) or link.key_rate_bps is None


def pass_windows_for_link(
    scenario: Scenario, index: int, start_s: float, duration_s: float, schedule: PeriodicPasses
) -> list[tuple[float, float]]:
    """Pass windows of satellite link ``scenario.links[index]`` within ``[start_s, start_s + duration_s]``.

    From the orbit model when the link's rate is modelled or it has ``optics``; otherwise from the
    periodic ``schedule``.
    """
    if not _from_orbit(scenario, index):
        return schedule.windows(start_s, duration_s)
    windows = pass_windows(satellite_optics(scenario, index), *ground_station(scenario, index), start_s, duration_s)
    return [(float(start), float(end)) for start, end in windows]
