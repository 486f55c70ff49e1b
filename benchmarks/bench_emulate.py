"""Emulator throughput: pulses per second per core (target >= 1e7).

Baseline measured in the same run: a direct vectorised draw of every pulse's Poisson photon
number and a binomial thinning (what the emulator avoids by thinning the Poisson process); it
is skipped above 1e7 pulses (several GB of temporary arrays).

Run: ``.venv/bin/python benchmarks/bench_emulate.py [--quick]``.
"""

from __future__ import annotations

import argparse
import time
from functools import partial

import numpy as np

from qit4n.emulate import LinkSettings, emulate_bb84


def direct_draw(settings: LinkSettings, pulses: int, rng: np.random.Generator) -> int:
    mus = np.asarray(settings.intensities)
    intensities = rng.choice(3, size=pulses, p=settings.probabilities)
    _basis_x = rng.random(pulses) < settings.probability_basis_x  # drawn for its cost, as the emulator does
    photons = rng.poisson(mus[intensities])
    detected = rng.binomial(photons, settings.eta_total)
    return int(np.count_nonzero(detected))


def emulated(settings: LinkSettings, pulses: int, rng: np.random.Generator) -> int:
    emulate_bb84(settings, pulses, rng)
    return pulses


def direct(settings: LinkSettings, pulses: int, rng: np.random.Generator) -> int:
    direct_draw(settings, pulses, rng)
    return pulses


def best_rate(function, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        pulses = function()
        best = min(best, time.perf_counter() - start)
    return pulses / best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1e6 and 1e7 pulses only")
    args = parser.parse_args()
    emulate_bb84(LinkSettings(eta_channel=0.1), 1000, np.random.default_rng(0))
    print(f"{'pulses':>10} {'distance':>9} {'emulator p/s':>13} {'direct p/s':>11} {'ratio':>6}")
    sizes = (10**6, 10**7) if args.quick else (10**6, 10**7, 10**8)
    for pulses in sizes:
        for distance_km, eta in ((25, 10 ** (-0.5)), (100, 10 ** (-2.0))):
            settings = LinkSettings(eta_channel=eta, dead_time_s=0.0)
            rng = np.random.default_rng(1)
            repeats = 3 if pulses <= 10**7 else 1
            ours = best_rate(partial(emulated, settings, pulses, rng), repeats)
            theirs = best_rate(partial(direct, settings, pulses, rng), 1) if pulses <= 10**7 else float("nan")
            print(f"{pulses:10d} {distance_km:7d}km {ours:13.3g} {theirs:11.3g} {ours / theirs:6.1f}")


if __name__ == "__main__":
    main()
