"""Recipe "A new KMS API" (docs/extending.md): a toy interface registered in KME_INTERFACES and
served by real KMEs (uvicorn, mutual TLS, SQLite) next to ETSI GS QKD 014."""

from __future__ import annotations

import time
from typing import Annotated, Any

import httpx
import pytest
from fastapi import APIRouter, Depends

from qit4n.kms import KME_INTERFACES, write_kme_plan
from qit4n.kms.client import sae_ssl_context
from qit4n.kms.dependencies import calling_sae, get_kme
from qit4n.kms.kme import KME
from qit4n.kms.ops import InProcessNetwork, operator_cert, sae_client
from qit4n.scenario import scenario_from_dict

pool_levels = APIRouter(prefix="/pool/v1")


@pool_levels.get("/levels")
async def levels(caller: Annotated[str, Depends(calling_sae)], kme: Annotated[KME, Depends(get_kme)]) -> dict[str, Any]:
    """Read only: the key each link of the caller's KME could spend now, in bits."""
    unit_bits = kme.config.key_size_bits
    return {
        "sae": caller,
        "links": {
            link.link_id: kme.store.unit_count(link_id=link.link_id, owned_only=True) * unit_bits
            for link in kme.config.links
        },
    }


@pytest.fixture
def registered():
    KME_INTERFACES.register("pool-levels", pool_levels)
    try:
        yield
    finally:
        KME_INTERFACES.unregister("pool-levels")


def test_a_registered_interface_is_served_beside_etsi_014(tmp_path, registered):
    scenario = scenario_from_dict(
        {
            "name": "toy-api-pair",
            "nodes": [{"id": "A"}, {"id": "B"}],
            "links": [{"id": "A-B", "endpoints": ["A", "B"], "key_rate_bps": 1e6, "pool_capacity_bits": 1e6}],
        }
    )
    plan = write_kme_plan(scenario, tmp_path)
    assert {"etsi014", "kme-peers", "pool-levels"} <= set(KME_INTERFACES.names())
    with InProcessNetwork(plan), httpx.Client(verify=sae_ssl_context(*plan.sae_cert("SAE-A"))) as http:
        url = plan.url("KME-A") + "/pool/v1/levels"
        deadline = time.monotonic() + 10.0
        while (before := http.get(url).json())["links"]["A-B"] < 2 * 256 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert before["sae"] == "SAE-A" and before["links"]["A-B"] >= 2 * 256
        with sae_client(plan, "SAE-A") as alice:
            (key,) = alice.get_key("SAE-B", size_bits=256)
        assert len(key.key) == 32
        with httpx.Client(verify=sae_ssl_context(*operator_cert(plan))) as operator:
            refused = operator.get(url)
    assert refused.status_code == 401 and "not an SAE attached to KME-A" in refused.json()["details"][0]["reason"]
