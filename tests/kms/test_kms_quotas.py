"""Per-SAE quotas (issue 12): request rate, request size, share of a link pool, request body size;
over-limit answers are ETSI GS QKD 014 error bodies (clause 6.5), over real mutual-TLS servers."""

from __future__ import annotations

import time

import httpx
import pytest

from qit4n.kms.client import KMEError
from qit4n.kms.launcher import write_kme_plan
from qit4n.kms.ops import InProcessNetwork

CAPACITY_BITS = 256 * 400  # 400 keys of 256 bits on each end's half of link A-D
RATE_BPS = 2e5
SHARE = 0.25


@pytest.fixture(scope="module")
def limited(tmp_path_factory, make_star, live_network):
    plan = write_kme_plan(
        make_star(rate_bps=RATE_BPS, capacity_bits=2 * CAPACITY_BITS),
        tmp_path_factory.mktemp("kms-quotas"),
        overrides={
            "max_request_bytes": 4096,
            "quotas": {
                "SAE-A": {"pool_share": SHARE, "max_keys_per_request": 20},
                "SAE-C": {"requests_per_s": 2.0, "burst_requests": 3},
            },
        },
    )
    with InProcessNetwork(plan):
        live = live_network(plan)
        live.wait_for_keys("SAE-A", "SAE-D", 390)
        yield live


def test_request_rate_over_quota_is_503_for_that_sae_only(limited):
    with limited.client("SAE-C") as noisy, limited.client("SAE-D") as other:
        with pytest.raises(KMEError) as refused:
            for _ in range(30):  # 3 at once, then 2/s: refused within a few calls unless each takes > 0.45 s
                noisy.status("SAE-A")
        assert [other.status("SAE-A")["slave_SAE_ID"] for _ in range(5)] == ["SAE-A"] * 5
        time.sleep(0.6)  # one call's worth of tokens at 2 calls/s
        assert noisy.status("SAE-A")["master_SAE_ID"] == "SAE-C"
    assert refused.value.status_code == 503
    assert set(refused.value.body) == {"message", "details"} and "2 calls/s" in refused.value.body["message"]


def test_request_size_over_quota_is_400(limited):
    with limited.client("SAE-A") as master:
        with pytest.raises(KMEError) as refused:
            master.get_key("SAE-D", number=21)
        assert len(master.get_key("SAE-D", number=20)) == 20
    assert refused.value.status_code == 400 and "must be <= 20 for SAE-A" in refused.value.body["message"]


def test_one_sae_cannot_take_more_than_its_share_of_a_pool(limited):
    """SAE-A may take 25 % of link A-D's pool capacity at once and 25 % of its key rate on average
    (a bucket of 0.25 * capacity refilled at 0.25 * rate); the pool stays open to SAE-D."""
    taken_bits = 0
    started = time.monotonic()
    with limited.client("SAE-A") as master, limited.client("SAE-D") as other:
        with pytest.raises(KMEError) as refused:
            for _ in range(100):
                taken_bits += 256 * len(master.get_key("SAE-D", number=10))
        refill_bits = SHARE * RATE_BPS * (time.monotonic() - started)
        assert len(other.get_key("SAE-A", number=10)) == 10
    assert refused.value.status_code == 503 and "share (0.25) of the key pool" in refused.value.body["message"]
    # a call is charged its keys and the 3 units it spends on authentication (end-to-end key, tag pad);
    # the earlier test drew 20 keys of SAE-A's share; the refused call asked for 10 keys
    overhead_bits = 3 * 256
    charged_bits = taken_bits + taken_bits // (10 * 256) * overhead_bits
    share_bits = SHARE * 2 * CAPACITY_BITS
    assert share_bits - 256 * 30 - 2 * overhead_bits <= charged_bits <= share_bits + refill_bits
    assert taken_bits < 0.5 * 2 * CAPACITY_BITS


def test_a_body_above_max_request_bytes_is_refused_unread(limited):
    body = {"key_IDs": [{"key_ID": "00000000-0000-4000-8000-000000000000"}] * 200}
    with httpx.Client(base_url=limited.url("KME-D"), transport=limited.transport("SAE-D"), timeout=10) as slave:
        answer = slave.post("/api/v1/keys/SAE-A/dec_keys", json=body)
    assert answer.status_code == 400 and "max_request_bytes = 4096" in answer.json()["message"]


def test_kms_up_reads_quotas_from_a_kms_config_file_and_names_a_bad_field(tmp_path):
    import json
    import subprocess
    import sys

    import yaml

    scenario = {
        "name": "kms-quota-pair",
        "nodes": [{"id": "A"}, {"id": "D"}],
        "links": [{"id": "A-D", "endpoints": ["A", "D"], "key_rate_bps": 1e6, "pool_capacity_bits": 2e5}],
    }
    (tmp_path / "pair.yaml").write_text(yaml.safe_dump(scenario))
    settings = tmp_path / "kms.yaml"
    command = [sys.executable, "-c", "from qit4n.cli import main; main()", "kms", "up", str(tmp_path / "pair.yaml")]
    settings.write_text(yaml.safe_dump({"quotas": {"SAE-A": {"pool_share": 1.5}}}))
    bad = subprocess.run([*command, "--config", str(settings)], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert "quotas.SAE-A.pool_share" in bad.stderr and str(settings) in bad.stderr
    settings.write_text(yaml.safe_dump({"quotas": {"SAE-A": {"requests_per_s": 5}}, "max_request_bytes": 8192}))
    state = tmp_path / "state"
    good = subprocess.run(
        [*command, "--config", str(settings), "--state", str(state), "--duration-s", "0"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert good.returncode == 0, good.stdout + good.stderr
    config = json.loads((state / "kme" / "KME-A.json").read_text())
    assert config["quotas"]["SAE-A"]["requests_per_s"] == 5 and config["max_request_bytes"] == 8192
