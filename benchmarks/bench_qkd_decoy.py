"""Throughput of the asymptotic decoy-BB84 model: fixed and optimised intensities.

Usage: ``python benchmarks/bench_qkd_decoy.py [--quick]``. Sweeps the GYS preset over fibre lengths
and prints points per second for (a) fixed intensities, (b) signal intensity optimised per point
(vectorised golden section), (c) the infinite-decoy limit with mu optimised, each against a
baseline measured in the same run: the same formulas as a per-point scalar Python loop (``math``)
and, for the optimised case, ``scipy.optimize.minimize_scalar`` per point. Times are the best of
several repeats, in CPU seconds of this process (the machine is shared; single-threaded numpy).

Targets from the issue: >= 1e7 points/s at fixed intensities over 10^6 points, >= 1e5 points/s
with the intensities optimised.
"""

from __future__ import annotations

import argparse
import math

import numpy as np

from _timing import best_seconds
from qit4n.qkd import get_protocol, make_parameters


def _scalar_rate(eta_channel: float, mu: float, nu: float, y0: float, e_d: float, f_ec: float, eta_bob: float) -> float:
    """Ma et al. 2005 Eqs. (1), (34), (37) for one point: the baseline."""

    def h2(x: float) -> float:
        return 0.0 if x <= 0.0 or x >= 1.0 else -x * math.log2(x) - (1 - x) * math.log2(1 - x)

    eta = eta_channel * eta_bob
    q_mu = y0 + (1 - y0) * (1 - math.exp(-eta * mu))
    q_nu = y0 + (1 - y0) * (1 - math.exp(-eta * nu))
    eq_mu = y0 / 2 * math.exp(-eta * mu) + e_d * (1 - math.exp(-eta * mu))
    eq_nu = y0 / 2 * math.exp(-eta * nu) + e_d * (1 - math.exp(-eta * nu))
    y1 = (
        mu
        / (mu * nu - nu * nu)
        * (q_nu * math.exp(nu) - q_mu * math.exp(mu) * nu**2 / mu**2 - (1 - nu**2 / mu**2) * y0)
    )
    e1 = (eq_nu * math.exp(nu) - y0 / 2) / (y1 * nu) if y1 > 0 else 0.5
    q1 = max(y1, 0.0) * mu * math.exp(-mu)
    return 0.5 * (q1 * (1 - h2(min(e1, 0.5))) - f_ec * q_mu * h2(eq_mu / q_mu))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer points and repeats")
    args = parser.parse_args()
    points = 10**5 if args.quick else 10**6
    repeats = 3 if args.quick else 7
    baseline_points = 2000 if args.quick else 20000
    eta = 10 ** (-0.021 * np.linspace(0.0, 150.0, points))
    spec = get_protocol("bb84-decoy")
    fixed = make_parameters("bb84-decoy", "gys", {"intensity_signal": 0.48, "intensity_decoy": 0.05})
    free = make_parameters("bb84-decoy", "gys")
    infinite = make_parameters("bb84-decoy-inf", "gys")
    y0 = 1 - (1 - fixed.dark_count_probability) ** 2
    constants = (y0, fixed.misalignment_error, fixed.error_correction_efficiency, fixed.eta_detector)

    sample = eta[:: max(1, points // baseline_points)][:baseline_points]
    loop_s = best_seconds(lambda: [_scalar_rate(float(e), 0.48, 0.05, *constants) for e in sample], 2, cpu=True)
    loop_pps = sample.size / loop_s
    fixed_pps = points / best_seconds(lambda: spec.evaluate(eta, fixed), repeats, cpu=True)
    print(
        f"decoy, fixed intensities, {points:.0e} points: {fixed_pps:.3e} points/s "
        f"(scalar loop {loop_pps:.3e} points/s, ratio {fixed_pps / loop_pps:.0f}x)"
    )

    from scipy.optimize import minimize_scalar

    scipy_sample = sample[: max(50, baseline_points // 100)]

    def scipy_loop() -> None:
        for e in scipy_sample:
            minimize_scalar(
                lambda m, e=e: -_scalar_rate(float(e), m, 0.01, *constants), bounds=(0.011, 1.5), method="bounded"
            )

    scipy_pps = scipy_sample.size / best_seconds(scipy_loop, 1, cpu=True)
    optimised_points = points // 10
    free_pps = optimised_points / best_seconds(lambda: spec.evaluate(eta[:optimised_points], free), repeats, cpu=True)
    print(
        f"decoy, mu optimised, {optimised_points:.0e} points: {free_pps:.3e} points/s "
        f"(scipy minimize_scalar per point {scipy_pps:.3e} points/s, ratio {free_pps / scipy_pps:.0f}x)"
    )
    inf_spec = get_protocol("bb84-decoy-inf")
    inf_pps = optimised_points / best_seconds(
        lambda: inf_spec.evaluate(eta[:optimised_points], infinite), repeats, cpu=True
    )
    print(f"infinite decoy, mu optimised, {optimised_points:.0e} points: {inf_pps:.3e} points/s")


if __name__ == "__main__":
    main()
