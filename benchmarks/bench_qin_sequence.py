"""Side by side with SeQUeNCe: a chain of three quantum routers, same simulated time, wall time.

Scenario: routers r0 - r1 - r2, two 20 km fibre segments (0.2 dB/km) with a Bell-state-measurement
station in the middle of each, 5 memories per router side, r0 requests pairs with r2 for the
whole run. SeQUeNCe (its own virtual environment, Python >= 3.12, ``pip install sequence``) runs
its RouterNetTopo with RequestApp at both ends, its defaults for memories and detectors; qit4n runs
its event-driven chain (``simulate_chain_des``) with its own defaults, both with every attempt as
messages and with runs of failed attempts skipped. The two models are not identical (SeQUeNCe
negotiates each attempt with classical messages and starts from memories of raw fidelity 0.85),
so the pair counts are printed for context, not as a cross-validation.

Usage: python benchmarks/bench_qin_sequence.py --sequence-python /path/to/sequence-venv/bin/python [--quick]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
import time
from pathlib import Path

from qit4n.qin.chain import ChainParameters
from qit4n.qin.des_chain import simulate_chain_des

SEGMENT_KM = 20.0
MEMORIES = 5

_SEQUENCE_SIDE = """
import json, sys, time
from sequence.topology.router_net_topo import RouterNetTopo
from sequence.app.request_app import RequestApp

segment_km, memories, simulated_s = float(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
segment_m = segment_km * 1000
nodes = [{"name": name, "type": "QuantumRouter", "seed": index, "memo_size": memories * (2 if name == "r1" else 1)}
         for index, name in enumerate(("r0", "r1", "r2"))]
links = [{"node1": a, "node2": b, "attenuation": 0.0002, "distance": segment_m, "type": "meet_in_the_middle"}
         for a, b in (("r0", "r1"), ("r1", "r2"))]
delay_ps_per_km = 5e6
classical = [{"node1": a, "node2": b, "delay": int(km * delay_ps_per_km)}
             for a, b, km in (("r0", "r1", segment_km), ("r1", "r2", segment_km), ("r0", "r2", 2 * segment_km))]
topology = RouterNetTopo({"nodes": nodes, "qconnections": links, "cconnections": classical,
                          "stop_time": int(simulated_s * 1e12)})
timeline = topology.get_timeline()
initiator = RequestApp(timeline.get_entity_by_name("r0"))
responder = RequestApp(timeline.get_entity_by_name("r2"))
initiator.start("r2", int(1e9), int(simulated_s * 1e12), memories, 0.5)
start = time.perf_counter()
timeline.init()
timeline.run()
print(json.dumps({"wall_s": time.perf_counter() - start, "pairs": initiator.memory_counter,
                  "events": timeline.run_counter}))
"""


def _qit4n(simulated_s: float, every_attempt: bool) -> dict:
    params = ChainParameters(segments=2, length_km=2 * SEGMENT_KM, memories_per_node=MEMORIES)
    start = time.perf_counter()
    run = simulate_chain_des(params, duration_s=simulated_s, seed=1, every_attempt=every_attempt)
    return {
        "wall_s": time.perf_counter() - start,
        "pairs": int(run.waiting_time_s.size),
        "events": run.events,
        "fidelity_mean": float(run.fidelity.mean()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sequence-python", type=Path, help="python of a virtual environment with SeQUeNCe installed")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    simulated_s = 0.05 if args.quick else 0.2
    print(f"three-router chain, 2 x {SEGMENT_KM:g} km, {MEMORIES} memories per side, {simulated_s:g} s simulated")
    ours = {
        mode: _qit4n(simulated_s, mode == "every attempt") for mode in ("every attempt", "skipping failed attempts")
    }
    for mode, result in ours.items():
        print(f"  qit4n ({mode}): {result['wall_s']:.3f} s wall, {result['events']:,} events, {result['pairs']} pairs")
    if args.sequence_python is None:
        print("  SeQUeNCe: not measured (pass --sequence-python)")
        return
    with tempfile.TemporaryDirectory() as folder:
        script = Path(folder) / "sequence_side.py"
        script.write_text(_SEQUENCE_SIDE, encoding="utf-8")
        output = subprocess.run(
            [str(args.sequence_python), str(script), str(SEGMENT_KM), str(MEMORIES), str(simulated_s)],
            capture_output=True,
            text=True,
            check=True,
            cwd=folder,
        ).stdout
    theirs = json.loads(output.strip().splitlines()[-1])
    print(f"  SeQUeNCe: {theirs['wall_s']:.3f} s wall, {theirs['events']:,} events, {theirs['pairs']} pairs")
    for mode, result in ours.items():
        print(f"  speed-up ({mode}): {theirs['wall_s'] / result['wall_s']:.0f}x (contract: >= 100x)")


if __name__ == "__main__":
    main()
