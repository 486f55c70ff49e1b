"""Planning with full single-failure survivability on a synthetic network (target: 1,000 nodes,
3,000 links, 100 demands in <= 60 s).

Times each phase of :func:`qit4n.net.plan_network` on a Waxman network from
:func:`qit4n.net.generate.generate_scenario`: building the key network, the joint allocation
(path-form LP by column generation), the minimum cut of every demand, and every single link and
node failure. Baselines measured in the same run: the edge-form allocation LP on a smaller network
(where it is still practical) against the path form, and single-failure survivability recomputing
every demand after every failure (no skipping) on that smaller network.

Usage: ``python benchmarks/bench_net_plan.py [--quick] [--nodes N --links M --demands D]``.
"""

from __future__ import annotations

import argparse
import time

from qit4n.net import allocate, build_network, compile_network, demand_specs, failure_impacts, min_cut
from qit4n.net import survivability as survivability_module
from qit4n.net.generate import generate_scenario


def phases(nodes: int, links: int, demands: int, seed: int) -> dict[str, float]:
    timings = {}
    start = time.perf_counter()
    scenario = generate_scenario(nodes, links=links, demands=demands, seed=seed)
    timings["generate"] = time.perf_counter() - start
    start = time.perf_counter()
    network = build_network(scenario)
    compiled = compile_network(network)
    timings["build"] = time.perf_counter() - start
    start = time.perf_counter()
    allocations = allocate(compiled, demand_specs(scenario))
    timings["allocation"] = time.perf_counter() - start
    start = time.perf_counter()
    for allocation in allocations:
        min_cut(compiled, allocation.demand.source, allocation.demand.target)
    timings["min cuts"] = time.perf_counter() - start
    start = time.perf_counter()
    impacts = failure_impacts(compiled, allocations)
    timings["survivability"] = time.perf_counter() - start
    timings["failures"] = len(impacts)
    timings["satisfied"] = sum(allocation.satisfied for allocation in allocations)
    return timings


def baselines(nodes: int, links: int, demands: int, seed: int) -> None:
    scenario = generate_scenario(nodes, links=links, demands=demands, seed=seed)
    compiled = compile_network(build_network(scenario))
    specs = demand_specs(scenario)
    times = {}
    for method in ("edges", "paths"):
        start = time.perf_counter()
        result = allocate(compiled, specs, method=method)
        times[method] = time.perf_counter() - start
    print(
        f"baseline allocation on {nodes} nodes / {links} links / {demands} demands: edge form {times['edges']:.2f} s, "
        f"path form {times['paths']:.2f} s"
    )
    start = time.perf_counter()
    impacts = failure_impacts(compiled, result)
    skipping = time.perf_counter() - start
    start = time.perf_counter()
    brute = brute_force_survivability(compiled, result)
    everything = time.perf_counter() - start
    tolerance = 2 * len(result) * compiled.quantum_bps  # integer flows are exact to one quantum per demand
    agree = all(abs(impact.capacity_lost_bps - lost) <= tolerance + 1e-9 * lost for impact, lost in zip(impacts, brute))
    print(
        f"baseline survivability (recompute every demand after every failure): {everything:.2f} s vs {skipping:.2f} s "
        f"({everything / skipping:.1f}x); same capacity lost: {agree}"
    )


def brute_force_survivability(compiled, allocations) -> list[float]:
    """Capacity lost per single failure, recomputing every demand's capped flow after every failure."""
    lost = []
    for failure in survivability_module.single_failures(compiled):
        positions = [compiled.link_position[link_id] for link_id in failure.links]
        dead = [compiled.index[node] for node in failure.nodes]
        capacity = compiled.pair_capacity(positions)
        total = 0.0
        for allocation in allocations:
            planned = allocation.allocated_bps
            if planned <= 0:
                continue
            s, t = compiled.index[allocation.demand.source], compiled.index[allocation.demand.target]
            blocked = compiled.blocked_nodes(s, t, dead)
            total += planned - compiled.max_flow(s, t, capacity, blocked, limit_bps=planned, flows=False).value_bps
        lost.append(total)
    return lost


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="200 nodes, 600 links, 20 demands")
    parser.add_argument("--nodes", type=int, default=1000)
    parser.add_argument("--links", type=int, default=3000)
    parser.add_argument("--demands", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    nodes, links, demands = (200, 600, 20) if args.quick else (args.nodes, args.links, args.demands)
    timings = phases(nodes, links, demands, args.seed)
    planning = timings["build"] + timings["allocation"] + timings["min cuts"] + timings["survivability"]
    print(
        f"synthetic Waxman network: {nodes} nodes, {links} links, {demands} demands ({timings['satisfied']} fully "
        "satisfied)"
    )
    for name in ("generate", "build", "allocation", "min cuts", "survivability"):
        print(f"  {name:14s} {timings[name]:8.2f} s")
    print(f"planning with {timings['failures']} single failures: {planning:.2f} s")
    baselines(100 if args.quick else 200, 300 if args.quick else 600, 10 if args.quick else 20, args.seed)


if __name__ == "__main__":
    main()
