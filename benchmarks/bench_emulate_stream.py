"""Streamed decoy-BB84 emulation against the per-pulse emulator: pulses/s per core and peak memory.

The link of issue 18: ``qit4n emulate bb84-decoy --preset gys --distance-km 25 --pulses N``
(targets: 1e10 pulses in <= 1 GB peak, >= 1e8 pulses/s per core). Each row runs in a fresh
process so that its peak resident memory (``ru_maxrss``) is its own:

* ``emulate``: the records only (the streamed chunks are iterated and dropped; the per-pulse
  emulator builds its arrays);
* ``pipeline``: :func:`qit4n.emulate.run_link` end to end (emulation, sifting, estimation,
  Cascade, verification, amplification). The previous pipeline is the per-pulse emulator
  distilled as one chunk, which is what ``run_link`` did before streaming.

Pulses/s is pulses over the CPU seconds of the process (one thread: per core). The per-pulse
rows stop at 1e8 pulses by default (1e9 took 11 GB).

Run: ``.venv/bin/python benchmarks/bench_emulate_stream.py [--sizes 1e8,1e9,1e10] [--previous-up-to 1e8]``.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

import numpy as np

_MIB = 2**20


def _one(kind: str, pulses: int) -> dict[str, float]:
    from qit4n.emulate import EMULATORS, LinkRequest, emulate_bb84
    from qit4n.emulate.decoy_stream import DecoyStream, chunk_from_records

    emulator = EMULATORS.get("bb84-decoy")
    prepared = emulator.prepare(LinkRequest("bb84-decoy", 25.0, pulses, preset="gys"))
    emulator.emulate(prepared, 10_000, np.random.default_rng(0))  # imports outside the clock
    emulate_bb84(prepared.settings, 10_000, np.random.default_rng(0))
    rng = np.random.default_rng(1)
    start_cpu, start_wall = time.process_time(), time.perf_counter()
    detections = 0
    if kind == "stream-emulate":
        for chunk in DecoyStream(prepared.settings, pulses, entropy=1).chunks():
            detections += chunk.pulses.size
    elif kind == "previous-emulate":
        detections = emulate_bb84(prepared.settings, pulses, rng).bob.pulses.size
    elif kind == "stream-pipeline":
        run = emulator.distil(prepared, emulator.emulate(prepared, pulses, rng), rng)
        detections = int(run.as_dict()["detections"])
    else:
        records = [chunk_from_records(emulate_bb84(prepared.settings, pulses, rng))]
        run = emulator.distil(prepared, records, rng)
        detections = int(run.as_dict()["detections"])
    cpu, wall = time.process_time() - start_cpu, time.perf_counter() - start_wall
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / _MIB
    return {"cpu_s": cpu, "wall_s": wall, "peak_mib": peak, "detections": detections}


def _measure(kind: str, pulses: int) -> dict[str, float]:
    output = subprocess.run(
        [sys.executable, __file__, "--one", kind, str(pulses)], check=True, capture_output=True, text=True
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1e8,1e9,1e10", help="pulses per row, comma separated")
    parser.add_argument("--previous-up-to", type=float, default=1e8, help="largest size for the per-pulse rows")
    parser.add_argument("--one", nargs=2, metavar=("KIND", "PULSES"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(_one(args.one[0], int(args.one[1]))))
        return
    print(
        f"{'pulses':>8} {'what':>9} {'impl':>9} {'pulses/s/core':>14} {'wall s':>8} {'peak MiB':>9} {'detections':>11}"
    )
    for pulses in (int(float(text)) for text in args.sizes.split(",")):
        for what in ("emulate", "pipeline"):
            rows = {"stream": _measure(f"stream-{what}", pulses)}
            if pulses <= args.previous_up_to:
                rows["previous"] = _measure(f"previous-{what}", pulses)
            for impl, row in rows.items():
                rate = pulses / row["cpu_s"]
                print(
                    f"{pulses:8.0e} {what:>9} {impl:>9} {rate:14.3g} {row['wall_s']:8.2f} "
                    f"{row['peak_mib']:9.0f} {int(row['detections']):11d}"
                )
            if "previous" in rows:
                ratio = rows["previous"]["cpu_s"] / rows["stream"]["cpu_s"]
                memory = rows["previous"]["peak_mib"] / rows["stream"]["peak_mib"]
                print(f"{'':8} {what:>9} {'ratio':>9} {ratio:13.1f}x {'':8} {memory:8.1f}x")


if __name__ == "__main__":
    main()
