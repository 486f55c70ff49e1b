"""BBM92 emulator throughput: slots per CPU-second (target >= 1e7 per core).

Baseline measured in the same run: the decoy-state BB84 emulator (:func:`qit4n.emulate.emulate_bb84`)
over the same number of pulses and the same fibre, with the default receivers of both models
(detector efficiency 10 %, dark counts 6e-7), the BBM92 source in the middle with ``mu = 0.1``;
a last row per size stresses the emulator with bright pairs on a short, efficient link
(``mu = 0.5``, detectors 90 %, 0 km), where a third of the slots click (up to 1e7 slots: its
records would take gigabytes at 1e8). The BBM92 emulator follows
only slots with a click, while the BB84 emulator draws every pulse's intensity and basis, so the
ratio mostly measures that difference. Times are CPU seconds of this process, best of several runs.

Run: ``.venv/bin/python benchmarks/bench_emulate_bbm92.py [--quick]``.
"""

from __future__ import annotations

import argparse

import numpy as np

from _timing import best_seconds
from qit4n.emulate import LinkSettings, emulate_bb84, emulate_bbm92, entangled_link_settings
from qit4n.physics.fibre import fibre_transmittance
from qit4n.qkd.bbm92 import BBM92Parameters


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1e6 and 1e7 slots only")
    args = parser.parse_args()
    params = BBM92Parameters(mean_pair_number=0.1)
    bright = BBM92Parameters(mean_pair_number=0.5, eta_detector=0.9)
    cases = [(params, 0.0), (params, 25.0), (params, 100.0), (bright, 0.0)]
    emulate_bb84(LinkSettings(eta_channel=0.1), 1000, np.random.default_rng(0))
    print(
        f"{'slots':>10} {'km':>5} {'mu':>4} {'eta_det':>7} {'BBM92 slots/s':>14} {'BB84 pulses/s':>14} {'ratio':>6} "
        f"{'coincidences':>13}"
    )
    sizes = (10**6, 10**7) if args.quick else (10**6, 10**7, 10**8)
    for slots in sizes:
        repeats = 3 if slots <= 10**7 else 1
        for case, distance_km in cases if slots <= 10**7 else cases[:-1]:
            eta = float(fibre_transmittance(distance_km, case.loss_db_per_km))
            entangled = entangled_link_settings(case, eta)
            prepared = LinkSettings(eta_channel=eta, eta_detector=case.eta_detector)
            rng = np.random.default_rng(1)
            ours = best_seconds(lambda e=entangled, n=slots, r=rng: emulate_bbm92(e, n, r), repeats, cpu=True)
            theirs = best_seconds(lambda p=prepared, n=slots, r=rng: emulate_bb84(p, n, r), repeats, cpu=True)
            records = emulate_bbm92(entangled, slots, rng)
            coincidences = np.intersect1d(records.alice.slots, records.bob.slots, assume_unique=True).size
            print(
                f"{slots:>10.0e} {distance_km:>5.0f} {case.mean_pair_number:>4g} {case.eta_detector:>7g} "
                f"{slots / ours:>14.3e} {slots / theirs:>14.3e} {theirs / ours:>6.2f} {coincidences:>13}"
            )


if __name__ == "__main__":
    main()
