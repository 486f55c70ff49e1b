"""Issue 13 item 7: two domains, each with its own CA and controller, started independently with
``qit4n network up --interconnect``, exchange keys through their gateways under a bilateral policy.

Domain alpha: SAE-A1 and SAE-A2 one link from its gateway GA, which hosts SAE-GA. Domain beta: its gateway
GB, a trusted relay BR, and SAE-B1 (so beta relays over two hops with the end-to-end confirm).
Each SAE talks ETSI GS QKD 014 to its own domain's KME with its own domain's certificate. Checked:
the same keys under the same key_IDs on both sides, both directions; a pair the policy does not
name refused (401) and logged by both gateways; the hourly budget enforced (503 once spent);
cutting the inter-domain link (either side's end) gives 503 naming it, restoring it brings keys
back; no key delivered twice; no key material in the audit logs; each controller shows the
interconnection.
"""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from qit4n.cli import main
from qit4n.cli.network import fetch
from qit4n.kms.client import KMEError
from qit4n.kms.client004 import StreamClient
from qit4n.kms.hosts import free_port
from qit4n.kms.launcher import load_plan
from qit4n.kms.ops import sae_client
from qit4n.kms.supply import new_link_secret
from qit4n.kms.tls import DEFAULT_TLS_GROUPS, ContextSource, TlsFiles
from qit4n.kms.tls_client import tls_transport
from qit4n.qkdn.faults import apply_fault
from qit4n.qkdn.plan import load_controller_plan

pytestmark = pytest.mark.timeout(180)

_LINK = {"key_rate_bps": 4e5, "pool_capacity_bits": 2e7}
ALPHA = {
    "name": "alpha",
    "nodes": [{"id": "A1"}, {"id": "A2"}, {"id": "GA"}],
    "links": [
        {"id": "A1-GA", "endpoints": ["A1", "GA"], **_LINK},
        {"id": "A2-GA", "endpoints": ["A2", "GA"], **_LINK},
    ],
}
BETA = {
    "name": "beta",
    "nodes": [{"id": "GB", "role": "trusted-relay"}, {"id": "BR", "role": "trusted-relay"}, {"id": "B1"}],
    "links": [{"id": "GB-BR", "endpoints": ["GB", "BR"], **_LINK}, {"id": "BR-B1", "endpoints": ["BR", "B1"], **_LINK}],
}
KEY_BITS = 256
#: SAE-A1 -> SAE-B1 may take 6 keys of 256 bits per hour.
BUDGET_BITS = 6 * KEY_BITS


def _agreement(folder: Path) -> dict[str, Any]:
    return {
        "agreement": "alpha-beta-test",
        "domains": {
            "alpha": {
                "gateway": "GA",
                "address": f"127.0.0.1:{free_port('127.0.0.1')}",
                "ca": "alpha/certs/ca.pem",
                "saes": ["SAE-A1", "SAE-A2", "SAE-GA"],
            },
            "beta": {
                "gateway": "GB",
                "address": f"127.0.0.1:{free_port('127.0.0.1')}",
                "ca": "beta/certs/ca.pem",
                "saes": ["SAE-B1"],
            },
        },
        "link": {"id": "GA-GB", "secret_file": "link.secret", "key_rate_bps": 4e5, "pool_capacity_bits": 2e7},
        "policy": [
            {"master": "SAE-A1", "slave": "SAE-B1", "max_bits_per_hour": BUDGET_BITS},
            {"master": "SAE-B1", "slave": "SAE-[AG]*", "max_bits_per_hour": 1e6},
            {"master": "SAE-GA", "slave": "SAE-B1", "max_bits_per_hour": 1e6},
        ],
    }


def _up(folder: Path, scenario: dict[str, Any], log: Path) -> subprocess.Popen[bytes]:
    scenario_file = folder / f"{scenario['name']}.yaml"
    scenario_file.write_text(yaml.safe_dump(scenario))
    command = [sys.executable, "-c", "from qit4n.cli import main; main()", "network", "up", str(scenario_file)]
    command += ["--state", str(folder / scenario["name"]), "--interconnect", str(folder / "agreement.yaml")]
    with log.open("wb") as output:
        return subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)


def _state(state_dir: Path) -> dict[str, Any]:
    try:
        return fetch(state_dir, "/qkdn/v1/state")
    except Exception:  # noqa: BLE001 - not answering yet
        return {}


def _wait(predicate: Any, what: str, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting until {what}")


def _ready(state_dir: Path) -> bool:
    view = _state(state_dir).get("interdomain") or {}
    return bool(view.get("listening")) and view.get("state") == "up" and view.get("pool_bits", 0) > 1e5


@pytest.fixture(scope="module")
def domains(tmp_path_factory: pytest.TempPathFactory) -> Any:
    folder = tmp_path_factory.mktemp("interdomain")
    os.chmod(folder, 0o700)
    (folder / "link.secret").write_text(new_link_secret())
    (folder / "agreement.yaml").write_text(yaml.safe_dump(_agreement(folder)))
    started = time.monotonic()
    # Started independently and at once: each gateway opens its inter-domain interface when the
    # other's CA certificate appears.
    processes = [_up(folder, ALPHA, folder / "alpha.log"), _up(folder, BETA, folder / "beta.log")]
    try:
        for name in ("alpha", "beta"):
            _wait(lambda name=name: _ready(folder / name), f"{name}'s gateway is joined")
        yield folder, time.monotonic() - started
    finally:
        for process in processes:
            process.send_signal(signal.SIGINT)
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        print((folder / "alpha.log").read_text(errors="replace")[-1500:])
        print((folder / "beta.log").read_text(errors="replace")[-1500:])


class Ledger:
    """Keys requested, delivered (same bytes at both ends), refused by status; key IDs seen."""

    def __init__(self, folder: Path) -> None:
        self.plans = {name: load_plan(folder / name) for name in ("alpha", "beta")}
        self.counts: Counter[str] = Counter()
        self.key_ids: Counter[str] = Counter()
        self.keys: list[bytes] = []
        self.get_key_s: list[float] = []

    def request(self, master: tuple[str, str], slave: tuple[str, str], number: int = 2) -> KMEError | None:
        """``master`` = (domain, SAE) asks for keys shared with ``slave``; the slave fetches them from its KME."""
        self.counts["requested"] += number
        with sae_client(self.plans[master[0]], master[1]) as client:
            try:
                started = time.perf_counter()
                issued = client.get_key(slave[1], number=number)
                self.get_key_s.append(time.perf_counter() - started)
            except KMEError as error:
                self.counts[f"refused {error.status_code}"] += number
                return error
        with sae_client(self.plans[slave[0]], slave[1]) as client:
            fetched = client.get_key_with_ids(master[1], [key.key_id for key in issued])
            assert [(k.key_id, k.key) for k in fetched] == [(k.key_id, k.key) for k in issued]
            with pytest.raises(KMEError) as again:  # never delivered twice
                client.get_key_with_ids(master[1], [issued[0].key_id])
            assert again.value.status_code == 400
        assert all(len(key.key) == KEY_BITS // 8 for key in issued)
        self.counts["delivered"] += number
        self.key_ids.update(key.key_id for key in issued)
        self.keys.extend(key.key for key in issued)
        return None


def _audit(folder: Path, domain: str, gateway: str) -> list[dict[str, Any]]:
    path = folder / domain / "audit" / f"KME-{gateway}.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def test_keys_cross_domains_under_the_policy(domains: Any, capsys: pytest.CaptureFixture[str]) -> None:
    folder, ready_s = domains
    alpha, beta = folder / "alpha", folder / "beta"
    assert (alpha / "certs" / "ca.pem").read_bytes() != (beta / "certs" / "ca.pem").read_bytes()
    ledger = Ledger(folder)
    a1, a2, b1, ga = ("alpha", "SAE-A1"), ("alpha", "SAE-A2"), ("beta", "SAE-B1"), ("alpha", "SAE-GA")

    # Both directions: the slave in the other domain gets the same keys under the same key_IDs.
    assert ledger.request(a1, b1) is None
    assert ledger.request(b1, a2) is None
    assert ledger.request(b1, a1) is None
    assert ledger.request(ga, b1) is None  # the master's KME is the gateway itself
    assert ledger.request(b1, ga) is None  # and the slave's

    # A pair the agreement does not name: 401 from alpha, refused and logged by both gateways.
    refused = ledger.request(a2, b1)
    assert refused is not None and refused.status_code == 401
    assert "does not allow SAE-A2" in refused.body["message"]
    for domain, gateway, stage in (("alpha", "GA", "admit-outgoing"), ("beta", "GB", "admit-incoming")):
        entries = [e for e in _audit(folder, domain, gateway) if e["event"] == "interdomain"]
        assert any(
            e["stage"] == stage and e["master"] == "SAE-A2" and e["decision"] == "refused" and e["status"] == 401
            for e in entries
        ), (domain, entries)

    # Cut the inter-domain link at beta's end: 503 naming it, both directions; restore: keys again.
    beta_plan = load_controller_plan(beta)
    apply_fault(beta_plan, "cut", "GA-GB")
    _wait(lambda: (_state(beta).get("interdomain") or {}).get("state") == "down", "beta's controller sees the cut")
    for master, slave in ((a1, b1), (b1, a1)):
        error = ledger.request(master, slave)
        assert error is not None and error.status_code == 503, error
        assert "inter-domain link GA-GB" in error.body["message"] and "down (cut)" in error.body["message"]
    report = _state(beta)
    assert any(a["source"] == "link:GA-GB" and a["cleared_at"] is None for a in report["alarms"])
    apply_fault(beta_plan, "restore", "GA-GB")
    _wait(lambda: (_state(beta).get("interdomain") or {}).get("state") == "up", "beta's controller sees the repair")
    assert ledger.request(b1, a1) is None

    # The same from alpha's side.
    apply_fault(load_controller_plan(alpha), "cut", "GA-GB")
    error = ledger.request(b1, a2)
    assert error is not None and error.status_code == 503 and "down (cut)" in error.body["message"]
    apply_fault(load_controller_plan(alpha), "restore", "GA-GB")
    assert ledger.request(b1, a2) is None

    # SAE-A1 -> SAE-B1 may take BUDGET_BITS per hour: 2 keys were issued, two more requests of 2 fit.
    assert ledger.request(a1, b1) is None
    assert ledger.request(a1, b1) is None
    spent = ledger.request(a1, b1)
    assert spent is not None and spent.status_code == 503 and "budget" in spent.body["message"]
    assert ledger.request(b1, a1) is None  # the other rule is not touched

    # One peer-domain slave per request, and ETSI 004 streams stay in their domain: 400.
    plan = ledger.plans["alpha"]
    with sae_client(plan, "SAE-A1") as client, pytest.raises(KMEError) as extra:
        client.get_key("SAE-B1", number=1, additional_slave_sae_ids=["SAE-A2"])
    assert extra.value.status_code == 400 and "that one slave only" in extra.value.body["message"]
    with StreamClient(plan.url("KME-A1"), *plan.sae_cert("SAE-A1")) as stream, pytest.raises(KMEError) as opened:
        stream.open_connect("SAE-A1", "SAE-B1")
    assert opened.value.status_code == 400 and "do not cross domains" in opened.value.body["message"]

    # Nothing lost or duplicated; no key material in either gateway's audit log.
    assert max(ledger.key_ids.values()) == 1
    for domain, gateway in (("alpha", "GA"), ("beta", "GB")):
        text = (folder / domain / "audit" / f"KME-{gateway}.jsonl").read_text()
        assert not any(base64.b64encode(key).decode() in text for key in ledger.keys)

    def used_bits() -> dict[tuple[str, str], float]:
        rules = _state(alpha)["interdomain"]["rules"]
        return {(rule["master"], rule["slave"]): rule["used_bits_last_hour"] for rule in rules}

    # The controller's view follows the gateway one poll later.
    _wait(lambda: used_bits()[("SAE-A1", "SAE-B1")] == BUDGET_BITS, "the controller shows the budget spent", 10.0)
    view = _state(alpha)["interdomain"]
    assert view["peer_domain"] == "beta" and view["link_id"] == "GA-GB" and view["gateway_kme_id"] == "KME-GA"
    assert view["remote_sae_ids"] == ["SAE-B1"] and view["key_rate_bps"] == pytest.approx(4e5)
    capsys.readouterr()
    with pytest.raises(SystemExit) as done:
        main(["network", "status", "--state", str(alpha)])
    assert done.value.code == 0
    table = capsys.readouterr().out
    assert "inter-domain: alpha <-> beta (agreement alpha-beta-test)" in table and "GA-GB" in table
    crossing = sorted(ledger.get_key_s)
    with sae_client(ledger.plans["alpha"], "SAE-A1") as client:  # the same call inside alpha, for comparison
        inside = []
        for _ in range(5):
            started = time.perf_counter()
            client.get_key("SAE-A2", number=2)
            inside.append(time.perf_counter() - started)
    print(
        f"interdomain ledger: {dict(ledger.counts)}; both domains ready in {ready_s:.1f} s; Get key median "
        f"{1e3 * crossing[len(crossing) // 2]:.0f} ms across domains (max {1e3 * crossing[-1]:.0f} ms), "
        f"{1e3 * sorted(inside)[2]:.0f} ms inside alpha"
    )
    assert ledger.counts == Counter({"requested": 30, "delivered": 20, "refused 401": 2, "refused 503": 8}), (
        ledger.counts
    )


def _client(folder: Path, domain: str, entity: str, ca_domain: str) -> httpx.Client:
    """HTTPS client with ``entity``'s certificate of ``domain``, trusting ``ca_domain``'s CA."""
    certs = folder / domain / "certs"
    files = TlsFiles(certs / f"{entity}.pem", certs / f"{entity}.key", folder / ca_domain / "certs" / "ca.pem")
    return httpx.Client(transport=tls_transport(ContextSource(files, DEFAULT_TLS_GROUPS, server=False)), timeout=5.0)


def test_each_ca_is_trusted_for_the_peer_gateway_only(domains: Any) -> None:
    folder, _ = domains
    agreement = yaml.safe_load((folder / "agreement.yaml").read_text())
    beta_gateway = "https://" + agreement["domains"]["beta"]["address"]
    admit = {"initiator_sae_id": "SAE-GA", "target_sae_ids": ["SAE-B1"], "number": 1, "key_size": 256}
    with _client(folder, "alpha", "KME-GA", "beta") as gateway:
        assert gateway.get(beta_gateway + "/kmapi/versions").json() == {"versions": ["v1"]}
        assert gateway.post(beta_gateway + "/kmapi/v1/ext_keys/admit", json=admit).status_code == 200
        # A transfer whose tag does not verify under the inter-domain link's key is refused and logged.
        forged = {
            **admit,
            "agreement": "alpha-beta-test",
            "key_IDs": ["5f0c2a1e-8d3b-4c8e-9a41-7d2e3f100000"],
            "link_id": "GA-GB",
            "unit_start": 10_000,
            "ciphertext": base64.b64encode(bytes(32 + 64)).decode(),
            "tag": base64.b64encode(bytes(16)).decode(),
        }
        refused = gateway.post(beta_gateway + "/kmapi/v1/ext_keys", json=forged)
        assert refused.status_code == 401 and "authentication tag" in refused.json()["message"]
        # alpha's CA is not trusted on beta's own KME port.
        beta_kme = load_plan(folder / "beta").url("KME-GB")
        with pytest.raises(httpx.HTTPError):
            gateway.get(beta_kme + "/kme/v1/health")
    # Another holder of an alpha certificate is not the peer gateway.
    with _client(folder, "alpha", "SAE-A1", "beta") as sae:
        response = sae.post(beta_gateway + "/kmapi/v1/ext_keys/admit", json=admit)
        assert response.status_code == 401 and "is not the alpha domain's gateway" in response.json()["message"]
    # beta's own CA is not trusted on its inter-domain interface.
    with _client(folder, "beta", "SAE-B1", "beta") as insider, pytest.raises(httpx.HTTPError):
        insider.get(beta_gateway + "/kmapi/versions")
    events = Counter(e["event"] for e in _audit(folder, "beta", "GB"))
    assert events["interdomain_caller_refused"] >= 1
    assert any(
        e["event"] == "interdomain" and e["stage"] == "receive" and "authentication tag" in e.get("reason", "")
        for e in _audit(folder, "beta", "GB")
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda a: a["policy"].append({"master": "SAE-A1", "slave": "SAE-A2", "max_bits_per_hour": 1}),
            "policy[3].slave",
        ),
        (lambda a: a["domains"]["beta"].update(saes=["SAE-A1"]), "domains.beta.saes"),
        (lambda a: a["domains"]["alpha"].update(gateway="XX"), "domains.alpha.gateway = 'XX' is not a node"),
        (lambda a: a["link"].update(length_km=-3), "link.length_km = -3"),
    ],
)
def test_bad_agreement_names_the_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], change: Any, message: str
) -> None:
    agreement = _agreement(tmp_path)
    change(agreement)
    (tmp_path / "agreement.yaml").write_text(yaml.safe_dump(agreement))
    (tmp_path / "link.secret").write_text(new_link_secret())
    (tmp_path / "alpha.yaml").write_text(yaml.safe_dump(ALPHA))
    state = tmp_path / "state"
    with pytest.raises(SystemExit) as done:
        main(
            [
                "network",
                "up",
                str(tmp_path / "alpha.yaml"),
                "--state",
                str(state),
                "--interconnect",
                str(tmp_path / "agreement.yaml"),
                "--duration-s",
                "0",
            ]
        )
    output = capsys.readouterr()
    assert done.value.code == 2 and message in output.err, output
    assert "Traceback" not in output.err and len(output.err.strip().splitlines()) == 1
