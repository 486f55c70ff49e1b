"""KME throughput with real TLS clients on loopback: Get key rate and latency, bulk keys, relay.

Usage: ``python benchmarks/bench_kms.py [--quick] [--duration-s S] [--groups pq|classical|both]``.
Starts real KME processes (mutual TLS 1.3, SQLite WAL, keys sealed at rest) and drives them with
asyncio HTTPS clients (16 concurrent requests) whose TLS is the KMS's own (pyOpenSSL over the
OpenSSL of ``cryptography``). ``both`` (the default) runs the network twice in one process: with
the post-quantum default (KMEs and clients on X25519MLKEM768) and with classical x25519 only.
Prints, per scenario: requests/s, keys/s, p50 and p99 latency, the ratio to the baseline measured
in the same network (Get status: TLS + HTTP + JSON, no key work), and the ratio of post-quantum to
classical requests/s.

Targets from the issue: >= 1,000 Get key requests/s per KME with p99 <= 50 ms at concurrency 16;
>= 100,000 keys/s with 100 keys of 256 bits per call; relay across 5 trusted nodes >= 10,000 keys/s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path

from qit4n.kms.launcher import Network, write_kme_plan
from qit4n.kms.tls import ContextSource, TlsEngine
from qit4n.kms.tls_client import client_tls_source
from qit4n.scenario import scenario_from_dict

CONCURRENCY = 16
#: Key-exchange groups of the KMEs and clients per TLS variant.
GROUPS = {"pq": ["X25519MLKEM768"], "classical": ["x25519"]}


def _scenario():
    names = ["A", "R1", "R2", "R3", "R4", "R5", "Z"]
    nodes = [{"id": n, "role": "trusted-relay" if n.startswith("R") else "user"} for n in names] + [{"id": "D"}]
    pairs = list(zip(names, names[1:])) + [("A", "D")]
    links = [{"endpoints": list(pair), "key_rate_bps": 1e10, "pool_capacity_bits": 1e13} for pair in pairs]
    return scenario_from_dict({"name": "bench-kms", "nodes": nodes, "links": links})


class RawHTTPS:
    """A lean HTTP/1.1 keep-alive client over one TLS connection (asyncio streams, the KMS's TLS engine).

    The KMEs and this client share the machine's cores, so the client is kept cheap: one
    pre-built request line, a header scan and a ``Content-Length`` read per call. Open with
    :meth:`connect`.
    """

    def __init__(
        self, host: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, engine: TlsEngine
    ) -> None:
        self.host, self.reader, self.writer, self.engine = host, reader, writer, engine
        self.buffer = bytearray()

    @classmethod
    async def connect(cls, url: str, source: ContextSource) -> RawHTTPS:
        """A connection to ``url`` whose TLS handshake is done."""
        host, port = url.removeprefix("https://").split(":")
        reader, writer = await asyncio.open_connection(host, int(port))
        connection = cls(host, reader, writer, TlsEngine(source.current(), server=False, server_hostname=host))
        while not connection.engine.do_handshake():
            writer.write(connection.engine.outgoing())
            await connection._fill()
        writer.write(connection.engine.outgoing())
        return connection

    async def _fill(self) -> None:
        data = await self.reader.read(1 << 16)
        if not data:
            raise ConnectionError("the KME closed the connection")
        self.engine.receive(data)
        if self.engine.handshake_done:
            self.buffer += self.engine.read()

    async def request(self, method: str, path: str, body: bytes = b"") -> tuple[int, bytes]:
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: {self.host}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        self.engine.send(head.encode() + body)
        self.writer.write(self.engine.outgoing())
        while (end := self.buffer.find(b"\r\n\r\n")) < 0:
            await self._fill()
        header = bytes(self.buffer[: end + 4])
        status = int(header[9:12])
        length = 0
        for line in header.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
        while len(self.buffer) < end + 4 + length:
            await self._fill()
        payload = bytes(self.buffer[end + 4 : end + 4 + length])
        del self.buffer[: end + 4 + length]
        return status, payload

    async def close(self) -> None:
        self.writer.write(self.engine.close_notify())
        self.writer.close()


def sae_source(plan, sae_id: str) -> ContextSource:
    """Client TLS of ``sae_id`` offering the groups its KME accepts."""
    return client_tls_source(*plan.sae_cert(sae_id), groups=plan.configs[plan.directory[sae_id]].tls_groups)


async def _drive(plan, master: str, slave: str, call: str, number: int, duration_s: float) -> dict:
    source = sae_source(plan, master)
    url = plan.url(plan.directory[master])
    connections = await asyncio.gather(*(RawHTTPS.connect(url, source) for _ in range(CONCURRENCY)))
    latencies: list[float] = []
    keys = failures = 0
    if call == "status":
        method, path, body = "GET", f"/api/v1/keys/{slave}/status", b""
    else:
        method, path, body = (
            "POST",
            f"/api/v1/keys/{slave}/enc_keys",
            json.dumps({"number": number, "size": 256}).encode(),
        )

    async def worker(connection: RawHTTPS, until: float) -> None:
        nonlocal keys, failures
        while time.perf_counter() < until:
            start = time.perf_counter()
            status, payload = await connection.request(method, path, body)
            latencies.append(time.perf_counter() - start)
            if status != 200:
                failures += 1
            elif call != "status":
                keys += payload.count(b'"key_ID"')

    await asyncio.gather(*(worker(connection, time.perf_counter() + 0.3) for connection in connections))
    latencies.clear()
    keys = failures = 0
    started = time.perf_counter()
    await asyncio.gather(*(worker(connection, started + duration_s) for connection in connections))
    elapsed = time.perf_counter() - started
    await asyncio.gather(*(connection.close() for connection in connections))
    latencies.sort()
    return {
        "requests_per_s": len(latencies) / elapsed,
        "keys_per_s": keys / elapsed,
        "p50_ms": 1e3 * statistics.median(latencies),
        "p99_ms": 1e3 * latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))],
        "failures": failures,
    }


def _run(groups: list[str], duration_s: float) -> dict[str, dict]:
    runs = [
        ("baseline: Get status A->D", "SAE-A", "SAE-D", "status", 1),
        ("Get key A->D, 1 key/call", "SAE-A", "SAE-D", "key", 1),
        ("Get key A->D, 100 keys/call", "SAE-A", "SAE-D", "key", 100),
        ("relay A->Z over 5 trusted nodes, 100 keys/call", "SAE-A", "SAE-Z", "key", 100),
    ]
    results = {}
    with tempfile.TemporaryDirectory(prefix="bench-kms-") as folder:
        overrides = {"max_key_per_request": 1000, "tls_groups": groups}
        plan = write_kme_plan(_scenario(), Path(folder) / "state", overrides=overrides)
        with Network(plan):
            time.sleep(1.0)
            for label, master, slave, call, number in runs:
                results[label] = asyncio.run(_drive(plan, master, slave, call, number, duration_s))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="1 s per measurement")
    parser.add_argument("--duration-s", type=float, default=5.0, help="seconds per measurement")
    parser.add_argument("--groups", choices=["pq", "classical", "both"], default="both", help="TLS key exchange")
    options = parser.parse_args()
    duration_s = 1.0 if options.quick else options.duration_s
    variants = ["pq", "classical"] if options.groups == "both" else [options.groups]
    results = {variant: _run(GROUPS[variant], duration_s) for variant in variants}
    print(
        f"concurrency {CONCURRENCY}, {duration_s:g} s per measurement, 256-bit keys, client and KMEs on the same "
        "machine"
    )
    for variant, rows in results.items():
        print(f"\nTLS 1.3 key exchange {', '.join(GROUPS[variant])}")
        baseline = next(iter(rows.values()))["requests_per_s"]
        print(
            f"{'measurement':50s} {'req/s':>9s} {'keys/s':>10s} {'p50 ms':>8s} {'p99 ms':>8s} {'failed':>7s} "
            f"{'vs baseline':>12s} {'vs classical':>13s}"
        )
        for label, row in rows.items():
            classical = results.get("classical", {}).get(label)
            ratio = f"{row['requests_per_s'] / classical['requests_per_s']:13.2f}" if classical else f"{'-':>13s}"
            print(
                f"{label:50s} {row['requests_per_s']:9.0f} {row['keys_per_s']:10.0f} {row['p50_ms']:8.1f} "
                f"{row['p99_ms']:8.1f} {row['failures']:7d} {row['requests_per_s'] / baseline:12.2f} {ratio}"
            )


if __name__ == "__main__":
    main()
