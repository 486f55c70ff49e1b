"""QRNG device models and their min-entropy per sample from the physics (vectorised functions).

Three sources, each with the worst-case min-entropy an adversary who knows (or controls) the
classical noise leaves in one digitised sample:

- vacuum homodyne: ``M = Q + E``, the quantum vacuum noise ``Q ~ N(0, sigma_Q^2)`` plus classical
  electronic noise ``E ~ N(0, sigma_E^2)``, digitised by an ``n``-bit ADC over ``[-R, R]`` with
  the two end bins collecting the tails (Haw et al. 2015, eqs. 5-9; Gabriel et al. 2010 for the
  unconditional case). Given ``E = e`` a middle bin holds at most ``erf(delta / (2 sqrt(2)
  sigma_Q))`` (``e`` at its centre, ``delta = 2R / 2^n``) and an end bin at most
  ``Phi((-R + delta + e_max) / sigma_Q)`` (``e`` at the bound ``e_max``, here
  ``classical_bound_sigmas`` standard deviations of ``E``);
- laser phase noise: the phase difference of consecutive pulses ``theta ~ N(0, sigma_theta^2)``
  (wrapped) read as ``V = cos(theta + phi)`` through an unbalanced interferometer, plus Gaussian
  classical noise, digitised the same way (Abellan et al. 2014, section 2: the arcsine density of
  a fully diffused phase, ``sigma_theta >> 2 pi``; a narrow spread read over a narrow ADC range is
  the linear regime of Xu et al. 2012). Bin probabilities are exact (the wrapped normal's
  distribution function at ``arccos`` of the bin edges);
- beam splitter and two detectors: a weak coherent pulse of mean photon number ``mu`` meets a
  beam splitter of transmissivity ``T``; detector ``j`` clicks with ``1 - (1 - d_j) exp(-mu T_j
  eta_j)``; a slot with exactly one click gives a bit. Efficiency mismatch biases the bits toward
  the better detector (``p0 -> T eta_0 / (T eta_0 + (1 - T) eta_1)`` as ``mu -> 0``, Jennewein et
  al. 2000); dead time removes the slots where a detector is still recovering.

References
----------
Haw, J. Y. et al., Phys. Rev. Applied 3, 054004 (2015), doi:10.1103/PhysRevApplied.3.054004.
Gabriel, C. et al., Nature Photonics 4, 711 (2010), doi:10.1038/nphoton.2010.197.
Abellan, C. et al., Optics Express 22, 1645 (2014), doi:10.1364/OE.22.001645.
Xu, F. et al., Optics Express 20, 12366 (2012), doi:10.1364/OE.20.012366.
Jennewein, T. et al., Rev. Sci. Instrum. 71, 1675 (2000), doi:10.1063/1.1150518.
Stefanov, A. et al., J. Mod. Opt. 47, 595 (2000), doi:10.1080/09500340008233380.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import erf, ndtr

from qit4n.errors import ParameterError

__all__ = [
    "beam_splitter_bit_probabilities",
    "beam_splitter_min_entropy",
    "homodyne_min_entropy",
    "noise_ratio_to_sigmas",
    "phase_noise_bin_probabilities",
    "phase_noise_min_entropy",
]

_SQRT2 = np.sqrt(2.0)


def _check_bits(adc_bits: int) -> None:
    if not 1 <= adc_bits <= 24:
        raise ParameterError(f"adc_bits = {adc_bits}: must be in [1, 24]")


def noise_ratio_to_sigmas(qcnr_db: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """``(sigma_Q, sigma_E)`` with ``sigma_Q^2 + sigma_E^2 = 1`` for a quantum-to-classical noise ratio
    ``10 log10(sigma_Q^2 / sigma_E^2)`` in dB.

    >>> [round(float(s), 4) for s in noise_ratio_to_sigmas(0.0)]
    [0.7071, 0.7071]
    """
    ratio = 10.0 ** (np.asarray(qcnr_db, dtype=float) / 10.0)
    return np.sqrt(ratio / (1.0 + ratio)), np.sqrt(1.0 / (1.0 + ratio))


def homodyne_min_entropy(
    qcnr_db: ArrayLike,
    *,
    adc_bits: int,
    range_sigmas: ArrayLike,
    classical_bound_sigmas: float = 5.0,
    conditional: bool = True,
) -> np.ndarray:
    """Min-entropy per sample (bits) of a vacuum-homodyne QRNG (Haw et al. 2015, eq. 9).

    Parameters
    ----------
    qcnr_db : array_like
        Quantum-to-classical noise ratio ``10 log10(sigma_Q^2 / sigma_E^2)`` in dB.
    adc_bits : int
        ADC resolution ``n``.
    range_sigmas : array_like
        Half the ADC input range ``R`` in units of the measured standard deviation
        ``sqrt(sigma_Q^2 + sigma_E^2)``.
    classical_bound_sigmas : float
        ``e_max`` in units of ``sigma_E``: the largest classical offset the adversary may hold.
    conditional : bool
        Condition on the classical noise (worst case over ``|e| <= e_max``); False gives the
        unconditional min-entropy of the digitised total noise (Gabriel et al. 2010).

    Returns
    -------
    numpy.ndarray
        Bits per sample, broadcast over the array arguments.

    >>> round(float(homodyne_min_entropy(20.0, adc_bits=8, range_sigmas=3.0)), 3)
    6.734
    """
    _check_bits(adc_bits)
    sigma_q, sigma_e = noise_ratio_to_sigmas(qcnr_db)
    half_range = np.asarray(range_sigmas, dtype=float)
    if np.any(half_range <= 0):
        raise ParameterError(f"range_sigmas = {half_range.min():g}: must be > 0")
    delta = 2.0 * half_range / 2**adc_bits
    if conditional:
        spread, offset = sigma_q, classical_bound_sigmas * sigma_e
    else:
        spread, offset = np.hypot(sigma_q, sigma_e), np.zeros_like(sigma_e)
    middle = erf(delta / (2.0 * _SQRT2 * spread)) if adc_bits > 1 else np.zeros_like(delta)
    end = ndtr((-half_range + delta + offset) / spread)
    return -np.log2(np.maximum(middle, end))


def _phase_noise_cdf(values: np.ndarray, phase_sigma_rad: float, bias_rad: float) -> np.ndarray:
    """``P(cos(theta + bias) <= v)`` for a wrapped normal ``theta`` of standard deviation ``phase_sigma_rad``:
    ``cos(psi) <= v`` exactly when ``psi mod 2 pi`` lies in ``[arccos v, 2 pi - arccos v]``. Narrow phases sum
    the normal over its wraps, wide ones use the wrapped normal's Fourier series (both to double precision)."""
    low = np.arccos(np.clip(values, -1.0, 1.0)) - bias_rad
    high = 2.0 * np.pi - np.arccos(np.clip(values, -1.0, 1.0)) - bias_rad
    if phase_sigma_rad <= np.pi:
        wraps = np.arange(-6, 7)[:, None] * 2.0 * np.pi
        return np.sum(ndtr((high + wraps) / phase_sigma_rad) - ndtr((low + wraps) / phase_sigma_rad), axis=0)
    orders = np.arange(1, int(np.ceil(9.0 / phase_sigma_rad)) + 2)[:, None]
    weights = np.exp(-0.5 * (orders * phase_sigma_rad) ** 2) / (np.pi * orders)
    return (high - low) / (2.0 * np.pi) + np.sum(weights * (np.sin(orders * high) - np.sin(orders * low)), axis=0)


def _phase_noise_bins(
    phase_sigma_rad: float, adc_bits: int, bias_rad: float, half_range: float, shift: float
) -> np.ndarray:
    """Probabilities of the ``2^n`` ADC bins over ``[-half_range, half_range]`` (end bins take the tails) of
    ``cos(theta + bias) + shift``."""
    edges = np.linspace(-half_range, half_range, 2**adc_bits + 1)[1:-1] - shift
    cdf = np.concatenate(([0.0], _phase_noise_cdf(edges, phase_sigma_rad, bias_rad), [1.0]))
    return np.diff(cdf)


def phase_noise_bin_probabilities(phase_sigma_rad: float, *, adc_bits: int, bias_rad: float = np.pi / 2) -> np.ndarray:
    """Probabilities of the ``2^n`` ADC bins over ``[-1, 1]`` of ``V = cos(theta + bias)``, ``theta``
    a wrapped normal phase of standard deviation ``phase_sigma_rad`` (no classical noise)."""
    _check_bits(adc_bits)
    if phase_sigma_rad <= 0:
        raise ParameterError(f"phase_sigma_rad = {phase_sigma_rad}: must be > 0")
    return _phase_noise_bins(phase_sigma_rad, adc_bits, bias_rad, 1.0, 0.0)


def phase_noise_min_entropy(
    phase_sigma_rad: float,
    *,
    adc_bits: int,
    classical_sigma: float = 0.0,
    classical_bound_sigmas: float = 5.0,
    bias_rad: float = np.pi / 2,
    offsets: int = 201,
    adc_half_range: float | None = None,
) -> float:
    """Min-entropy per sample (bits) of a phase-diffusion QRNG (Abellan et al. 2014): the largest
    bin probability of ``V = cos(theta + bias) + e`` over classical offsets ``|e| <= e_max``
    (``classical_sigma`` in units of the interference amplitude), ADC range ``[-1 - e_max, 1 + e_max]``
    unless ``adc_half_range`` sets it (a narrow phase spread read in its linear regime, Xu et al. 2012).

    >>> round(phase_noise_min_entropy(100.0, adc_bits=8), 2)  # arcsine law: end bins dominate
    4.65
    """
    _check_bits(adc_bits)
    if phase_sigma_rad <= 0:
        raise ParameterError(f"phase_sigma_rad = {phase_sigma_rad}: must be > 0")
    e_max = classical_bound_sigmas * classical_sigma
    half_range = 1.0 + e_max if adc_half_range is None else adc_half_range
    if half_range <= 0:
        raise ParameterError(f"adc_half_range = {half_range}: must be > 0")
    shifts = np.linspace(-e_max, e_max, offsets) if e_max > 0 else np.zeros(1)
    worst = max(float(_phase_noise_bins(phase_sigma_rad, adc_bits, bias_rad, half_range, s).max()) for s in shifts)
    return float(-np.log2(worst))


def beam_splitter_bit_probabilities(
    mean_photons: ArrayLike,
    *,
    eta: tuple[float, float] = (1.0, 1.0),
    dark_probability: tuple[float, float] = (0.0, 0.0),
    transmissivity: float = 0.5,
) -> tuple[np.ndarray, np.ndarray]:
    """``(P(only detector 0 clicks), P(only detector 1 clicks))`` per slot for a coherent pulse of
    mean photon number ``mean_photons`` on a beam splitter (Poissonian splitting is independent)."""
    mu = np.asarray(mean_photons, dtype=float)
    if np.any(mu < 0):
        raise ParameterError(f"mean_photons = {mu.min():g}: must be >= 0")
    for name, pair in (("eta", eta), ("dark_probability", dark_probability)):
        if not all(0.0 <= value <= 1.0 for value in pair):
            raise ParameterError(f"{name} = {pair}: each must be in [0, 1]")
    if not 0.0 < transmissivity < 1.0:
        raise ParameterError(f"transmissivity = {transmissivity}: must be in (0, 1)")
    arms = (transmissivity, 1.0 - transmissivity)
    silent = [(1.0 - d) * np.exp(-mu * t * e) for d, t, e in zip(dark_probability, arms, eta)]
    return (1.0 - silent[0]) * silent[1], (1.0 - silent[1]) * silent[0]


def beam_splitter_min_entropy(
    mean_photons: ArrayLike,
    *,
    eta: tuple[float, float] = (1.0, 1.0),
    dark_probability: tuple[float, float] = (0.0, 0.0),
    transmissivity: float = 0.5,
) -> np.ndarray:
    """Min-entropy per kept bit, ``-log2 max(p0, 1 - p0)`` with ``p0`` the share of detector 0 among
    single-click slots.

    >>> round(float(beam_splitter_min_entropy(0.1, eta=(0.6, 0.5))), 4)
    0.8728
    """
    p0, p1 = beam_splitter_bit_probabilities(
        mean_photons, eta=eta, dark_probability=dark_probability, transmissivity=transmissivity
    )
    share = p0 / (p0 + p1)
    return -np.log2(np.maximum(share, 1.0 - share))
