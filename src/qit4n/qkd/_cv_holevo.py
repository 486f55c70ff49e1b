"""Mutual information and Holevo bound of Gaussian-modulated coherent-state CV-QKD (GG02).

All variances are in shot-noise units (SNU). In the entanglement-based picture Alice holds one
mode of a two-mode squeezed vacuum of variance ``V = V_A + 1``; the channel has transmittance
``T`` and excess noise ``xi`` referred to its input, i.e. added noise ``chi_line = 1/T - 1 + xi``.
Bob's detector has efficiency ``eta`` and electronic noise ``v_el``, both trusted (calibrated
and out of Eve's reach), adding ``chi_hom = (1 - eta + v_el) / eta`` for homodyne and
``chi_het = (2 - eta + 2 v_el) / eta`` for heterodyne detection (which splits the light on a
balanced beam splitter first); ``chi_tot = chi_line + chi_det / T``.

Alice-Bob mutual information (``m = 1/2`` for homodyne, one quadrature; ``m = 1`` for heterodyne)::

    I_AB = m log2[(V + chi_tot) / (1 + chi_tot)]

Eve's information on Bob's data under collective attacks (reverse reconciliation) is the Holevo
quantity ``chi_BE = G((l1-1)/2) + G((l2-1)/2) - G((l3-1)/2) - G((l4-1)/2)`` with
``G(x) = (x+1) log2(x+1) - x log2 x`` and the symplectic eigenvalues::

    l1,2^2 = [A +- sqrt(A^2 - 4B)] / 2,   A = V^2 (1 - 2T) + 2T + T^2 (V + chi_line)^2,
                                           B = T^2 (V chi_line + 1)^2
    homodyne:   l3,4^2 = [C +- sqrt(C^2 - 4D)] / 2,
                C = [V sqrt(B) + T (V + chi_line) + A chi_hom] / [T (V + chi_tot)],
                D = sqrt(B) [V + sqrt(B) chi_hom] / [T (V + chi_tot)]
    heterodyne: C = [A chi_het^2 + B + 1 + 2 chi_het (V sqrt(B) + T (V + chi_line)) + 2T (V^2 - 1)]
                    / [T^2 (V + chi_tot)^2],
                D = [(V + sqrt(B) chi_het) / (T (V + chi_tot))]^2

(the fifth eigenvalue, of the mode that models the detector noise, is 1 and adds nothing).

References
----------
Lodewyck, J. et al., Phys. Rev. A 76, 042305 (2007), doi:10.1103/PhysRevA.76.042305 (homodyne);
Fossier, S. et al., J. Phys. B 42, 114014 (2009), doi:10.1088/0953-4075/42/11/114014 (heterodyne);
Laudenbach, F. et al., Adv. Quantum Technol. 1, 1800011 (2018), doi:10.1002/qute.201800011 (review,
same notation).
"""

from __future__ import annotations

import numpy as np

__all__ = ["detector_noise", "entropy_g", "holevo_bound", "mutual_information"]


def entropy_g(x: np.ndarray) -> np.ndarray:
    """Von Neumann entropy in bits of a thermal mode with mean photon number ``x`` (0 at ``x <= 0``)."""
    value = np.maximum(np.asarray(x, dtype=float), 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = (value + 1.0) * np.log2(value + 1.0) - value * np.log2(value)
    return np.where(value > 0.0, terms, 0.0)


def detector_noise(eta: float, v_el: float, heterodyne: bool) -> float:
    """``chi_hom`` or ``chi_het``: the trusted detector's noise referred to its input, SNU."""
    if heterodyne:
        return (2.0 - eta + 2.0 * v_el) / eta
    return (1.0 - eta + v_el) / eta


def mutual_information(v: np.ndarray, chi_total: np.ndarray, heterodyne: bool) -> np.ndarray:
    """``I_AB`` in bits per symbol."""
    prefactor = 1.0 if heterodyne else 0.5
    return prefactor * np.log2((v + chi_total) / (1.0 + chi_total))


def _pair(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The two symplectic eigenvalues ``sqrt([a +- sqrt(a^2 - 4b)] / 2)``."""
    root = np.sqrt(np.maximum(a * a - 4.0 * b, 0.0))
    return np.sqrt(np.maximum((a + root) / 2.0, 0.0)), np.sqrt(np.maximum((a - root) / 2.0, 0.0))


def holevo_bound(v: np.ndarray, t: np.ndarray, xi: float, chi_det: float, heterodyne: bool) -> np.ndarray:
    """``chi_BE`` in bits per symbol for reverse reconciliation (collective attacks)."""
    chi_line = 1.0 / t - 1.0 + xi
    chi_total = chi_line + chi_det / t
    a = v * v * (1.0 - 2.0 * t) + 2.0 * t + t * t * (v + chi_line) ** 2
    b = t * t * (v * chi_line + 1.0) ** 2
    sqrt_b = np.sqrt(b)
    if heterodyne:
        c = (a * chi_det**2 + b + 1.0 + 2.0 * chi_det * (v * sqrt_b + t * (v + chi_line)) + 2.0 * t * (v * v - 1.0)) / (
            t * t * (v + chi_total) ** 2
        )
        d = ((v + sqrt_b * chi_det) / (t * (v + chi_total))) ** 2
    else:
        c = (v * sqrt_b + t * (v + chi_line) + a * chi_det) / (t * (v + chi_total))
        d = sqrt_b * (v + sqrt_b * chi_det) / (t * (v + chi_total))
    l1, l2 = _pair(a, b)
    l3, l4 = _pair(c, d)
    return (
        entropy_g((l1 - 1.0) / 2.0)
        + entropy_g((l2 - 1.0) / 2.0)
        - entropy_g((l3 - 1.0) / 2.0)
        - entropy_g((l4 - 1.0) / 2.0)
    )
