"""Key-pool simulation speed: ``qit4n simulate beijing-shanghai-backbone --duration 24h`` (target <= 10 s).

Runs the built-in scenario for 24 h of simulated time (constant traffic, 1 s request period) through
the library, reporting wall and CPU time and events per second; then the same run with the numba
pool kernel replaced by a pure-numpy version of the same loop (the "before" of the numba change),
measured in the same process as the baseline. ``--quick`` simulates 2 h; ``--cli`` also times the
command line end to end (process start, imports, planning, simulation).

Usage: ``python benchmarks/bench_net_simulate.py [--quick] [--cli]``.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from qit4n.net import SimulationConfig, build_network, simulate_network
from qit4n.net import pools as pools_module
from qit4n.scenario import load_scenario


def numpy_try_take(self, pairs, need_bits, need_total_bits, delivered_bits, now_s):
    """The pool kernel written with numpy array operations (the baseline)."""
    rate = self.rate_bps[pairs]
    unclipped = self.level_bits[pairs] + rate * (now_s - self.updated_s[pairs])
    level = np.minimum(unclipped, self.capacity_bits[pairs])
    self.discarded_bits += float((unclipped - level).sum())
    self.updated_s[pairs] = now_s
    deficit = need_bits - level
    short = deficit > 1e-9 * need_bits
    if not short.any():
        self.level_bits[pairs] = level - need_bits
        self.delivered_bits += delivered_bits
        self.relay_bits += need_total_bits - delivered_bits
        return 0.0
    self.level_bits[pairs] = level
    short_rate = rate[short]
    if (short_rate <= 0).any():
        return float("inf")
    return float((deficit[short] / short_rate).max())


def timed_run(network, duration_s: float):
    start, cpu = time.perf_counter(), time.process_time()
    result = simulate_network(network, SimulationConfig(duration_s=duration_s))
    return time.perf_counter() - start, time.process_time() - cpu, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="simulate 2 h instead of 24 h")
    parser.add_argument("--cli", action="store_true", help="also time the qit4n command end to end")
    args = parser.parse_args()
    duration_s = 7200.0 if args.quick else 86400.0
    network = build_network(load_scenario("beijing-shanghai-backbone"))
    simulate_network(network, SimulationConfig(duration_s=10.0))  # loads the cached numba kernel
    wall, cpu, result = timed_run(network, duration_s)
    print(
        f"beijing-shanghai-backbone, {duration_s / 3600:g} h: wall {wall:.2f} s, CPU {cpu:.2f} s, "
        f"{result.events_fired} events ({result.events_fired / wall / 1e3:.0f} k events/s)"
    )
    print(
        f"  imbalance {result.totals_bits['imbalance_bits']:.3g} bits of {result.totals_bits['generated_bits']:.3g} "
        "generated"
    )
    compiled = pools_module.PairPools.try_take
    pools_module.PairPools.try_take = numpy_try_take
    try:
        base_wall, base_cpu, base = timed_run(network, duration_s)
    finally:
        pools_module.PairPools.try_take = compiled
    same = all(
        abs(a.delivered_bits - b.delivered_bits) <= 1e-6 * max(a.delivered_bits, 1)
        for a, b in zip(result.qos, base.qos)
    )
    print(
        f"baseline (numpy pool kernel): wall {base_wall:.2f} s, CPU {base_cpu:.2f} s; speed-up {base_cpu / cpu:.1f}x "
        f"(CPU); same deliveries: {same}"
    )
    if args.cli:
        qit4n = str(Path(sys.executable).with_name("qit4n"))
        start = time.perf_counter()
        subprocess.run(
            [qit4n, "simulate", "beijing-shanghai-backbone", "--duration", f"{duration_s:g}s", "--json"],
            check=True,
            capture_output=True,
        )
        print(
            f"qit4n simulate beijing-shanghai-backbone --duration {duration_s / 3600:g}h (whole command): "
            f"{time.perf_counter() - start:.2f} s"
        )


if __name__ == "__main__":
    main()
