"""Spontaneous Raman noise from classical DWDM channels sharing the fibre of a quantum link.

A classical channel of launch power ``P_in`` scatters a small fraction of its light into the
quantum channel's band by spontaneous Raman scattering, in both directions along the fibre. With
the Raman coefficient ``beta`` (per km per nm of filter bandwidth), the noise power reaching the
quantum receiver through a filter of width ``d_lambda`` is (eqs. 1 and 2 of [1]_, written for
different attenuations ``a_c`` at the classical and ``a_q`` at the quantum wavelength as in
eqs. 3 and 4 of [2]_)::

    forward  (classical travels with the quantum signal):
        P_f = P_in beta d_lambda (exp(-a_q L) - exp(-a_c L)) / (a_c - a_q)  ->  P_out beta L d_lambda
    backward (classical travels against it):
        P_b = P_in beta d_lambda (1 - exp(-(a_c + a_q) L)) / (a_c + a_q)
            ->  P_in beta d_lambda (1 - exp(-2 a L)) / (2 a)

where the arrows give the equal-attenuation forms of [1]_. The noise photons that reach the
detector in a gate of width ``t_gate`` number ``P lambda_q t_gate / (h c)`` times the receiver
transmittance; a noise click then has probability ``1 - exp(-eta_detector * photons)``.

The default ``beta`` follows from the Raman gain of silica: the spontaneous scattering per unit
length into one polarisation mode of bandwidth ``B`` is ``C_R h nu B n`` with ``C_R`` the Raman
gain efficiency (1/(W m)), ``n = n_th + 1`` on the Stokes side (quantum wavelength longer than
the classical one) and ``n = n_th`` on the anti-Stokes side, ``n_th`` the Bose-Einstein
occupation at the frequency shift [3]_; the fibre guides two polarisation modes, each with the
polarisation-averaged ``C_R``. ``C_R`` is the measured efficiency spectrum of standard
single-mode fibre tabulated in ``physics/data/ssmf_raman_efficiency.csv`` [4]_ (0 to 42 THz,
peak 3.84e-4 /(W m) near 13 THz), interpolated linearly (linear in the shift below 0.5 THz, as
the odd Raman response requires). Next to a C-band classical channel (0.1 to 4 THz away) this
gives ``beta`` of 3e-9 to 8e-9 /(km nm); an O-band quantum channel 35 THz from C-band traffic
sees about 2e-12 /(km nm), from the thermal anti-Stokes tail. Pass a measured
``raman_coefficient_per_km_nm`` when one is known for the fibre at hand.

References
----------
.. [1] M. Eraerds, N. Walenta, M. Legré, N. Gisin, H. Zbinden, "Quantum key distribution and
   1 Gbps data encryption over a single fibre", New J. Phys. 12, 063027 (2010),
   doi:10.1088/1367-2630/12/6/063027.
.. [2] R. Kumar, H. Qin, R. Alléaume, "Coexistence of continuous variable QKD with intense DWDM
   classical channels", New J. Phys. 17, 043027 (2015), doi:10.1088/1367-2630/17/4/043027.
.. [3] G. P. Agrawal, Nonlinear Fiber Optics, 5th ed., Academic Press (2013), ch. 8
   (Raman gain spectrum, peak gain, thermal population of the Stokes and anti-Stokes lines).
.. [4] Telecom Infra Project, GNPy (oopt-gnpy) documentation, RamanFiber "raman_efficiency" of
   SSMF, after V. Curri et al., "Merit of Raman pumping in uniform and uncompensated links
   supporting NyWDM transmission", J. Lightw. Technol. (2016).
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib import resources
from typing import Literal, Protocol

import numpy as np
from numpy.typing import ArrayLike

from qit4n.errors import ParameterError
from qit4n.physics.constants import (
    BOLTZMANN_J_PER_K,
    M_PER_KM,
    M_PER_NM,
    NEPERS_PER_DB,
    PLANCK_J_S,
    SPEED_OF_LIGHT_M_PER_S,
    W_PER_MW,
)
from qit4n.physics.fibre import DEFAULT_FIBRE_LOSS_DB_PER_KM, transmittance_from_loss_db

__all__ = [
    "DEFAULT_QUANTUM_WAVELENGTH_NM",
    "FIBRE_EFFECTIVE_AREA_UM2",
    "O_BAND_FIBRE_LOSS_DB_PER_KM",
    "O_BAND_QUANTUM_WAVELENGTH_NM",
    "ClassicalChannelLike",
    "dark_count_with_noise_probability",
    "raman_efficiency_per_w_m",
    "raman_noise_photons_per_gate",
    "raman_noise_power_w",
    "raman_noise_probability",
    "raman_scattering_coefficient",
]

#: ITU-T G.694.1 grid channel 21 (193.4 THz), a common QKD channel, nm.
DEFAULT_QUANTUM_WAVELENGTH_NM = 1550.12
#: O-band quantum channel, far (about 35 THz) from C-band classical channels, nm.
O_BAND_QUANTUM_WAVELENGTH_NM = 1310.0
#: Typical attenuation of G.652 fibre at 1310 nm, dB/km (the recommendation allows up to 0.4).
O_BAND_FIBRE_LOSS_DB_PER_KM = 0.33
#: Effective mode area of standard single-mode fibre (G.652) at 1550 nm, um^2.
FIBRE_EFFECTIVE_AREA_UM2 = 80.0

_PUMP_REFERENCE_NM = 1550.0
_ROOM_TEMPERATURE_K = 295.0
_HZ_PER_THZ = 1e12


def _load_efficiency_table() -> tuple[np.ndarray, np.ndarray]:
    text = resources.files("qit4n.physics").joinpath("data/ssmf_raman_efficiency.csv").read_text(encoding="utf-8")
    rows = [line.split(",") for line in text.splitlines() if line and not line.startswith("#")]
    numbers = np.array(rows[1:], dtype=float)
    return numbers[:, 0], numbers[:, 1]


_SHIFT_THZ, _EFFICIENCY_PER_W_M = _load_efficiency_table()
#: Slope of the efficiency below the first tabulated shift, 1/(W m THz).
_LOW_SHIFT_SLOPE = _EFFICIENCY_PER_W_M[1] / _SHIFT_THZ[1]


class ClassicalChannelLike(Protocol):
    """What the Raman model reads from a classical channel (e.g. :class:`qit4n.scenario.ClassicalChannel`)."""

    @property
    def wavelength_nm(self) -> float: ...

    @property
    def launch_power_dbm(self) -> float: ...

    @property
    def direction(self) -> Literal["forward", "backward"]: ...


def raman_efficiency_per_w_m(
    frequency_shift_thz: ArrayLike,
    *,
    pump_wavelength_nm: ArrayLike = _PUMP_REFERENCE_NM,
    effective_area_um2: ArrayLike = FIBRE_EFFECTIVE_AREA_UM2,
) -> np.ndarray:
    """Polarisation-averaged Raman gain efficiency ``C_R = g_R / A_eff`` of silica fibre, 1/(W m).

    The SSMF table [4]_ interpolated at ``|frequency_shift_thz|`` (0 beyond 42 THz), scaled as
    ``1 / pump_wavelength_nm`` from 1550 nm (the Raman gain coefficient of silica is inversely
    proportional to the pump wavelength [3]_) and as ``80 um^2 / effective_area_um2``.

    >>> shifts = np.linspace(0.0, 40.0, 1601)
    >>> round(float(shifts[np.argmax(raman_efficiency_per_w_m(shifts))]), 2)
    12.75
    """
    shift = np.abs(np.asarray(frequency_shift_thz, dtype=float))
    scale = _PUMP_REFERENCE_NM / np.asarray(pump_wavelength_nm, dtype=float)
    scale = scale * FIBRE_EFFECTIVE_AREA_UM2 / np.asarray(effective_area_um2, dtype=float)
    return scale * np.interp(shift, _SHIFT_THZ, _EFFICIENCY_PER_W_M, right=0.0)


def raman_scattering_coefficient(
    quantum_wavelength_nm: ArrayLike,
    classical_wavelength_nm: ArrayLike,
    *,
    temperature_k: ArrayLike = _ROOM_TEMPERATURE_K,
    effective_area_um2: ArrayLike = FIBRE_EFFECTIVE_AREA_UM2,
) -> np.ndarray:
    """Spontaneous Raman scattering coefficient ``beta`` in 1/(km nm), per direction.

    ``beta = 2 C_R h nu_q (c / lambda_q^2) n`` with ``C_R`` from :func:`raman_efficiency_per_w_m`
    at the classical (pump) wavelength, the factor 2 for the fibre's two polarisation modes,
    ``n = n_th + 1`` (Stokes, ``lambda_q > lambda_c``) or ``n_th`` (anti-Stokes) and
    ``n_th = 1 / (exp(h |dnu| / k T) - 1)``: the fraction of the classical power, per km of
    fibre and per nm of receiver bandwidth, scattered into the quantum channel in each direction.

    >>> beta = raman_scattering_coefficient(1550.12, 1551.72)
    >>> 1e-9 < float(beta) < 1e-8
    True
    """
    lambda_q_m = np.asarray(quantum_wavelength_nm, dtype=float) * M_PER_NM
    lambda_c_nm = np.asarray(classical_wavelength_nm, dtype=float)
    temperature = np.asarray(temperature_k, dtype=float)
    nu_q = SPEED_OF_LIGHT_M_PER_S / lambda_q_m
    shift_hz = SPEED_OF_LIGHT_M_PER_S / (lambda_c_nm * M_PER_NM) - nu_q
    shift_thz = np.abs(shift_hz) / _HZ_PER_THZ
    x = PLANCK_J_S * np.abs(shift_hz) / (BOLTZMANN_J_PER_K * temperature)
    tiny = x < 1e-9
    safe_x = np.where(tiny, 1.0, x)
    # C_R * n_th, finite as the shift goes to zero: C_R ~ slope * shift and n_th ~ 1 / x.
    efficiency = raman_efficiency_per_w_m(
        shift_thz, pump_wavelength_nm=lambda_c_nm, effective_area_um2=effective_area_um2
    )
    slope = (
        _LOW_SHIFT_SLOPE
        * _PUMP_REFERENCE_NM
        / lambda_c_nm
        * FIBRE_EFFECTIVE_AREA_UM2
        / np.asarray(effective_area_um2, dtype=float)
    )
    thermal_limit = slope * BOLTZMANN_J_PER_K * temperature / (PLANCK_J_S * _HZ_PER_THZ)
    efficiency_times_nth = np.where(tiny, thermal_limit, efficiency / np.expm1(safe_x))
    stokes = (shift_hz > 0.0).astype(float)
    occupation_weighted = efficiency_times_nth + stokes * efficiency
    hz_per_nm = SPEED_OF_LIGHT_M_PER_S / lambda_q_m**2 * M_PER_NM
    return 2.0 * occupation_weighted * M_PER_KM * PLANCK_J_S * nu_q * hz_per_nm


def _relative_length(x: np.ndarray, length_km: np.ndarray) -> np.ndarray:
    """``(1 - exp(-x)) / x * length_km``, finite at ``x = 0``."""
    safe = np.where(np.abs(x) > 1e-12, x, 1.0)
    return np.where(np.abs(x) > 1e-12, -np.expm1(-safe) / safe, 1.0 - x / 2.0) * length_km


def raman_noise_power_w(
    classical_channels: Sequence[ClassicalChannelLike],
    length_km: ArrayLike,
    *,
    quantum_wavelength_nm: float = DEFAULT_QUANTUM_WAVELENGTH_NM,
    loss_db_per_km: float = DEFAULT_FIBRE_LOSS_DB_PER_KM,
    classical_loss_db_per_km: float | None = None,
    filter_bandwidth_nm: float = 0.8,
    raman_coefficient_per_km_nm: float | None = None,
    temperature_k: float = _ROOM_TEMPERATURE_K,
) -> np.ndarray:
    """Raman noise power (W) in the quantum band at the receiver end of the fibre.

    Sum over ``classical_channels`` of the forward and backward formulas of the module
    docstring; broadcasts over ``length_km``.

    Parameters
    ----------
    classical_channels : sequence of ClassicalChannel
        Each with ``wavelength_nm``, ``launch_power_dbm`` (at the fibre input of its own
        direction) and ``direction`` (``"forward"``: same direction as the quantum signal).
    length_km : array_like
        Fibre length, km.
    quantum_wavelength_nm : float
        Centre of the quantum channel, nm.
    loss_db_per_km : float
        Attenuation at the quantum wavelength, dB/km.
    classical_loss_db_per_km : float, optional
        Attenuation at the classical wavelengths, dB/km (default: ``loss_db_per_km``).
    filter_bandwidth_nm : float
        Bandwidth of the receiver's spectral filter, nm.
    raman_coefficient_per_km_nm : float, optional
        Measured ``beta`` in 1/(km nm) used for every channel; default
        :func:`raman_scattering_coefficient` at each channel's wavelength.
    temperature_k : float
        Fibre temperature, K (sets the thermal factor of the default ``beta``).

    Returns
    -------
    numpy.ndarray
        Noise power, W, shape of ``length_km``.

    >>> from qit4n.scenario import ClassicalChannel
    >>> one_mw = [ClassicalChannel(wavelength_nm=1551.72, launch_power_dbm=0.0, direction="forward")]
    >>> power = raman_noise_power_w(one_mw, 25.0, raman_coefficient_per_km_nm=1e-9, filter_bandwidth_nm=1.0)
    >>> round(float(power) * 1e12, 3)  # pW: 1 mW * 10^(-0.5) * 1e-9 * 25 * 1
    7.906
    """
    length = np.asarray(length_km, dtype=float)
    for name, value in (
        ("loss_db_per_km", loss_db_per_km),
        ("filter_bandwidth_nm", filter_bandwidth_nm),
        ("temperature_k", temperature_k),
    ):
        if not value >= 0.0:
            raise ParameterError(f"{name} = {value:g}: must be >= 0")
    if np.any(length < 0.0):
        raise ParameterError(f"length_km = {float(length[length < 0.0].flat[0]):g}: must be >= 0")
    alpha_q = NEPERS_PER_DB * loss_db_per_km
    alpha_c = NEPERS_PER_DB * (loss_db_per_km if classical_loss_db_per_km is None else classical_loss_db_per_km)
    forward_length = np.exp(-alpha_q * length) * _relative_length((alpha_c - alpha_q) * length, length)
    backward_length = _relative_length((alpha_c + alpha_q) * length, length)
    total = np.zeros_like(length)
    for channel in classical_channels:
        power_w = W_PER_MW * 10.0 ** (channel.launch_power_dbm / 10.0)
        if raman_coefficient_per_km_nm is None:
            beta = float(
                raman_scattering_coefficient(quantum_wavelength_nm, channel.wavelength_nm, temperature_k=temperature_k)
            )
        else:
            beta = raman_coefficient_per_km_nm
        effective_km = forward_length if channel.direction == "forward" else backward_length
        total = total + power_w * beta * filter_bandwidth_nm * effective_km
    return total


def raman_noise_photons_per_gate(
    classical_channels: Sequence[ClassicalChannelLike],
    length_km: ArrayLike,
    *,
    gate_width_s: float = 1e-9,
    quantum_wavelength_nm: float = DEFAULT_QUANTUM_WAVELENGTH_NM,
    loss_db_per_km: float = DEFAULT_FIBRE_LOSS_DB_PER_KM,
    classical_loss_db_per_km: float | None = None,
    filter_bandwidth_nm: float = 0.8,
    raman_coefficient_per_km_nm: float | None = None,
    temperature_k: float = _ROOM_TEMPERATURE_K,
) -> np.ndarray:
    """Mean number of Raman photons per detection gate at the receiver input, ``P t lambda / (h c)``.

    The other arguments are those of :func:`raman_noise_power_w`.

    >>> from qit4n.scenario import ClassicalChannel
    >>> data = [ClassicalChannel(wavelength_nm=1549.32, launch_power_dbm=0.0, direction="backward")]
    >>> bool(raman_noise_photons_per_gate(data, 50.0) > 0.0)
    True
    """
    if not gate_width_s >= 0.0:
        raise ParameterError(f"gate_width_s = {gate_width_s:g}: must be >= 0")
    power_w = raman_noise_power_w(
        classical_channels,
        length_km,
        quantum_wavelength_nm=quantum_wavelength_nm,
        loss_db_per_km=loss_db_per_km,
        classical_loss_db_per_km=classical_loss_db_per_km,
        filter_bandwidth_nm=filter_bandwidth_nm,
        raman_coefficient_per_km_nm=raman_coefficient_per_km_nm,
        temperature_k=temperature_k,
    )
    photon_energy_j = PLANCK_J_S * SPEED_OF_LIGHT_M_PER_S / (quantum_wavelength_nm * M_PER_NM)
    return power_w * gate_width_s / photon_energy_j


def raman_noise_probability(
    classical_channels: Sequence[ClassicalChannelLike],
    length_km: ArrayLike,
    *,
    quantum_wavelength_nm: float = DEFAULT_QUANTUM_WAVELENGTH_NM,
    loss_db_per_km: float = DEFAULT_FIBRE_LOSS_DB_PER_KM,
    classical_loss_db_per_km: float | None = None,
    filter_bandwidth_nm: float = 0.8,
    gate_width_s: float = 1e-9,
    raman_coefficient_per_km_nm: float | None = None,
    eta_detector: float = 0.1,
    receiver_loss_db: float = 0.0,
    temperature_k: float = _ROOM_TEMPERATURE_K,
) -> np.ndarray:
    """Probability of a Raman noise click per gate at one detector of the quantum receiver.

    ``1 - exp(-eta_detector * 10^(-receiver_loss_db / 10) * photons)`` with ``photons`` from
    :func:`raman_noise_photons_per_gate`. Combine it with the protocol's ``dark_count_probability``
    (per detector per gate) by :func:`dark_count_with_noise_probability`. Broadcasts over
    ``length_km``; no classical channel gives zeros.

    Parameters
    ----------
    classical_channels, length_km, quantum_wavelength_nm, loss_db_per_km, classical_loss_db_per_km
        As in :func:`raman_noise_power_w`.
    filter_bandwidth_nm, raman_coefficient_per_km_nm, temperature_k
        As in :func:`raman_noise_power_w`.
    gate_width_s : float
        Effective detection gate (or coincidence window), s.
    eta_detector : float
        Detection efficiency of the single-photon detector, in [0, 1].
    receiver_loss_db : float
        Insertion loss between the fibre end and the detector (filters, decoder), dB. When the
        receiver splits the light over several detectors, include the split here.

    Returns
    -------
    numpy.ndarray
        Noise click probability per gate, shape of ``length_km``.

    >>> from qit4n.scenario import ClassicalChannel
    >>> data = [ClassicalChannel(wavelength_nm=1551.72, launch_power_dbm=-5.0, direction="forward")]
    >>> p = raman_noise_probability(data, [10.0, 50.0], filter_bandwidth_nm=0.8, gate_width_s=1e-9, eta_detector=0.2)
    >>> np.round(p, 4)
    array([0.009 , 0.0071])
    """
    if not 0.0 <= eta_detector <= 1.0:
        raise ParameterError(f"eta_detector = {eta_detector:g}: must be in [0, 1]")
    if not receiver_loss_db >= 0.0:
        raise ParameterError(f"receiver_loss_db = {receiver_loss_db:g}: must be >= 0")
    photons = raman_noise_photons_per_gate(
        classical_channels,
        length_km,
        gate_width_s=gate_width_s,
        quantum_wavelength_nm=quantum_wavelength_nm,
        loss_db_per_km=loss_db_per_km,
        classical_loss_db_per_km=classical_loss_db_per_km,
        filter_bandwidth_nm=filter_bandwidth_nm,
        raman_coefficient_per_km_nm=raman_coefficient_per_km_nm,
        temperature_k=temperature_k,
    )
    eta = eta_detector * transmittance_from_loss_db(receiver_loss_db)
    return -np.expm1(-eta * photons)


def dark_count_with_noise_probability(dark_count_probability: ArrayLike, noise_probability: ArrayLike) -> np.ndarray:
    """Probability of a click per detector per gate from dark counts and an independent noise source.

    ``1 - (1 - dark_count_probability) * (1 - noise_probability)``: a gate is quiet only when neither
    the detector's dark counts nor the noise photons (Raman scattering from classical channels,
    :func:`raman_noise_probability`) click it. This is the one formula qit4n uses to load a
    detector with noise, in the link layer and in the emulator alike. Broadcasts.

    >>> float(dark_count_with_noise_probability(0.5, 0.5))
    0.75
    >>> dark_count_with_noise_probability([1e-6, 1e-3], 1e-3).round(9)
    array([0.001001, 0.001999])
    """
    dark = np.asarray(dark_count_probability, dtype=float)
    noise = np.asarray(noise_probability, dtype=float)
    if np.any((dark < 0.0) | (dark > 1.0)):
        raise ParameterError(f"dark_count_probability = {dark}: must be in [0, 1]")
    if np.any((noise < 0.0) | (noise > 1.0)):
        raise ParameterError(f"noise_probability = {noise}: must be in [0, 1]")
    return 1.0 - (1.0 - dark) * (1.0 - noise)
