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

Numerical form. Far away (``T`` below ~1e-8) both ``I_AB`` and ``chi_BE`` are of order ``T``
while the terms above are of order one, so evaluated as written they cancel to rounding noise
(~1e-14 bit). They are evaluated instead from the exact small quantities ``b - 1 = T (V_A + xi)``
(Bob's variance ``b = T (V + chi_line)`` less one) and ``c^2 = T (V^2 - 1)``: with
``sqrt(B) = V b - c^2``, ``l1 + l2 = sqrt((V + b)^2 - 4 c^2)`` and ``l1 - l2 = V - b``, so
``l1 - V = -2 c^2 / (l1 + l2 + V + b)`` and ``l2 - 1 = (b - 1) + (l1 - V)``; likewise
``l3 +- l4 = sqrt(C +- 2 sqrt(D))`` is expanded about ``V + 1`` and ``V - 1`` with ``C - (V^2 + 1)``
and ``sqrt(D) - V`` written as polynomials in ``b - 1`` and ``c^2`` (algebra of the formulas above,
no approximation). The differences ``G(x1) - G(x3)`` and ``G(x2) - G(x4)`` are then taken from the
differences of their arguments, and ``I_AB`` with ``log1p``. Every term so keeps its relative
precision down to ``T`` ~ 1e-300.

References
----------
Lodewyck, J. et al., Phys. Rev. A 76, 042305 (2007), doi:10.1103/PhysRevA.76.042305 (homodyne);
Fossier, S. et al., J. Phys. B 42, 114014 (2009), doi:10.1088/0953-4075/42/11/114014 (heterodyne);
Laudenbach, F. et al., Adv. Quantum Technol. 1, 1800011 (2018), doi:10.1002/qute.201800011 (review,
same notation).
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["detector_noise", "entropy_g", "holevo_bound", "mutual_information"]


def entropy_g(x: np.ndarray) -> np.ndarray:
    """Von Neumann entropy in bits of a thermal mode with mean photon number ``x`` (0 at ``x <= 0``)."""
    value = np.maximum(np.asarray(x, dtype=float), 0.0)
    safe = np.where(value > 0.0, value, 1.0)
    terms = ((safe + 1.0) * np.log1p(safe) - safe * np.log(safe)) / math.log(2.0)
    return np.where(value > 0.0, terms, 0.0)


def detector_noise(eta: float, v_el: float, heterodyne: bool) -> float:
    """``chi_hom`` or ``chi_het``: the trusted detector's noise referred to its input, SNU."""
    if heterodyne:
        return (2.0 - eta + 2.0 * v_el) / eta
    return (1.0 - eta + v_el) / eta


def mutual_information(v: np.ndarray, chi_total: np.ndarray, heterodyne: bool) -> np.ndarray:
    """``I_AB`` in bits per symbol (``log1p`` keeps its precision when ``chi_total`` is huge)."""
    prefactor = 1.0 if heterodyne else 0.5
    return prefactor * np.log1p((v - 1.0) / (1.0 + chi_total)) / math.log(2.0)


def _xlogx_step(y: np.ndarray, step: np.ndarray) -> np.ndarray:
    """``(y + step) ln(y + step) - y ln y`` for ``y >= 0``, ``y + step >= 0``, exact for small ``step``."""
    upper = np.maximum(y + step, 0.0)
    safe_y = np.where(y > 0.0, y, 1.0)
    safe_upper = np.where(upper > 0.0, upper, 1.0)
    relative = np.maximum(step / safe_y, -1.0)
    with np.errstate(divide="ignore"):
        from_y = step * np.log(safe_upper) + y * np.log1p(relative)
    from_zero = upper * np.log(safe_upper)
    return np.where(y > 0.0, np.where(upper > 0.0, from_y, -y * np.log(safe_y)), from_zero)


def _entropy_step(x: np.ndarray, step: np.ndarray) -> np.ndarray:
    """``G(x + step) - G(x)`` in bits, from ``x >= 0`` and the (exactly known) ``step``."""
    x = np.maximum(x, 0.0)
    step = np.maximum(step, -x)
    return (_xlogx_step(x + 1.0, step) - _xlogx_step(x, step)) / math.log(2.0)


def _pair_offsets(
    centre_sum: np.ndarray, centre_difference: np.ndarray, sum_offset: np.ndarray, difference_offset: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Offsets of ``l = (p + q) / 2`` and ``l' = (p - q) / 2`` from ``(P + Q) / 2`` and ``(P - Q) / 2``.

    ``p = sqrt(P^2 + sum_offset)`` and ``q = sqrt(Q^2 + difference_offset)``; ``P, Q >= 0``.
    """
    p = np.sqrt(np.maximum(centre_sum**2 + sum_offset, 0.0))
    q = np.sqrt(np.maximum(centre_difference**2 + difference_offset, 0.0))
    dp = sum_offset / (p + centre_sum)
    q_denominator = q + centre_difference
    dq = np.where(q_denominator > 0.0, difference_offset / np.where(q_denominator > 0.0, q_denominator, 1.0), 0.0)
    return (dp + dq) / 2.0, (dp - dq) / 2.0


def holevo_bound(v: np.ndarray, t: np.ndarray, xi: float, chi_det: float, heterodyne: bool) -> np.ndarray:
    """``chi_BE`` in bits per symbol for reverse reconciliation (collective attacks)."""
    v = np.asarray(v, dtype=float)
    t = np.asarray(t, dtype=float)
    v_a = v - 1.0
    b_excess = t * (v_a + xi)  # b - 1, Bob's variance less one
    b = 1.0 + b_excess
    c2 = t * (v * v - 1.0)  # squared Alice-Bob correlation
    s = v * b - c2  # sqrt(B)
    s_minus_v = v * b_excess - c2
    # Alice-Bob state: l1 - V and l2 - 1.
    l1_offset = -2.0 * c2 / (np.sqrt((v + b) ** 2 - 4.0 * c2) + v + b)
    l2_offset = b_excess + l1_offset
    # Conditional state: C - (V^2 + 1) and sqrt(D) - V.
    denominator = b + chi_det
    if heterodyne:
        c_offset = (
            chi_det**2 * (b_excess * (b + 1.0) - 2.0 * c2)
            - b_excess * (b + 1.0)
            + 2.0 * c2 * (1.0 - v * b)
            + c2 * c2
            - 2.0 * chi_det * v * c2
        ) / denominator**2
        root_d_offset = (-v * b_excess + chi_det * s_minus_v) / denominator
    else:
        c_offset = (-v * c2 + chi_det * (b_excess * (b + 1.0) - 2.0 * c2)) / denominator
        d_offset = (-v * c2 + chi_det * s_minus_v * (s + v)) / denominator
        root_d_offset = d_offset / (np.sqrt(np.maximum(v * v + d_offset, 0.0)) + v)
    l3_offset, l4_offset = _pair_offsets(v + 1.0, v_a, c_offset + 2.0 * root_d_offset, c_offset - 2.0 * root_d_offset)
    # G((l1-1)/2) - G((l3-1)/2) and G((l2-1)/2) - G((l4-1)/2) from the differences of their arguments.
    x3 = (v_a + l3_offset) / 2.0
    x4 = l4_offset / 2.0
    return _entropy_step(x3, (l1_offset - l3_offset) / 2.0) + _entropy_step(x4, (l2_offset - l4_offset) / 2.0)
