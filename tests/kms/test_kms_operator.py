"""Operator-only health and topology-free 503 answers (issue 12), over real mutual-TLS servers."""

from __future__ import annotations

import httpx
import pytest

from qit4n.kms.client import KMEError
from qit4n.kms.launcher import write_kme_plan
from qit4n.kms.ops import InProcessNetwork, network_status


def test_health_is_for_the_operator_only_and_503_bodies_name_no_kme_or_link(tmp_path, make_star, live_network):
    scenario = make_star(rate_bps=1e6, capacity_bits=2e5, relay_capacity_bits=256 * 8)
    plan = write_kme_plan(scenario, tmp_path)
    with InProcessNetwork(plan):
        live = live_network(plan)
        live.wait_for_keys("SAE-A", "SAE-D", 10)
        for sae_id in ("SAE-A", "SAE-C"):
            with httpx.Client(transport=live.transport(sae_id), timeout=10) as http:
                answer = http.get(plan.url("KME-A") + "/kme/v1/health")
            assert answer.status_code == 401 and "operator" in answer.text and "links" not in answer.text
        assert "links" in network_status(plan)["kmes"]["KME-A"]  # the operator's certificate
        live.wait_for_keys("SAE-A", "SAE-C", 1)  # KME-A reads KME-B's health as a peer (once C notified B-C's key)
        with live.client("SAE-A") as master, pytest.raises(KMEError) as failed:
            master.get_key("SAE-C", number=20)  # B-C holds 8 units: the hop at KME-B fails
    assert failed.value.status_code == 503
    text = str(failed.value.body)
    assert "incident" in text and "SAE-C" in text
    for name in ("KME-", "A-B", "B-C", "link", "hop", "127.0.0.1"):
        assert name not in text, name
