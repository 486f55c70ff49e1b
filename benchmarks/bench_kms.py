"""KME throughput with real TLS clients on loopback: Get key rate and latency, bulk keys, relay.

Usage: ``python benchmarks/bench_kms.py [--quick] [--duration-s S]``. Starts real KME processes
(mutual TLS, SQLite WAL) and drives them with asyncio HTTPS clients (16 concurrent requests).
Prints, per scenario: requests/s, keys/s, p50 and p99 latency, and the ratio to the baseline
measured in the same run (Get status: TLS + HTTP + JSON, no key work).

Targets from the issue: >= 1,000 Get key requests/s per KME with p99 <= 50 ms at concurrency 16;
>= 100,000 keys/s with 100 keys of 256 bits per call; relay across 5 trusted nodes >= 10,000 keys/s.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from qit4n.kms.client import AsyncSAEClient
from qit4n.kms.launcher import Network, plan_network
from qit4n.scenario import scenario_from_dict

CONCURRENCY = 16


def _scenario():
    names = ["A", "R1", "R2", "R3", "R4", "R5", "Z"]
    nodes = [{"id": n, "role": "trusted-relay" if n.startswith("R") else "user"} for n in names] + [{"id": "D"}]
    pairs = list(zip(names, names[1:])) + [("A", "D")]
    links = [{"endpoints": list(pair), "key_rate_bps": 1e10, "pool_capacity_bits": 1e13} for pair in pairs]
    return scenario_from_dict({"name": "bench-kms", "nodes": nodes, "links": links})


async def _drive(plan, master: str, slave: str, call: str, number: int, duration_s: float) -> dict:
    cert = plan.sae_cert(master)
    client = AsyncSAEClient(plan.url(plan.directory[master]), *cert, connections=CONCURRENCY)
    latencies: list[float] = []
    keys = 0
    deadline = time.perf_counter() + duration_s

    async def worker() -> None:
        nonlocal keys
        while time.perf_counter() < deadline:
            start = time.perf_counter()
            if call == "status":
                response = await client._http.get(f"/api/v1/keys/{slave}/status")
                response.raise_for_status()
            else:
                delivered = len(await client.get_key(slave, number=number, size_bits=256))
                keys += delivered
            latencies.append(time.perf_counter() - start)

    await asyncio.gather(*(worker() for _ in range(2)))  # warm the connections
    latencies.clear()
    keys = 0
    started = time.perf_counter()
    deadline = started + duration_s
    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    elapsed = time.perf_counter() - started
    await client.aclose()
    latencies.sort()
    return {
        "requests_per_s": len(latencies) / elapsed,
        "keys_per_s": keys / elapsed,
        "p50_ms": 1e3 * statistics.median(latencies),
        "p99_ms": 1e3 * latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="1 s per measurement")
    parser.add_argument("--duration-s", type=float, default=5.0, help="seconds per measurement")
    options = parser.parse_args()
    duration_s = 1.0 if options.quick else options.duration_s
    with tempfile.TemporaryDirectory(prefix="bench-kms-") as folder:
        plan = plan_network(_scenario(), Path(folder), overrides={"max_key_per_request": 1000})
        with Network(plan):
            time.sleep(1.0)
            runs = [
                ("baseline: Get status A->D", "SAE-A", "SAE-D", "status", 1),
                ("Get key A->D, 1 key/call", "SAE-A", "SAE-D", "key", 1),
                ("Get key A->D, 100 keys/call", "SAE-A", "SAE-D", "key", 100),
                ("relay A->Z over 5 trusted nodes, 100 keys/call", "SAE-A", "SAE-Z", "key", 100),
            ]
            results = {}
            for label, master, slave, call, number in runs:
                results[label] = asyncio.run(_drive(plan, master, slave, call, number, duration_s))
    baseline = results[runs[0][0]]["requests_per_s"]
    print(f"concurrency {CONCURRENCY}, {duration_s:g} s per measurement, 256-bit keys, client and KMEs on the same machine")
    print(f"{'measurement':50s} {'req/s':>9s} {'keys/s':>10s} {'p50 ms':>8s} {'p99 ms':>8s} {'req/s vs baseline':>18s}")
    for label, row in results.items():
        print(
            f"{label:50s} {row['requests_per_s']:9.0f} {row['keys_per_s']:10.0f} {row['p50_ms']:8.1f} {row['p99_ms']:8.1f} "
            f"{row['requests_per_s'] / baseline:18.2f}"
        )


if __name__ == "__main__":
    main()
