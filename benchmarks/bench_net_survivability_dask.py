"""Survivability on Dask: the failure analysis of a generated network in this process, then on a
local cluster of 1 and 2 worker processes, with the task graph that predicts N workers.

Printed: the in-process time, each cluster's wall time and speed-up over one worker, and the task
graph: the tasks (batches of :data:`qit4n.net.survivability.BATCH_FAILURES` failures that touch a
reference flow), the bytes of the shared context scattered once to each worker, the bytes shipped
per task (the batch, and its answer), the total work (sum of the batch times measured in this
process) and the critical path (the longest batch). On N workers the analysis takes about
``scatter + max(work / N, longest batch)``.

Run: ``.venv/bin/python benchmarks/bench_net_survivability_dask.py [--nodes 2000] [--demands 100] [--workers 1 2]``.
"""

from __future__ import annotations

import argparse
import pickle
import time

import numpy as np

from qit4n.net.flows import compile_network
from qit4n.net.generate import generate_scenario
from qit4n.net.plan import plan_network
from qit4n.net.survivability import (
    BATCH_FAILURES,
    failure_context,
    failure_impacts,
    impacts_of,
    single_failures,
    touches_flow,
)
from qit4n.sweep import dask_batch_mapper


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=2000)
    parser.add_argument("--demands", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="cluster sizes to time")
    args = parser.parse_args()
    from dask.distributed import LocalCluster

    plan = plan_network(generate_scenario(args.nodes, demands=args.demands, seed=args.seed), survivability=False)
    compiled = compile_network(plan.network)
    allocations = [demand.allocation for demand in plan.demands]
    failures = single_failures(compiled)

    start = time.perf_counter()
    context = failure_context(compiled, allocations)
    context_s = time.perf_counter() - start
    work = [failure for failure in failures if touches_flow(context, failure)]
    batches = [work[i : i + BATCH_FAILURES] for i in range(0, len(work), BATCH_FAILURES)]
    batch_s, answer_bytes = [], []
    for batch in batches:
        start = time.perf_counter()
        answer = impacts_of(context, batch)
        batch_s.append(time.perf_counter() - start)
        answer_bytes.append(len(pickle.dumps(answer)))

    start = time.perf_counter()
    local = failure_impacts(compiled, allocations, failures)
    local_s = time.perf_counter() - start
    print(f"network: {args.nodes} nodes, {len(compiled.link_ids)} links, {len(allocations)} demands")
    print(f"failures: {len(failures)}, of which {len(work)} touch a reference flow (the work)")
    print(f"in this process: {local_s:.2f} s (context {context_s:.2f} s)")
    timings = {}
    for workers in args.workers:
        with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster:
            mapper = dask_batch_mapper(cluster.scheduler_address)
            mapper(impacts_of, context, [[failures[0]]])  # workers import qit4n before the clock
            start = time.perf_counter()
            spread = failure_impacts(compiled, allocations, failures, mapper=mapper)
            timings[workers] = time.perf_counter() - start
        assert spread == local, "the cluster's analysis differs from the local one"
        print(f"dask, {workers} worker(s): {timings[workers]:.2f} s (identical result)")
    for workers in args.workers[1:]:
        print(f"speed-up {args.workers[0]} -> {workers} workers: {timings[args.workers[0]] / timings[workers]:.2f}x")
    print("task graph:")
    print(f"  tasks: {len(batches)} (batches of {BATCH_FAILURES} failures), no dependencies between them")
    print(f"  shared context, scattered once per worker: {len(pickle.dumps(context)) / 1e6:.1f} MB")
    print(
        f"  per task: {np.mean([len(pickle.dumps(batch)) for batch in batches]) / 1e3:.1f} kB in, "
        f"{np.mean(answer_bytes) / 1e3:.1f} kB out (mean)"
    )
    print(f"  work: {sum(batch_s):.2f} s in {len(batches)} tasks; critical path (longest task) {max(batch_s):.3f} s")


if __name__ == "__main__":
    main()
