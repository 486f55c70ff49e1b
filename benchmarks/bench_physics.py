"""Throughput of the physics models: vectorised calls against a per-point Python loop (same run).

Usage: ``python benchmarks/bench_physics.py [--quick]``. Prints absolute times, points per second
and the speed-up of the vectorised call over looping the same function point by point.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from functools import partial

import numpy as np

from _timing import best_seconds
from qit4n.physics.freespace import FreeSpaceOptics, free_space_loss_db
from qit4n.physics.raman import raman_noise_probability
from qit4n.physics.satellite import micius_optics, pass_geometry, pass_windows, satellite_link_loss_db
from qit4n.scenario import ClassicalChannel


def _loop(model: Callable[[np.ndarray], object], values: np.ndarray) -> list[object]:
    return [model(value) for value in values]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes, one repeat")
    options = parser.parse_args()
    points = 10_000 if options.quick else 1_000_000
    loop_points = 200 if options.quick else 2_000
    repeats = 1 if options.quick else 3
    rng = np.random.default_rng(1)
    channels = [
        ClassicalChannel(wavelength_nm=1551.72, launch_power_dbm=0.0, direction="forward"),
        ClassicalChannel(wavelength_nm=1549.32, launch_power_dbm=3.0, direction="backward"),
    ]
    micius = micius_optics()
    link = FreeSpaceOptics()
    cases: list[tuple[str, Callable[[np.ndarray], object], np.ndarray]] = [
        ("raman_noise_probability", lambda x: raman_noise_probability(channels, x), rng.uniform(0.0, 150.0, points)),
        ("free_space_loss_db", lambda x: free_space_loss_db(link, x), rng.uniform(0.0, 50.0, points)),
        ("satellite_link_loss_db", lambda x: satellite_link_loss_db(micius, x), rng.uniform(0.0, 90.0, points)),
        ("pass_geometry", lambda x: pass_geometry(micius, 40.39, 117.58, 900.0, x), rng.uniform(0.0, 86_400.0, points)),
    ]
    print(f"{'model':26s} {'points':>9s} {'vector s':>10s} {'points/s':>12s} {'loop points/s':>14s} {'speed-up':>9s}")
    for name, model, inputs in cases:
        vector_s = best_seconds(partial(model, inputs), repeats)
        loop_s = best_seconds(partial(_loop, model, inputs[:loop_points]), repeats)
        vector_rate = inputs.size / vector_s
        loop_rate = loop_points / loop_s
        print(
            f"{name:26s} {inputs.size:9d} {vector_s:10.4f} {vector_rate:12.3e} {loop_rate:14.3e} "
            f"{vector_rate / loop_rate:9.0f}"
        )
    window_s = best_seconds(
        lambda: pass_windows(micius, 40.39, 117.58, 900.0, 0.0, 86_400.0 * (1 if options.quick else 7)), repeats
    )
    days = 1 if options.quick else 7
    print(f"pass_windows over {days} day(s) of Micius above Xinglong: {window_s:.3f} s")


if __name__ == "__main__":
    main()
