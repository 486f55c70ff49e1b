"""GG02 far away: the secret key and its maximal distance against an independent 80-digit computation.

Beyond ~550 km (T < 1e-11) ``I_AB`` and ``chi_BE`` are of order ``T`` while the terms of their
textbook closed forms are of order one; evaluated in doubles they cancel to ~1e-14 bit, and the
maximal distance used to come out at ~7,705 km for every setting (issue 15). The reference here
evaluates those textbook formulas as written (Lodewyck et al., PRA 76, 042305 (2007), Eqs. for
``l1..l4`` with trusted detector noise; Fossier et al., J. Phys. B 42, 114014 (2009) for
heterodyne; notation of Laudenbach et al., Adv. Quantum Technol. 1, 1800011 (2018)) with the
standard library's ``decimal`` at 80 significant digits, so that no cancellation matters, and
optimises the modulation variance itself (log grid, then golden section) over qit4n's range.
"""

from __future__ import annotations

import math
from decimal import Decimal, localcontext

import numpy as np
import pytest

from qit4n.qkd import get_protocol, make_parameters, max_distance_km
from qit4n.qkd._cv_holevo import detector_noise, holevo_bound, mutual_information
from qit4n.qkd.cv import MODULATION_SEARCH_RANGE, CVParameters, key_rate

_DIGITS = 80


def _entropy(x: Decimal) -> Decimal:
    return ((x + 1) * (x + 1).ln() - x * x.ln()) / Decimal(2).ln() if x > 0 else Decimal(0)


def _pair(a: Decimal, b: Decimal) -> tuple[Decimal, Decimal]:
    root = (a * a - 4 * b).sqrt()
    return ((a + root) / 2).sqrt(), ((a - root) / 2).sqrt()


def _reference(v_a: float, t: Decimal, xi: float, eta: float, v_el: float, heterodyne: bool) -> tuple[Decimal, Decimal]:
    """``(I_AB, chi_BE)`` from the closed forms as printed, at 80 digits."""
    with localcontext() as context:
        context.prec = _DIGITS
        v = Decimal(v_a) + 1
        xi_d, eta_d, v_el_d = Decimal(xi), Decimal(eta), Decimal(v_el)
        chi_det = (2 - eta_d + 2 * v_el_d) / eta_d if heterodyne else (1 - eta_d + v_el_d) / eta_d
        chi_line = 1 / t - 1 + xi_d
        chi_tot = chi_line + chi_det / t
        information = (Decimal(1) if heterodyne else Decimal("0.5")) * ((v + chi_tot) / (1 + chi_tot)).ln()
        a = v * v * (1 - 2 * t) + 2 * t + t * t * (v + chi_line) ** 2
        b = t * t * (v * chi_line + 1) ** 2
        root_b = b.sqrt()
        if heterodyne:
            c = (a * chi_det**2 + b + 1 + 2 * chi_det * (v * root_b + t * (v + chi_line)) + 2 * t * (v * v - 1)) / (
                t * t * (v + chi_tot) ** 2
            )
            d = ((v + root_b * chi_det) / (t * (v + chi_tot))) ** 2
        else:
            c = (v * root_b + t * (v + chi_line) + a * chi_det) / (t * (v + chi_tot))
            d = root_b * (v + root_b * chi_det) / (t * (v + chi_tot))
        l1, l2 = _pair(a, b)
        l3, l4 = _pair(c, d)
        holevo = _entropy((l1 - 1) / 2) + _entropy((l2 - 1) / 2) - _entropy((l3 - 1) / 2) - _entropy((l4 - 1) / 2)
        return information / Decimal(2).ln(), holevo


def _transmittance(length_km: float) -> Decimal:
    with localcontext() as context:
        context.prec = _DIGITS
        return Decimal(10) ** (Decimal("-0.02") * Decimal(length_km))  # 0.2 dB/km, qit4n's default fibre


def _best_reference_key(length_km: float, beta: float, xi: float) -> float:
    """Key per symbol maximised over ``V_A`` (defaults: homodyne, eta 0.6, v_el 0.01), 80 digits."""
    t = _transmittance(length_km)

    def key(log_v_a: float) -> Decimal:
        information, holevo = _reference(math.exp(log_v_a), t, xi, 0.6, 0.01, False)
        return Decimal(beta) * information - holevo

    low, high = (math.log(x) for x in MODULATION_SEARCH_RANGE)
    grid = np.linspace(low, high, 25)
    best = int(np.argmax([float(key(x)) for x in grid]))
    left, right = grid[max(best - 1, 0)], grid[min(best + 1, grid.size - 1)]
    ratio = (math.sqrt(5.0) - 1.0) / 2.0
    for _ in range(40):
        first, second = right - ratio * (right - left), left + ratio * (right - left)
        if key(first) > key(second):
            right = second
        else:
            left = first
    return float(key((left + right) / 2.0))


@pytest.mark.parametrize("heterodyne", [False, True])
@pytest.mark.parametrize("length_km", [50.0, 600.0, 1086.0, 1500.0, 3000.0])
@pytest.mark.parametrize("v_a", [0.1, 2.0, 30.0])
def test_information_and_holevo_bound_keep_full_precision_far_away(v_a, length_km, heterodyne):
    """Down to T = 1e-60 (3,000 km) both terms agree with the 80-digit textbook formulas to a
    relative 1e-11, and so does the key in units of I_AB (the doubles cancelled to ~1e-14 bit,
    i.e. a relative error of 1e8 at 1,500 km)."""
    t_exact = _transmittance(length_km)
    t = float(t_exact)
    chi_det = detector_noise(0.6, 0.01, heterodyne)
    information_ref, holevo_ref = _reference(v_a, t_exact, 0.01, 0.6, 0.01, heterodyne)
    information = float(
        mutual_information(np.array(v_a + 1.0), np.array(1.0 / t - 1.0 + 0.01 + chi_det / t), heterodyne)
    )
    holevo = float(holevo_bound(np.array(v_a + 1.0), np.array(t), 0.01, chi_det, heterodyne))
    assert information == pytest.approx(float(information_ref), rel=1e-11)
    assert holevo == pytest.approx(float(holevo_ref), rel=1e-11)
    key_ref = Decimal("0.95") * information_ref - holevo_ref
    assert abs(0.95 * information - holevo - float(key_ref)) < 1e-11 * float(information_ref)


@pytest.mark.parametrize(
    ("beta", "xi", "published_km"),
    [
        # Issue 15's 80-digit values; qit4n defaults otherwise (homodyne, eta 0.6, v_el 0.01, 0.2 dB/km).
        (0.95, 0.01, 1086.0),
        (0.95, 0.05, 153.5),
        # The 394 km for beta 0.9 is not reproduced with these settings: the 80-digit
        # reference below brackets the sign change at 778.15 km instead. Scanned (qit4n, each
        # change alone from beta 0.9, xi 0.01, homodyne, eta 0.6, v_el 0.01, 0.2 dB/km, V_A
        # optimised): xi 0.005 / 0.012 / 0.015 / 0.02 / 0.025 / 0.03 -> 1664.6 / 631.9 / 486.4 /
        # 342.4 / 257.1 / 201.0 km (394 km needs xi = 0.01786); heterodyne -> 778.2 km; eta 1,
        # v_el 0 -> 764.8 km; beta 0.85 / 0.92 -> 575.9 / 883.3 km; V_A fixed at 1 / 2 / 3 / 4 / 5 /
        # 10 / 20 -> 638.1 / 775.0 / 748.0 / 650.3 / 515.2 / 57.6 / 33.8 km (394 km needs V_A =
        # 5.78). No round setting gives 394 km; the filer's parameters are needed.
        (0.9, 0.01, None),
    ],
)
def test_max_distance_is_the_sign_change_of_the_80_digit_key(beta, xi, published_km):
    """The maximal distance brackets the sign change of the 80-digit optimised key within 0.05 km
    (positive 0.05 km before, negative 0.05 km after) and matches the issue's values to 0.1 %."""
    params = make_parameters("cv-gg02", overrides={"reconciliation_efficiency": beta, "excess_noise": xi})
    distance = max_distance_km(get_protocol("cv-gg02"), params)
    assert distance is not None and math.isfinite(distance)
    assert _best_reference_key(distance - 0.05, beta, xi) > 0.0
    assert _best_reference_key(distance + 0.05, beta, xi) < 0.0
    if published_km is not None:
        assert distance == pytest.approx(published_km, rel=1e-3)


def test_no_key_from_rounding_noise_beyond_the_sign_change():
    """Issue 15: at 1,500 km (beta 0.95, xi 0.01) the optimiser used to find 1.1e-13 bit in
    rounding noise; the 80-digit optimum there is negative, so the key must be exactly zero."""
    assert _best_reference_key(1500.0, 0.95, 0.01) < 0.0
    params = make_parameters("cv-gg02")
    assert isinstance(params, CVParameters)
    lengths = np.array([1100.0, 1500.0, 3000.0, 7000.0])
    rate = key_rate(10.0 ** (-params.loss_db_per_km * lengths / 10.0), params).key_rate_per_pulse
    assert rate.tolist() == [0.0, 0.0, 0.0, 0.0]
