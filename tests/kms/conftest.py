"""Fixtures: small scenarios and real KME networks on 127.0.0.1 with a test CA and SQLite files.

Test modules get the helpers through fixtures (``make_star``, ``live_network``) because the suite
runs with ``--import-mode=importlib``.
"""

from __future__ import annotations

import ssl
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

    def context(self, sae_id: str) -> ssl.SSLContext:
        from qit4n.kms.client import sae_ssl_context

        return sae_ssl_context(*self.plan.sae_cert(sae_id))

    def wait_for_keys(self, master: str, slave: str, count: int, timeout_s: float = 10.0) -> None:
        import time

        with self.client(master) as client:
            deadline = time.monotonic() + timeout_s
            while client.status(slave)["stored_key_count"] < count:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{master}->{slave}: pool did not reach {count} keys")
                time.sleep(0.05)


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
