"""Secret key rate of a scenario's link from its channel, protocol, devices and co-propagating traffic.

This is where the scenario schema meets the models: fibre, free-space and satellite channels
(:mod:`qit4n.physics`) give the channel transmittance, classical DWDM channels add Raman noise to
the dark-count probability, and the link's protocol turns both into key. A satellite link is
rated by its mean key rate while the satellite is above the ground station's horizon mask, over
one day of passes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from qit4n.errors import ParameterError
from qit4n.physics.fibre import fibre_transmittance, loss_db_from_transmittance, transmittance_from_loss_db
from qit4n.qkd.base import ChannelParameters, RateResult
from qit4n.qkd.registry import get_protocol, make_parameters
from qit4n.scenario.model import ChannelKind, Link, NodeRole, Scenario

__all__ = ["LinkRate", "link_key_rate", "link_key_rate_bps"]

_SECONDS_PER_DAY = 86_400.0
_PASS_SAMPLE_S = 10.0


@dataclass(frozen=True)
class LinkRate:
    """Key rate of one link (all systems together) and the channel behind it.

    For satellite links ``key_rate_bps`` is the mean while in view and ``duty_cycle`` the fraction
    of the day in view; for every other link ``duty_cycle`` is 1.
    """

    key_rate_bps: float
    key_rate_per_pulse: float | None
    qber: float | None
    loss_db: float | None
    duty_cycle: float = 1.0
    given: bool = False


#: The two detectors of a BB84 receiver share the Raman photons: each sees half of them.
_DETECTOR_SPLIT_DB = 10.0 * np.log10(2.0)


def _with_raman_noise(link: Link, index: int, params: ChannelParameters) -> ChannelParameters:
    if not link.classical_channels or link.channel is not ChannelKind.FIBRE:
        return params
    if "dark_count_probability" not in type(params).model_fields:
        raise ParameterError(
            f"links[{index}].classical_channels: Raman noise is modelled for photon-counting protocols, not {link.protocol!r}"
        )
    if link.length_km is None:
        raise ParameterError(
            f"links[{index}].length_km: a link with classical_channels needs its length (Raman noise grows with it)"
        )
    from qit4n.physics.raman import raman_noise_probability

    noise = float(
        raman_noise_probability(
            link.classical_channels,
            link.length_km,
            quantum_wavelength_nm=link.receiver.quantum_wavelength_nm,
            loss_db_per_km=params.loss_db_per_km,
            filter_bandwidth_nm=link.receiver.filter_bandwidth_nm,
            gate_width_s=link.receiver.gate_width_s,
            eta_detector=params.eta_detector,
            receiver_loss_db=_DETECTOR_SPLIT_DB,
        )
    )
    return params.model_copy(update={"dark_count_probability": params.dark_count_probability + noise})


def _ground_station(scenario: Scenario, link: Link, index: int):
    for endpoint in link.endpoints:
        node = scenario.node(endpoint)
        if node.role is NodeRole.GROUND_STATION:
            if node.latitude_deg is None or node.longitude_deg is None:
                raise ParameterError(f"nodes[{endpoint}]: a ground station needs latitude_deg and longitude_deg")
            return node
    raise ParameterError(f"links[{index}].endpoints: a satellite link needs a ground-station node at one end")


def _satellite_rate(scenario: Scenario, link: Link, index: int, spec, params) -> LinkRate:
    from qit4n.physics.freespace import validate_optics
    from qit4n.physics.satellite import pass_geometry

    optics = validate_optics(link.optics, "satellite", f"links[{index}].optics")
    station = _ground_station(scenario, link, index)
    time_s = np.arange(0.0, _SECONDS_PER_DAY, _PASS_SAMPLE_S)
    geometry = pass_geometry(optics, station.latitude_deg, station.longitude_deg, station.altitude_m, time_s)
    visible = np.asarray(geometry.visible, dtype=bool)
    if not visible.any():
        return LinkRate(0.0, 0.0, None, None, 0.0)
    result = spec.evaluate(transmittance_from_loss_db(np.asarray(geometry.loss_db)[visible]), params)
    rate_bps = float(np.mean(result.key_rate_bps)) * link.systems
    return LinkRate(
        rate_bps,
        float(np.mean(result.key_rate_per_pulse)),
        None if result.qber is None else float(np.mean(result.qber)),
        float(np.mean(np.asarray(geometry.loss_db)[visible])),
        float(visible.mean()),
    )


def _channel_eta(link: Link, index: int, params: ChannelParameters) -> float:
    if link.loss_db is not None:
        return float(transmittance_from_loss_db(link.loss_db))
    if link.channel is ChannelKind.FIBRE:
        return float(fibre_transmittance(link.length_km, params.loss_db_per_km))
    from qit4n.physics.freespace import free_space_loss_db, validate_optics

    if link.length_km is None:
        raise ParameterError(f"links[{index}]: a free-space link needs length_km or loss_db")
    optics = validate_optics(link.optics, "free-space", f"links[{index}].optics")
    return float(transmittance_from_loss_db(free_space_loss_db(optics, link.length_km)))


def link_key_rate(scenario: Scenario, index: int) -> LinkRate:
    """Key rate of ``scenario.links[index]``: given, or modelled from its physics and protocol."""
    link = scenario.links[index]
    if link.key_rate_bps is not None:
        return LinkRate(link.key_rate_bps * link.systems, None, None, link.loss_db, 1.0, given=True)
    spec = get_protocol(link.protocol)
    params = _with_raman_noise(
        link, index, make_parameters(link.protocol, link.preset, link.device, context=f"links[{index}].device")
    )
    if link.channel is ChannelKind.SATELLITE:
        return _satellite_rate(scenario, link, index, spec, params)
    eta = _channel_eta(link, index, params)
    result: RateResult = spec.evaluate(np.asarray(eta), params)
    return LinkRate(
        float(result.key_rate_bps) * link.systems,
        float(result.key_rate_per_pulse),
        None if result.qber is None else float(result.qber),
        float(loss_db_from_transmittance(eta)),
    )


def link_key_rate_bps(scenario: Scenario, index: int) -> float:
    """Secret key rate of ``scenario.links[index]`` in bit/s (all its systems together)."""
    return link_key_rate(scenario, index).key_rate_bps
