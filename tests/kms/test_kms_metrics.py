"""Prometheus metrics of each KME (issue 12), scraped over mutual TLS from real servers and parsed
with ``prometheus_client.parser``: the counts are those of the requests the test made."""

from __future__ import annotations

import time

import httpx
import prometheus_client
from prometheus_client.parser import text_string_to_metric_families

from qit4n.kms.client import KMEError, sae_transport
from qit4n.kms.launcher import write_kme_plan
from qit4n.kms.ops import InProcessNetwork, operator_cert

ENC = "/api/v1/keys/{slave_SAE_ID}/enc_keys"
DEC = "/api/v1/keys/{master_SAE_ID}/dec_keys"
KEY_BITS = 256
LIFETIME_S = 5.0


def scrape(http: httpx.Client, url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a KME's metrics, by (sample name, sorted labels)."""
    answer = http.get(url + "/kme/v1/metrics")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(answer.text)
        for sample in family.samples
    }


def delta(after: dict, before: dict, name: str, **labels: str) -> float:
    key = (name, tuple(sorted(labels.items())))
    return after.get(key, 0.0) - before.get(key, 0.0)


def test_metrics_count_what_the_test_did_per_kme(tmp_path, make_star, live_network):
    plan = write_kme_plan(make_star(capacity_bits=4e5), tmp_path, overrides={"key_lifetime_s": LIFETIME_S})
    kmes = ("KME-A", "KME-B", "KME-C", "KME-D")
    with InProcessNetwork(plan), httpx.Client(transport=sae_transport(*operator_cert(plan)), timeout=10) as operator:
        live = live_network(plan)
        live.wait_for_keys("SAE-A", "SAE-D", 20)
        live.wait_for_keys("SAE-A", "SAE-C", 20)
        before = {kme_id: scrape(operator, plan.url(kme_id)) for kme_id in kmes}

        with live.client("SAE-A") as master:
            direct = master.get_key("SAE-D", number=5)  # one hop A -> D
            relayed = master.get_key("SAE-C", number=3)  # A -> B (trusted node) -> C
        with live.client("SAE-D") as slave:
            slave.get_key_with_ids("SAE-A", [key.key_id for key in direct[:2]])
            try:
                slave.get_key_with_ids("SAE-A", [direct[0].key_id])  # delivered already: 400
            except KMEError as error:
                assert error.status_code == 400
        with live.client("SAE-C") as slave:
            slave.get_key_with_ids("SAE-A", [key.key_id for key in relayed])
        with httpx.Client(transport=live.transport("SAE-A"), timeout=10) as sae:
            assert sae.get(plan.url("KME-A") + "/kme/v1/metrics").status_code == 401  # operator only
            assert sae.get(plan.url("KME-A") + "/no/such/path").status_code == 404
            big = sae.post(plan.url("KME-A") + "/api/v1/keys/SAE-D/enc_keys", content=b" " * (1 << 17))
            assert big.status_code == 400  # refused unread, before routing

        after = {kme_id: scrape(operator, plan.url(kme_id)) for kme_id in kmes}
        a, b, c, d = (after[kme_id] for kme_id in kmes)
        a0, b0, c0, d0 = (before[kme_id] for kme_id in kmes)
        assert delta(a, a0, "qit4n_kms_keys_issued_total") == 8
        assert delta(d, d0, "qit4n_kms_keys_delivered_total") == 2
        assert delta(c, c0, "qit4n_kms_keys_delivered_total") == 3
        assert delta(a, a0, "qit4n_kms_keys_relayed_total", role="sent") == 8
        assert delta(b, b0, "qit4n_kms_keys_relayed_total", role="forwarded") == 3
        assert delta(c, c0, "qit4n_kms_keys_relayed_total", role="received") == 3
        assert delta(d, d0, "qit4n_kms_keys_relayed_total", role="received") == 5
        for sample, role in ((a, "forwarded"), (a, "received"), (b, "sent"), (b, "received"), (d, "sent")):
            assert sample[("qit4n_kms_keys_relayed_total", (("role", role),))] == 0
        assert d[("qit4n_kms_waiting_keys", ())] == 3 and c[("qit4n_kms_waiting_keys", ())] == 0
        # Pool units spent: one 256-bit unit per 256-bit key on every hop, plus 3 units per request and hop
        # for its authentication (end-to-end key and tag pad, qit4n.kms.relayauth).
        auth = 3
        assert delta(a, a0, "qit4n_kms_link_spent_bits_total", link="A-D", peer="KME-D") == (5 + auth) * KEY_BITS
        assert delta(a, a0, "qit4n_kms_link_spent_bits_total", link="A-B", peer="KME-B") == (3 + auth) * KEY_BITS
        assert delta(b, b0, "qit4n_kms_link_spent_bits_total", link="B-C", peer="KME-C") == (3 + auth) * KEY_BITS
        for link, peer in (("A-B", "KME-B"), ("A-D", "KME-D")):
            labels = (("link", link), ("peer", peer))
            assert a[("qit4n_kms_pool_capacity_bits", labels)] == 4e5
            assert 0 <= a[("qit4n_kms_pool_owned_bits", labels)] <= a[("qit4n_kms_pool_bits", labels)] <= 4e5
        # Latency histograms per route template, errors by status code.
        count = "qit4n_kms_request_duration_seconds_count"
        assert delta(a, a0, count, route=ENC, method="POST") == 3  # two answered, one refused unread
        assert delta(d, d0, count, route=DEC, method="POST") == 2
        assert delta(c, c0, count, route=DEC, method="POST") == 1
        assert delta(d, d0, count, route="/kme/v1/relay", method="POST") >= 1
        buckets = [
            value for (name, labels), value in a.items() if name.endswith("_bucket") and ("route", ENC) in labels
        ]
        assert buckets and max(buckets) == a[(count, (("method", "POST"), ("route", ENC)))]
        assert delta(a, a0, "qit4n_kms_errors_total", route=ENC, method="POST", status="400") == 1
        assert delta(a, a0, "qit4n_kms_errors_total", route="/kme/v1/metrics", method="GET", status="401") == 1
        assert delta(a, a0, "qit4n_kms_errors_total", route="unmatched", method="GET", status="404") == 1
        assert delta(d, d0, "qit4n_kms_errors_total", route=DEC, method="POST", status="400") == 1
        errors = {
            kme_id: sum(value for (name, _), value in after[kme_id].items() if name == "qit4n_kms_errors_total")
            - sum(value for (name, _), value in before[kme_id].items() if name == "qit4n_kms_errors_total")
            for kme_id in kmes
        }
        assert errors == {"KME-A": 3, "KME-B": 0, "KME-C": 0, "KME-D": 1}
        # One registry per KME, none in the library's global default registry.
        for kme_id in kmes:
            assert after[kme_id][("qit4n_kms_kme_info", (("kme_id", kme_id),))] == 1
        assert not [family.name for family in prometheus_client.REGISTRY.collect() if family.name.startswith("qit4n")]

        # The 3 keys D never delivered expire after key_lifetime_s and are counted.
        deadline = time.monotonic() + LIFETIME_S + 15
        while delta(latest := scrape(operator, plan.url("KME-D")), d0, "qit4n_kms_keys_expired_total") < 3:
            assert time.monotonic() < deadline, "the undelivered keys did not expire"
            time.sleep(0.2)
        assert delta(latest, d0, "qit4n_kms_keys_expired_total") == 3
        assert latest[("qit4n_kms_waiting_keys", ())] == 0
