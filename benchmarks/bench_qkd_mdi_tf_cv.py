"""Throughput of the optimised MDI, twin-field and CV key-rate curves against a per-point loop (same run).

Each model is evaluated on a whole curve of channel transmittances in one vectorised call, with its
free settings optimised at every point (MDI: signal intensity; twin-field: intensity and sending
probability; CV: modulation variance), and, as the baseline, point by point in a Python loop over
the same function with one-element arrays (a sample of the curve, timed in the same run).

Usage: ``python benchmarks/bench_qkd_mdi_tf_cv.py [--quick]``. Prints absolute times, points per
second and the speed-up of the vectorised call over the loop. ``--quick`` uses 10^3 and 10^4 points
and one repeat; the full run uses 10^3 and 10^5 points, best of three.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np

from _timing import best_seconds
from qit4n.qkd import get_protocol, make_parameters

#: (protocol, preset, largest channel loss of the curve in dB).
CASES = (("mdi", "mdi-lcq2012", 50.0), ("tf", "tf-bozzio2022", 110.0), ("cv-gg02", "lodewyck2007", 20.0))


def _loop(evaluate: Callable[[np.ndarray, Any], object], sample: np.ndarray, params: object) -> list[object]:
    return [evaluate(np.array([eta]), params) for eta in sample]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="10^3 and 10^4 points, one repeat")
    options = parser.parse_args()
    sizes = (1_000, 10_000) if options.quick else (1_000, 100_000)
    loop_points = 20 if options.quick else 100
    repeats = 1 if options.quick else 3
    print(f"{'model':8s} {'points':>8s} {'vector s':>10s} {'points/s':>11s} {'loop points/s':>14s} {'speed-up':>9s}")
    for name, preset, loss_db in CASES:
        spec = get_protocol(name)
        # Optimised curves: the CV preset fixes the paper's V_A, so free it for the benchmark.
        params = make_parameters(name, preset, {"modulation_variance": None} if name == "cv-gg02" else None)
        sample = 10.0 ** (-np.linspace(0.0, loss_db, loop_points) / 10.0)
        loop_s = best_seconds(partial(_loop, spec.evaluate, sample, params), repeats)
        loop_rate = loop_points / loop_s
        for size in sizes:
            eta = 10.0 ** (-np.linspace(0.0, loss_db, size) / 10.0)
            vector_s = best_seconds(partial(spec.evaluate, eta, params), repeats)
            vector_rate = size / vector_s
            print(
                f"{name:8s} {size:8d} {vector_s:10.4f} {vector_rate:11.3e} {loop_rate:14.3e} "
                f"{vector_rate / loop_rate:9.0f}"
            )


if __name__ == "__main__":
    main()
