"""Network generation at scale: the sparse generator (k-d tree, Delaunay tree) against the dense N x N one it replaced.

Each size runs in a fresh child process, which reports its wall time and peak resident memory
(``ru_maxrss``), so the figures do not share a heap. The previous, dense generator
(``tests/net/reference_generate.py``) runs only up to ``--dense-max`` nodes (it needs O(N^2) memory: 5.7 GB
at 10,000 nodes). Target (issue 18): 100,000 nodes in <= 60 s and <= 2 GB.

Usage: ``python benchmarks/bench_net_generate.py [--quick] [--sizes 1000 10000 100000] [--dense-max 5000]``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

_CHILD = """
import json, resource, sys, time
sys.path.insert(0, {tests!r})
if {dense!r}:
    from reference_generate import generate_scenario
else:
    from qit4n.net.generate import generate_scenario
start = time.perf_counter()
scenario = generate_scenario({nodes}, demands=100, seed=1)
seconds = time.perf_counter() - start
peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({{"seconds": seconds, "peak_mb": peak_mb, "links": len(scenario.links)}}))
"""


def measure(nodes: int, dense: bool) -> dict[str, float]:
    """Seconds, peak MB and link count of one generation in a child process."""
    tests = str(Path(__file__).resolve().parent.parent / "tests" / "net")
    code = _CHILD.format(tests=tests, dense=dense, nodes=nodes)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=1200)
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 5_000, 10_000, 100_000])
    parser.add_argument("--dense-max", type=int, default=5_000, help="largest size the dense generator runs at")
    parser.add_argument("--quick", action="store_true", help="sizes 1,000 and 10,000; dense up to 1,000")
    args = parser.parse_args()
    sizes, dense_max = ([1_000, 10_000], 1_000) if args.quick else (args.sizes, args.dense_max)
    print(f"{'nodes':>8}{'links':>9}{'sparse s':>10}{'sparse MB':>11}{'dense s':>9}{'dense MB':>10}{'time ratio':>12}")
    for nodes in sizes:
        new = measure(nodes, dense=False)
        line = f"{nodes:>8}{new['links']:>9}{new['seconds']:>10.2f}{new['peak_mb']:>11.0f}"
        if nodes <= dense_max:
            old = measure(nodes, dense=True)
            assert old["links"] == new["links"]
            line += f"{old['seconds']:>9.2f}{old['peak_mb']:>10.0f}{old['seconds'] / new['seconds']:>12.2f}"
        print(line)


if __name__ == "__main__":
    main()
