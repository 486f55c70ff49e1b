"""The budget of a scenario link: channel, noise, key rate, duty cycle and pass windows, computed once.

This is where the scenario schema meets the models. Fibre, free-space and satellite channels
(:mod:`qit4n.physics`) give the channel transmittance; classical DWDM channels sharing a fibre add
Raman noise clicks, combined with the detectors' dark counts by
:func:`qit4n.physics.raman.dark_count_with_noise_probability`; the link's protocol
(:data:`qit4n.qkd.PROTOCOLS`) turns both into key. A satellite link produces key only during its
pass windows (:mod:`qit4n.links.passes`): its key rate is the mean over the 10 s samples of one day
that fall inside a window, and its duty cycle the fraction of the day the windows cover.

:func:`link_budgets` is called once per run; ``net``, ``kms``, ``threat`` and the CLI read its
result instead of recomputing a link.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from qit4n.errors import ParameterError
from qit4n.links.passes import PeriodicPasses, ground_station, pass_windows_for_link, satellite_optics
from qit4n.physics.fibre import fibre_transmittance, loss_db_from_transmittance, transmittance_from_loss_db
from qit4n.physics.freespace import FreeSpaceOptics, free_space_loss_db, validate_optics
from qit4n.physics.raman import dark_count_with_noise_probability, raman_noise_probability
from qit4n.physics.satellite import pass_geometry
from qit4n.qkd import ChannelParameters, ProtocolSpec, get_protocol, make_parameters
from qit4n.scenario.model import ChannelKind, Link, Scenario

__all__ = ["LinkBudget", "link_budget", "link_budgets"]

_SECONDS_PER_DAY = 86_400.0
_PASS_SAMPLE_S = 10.0
#: The two detectors of a BB84 receiver share the Raman photons: each sees half of them.
_DETECTOR_SPLIT_DB = 10.0 * np.log10(2.0)


@dataclass(frozen=True)
class LinkBudget:
    """Everything qit4n derives from one scenario link (``index`` is its position in ``scenario.links``).

    ``key_rate_per_system_bps`` is the secret key rate of one QKD system while the link produces
    key (for a satellite link: the mean while in view); ``key_rate_bps`` counts all ``systems``;
    ``duty_cycle`` is the fraction of time the link produces key, so ``average_rate_bps`` is what
    planning uses. ``given`` marks a link whose scenario gives ``key_rate_bps`` (no model ran: the
    model fields are ``None``). ``loss_db`` and ``eta_channel`` are the channel's loss and
    transmittance (a satellite's: the mean loss in view); ``dark_count_probability`` is the
    detectors' own, ``raman_noise_probability`` the Raman clicks per detector per gate, and
    ``noise_probability`` the two combined, as the protocol model saw them. ``pass_windows`` are
    the satellite's windows ``(start_s, end_s)`` over one day (empty for other links).
    """

    index: int
    id: str
    endpoints: tuple[str, str]
    channel: ChannelKind
    protocol: str
    systems: int
    length_km: float | None
    loss_db: float | None
    eta_channel: float | None
    dark_count_probability: float | None
    raman_noise_probability: float
    noise_probability: float | None
    key_rate_per_system_bps: float
    key_rate_per_pulse: float | None
    qber: float | None
    duty_cycle: float
    pass_windows: tuple[tuple[float, float], ...]
    given: bool

    @property
    def key_rate_bps(self) -> float:
        """Key rate of all ``systems`` together while the link produces key, bit/s."""
        return self.key_rate_per_system_bps * self.systems

    @property
    def average_rate_bps(self) -> float:
        """Long-run key rate: ``key_rate_bps * duty_cycle``, bit/s."""
        return self.key_rate_bps * self.duty_cycle


@dataclass(frozen=True)
class _Rate:
    key_rate_per_system_bps: float
    key_rate_per_pulse: float | None
    qber: float | None
    loss_db: float | None


def _raman_noise(link: Link, index: int, params: ChannelParameters) -> float:
    if "dark_count_probability" not in type(params).model_fields:
        raise ParameterError(
            f"links[{index}].classical_channels: Raman noise is modelled for photon-counting protocols, "
            f"not {link.protocol!r}"
        )
    if link.length_km is None:
        raise ParameterError(
            f"links[{index}].length_km: a link with classical_channels needs its length (Raman noise grows with it)"
        )
    return float(
        raman_noise_probability(
            link.classical_channels,
            link.length_km,
            quantum_wavelength_nm=link.receiver.quantum_wavelength_nm,
            loss_db_per_km=params.loss_db_per_km,
            filter_bandwidth_nm=link.receiver.filter_bandwidth_nm,
            gate_width_s=link.receiver.gate_width_s,
            eta_detector=vars(params)["eta_detector"],
            receiver_loss_db=_DETECTOR_SPLIT_DB,
        )
    )


def _channel_eta(link: Link, index: int, params: ChannelParameters) -> float:
    if link.loss_db is not None:
        return float(transmittance_from_loss_db(link.loss_db))
    if link.length_km is None:
        raise ParameterError(f"links[{index}]: a {link.channel.value} link needs length_km or loss_db")
    if link.channel is ChannelKind.FIBRE:
        return float(fibre_transmittance(link.length_km, params.loss_db_per_km))
    optics = validate_optics(link.optics, "free-space", f"links[{index}].optics")
    if not isinstance(optics, FreeSpaceOptics):
        raise ParameterError(f"links[{index}].optics: must describe a free-space link")
    return float(transmittance_from_loss_db(free_space_loss_db(optics, link.length_km)))


def _in_windows(time_s: np.ndarray, windows: tuple[tuple[float, float], ...]) -> np.ndarray:
    inside = np.zeros(time_s.shape, dtype=bool)
    for start_s, end_s in windows:
        inside |= (time_s >= start_s) & (time_s <= end_s)
    return inside


def _satellite_rate(
    scenario: Scenario,
    index: int,
    spec: ProtocolSpec,
    params: ChannelParameters,
    windows: tuple[tuple[float, float], ...],
) -> _Rate:
    time_s = np.arange(0.0, _SECONDS_PER_DAY, _PASS_SAMPLE_S)
    in_view = time_s[_in_windows(time_s, windows)]
    if in_view.size == 0:
        return _Rate(0.0, 0.0, None, None)
    loss_db = np.asarray(
        pass_geometry(satellite_optics(scenario, index), *ground_station(scenario, index), in_view).loss_db
    )
    result = spec.evaluate(transmittance_from_loss_db(loss_db), params)
    return _Rate(
        float(np.mean(result.key_rate_bps)),
        float(np.mean(result.key_rate_per_pulse)),
        None if result.qber is None else float(np.mean(result.qber)),
        float(np.mean(loss_db)),
    )


def _terrestrial_rate(link: Link, index: int, spec: ProtocolSpec, params: ChannelParameters) -> _Rate:
    eta = _channel_eta(link, index, params)
    result = spec.evaluate(np.asarray(eta), params)
    return _Rate(
        float(result.key_rate_bps),
        float(result.key_rate_per_pulse),
        None if result.qber is None else float(result.qber),
        float(loss_db_from_transmittance(eta)),
    )


def link_budget(scenario: Scenario, index: int, *, passes: PeriodicPasses | None = None) -> LinkBudget:
    """The budget of ``scenario.links[index]``: given, or modelled from its physics and protocol.

    ``passes`` is the schedule of satellite links rated by a given ``key_rate_bps`` without optics
    (default :class:`PeriodicPasses`). Raises :class:`ParameterError` naming the link's field when
    the link cannot be modelled.
    """
    link = scenario.links[index]
    satellite = link.channel is ChannelKind.SATELLITE
    windows = (
        tuple(pass_windows_for_link(scenario, index, 0.0, _SECONDS_PER_DAY, passes or PeriodicPasses()))
        if satellite
        else ()
    )
    duty_cycle = sum(end - start for start, end in windows) / _SECONDS_PER_DAY if satellite else 1.0
    dark_count: float | None = None
    raman = 0.0
    noise: float | None = None
    if link.key_rate_bps is not None:
        rate = _Rate(link.key_rate_bps, None, None, link.loss_db)
    else:
        spec = get_protocol(link.protocol)
        params = make_parameters(link.protocol, link.preset, link.device, context=f"links[{index}].device")
        dark_count = vars(params).get("dark_count_probability")
        noise = dark_count
        if link.classical_channels and link.channel is ChannelKind.FIBRE:
            raman = _raman_noise(link, index, params)
            noise = float(dark_count_with_noise_probability(vars(params)["dark_count_probability"], raman))
            params = params.model_copy(update={"dark_count_probability": noise})
        if satellite:
            rate = _satellite_rate(scenario, index, spec, params, windows)
        else:
            rate = _terrestrial_rate(link, index, spec, params)
    return LinkBudget(
        index=index,
        id=scenario.link_id(index),
        endpoints=link.endpoints,
        channel=link.channel,
        protocol=link.protocol,
        systems=link.systems,
        length_km=link.length_km,
        loss_db=rate.loss_db,
        eta_channel=None if rate.loss_db is None else float(transmittance_from_loss_db(rate.loss_db)),
        dark_count_probability=dark_count,
        raman_noise_probability=raman,
        noise_probability=noise,
        key_rate_per_system_bps=rate.key_rate_per_system_bps,
        key_rate_per_pulse=rate.key_rate_per_pulse,
        qber=rate.qber,
        duty_cycle=duty_cycle,
        pass_windows=windows,
        given=link.key_rate_bps is not None,
    )


def link_budgets(scenario: Scenario, *, passes: PeriodicPasses | None = None) -> tuple[LinkBudget, ...]:
    """The budget of every link of ``scenario``, in scenario order (see :func:`link_budget`).

    >>> from qit4n.scenario import load_scenario
    >>> budgets = link_budgets(load_scenario("secoqc-vienna-2008"))
    >>> len(budgets), all(budget.key_rate_bps > 0 for budget in budgets)
    (8, True)
    """
    return tuple(link_budget(scenario, index, passes=passes) for index in range(len(scenario.links)))
