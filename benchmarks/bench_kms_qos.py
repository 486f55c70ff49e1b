"""KME isolation: other SAEs' Get key latency while one SAE sends maximal requests (issue 12).

Usage: ``python benchmarks/bench_kms_qos.py [--quick] [--duration-s S] [--groups pq|classical]``.
Starts real KME processes (mutual TLS 1.3, X25519MLKEM768 unless ``--groups classical``, SQLite
WAL, keys sealed at rest). The victim, SAE-A, asks KME-A for 1 key per call
for SAE-D (4 connections; KME-D stores every key). The noisy SAE, SAE-D, talks to KME-D on 2
connections with one kind of maximal request:

- ``enc_keys`` with ``number`` = max_key_per_request (1000 keys of 256 bits) for SAE-A;
- ``dec_keys`` with as many key_IDs as fit in max_request_bytes (64 KiB; unknown IDs, 400);
- ``dec_keys`` of 2.6 MB (the request of the issue), refused unread (400).

Prints the victim's p50/p99 unloaded and under each load, the ratio of loaded to unloaded p99
(target <= 2), and the noisy SAE's requests/s (answered, 200 or not), first without quotas, then
with a request-rate quota on the noisy SAE. Client and KMEs share the machine's cores.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from bench_kms import GROUPS, RawHTTPS, sae_source
from qit4n.kms.launcher import Network, write_kme_plan
from qit4n.scenario import scenario_from_dict

VICTIM_CONNECTIONS = 4
NOISY_CONNECTIONS = 2
NOISY_QUOTA_PER_S = 20.0


def _scenario():
    link = {"endpoints": ["A", "D"], "key_rate_bps": 1e10, "pool_capacity_bits": 1e13}
    return scenario_from_dict({"name": "bench-kms-qos", "nodes": [{"id": "A"}, {"id": "D"}], "links": [link]})


def _noisy_request(kind: str) -> tuple[str, str, bytes]:
    if kind == "enc_keys":
        return "POST", "/api/v1/keys/SAE-A/enc_keys", json.dumps({"number": 1000, "size": 256}).encode()
    target_bytes = (1 << 16) - 100 if kind == "dec_keys" else 2_600_000
    item = json.dumps({"key_ID": str(uuid.uuid4())}).encode()
    count = (target_bytes - 20) // (len(item) + 1)
    return "POST", "/api/v1/keys/SAE-A/dec_keys", b'{"key_IDs":[' + b",".join([item] * count) + b"]}"


async def _measure(plan, noisy: str | None, duration_s: float) -> dict:
    victim_source, loud_source = sae_source(plan, "SAE-A"), sae_source(plan, "SAE-D")
    victim = await asyncio.gather(
        *(RawHTTPS.connect(plan.url("KME-A"), victim_source) for _ in range(VICTIM_CONNECTIONS))
    )
    loud = await asyncio.gather(*(RawHTTPS.connect(plan.url("KME-D"), loud_source) for _ in range(NOISY_CONNECTIONS)))
    latencies: list[float] = []
    noisy_calls = failures = 0
    body = json.dumps({"number": 1, "size": 256}).encode()
    stop = asyncio.Event()

    async def victim_worker(connection: RawHTTPS, until: float) -> None:
        nonlocal failures
        while time.perf_counter() < until:
            start = time.perf_counter()
            status, _ = await connection.request("POST", "/api/v1/keys/SAE-D/enc_keys", body)
            latencies.append(time.perf_counter() - start)
            failures += status != 200

    async def noisy_worker(connection: RawHTTPS) -> None:
        nonlocal noisy_calls
        assert noisy is not None
        method, path, payload = _noisy_request(noisy)
        while not stop.is_set():
            await connection.request(method, path, payload)
            noisy_calls += 1

    noise = [asyncio.create_task(noisy_worker(connection)) for connection in loud] if noisy else []
    await asyncio.sleep(0.3)
    started = time.perf_counter()
    await asyncio.gather(*(victim_worker(connection, started + duration_s) for connection in victim))
    elapsed = time.perf_counter() - started
    stop.set()
    await asyncio.gather(*noise, return_exceptions=True)
    await asyncio.gather(*(connection.close() for connection in victim + loud))
    latencies.sort()
    return {
        "p50_ms": 1e3 * statistics.median(latencies),
        "p99_ms": 1e3 * latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))],
        "victim_req_s": len(latencies) / elapsed,
        "noisy_req_s": noisy_calls / elapsed,
        "failures": failures,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="1 s per measurement")
    parser.add_argument("--duration-s", type=float, default=5.0, help="seconds per measurement")
    parser.add_argument("--groups", choices=["pq", "classical"], default="pq", help="TLS key exchange")
    options = parser.parse_args()
    duration_s = 1.0 if options.quick else options.duration_s
    rows = [
        ("unloaded", None),
        ("SAE-D: enc_keys, 1000 keys/call", "enc_keys"),
        ("SAE-D: dec_keys, 64 KiB of key_IDs", "dec_keys"),
        ("SAE-D: dec_keys, 2.6 MB (refused)", "oversize"),
    ]
    quotas: dict[str, dict[str, object]] = {
        "no quota": {},
        f"SAE-D quota {NOISY_QUOTA_PER_S:g} calls/s": {
            "quotas": {"SAE-D": {"requests_per_s": NOISY_QUOTA_PER_S, "burst_requests": 5}}
        },
    }
    print(
        f"victim SAE-A: Get key 1 x 256 bit on {VICTIM_CONNECTIONS} connections, {duration_s:g} s per row, "
        f"TLS 1.3 key exchange {', '.join(GROUPS[options.groups])}"
    )
    for quota_label, overrides in quotas.items():
        results = {}
        with tempfile.TemporaryDirectory(prefix="bench-kms-qos-") as folder:
            overrides = {**overrides, "tls_groups": GROUPS[options.groups]}
            plan = write_kme_plan(_scenario(), Path(folder) / "state", overrides=overrides)
            with Network(plan):
                time.sleep(1.0)
                for label, noisy in rows:
                    results[label] = asyncio.run(_measure(plan, noisy, duration_s))
        unloaded = results["unloaded"]["p99_ms"]
        header = f"{quota_label:38s} {'p50 ms':>8s} {'p99 ms':>8s} {'p99/unloaded':>13s}"
        print(f"{header} {'victim req/s':>13s} {'noisy req/s':>12s}")
        for label, row in results.items():
            print(
                f"{label:38s} {row['p50_ms']:8.1f} {row['p99_ms']:8.1f} {row['p99_ms'] / unloaded:13.2f} "
                f"{row['victim_req_s']:13.0f} {row['noisy_req_s']:12.1f}"
            )


if __name__ == "__main__":
    main()
