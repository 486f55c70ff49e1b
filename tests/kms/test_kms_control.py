"""The KME control interface (``kme-control``): operator only, route installs, link conditions."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from qit4n.kms.client import KMEError
from qit4n.kms.launcher import write_kme_plan
from qit4n.kms.ops import InProcessNetwork, operator_cert


@pytest.fixture(scope="module")
def star(tmp_path_factory: pytest.TempPathFactory, make_star: Any, live_network: Any) -> Any:
    plan = write_kme_plan(make_star(capacity_bits=1e9), tmp_path_factory.mktemp("kms-control"))
    with InProcessNetwork(plan):
        live = live_network(plan)
        live.wait_for_keys("SAE-A", "SAE-C", 4)
        yield live


def _operator(star: Any) -> httpx.Client:
    from qit4n.kms.client import sae_transport

    return httpx.Client(transport=sae_transport(*operator_cert(star.plan)), timeout=5.0)


def test_only_the_operator_may_use_it(star: Any) -> None:
    with httpx.Client(transport=star.transport("SAE-A"), timeout=5.0) as sae:
        assert sae.get(star.url("KME-A") + "/kme/v1/control").status_code == 401
    with _operator(star) as operator:
        report = operator.get(star.url("KME-A") + "/kme/v1/control").json()
    assert report["routes"] == {"KME-B": ["KME-B"], "KME-C": ["KME-B", "KME-C"], "KME-D": ["KME-D"]}
    assert set(report["links"]["A-B"]) >= {"pool_bits", "key_rate_bps", "planned_rate_bps", "qber", "cut"}


def test_routes_installed_apply_to_the_next_request(star: Any) -> None:
    url = star.url("KME-A") + "/kme/v1/control/routes"
    with _operator(star) as operator:
        bad = operator.put(url, json={"routes": {"KME-C": ["KME-C"]}, "version": 1})
        assert bad.status_code == 400 and "KME-A has no QKD link to 'KME-C'" in bad.json()["message"]
        assert operator.put(url, json={"routes": {"KME-D": ["KME-D"]}, "version": 2}).status_code == 200
        with star.client("SAE-A") as client, pytest.raises(KMEError) as refused:
            client.get_key("SAE-C")
        assert refused.value.status_code == 503 and "no key route to slave_SAE_ID 'SAE-C'" in str(refused.value)
        routes = {"KME-B": ["KME-B"], "KME-C": ["KME-B", "KME-C"], "KME-D": ["KME-D"]}
        assert operator.put(url, json={"routes": routes, "version": 3}).status_code == 200
        assert operator.get(star.url("KME-A") + "/kme/v1/control").json()["route_version"] == 3
    with star.client("SAE-A") as client:
        assert len(client.get_key("SAE-C")) == 1


def test_a_cut_link_stops_filling_its_pool(star: Any, tmp_path: Path) -> None:
    base = star.url("KME-D") + "/kme/v1/control"
    with _operator(star) as operator:
        cut = operator.put(base + "/links/A-D", json={"cut": True})
        assert cut.status_code == 200 and cut.json()["cut"] is True
        first = operator.get(base).json()["links"]["A-D"]
        time.sleep(0.3)
        later = operator.get(base).json()["links"]["A-D"]
        assert first["key_rate_bps"] == 0.0 and later["pool_bits"] == first["pool_bits"]
        assert operator.put(base + "/links/NOPE", json={"cut": True}).status_code == 404
        assert operator.put(base + "/links/A-D", json={"rate_factor": 2}).status_code == 400
        operator.put(base + "/links/A-D", json={"cut": False, "rate_factor": 0.5, "qber": 0.02})
        time.sleep(0.3)
        restored = operator.get(base).json()["links"]["A-D"]
    assert restored["key_rate_bps"] == pytest.approx(0.5 * restored["planned_rate_bps"])
    assert restored["qber"] == 0.02
    assert restored["pool_bits"] > later["pool_bits"]  # far below the 1e9-bit capacity: the filler runs again
