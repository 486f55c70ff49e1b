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
        P_b = P_in beta d_lambda (1 - exp(-(a_c + a_q) L)) / (a_c + a_q)    ->  P_in beta d_lambda (1 - exp(-2 a L)) / (2 a)

where the arrows give the equal-attenuation forms of [1]_. The noise photons that reach the
detector in a gate of width ``t_gate`` number ``P lambda_q t_gate / (h c)`` times the receiver
transmittance; a noise click then has probability ``1 - exp(-eta_detector * photons)``.

The default ``beta`` is derived from the Raman gain spectrum of silica: the spontaneous
scattering per unit length into a fibre mode of bandwidth ``B`` is ``(g_R / A_eff) h nu B n``
with ``n = n_th + 1`` on the Stokes side (quantum wavelength longer than the classical one) and
``n = n_th`` on the anti-Stokes side, ``n_th`` the Bose-Einstein occupation at the frequency
shift [3]_. The gain spectrum ``g_R`` uses the damped-oscillator Raman response of Blow and
Wood [4]_ (peak near 13 THz) scaled to the peak gain ``6e-14 m/W`` at a 1550 nm pump [3]_ and
an effective area of 80 um^2 (ITU-T G.652 fibre). Near a C-band classical channel this gives
``beta`` of about 2.6e-9 /(km nm), the order of magnitude (1e-9 /(km nm)) used for C-band
coexistence in the literature (this model was not fitted to a measured spectrum); the single-oscillator
shape is only approximate far from the peak (the O-band quantum channel of a C-band classical
channel, 35 THz away, is underestimated), so pass a measured ``raman_coefficient_per_km_nm``
when one is known.

References
----------
.. [1] M. Eraerds, N. Walenta, M. Legré, N. Gisin, H. Zbinden, "Quantum key distribution and
   1 Gbps data encryption over a single fibre", New J. Phys. 12, 063027 (2010),
   doi:10.1088/1367-2630/12/6/063027.
.. [2] R. Kumar, H. Qin, R. Alléaume, "Coexistence of continuous variable QKD with intense DWDM
   classical channels", New J. Phys. 17, 043027 (2015), doi:10.1088/1367-2630/17/4/043027.
.. [3] G. P. Agrawal, Nonlinear Fiber Optics, 5th ed., Academic Press (2013), ch. 8
   (Raman gain spectrum, peak gain, thermal population of the Stokes and anti-Stokes lines).
.. [4] K. J. Blow, D. Wood, "Theoretical description of transient stimulated Raman scattering in
   optical fibers", IEEE J. Quantum Electron. 25, 2665 (1989), doi:10.1109/3.40655.
"""

from __future__ import annotations

from collections.abc import Sequence
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
from qit4n.physics.fibre import DEFAULT_FIBRE_LOSS_DB_PER_KM

__all__ = [
    "DEFAULT_QUANTUM_WAVELENGTH_NM",
    "O_BAND_QUANTUM_WAVELENGTH_NM",
    "O_BAND_FIBRE_LOSS_DB_PER_KM",
    "RAMAN_PEAK_GAIN_M_PER_W",
    "FIBRE_EFFECTIVE_AREA_UM2",
    "raman_gain_spectrum",
    "raman_scattering_coefficient",
    "raman_noise_power_w",
    "raman_noise_photons_per_gate",
    "raman_noise_probability",
]

#: ITU-T G.694.1 grid channel 21 (193.4 THz), a common QKD channel, nm.
DEFAULT_QUANTUM_WAVELENGTH_NM = 1550.12
#: O-band quantum channel, far (about 35 THz) from C-band classical channels, nm.
O_BAND_QUANTUM_WAVELENGTH_NM = 1310.0
#: Typical attenuation of G.652 fibre at 1310 nm, dB/km (the recommendation allows up to 0.4).
O_BAND_FIBRE_LOSS_DB_PER_KM = 0.33
#: Peak Raman gain coefficient of silica for a 1550 nm pump, m/W ([3]_; scales as 1/lambda_pump).
RAMAN_PEAK_GAIN_M_PER_W = 6e-14
#: Effective mode area of standard single-mode fibre (G.652) at 1550 nm, um^2.
FIBRE_EFFECTIVE_AREA_UM2 = 80.0

_PUMP_REFERENCE_NM = 1550.0
_BLOW_WOOD_TAU1_S = 12.2e-15
_BLOW_WOOD_TAU2_S = 32e-15
_ROOM_TEMPERATURE_K = 295.0
_SQUARE_UM_IN_M2 = 1e-12


class ClassicalChannelLike(Protocol):
    """What the Raman model reads from a classical channel (e.g. :class:`qit4n.scenario.ClassicalChannel`)."""

    wavelength_nm: float
    launch_power_dbm: float
    direction: Literal["forward", "backward"]


def _oscillator_response_over_omega(omega_rad_per_s: np.ndarray) -> np.ndarray:
    """``Im H(omega) / omega`` of the Blow-Wood response (finite at omega = 0)."""
    a = 1.0 / _BLOW_WOOD_TAU2_S
    b = 1.0 / _BLOW_WOOD_TAU1_S
    amplitude = (_BLOW_WOOD_TAU1_S**2 + _BLOW_WOOD_TAU2_S**2) / (_BLOW_WOOD_TAU1_S * _BLOW_WOOD_TAU2_S**2)
    w2 = omega_rad_per_s**2
    return amplitude / _BLOW_WOOD_TAU1_S * 2.0 * a / ((a * a + b * b - w2) ** 2 + 4.0 * a * a * w2)


def _peak_response() -> float:
    omega = np.linspace(1e12, 2e14, 20001)
    return float(np.max(omega * _oscillator_response_over_omega(omega)))


_PEAK_RESPONSE = _peak_response()


def raman_gain_spectrum(frequency_shift_thz: ArrayLike, *, pump_wavelength_nm: ArrayLike = _PUMP_REFERENCE_NM) -> np.ndarray:
    """Raman gain coefficient ``g_R`` of silica in m/W at a frequency shift (THz) from the pump.

    Shape of the damped-oscillator response ``h_R(t)`` of [4]_ (``tau1 = 12.2 fs``,
    ``tau2 = 32 fs``), peak ``RAMAN_PEAK_GAIN_M_PER_W * 1550 nm / pump_wavelength_nm`` [3]_.
    Symmetric in the sign of the shift (the thermal factors live in
    :func:`raman_scattering_coefficient`).

    >>> shifts = np.linspace(0.0, 40.0, 4001)
    >>> round(float(shifts[np.argmax(raman_gain_spectrum(shifts))]), 1)
    13.1
    """
    omega = 2.0 * np.pi * np.abs(np.asarray(frequency_shift_thz, dtype=float)) * 1e12
    peak = RAMAN_PEAK_GAIN_M_PER_W * _PUMP_REFERENCE_NM / np.asarray(pump_wavelength_nm, dtype=float)
    return peak * omega * _oscillator_response_over_omega(omega) / _PEAK_RESPONSE


def raman_scattering_coefficient(
    quantum_wavelength_nm: ArrayLike,
    classical_wavelength_nm: ArrayLike,
    *,
    temperature_k: ArrayLike = _ROOM_TEMPERATURE_K,
    effective_area_um2: ArrayLike = FIBRE_EFFECTIVE_AREA_UM2,
) -> np.ndarray:
    """Spontaneous Raman scattering coefficient ``beta`` in 1/(km nm), per direction.

    ``beta = (g_R / A_eff) h nu_q (c / lambda_q^2) n`` with ``n = n_th + 1`` (Stokes,
    ``lambda_q > lambda_c``) or ``n_th`` (anti-Stokes), ``n_th = 1 / (exp(h |dnu| / k T) - 1)``.
    Fraction of the classical power, per km of fibre and per nm of receiver bandwidth, scattered
    into the quantum channel's mode (both polarisations) in each direction.

    >>> beta = raman_scattering_coefficient(1550.12, 1551.72)
    >>> 1e-9 < float(beta) < 5e-9
    True
    """
    lambda_q_m = np.asarray(quantum_wavelength_nm, dtype=float) * M_PER_NM
    lambda_c_m = np.asarray(classical_wavelength_nm, dtype=float) * M_PER_NM
    temperature = np.asarray(temperature_k, dtype=float)
    nu_q = SPEED_OF_LIGHT_M_PER_S / lambda_q_m
    shift_hz = SPEED_OF_LIGHT_M_PER_S / lambda_c_m - nu_q
    omega = 2.0 * np.pi * np.abs(shift_hz)
    x = PLANCK_J_S * np.abs(shift_hz) / (BOLTZMANN_J_PER_K * temperature)
    safe_x = np.where(x > 1e-12, x, 1.0)
    # omega * n_th, finite as the shift goes to zero (omega / x -> 2 pi k T / h).
    omega_times_nth = np.where(x > 1e-12, omega / np.expm1(safe_x), 2.0 * np.pi * BOLTZMANN_J_PER_K * temperature / PLANCK_J_S)
    stokes = (shift_hz > 0.0).astype(float)
    response = _oscillator_response_over_omega(omega) * (omega_times_nth + stokes * omega) / _PEAK_RESPONSE
    peak_gain = RAMAN_PEAK_GAIN_M_PER_W * _PUMP_REFERENCE_NM * M_PER_NM / lambda_c_m
    gain_per_w_km = peak_gain * response / (np.asarray(effective_area_um2, dtype=float) * _SQUARE_UM_IN_M2) * M_PER_KM
    hz_per_nm = SPEED_OF_LIGHT_M_PER_S / lambda_q_m**2 * M_PER_NM
    return gain_per_w_km * PLANCK_J_S * nu_q * hz_per_nm


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
    for name, value in (("loss_db_per_km", loss_db_per_km), ("filter_bandwidth_nm", filter_bandwidth_nm), ("temperature_k", temperature_k)):
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
            beta = float(raman_scattering_coefficient(quantum_wavelength_nm, channel.wavelength_nm, temperature_k=temperature_k))
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
    :func:`raman_noise_photons_per_gate`. Add it to the protocol's ``dark_count_probability``
    (per detector per gate). Broadcasts over ``length_km``; no classical channel gives zeros.

    Parameters
    ----------
    classical_channels, length_km, quantum_wavelength_nm, loss_db_per_km, classical_loss_db_per_km, filter_bandwidth_nm, raman_coefficient_per_km_nm, temperature_k
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
    array([0.0063, 0.005 ])
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
    eta = eta_detector * 10.0 ** (-receiver_loss_db / 10.0)
    return -np.expm1(-eta * photons)
