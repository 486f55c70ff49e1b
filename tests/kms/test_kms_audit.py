"""Key lifetime and the hash-chained audit log (issue 12), over real mutual-TLS servers and files."""

from __future__ import annotations

import base64
import json
import time

import pytest
from typer.testing import CliRunner

from qit4n.cli import app
from qit4n.kms.audit import verify_log
from qit4n.kms.client import KMEError
from qit4n.kms.launcher import write_kme_plan
from qit4n.kms.ops import InProcessNetwork, network_status

LIFETIME_S = 1.0


@pytest.fixture(scope="module")
def audited(tmp_path_factory, make_star, live_network):
    plan = write_kme_plan(
        make_star(capacity_bits=4e5), tmp_path_factory.mktemp("kms-audit"), overrides={"key_lifetime_s": LIFETIME_S}
    )
    with InProcessNetwork(plan):
        live = live_network(plan)
        live.wait_for_keys("SAE-A", "SAE-D", 20)
        yield live


def test_keys_not_fetched_within_their_lifetime_are_erased_and_counted(audited):
    with audited.client("SAE-A") as master, audited.client("SAE-D") as slave:
        before = network_status(audited.plan)["kmes"]["KME-D"]["expired"]
        keys = master.get_key("SAE-D", number=3)
        deadline = time.monotonic() + LIFETIME_S + 10
        while network_status(audited.plan)["kmes"]["KME-D"]["expired"] < before + 3:
            assert time.monotonic() < deadline, "keys past their lifetime were not expired"
            time.sleep(0.2)
        with pytest.raises(KMEError) as gone:
            slave.get_key_with_ids("SAE-A", [keys[0].key_id])
    assert gone.value.status_code == 400
    entries = [json.loads(line) for line in (audited.plan.state_dir / "audit" / "KME-D.jsonl").read_text().splitlines()]
    assert any(entry["event"] == "expired" for entry in entries)


def test_the_audit_log_names_callers_and_key_ids_never_keys_and_detects_tampering(audited, tmp_path):
    with audited.client("SAE-A") as master, audited.client("SAE-D") as slave, audited.client("SAE-C") as other:
        keys = master.get_key("SAE-D", number=2)
        slave.get_key_with_ids("SAE-A", [key.key_id for key in keys])
        with pytest.raises(KMEError):
            other.get_key_with_ids("SAE-A", [keys[0].key_id])
    log_a = audited.plan.state_dir / "audit" / "KME-A.jsonl"
    log_d = audited.plan.state_dir / "audit" / "KME-D.jsonl"
    lines_a = [json.loads(line) for line in log_a.read_text().splitlines()]
    issued = [e for e in lines_a if e["event"] == "enc_keys" and e["first_key_ID"] == keys[0].key_id]
    assert issued and issued[0]["master"] == "SAE-A" and issued[0]["slaves"] == ["SAE-D"] and issued[0]["count"] == 2
    delivered = [json.loads(line) for line in log_d.read_text().splitlines() if '"dec_keys"' in line]
    assert delivered[-1]["key_IDs"] == [key.key_id for key in keys] and delivered[-1]["slave"] == "SAE-D"
    assert oct(log_a.stat().st_mode & 0o777) == "0o600"
    for path in (log_a, log_d, audited.plan.state_dir / "audit" / "KME-C.jsonl"):
        raw = path.read_bytes()
        for key in keys:
            assert key.key not in raw and base64.b64encode(key.key) not in raw and key.key.hex().encode() not in raw
    runner = CliRunner()
    intact = runner.invoke(app, ["kms", "audit", "verify", "--state", str(audited.plan.state_dir)])
    assert intact.exit_code == 0 and intact.output.count("intact") == 4
    # an altered entry, a removed entry: each is found at its line
    copy = tmp_path / "KME-A.jsonl"
    lines = log_a.read_text().splitlines(keepends=True)
    assert len(lines) >= 2
    copy.write_text("".join(lines).replace('"master":"SAE-A"', '"master":"SAE-X"', 1))
    altered = runner.invoke(app, ["kms", "audit", "verify", str(copy)])
    first = next(n for n, line in enumerate(lines, 1) if '"master":"SAE-A"' in line)
    assert altered.exit_code == 1 and f"TAMPERED at line {first}: hash mismatch" in altered.output
    copy.write_text("".join(lines[1:]))
    removed = verify_log(copy)
    assert removed.broken_line == 1 and "removed or reordered" in removed.reason
