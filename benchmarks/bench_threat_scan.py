"""Scanning at scale: N local TLS endpoints scanned sequentially and with concurrent workers (same run).

Usage: ``python benchmarks/bench_threat_scan.py [--endpoints 1000] [--workers 16] [--quick]``.
Starts N listening sockets on 127.0.0.1 served by Python's ``ssl`` (system OpenSSL: TLS 1.2 and
1.3, an EC P-256 certificate), then runs the full ``scan_tls`` probe on every endpoint, first one
target at a time (the baseline), then ``--workers`` at a time. Prints wall time, targets per
second, connections and completed handshakes per second, and the speed-up.
"""

from __future__ import annotations

import argparse
import datetime
import os
import resource
import selectors
import socket
import ssl
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from qit4n.threat.scan import scan_tls
from qit4n.threat.targets import scan_targets


def _certificate(folder: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "bench.test")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "bench.crt", folder / "bench.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


class _Endpoints:
    """N listening sockets on 127.0.0.1; one selector thread accepts, a pool completes the handshakes."""

    def __init__(self, count: int, context: ssl.SSLContext, server_threads: int) -> None:
        self._context = context
        self._selector = selectors.DefaultSelector()
        self.ports = []
        for _ in range(count):
            listener = socket.create_server(("127.0.0.1", 0), backlog=64)
            listener.setblocking(False)
            self._selector.register(listener, selectors.EVENT_READ)
            self.ports.append(listener.getsockname()[1])
        self.connections = 0
        self.handshakes = 0
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=server_threads)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            for key, _ in self._selector.select(timeout=0.1):
                try:
                    connection, _ = key.fileobj.accept()  # type: ignore[union-attr]
                except OSError:
                    continue
                self._pool.submit(self._serve, connection)

    def _serve(self, connection: socket.socket) -> None:
        with self._lock:
            self.connections += 1
        connection.setblocking(True)
        connection.settimeout(5.0)
        try:
            with self._context.wrap_socket(connection, server_side=True) as tls:
                with self._lock:
                    self.handshakes += 1
                tls.unwrap()
        except (OSError, ValueError):
            connection.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._pool.shutdown(wait=True)
        for key in list(self._selector.get_map().values()):
            key.fileobj.close()  # type: ignore[union-attr]
        self._selector.close()


def _run(endpoints: _Endpoints, workers: int) -> tuple[float, int, int, int]:
    before = (endpoints.connections, endpoints.handshakes)
    start = time.perf_counter()
    results = scan_targets(
        [("127.0.0.1", port) for port in endpoints.ports],
        lambda host, port: scan_tls(host, port, timeout_s=5.0),
        workers=workers,
    )
    wall = time.perf_counter() - start
    failed = sum(result.error is not None for result in results)
    return wall, endpoints.connections - before[0], endpoints.handshakes - before[1], failed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--endpoints", type=int, default=1000, help="local TLS endpoints (default 1000)")
    parser.add_argument("--workers", type=int, default=16, help="concurrent targets (default 16)")
    parser.add_argument("--quick", action="store_true", help="50 endpoints")
    options = parser.parse_args()
    count = 50 if options.quick else options.endpoints
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, count + 1024)), hard))
    with tempfile.TemporaryDirectory() as folder:
        cert_path, key_path = _certificate(Path(folder))
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(cert_path, key_path)
        endpoints = _Endpoints(count, context, server_threads=max(4, options.workers))
        try:
            print(f"{count} endpoints on 127.0.0.1, {os.cpu_count()} CPUs; full scan_tls probe per endpoint")
            rows = []
            for label, workers in (("sequential", 1), (f"{options.workers} workers", options.workers)):
                wall, connections, handshakes, failed = _run(endpoints, workers)
                rows.append(wall)
                print(
                    f"{label:>12}: {wall:8.2f} s, {count / wall:7.1f} targets/s, "
                    f"{connections / wall:8.1f} connections/s, {handshakes / wall:8.1f} handshakes/s "
                    f"({connections} connections, {handshakes} handshakes, {failed} failed targets)"
                )
            print(f"speed-up: {rows[0] / rows[1]:.2f}x")
        finally:
            endpoints.close()


if __name__ == "__main__":
    main()
