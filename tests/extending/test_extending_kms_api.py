"""Recipe "A new KMS API" of docs/extending.md: a toy interface registered in KME_INTERFACES and
served by real KMEs (uvicorn, mutual TLS, SQLite) beside ETSI GS QKD 014."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

import httpx
import pytest

from qit4n.kms import KME_INTERFACES, write_kme_plan
from qit4n.kms.client import sae_transport
from qit4n.kms.ops import InProcessNetwork, operator_cert, sae_client
from qit4n.scenario import scenario_from_dict


@pytest.fixture
def recipe(run_recipe: Callable[[str], ModuleType]) -> Iterator[ModuleType]:
    try:
        yield run_recipe("A new KMS API")
    finally:
        KME_INTERFACES.unregister("pool-levels")


def test_a_registered_interface_is_served_beside_etsi_014(tmp_path: Path, recipe: ModuleType) -> None:
    assert KME_INTERFACES.get("pool-levels") is recipe.pool_levels
    assert {"etsi014", "kme-peers", "pool-levels"} <= set(KME_INTERFACES.names())
    scenario = scenario_from_dict(
        {
            "name": "toy-api-pair",
            "nodes": [{"id": "A"}, {"id": "B"}],
            "links": [{"id": "A-B", "endpoints": ["A", "B"], "key_rate_bps": 1e6, "pool_capacity_bits": 1e6}],
        }
    )
    plan = write_kme_plan(scenario, tmp_path)
    with InProcessNetwork(plan), httpx.Client(transport=sae_transport(*plan.sae_cert("SAE-A"))) as http:
        url = plan.url("KME-A") + "/pool/v1/levels"
        deadline = time.monotonic() + 10.0
        while (before := http.get(url).json())["links"]["A-B"] < 2 * 256 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert before["sae"] == "SAE-A" and before["links"]["A-B"] >= 2 * 256
        with sae_client(plan, "SAE-A") as alice:
            (key,) = alice.get_key("SAE-B", size_bits=256)
        assert len(key.key) == 32
        with httpx.Client(transport=sae_transport(*operator_cert(plan))) as operator:
            refused = operator.get(url)
    assert refused.status_code == 401 and "not an SAE attached to KME-A" in refused.json()["details"][0]["reason"]


def test_the_interface_is_gone_once_unregistered(recipe: ModuleType) -> None:
    KME_INTERFACES.unregister("pool-levels")
    assert "pool-levels" not in KME_INTERFACES and sorted(KME_INTERFACES.names()) == [
        "etsi004",
        "etsi014",
        "kme-control",
        "kme-interdomain",
        "kme-metrics",
        "kme-peers",
        "kme-streams",
    ]
