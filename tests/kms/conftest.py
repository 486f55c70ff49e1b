"""Fixtures: small scenarios and real KME networks on 127.0.0.1 with a test CA and SQLite files.

Test modules get the helpers through fixtures (``make_star``, ``live_network``) because the suite
runs with ``--import-mode=importlib``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from qit4n.kms.launcher import write_kme_plan
from qit4n.kms.ops import InProcessNetwork, sae_client
from qit4n.scenario import scenario_from_dict


def star_scenario(rate_bps: float = 2e6, capacity_bits: float = 1e9, relay_capacity_bits: float | None = None):
    """SAE-A - KME-A - KME-D (direct link) and KME-A - KME-B (trusted relay) - KME-C."""
    relay_capacity = capacity_bits if relay_capacity_bits is None else relay_capacity_bits
    return scenario_from_dict(
        {
            "name": "kms-test-star",
            "nodes": [{"id": "A"}, {"id": "B", "role": "trusted-relay"}, {"id": "C"}, {"id": "D"}],
            "links": [
                {"id": "A-B", "endpoints": ["A", "B"], "key_rate_bps": rate_bps, "pool_capacity_bits": capacity_bits},
                {"id": "B-C", "endpoints": ["B", "C"], "key_rate_bps": rate_bps, "pool_capacity_bits": relay_capacity},
                {"id": "A-D", "endpoints": ["A", "D"], "key_rate_bps": rate_bps, "pool_capacity_bits": capacity_bits},
            ],
        }
    )


class LiveNetwork:
    """A plan whose KMEs are serving, with helpers to open SAE clients."""

    def __init__(self, plan) -> None:
        self.plan = plan

    def client(self, sae_id: str):
        return sae_client(self.plan, sae_id)

    def url(self, kme_id: str) -> str:
        return self.plan.url(kme_id)

    def transport(self, sae_id: str, **options):
        """An httpx transport with the SAE's certificate (post-quantum TLS, see ``sae_transport``)."""
        from qit4n.kms.client import sae_transport

        return sae_transport(*self.plan.sae_cert(sae_id), **options)

    def wait_for_keys(self, master: str, slave: str, count: int, timeout_s: float = 10.0) -> None:
        import time

        with self.client(master) as client:
            deadline = time.monotonic() + timeout_s
            while client.status(slave)["stored_key_count"] < count:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{master}->{slave}: pool did not reach {count} keys")
                time.sleep(0.05)


def probe_tls(
    url: str,
    ca: Path,
    *,
    cert: Path | None = None,
    key: Path | None = None,
    groups: str | None = None,
    max_version: str | None = None,
    path: str = "/api/v1/keys/SAE-D/status",
) -> tuple[str | None, int | None]:
    """An independent client (pyOpenSSL written here, not qit4n's TLS code): handshake, GET ``path``.

    Returns (negotiated group, HTTP status); the status is None when the server refused the
    handshake or closed the connection instead of answering; the group is None when no handshake completed.
    """
    import select
    import socket

    from cryptography.hazmat.bindings.openssl.binding import Binding
    from OpenSSL import SSL

    host, port = url.removeprefix("https://").rsplit(":", 1)
    context = SSL.Context(SSL.TLS_METHOD)
    context.load_verify_locations(str(ca))
    context.set_verify(SSL.VERIFY_PEER)
    if cert is not None and key is not None:
        context.use_certificate_chain_file(str(cert))
        context.use_privatekey_file(str(key))
    if groups is not None:
        assert Binding.lib.SSL_CTX_set1_curves_list(context._context, groups.encode()) == 1
    if max_version is not None:
        context.set_max_proto_version({"TLSv1.2": SSL.TLS1_2_VERSION, "TLSv1.3": SSL.TLS1_3_VERSION}[max_version])

    def patiently(call):
        for _ in range(50):
            try:
                return call()
            except SSL.WantReadError:
                select.select([raw], [], [], 0.1)
        raise TimeoutError("no answer within 5 s")

    with socket.create_connection((host, int(port)), timeout=5) as raw:
        raw.setblocking(False)
        connection = SSL.Connection(context, raw)
        connection.set_connect_state()
        try:
            patiently(connection.do_handshake)
        except SSL.Error:
            return None, None
        group = connection.get_group_name()
        try:
            connection.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
            answer = patiently(lambda: connection.recv(4096))
        except (SSL.Error, OSError):
            return group, None
        return group, int(answer.split(b" ")[1]) if answer.startswith(b"HTTP/1.1 ") else None


@pytest.fixture(scope="session")
def tls_probe():
    """The independent TLS client :func:`probe_tls`."""
    return probe_tls


@pytest.fixture(scope="session")
def make_star():
    """The star scenario factory."""
    return star_scenario


@pytest.fixture(scope="session")
def live_network():
    """The LiveNetwork class (wraps a plan whose KMEs serve)."""
    return LiveNetwork


@pytest.fixture(scope="module")
def star_network(tmp_path_factory) -> LiveNetwork:
    state: Path = tmp_path_factory.mktemp("kms-star")
    plan = write_kme_plan(
        star_scenario(capacity_bits=4e5), state, overrides={"max_key_per_request": 200, "max_sae_id_count": 2}
    )
    with InProcessNetwork(plan):
        live = LiveNetwork(plan)
        live.wait_for_keys("SAE-A", "SAE-C", 400)
        live.wait_for_keys("SAE-A", "SAE-D", 400)
        yield live
