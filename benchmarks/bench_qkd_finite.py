"""Speed of the fully optimised finite-key model (Lim et al. 2014): one point and a 100-point curve.

Usage: ``python benchmarks/bench_qkd_finite.py [--quick]``. Uses the ``lim2014`` preset with
n_X = 10^7 and optimises q_x, p_mu1, p_mu2, mu1, mu2 at every length. Baseline measured in the
same run: ``scipy.optimize.differential_evolution`` on the same key-length function, one point at
a time, and the rate it reaches (the optimiser's quality, not only its speed).

Targets from the issue: <= 0.2 s per point and <= 20 s for a 100-point curve. Times are CPU
seconds of this process (the machine is shared).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from qit4n.qkd import make_parameters
from qit4n.qkd.finite import _evaluate, _settings, key_rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer baseline points, a 25-point curve")
    args = parser.parse_args()
    params = make_parameters("bb84-decoy-finite", "lim2014", {"block_size_x": 1e7})
    curve_points = 25 if args.quick else 100
    lengths = np.linspace(0.0, 180.0, curve_points)
    eta = 10 ** (-0.02 * lengths)

    single = []
    for length in (20.0, 100.0, 150.0):
        start = time.process_time()
        key_rate(np.array([10 ** (-0.02 * length)]), params)
        single.append(time.process_time() - start)
    print(f"one point (best of 3 lengths): {min(single):.3f} s, worst {max(single):.3f} s")

    start = time.process_time()
    curve = key_rate(eta, params)
    curve_s = time.process_time() - start
    print(
        f"{curve_points}-point curve 0-180 km: {curve_s:.2f} s ({curve_s / curve_points * 1e3:.1f} ms per point), "
        f"reach {lengths[curve.key_rate_per_pulse > 0].max():.0f} km"
    )

    from scipy.optimize import differential_evolution

    baseline_lengths = (100.0,) if args.quick else (50.0, 100.0, 150.0)
    for length in baseline_lengths:
        total_eta = np.array([10 ** (-0.02 * length) * params.eta_detector])

        def negative_rate(u: np.ndarray, total_eta: np.ndarray = total_eta) -> float:
            result = _evaluate(total_eta, _settings(np.asarray(u)[None, :], params), params, True)
            return -float(np.maximum(result.score, -np.inf)[0] / result.pulses[0])

        start = time.process_time()
        reference = differential_evolution(negative_rate, [(-8.0, 8.0)] * 5, seed=1, maxiter=200, popsize=15, tol=1e-8)
        baseline_s = time.process_time() - start
        start = time.process_time()
        ours = key_rate(np.array([10 ** (-0.02 * length)]), params).key_rate_per_pulse[0]
        ours_s = time.process_time() - start
        print(
            f"{length:.0f} km: ours {ours:.4e} in {ours_s:.3f} s; differential_evolution {-reference.fun:.4e} "
            f"in {baseline_s:.2f} s (speed ratio {baseline_s / ours_s:.0f}x, rate ratio {ours / -reference.fun:.4f})"
        )


if __name__ == "__main__":
    main()
