"""Scanning at scale: target lists (files, CIDR blocks, port ranges), concurrency with a rate limit,
one result or error per target, and resumable runs (JSON lines).

A target spec is ``HOST:PORTS`` where HOST is a name, an IPv4 address, ``[IPv6]`` or a CIDR block
(``127.0.0.0/30``, every address of the block, network and broadcast included) and PORTS is a port,
a range ``8000-8099`` or a comma-separated list of both.
"""

from __future__ import annotations

import ipaddress
import json
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qit4n.errors import InputError, ParameterError, ServiceError

__all__ = [
    "MAX_TARGETS",
    "TargetResult",
    "done_targets",
    "expand_target",
    "format_target",
    "read_targets_file",
    "scan_targets",
]

#: Most endpoints one run expands to (a /16 times 16 ports).
MAX_TARGETS = 1_048_576


@dataclass(frozen=True)
class TargetResult:
    """The scan of one target, or the one-line reason it could not be scanned."""

    target: str
    scan: Any
    error: str | None
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        """``{"target", "error", "seconds", ...scan fields}``; a failed target has no scan fields."""
        fields = self.scan.to_dict() if self.scan is not None else {}
        return {"target": self.target, "error": self.error, "seconds": round(self.seconds, 4), **fields}


def format_target(host: str, port: int) -> str:
    """``HOST:PORT``, with brackets around an IPv6 address."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _ports(text: str, spec: str) -> list[int]:
    ports: list[int] = []
    for part in text.split(","):
        low, _, high = part.partition("-")
        if not low.isdigit() or (high and not high.isdigit()):
            raise ParameterError(f"target = {spec!r}: ports must be N, N-M or a comma-separated list of them")
        first, last = int(low), int(high or low)
        if not 0 < first <= last < 65536:
            raise ParameterError(f"target = {spec!r}: ports must satisfy 0 < first <= last < 65536")
        ports.extend(range(first, last + 1))
    return ports


def _hosts(text: str, spec: str) -> list[str]:
    if "/" not in text:
        return [text]
    try:
        network = ipaddress.ip_network(text, strict=False)
    except ValueError as error:
        raise ParameterError(f"target = {spec!r}: {error}") from None
    if network.num_addresses > MAX_TARGETS:
        raise ParameterError(f"target = {spec!r}: {network.num_addresses} addresses, at most {MAX_TARGETS}")
    return [str(address) for address in network]


def expand_target(spec: str) -> list[tuple[str, int]]:
    """Every ``(host, port)`` of one target spec.

    >>> expand_target("127.0.0.0/31:8443-8444")
    [('127.0.0.0', 8443), ('127.0.0.0', 8444), ('127.0.0.1', 8443), ('127.0.0.1', 8444)]
    >>> expand_target("[::1]:22")
    [('::1', 22)]
    """
    text = spec.strip()
    if text.startswith("["):
        host, separator, ports = text[1:].partition("]:")
    else:
        host, separator, ports = text.rpartition(":")
    if not separator or not host or not ports:
        raise ParameterError(f"target = {spec!r}: must be HOST:PORTS (PORTS: N, N-M or a list)")
    hosts, port_list = _hosts(host, spec), _ports(ports, spec)
    if len(hosts) * len(port_list) > MAX_TARGETS:
        raise ParameterError(f"target = {spec!r}: {len(hosts) * len(port_list)} endpoints, at most {MAX_TARGETS}")
    return [(address, port) for address in hosts for port in port_list]


def read_targets_file(path: str | Path) -> list[str]:
    """Target specs of a file, one per line; blank lines and ``#`` comments are skipped."""
    file = Path(path)
    if not file.is_file():
        raise InputError(f"{file}: no such targets file")
    specs = []
    for line in file.read_text(encoding="utf-8").splitlines():
        text = line.split("#", 1)[0].strip()
        if text:
            specs.append(text)
    return specs


def done_targets(path: str | Path) -> set[str]:
    """Targets already in a JSON-lines results file (for a resumed run); a torn last line is ignored."""
    file = Path(path)
    if not file.is_file():
        return set()
    done = set()
    for line in file.read_text(encoding="utf-8").splitlines():
        try:
            done.add(json.loads(line)["target"])
        except (json.JSONDecodeError, KeyError, TypeError):
            continue
    return done


class _RateLimit:
    """Starts at most ``rate_per_s`` scans per second (evenly spaced); ``None`` means no limit."""

    def __init__(self, rate_per_s: float | None) -> None:
        self._interval = 0.0 if rate_per_s is None else 1.0 / rate_per_s
        self._next = time.monotonic()
        self._lock = threading.Lock()

    def wait(self) -> None:
        if self._interval == 0.0:
            return
        with self._lock:
            now = time.monotonic()
            start = max(now, self._next)
            self._next = start + self._interval
        time.sleep(max(0.0, start - now))


def scan_targets(
    endpoints: Iterable[tuple[str, int]],
    scanner: Callable[[str, int], Any],
    *,
    workers: int = 1,
    rate_per_s: float | None = None,
    on_result: Callable[[TargetResult], None] | None = None,
) -> list[TargetResult]:
    """``scanner(host, port)`` on every endpoint, ``workers`` at a time and at most ``rate_per_s`` starts
    per second. A target that fails (a :class:`ServiceError`) gets its error; the others go on.

    Results come back in the order of ``endpoints``; ``on_result`` sees each as it completes.
    """
    if workers < 1:
        raise ParameterError(f"workers = {workers}: must be >= 1")
    if rate_per_s is not None and not rate_per_s > 0.0:
        raise ParameterError(f"rate = {rate_per_s:g}: must be > 0 targets per second")
    limit = _RateLimit(rate_per_s)
    lock = threading.Lock()

    def one(endpoint: tuple[str, int]) -> TargetResult:
        host, port = endpoint
        limit.wait()
        start = time.perf_counter()
        try:
            result = TargetResult(format_target(host, port), scanner(host, port), None, 0.0)
        except ServiceError as error:
            result = TargetResult(format_target(host, port), None, str(error), 0.0)
        result = TargetResult(result.target, result.scan, result.error, time.perf_counter() - start)
        if on_result is not None:
            with lock:
                on_result(result)
        return result

    items = list(endpoints)
    if workers == 1:
        return [one(endpoint) for endpoint in items]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(one, items))
