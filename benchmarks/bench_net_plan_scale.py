"""Planning with full single-failure survivability at scale: wall and CPU time and peak memory per network size.

Each size runs in a fresh child process (so peak resident memory, ``ru_maxrss``, is its own): generate
a Waxman network (3 links per node, ``--demands`` demands), then :func:`qit4n.net.plan_network` with
every single link and node failure. ``--previous-src DIR`` runs the same child on another checkout's
``src`` (for example ``git worktree add /tmp/previous <commit>``), and prints the ratio; its generator
is the dense one, so keep those sizes <= 10,000. Target (issue 18): 10,000 nodes in <= 60 s and <= 2 GB.

Usage: ``python benchmarks/bench_net_plan_scale.py [--quick] [--sizes 1000 10000] [--previous-src DIR]``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

_CHILD = """
import json, resource, time
from qit4n.net.generate import generate_scenario
from qit4n.net.plan import plan_network
start = time.perf_counter()
scenario = generate_scenario({nodes}, demands={demands}, seed=0)
generated = time.perf_counter()
cpu = time.process_time()
plan = plan_network(scenario)
done = time.perf_counter()
print(json.dumps({{"generate_s": generated - start, "plan_s": done - generated, "failures": len(plan.survivability),
    "plan_cpu_s": time.process_time() - cpu,
    "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
"""


def measure(nodes: int, demands: int, src: Path) -> dict[str, float]:
    """Generation and planning seconds, failures analysed and peak MB, in a child process on ``src``."""
    environment = {**os.environ, "PYTHONPATH": str(src)}
    code = _CHILD.format(nodes=nodes, demands=demands)
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=3600, env=environment
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 5_000, 10_000])
    parser.add_argument("--demands", type=int, default=5)
    parser.add_argument("--previous-src", type=Path, help="src folder of the implementation to compare with")
    parser.add_argument("--quick", action="store_true", help="1,000 nodes only")
    args = parser.parse_args()
    sizes = [1_000] if args.quick else args.sizes
    src = Path(__file__).resolve().parent.parent / "src"
    print(f"{'nodes':>7}{'failures':>10}{'generate s':>12}{'plan s':>9}{'plan CPU s':>12}{'peak MB':>9}", end="")
    print(f"{'prev plan s':>13}{'prev MB':>9}{'plan ratio':>12}" if args.previous_src else "")
    for nodes in sizes:
        new = measure(nodes, args.demands, src)
        line = (
            f"{nodes:>7}{new['failures']:>10}{new['generate_s']:>12.2f}{new['plan_s']:>9.2f}{new['plan_cpu_s']:>12.2f}"
            f"{new['peak_mb']:>9.0f}"
        )
        if args.previous_src:
            old = measure(nodes, args.demands, args.previous_src)
            line += f"{old['plan_s']:>13.2f}{old['peak_mb']:>9.0f}{old['plan_s'] / new['plan_s']:>12.2f}"
        print(line)


if __name__ == "__main__":
    main()
