"""The bilateral policy's rules and hourly budget ledger (issue 13 item 7; qit4n.kms.interconnect)."""

from __future__ import annotations

import json
import stat
import time
from pathlib import Path

import pytest

from qit4n.kms.errors import EtsiError
from qit4n.kms.interconnect import BUDGET_WINDOW_S, BudgetLedger, PolicyRule, match_rule


def test_first_matching_rule_applies() -> None:
    rules = [
        PolicyRule(master="SAE-A1", slave="SAE-B1", max_bits_per_hour=100),
        PolicyRule(master="SAE-A*", slave="SAE-B?", max_bits_per_hour=1e6),
    ]
    assert match_rule(rules, "SAE-A1", "SAE-B1") == 0
    assert match_rule(rules, "SAE-A2", "SAE-B1") == 1
    assert match_rule(rules, "SAE-A2", "SAE-B10") is None
    assert match_rule(rules, "sae-a2", "SAE-B1") is None  # case matters, like SAE IDs


def test_budget_survives_a_restart_and_old_entries_age_out(tmp_path: Path) -> None:
    path = tmp_path / "ledger.jsonl"
    ledger = BudgetLedger(path)
    now = time.time()
    ledger.charge(0, 512, now_s=now - BUDGET_WINDOW_S - 10)  # older than an hour
    ledger.charge(0, 256, now_s=now - 60)
    ledger.charge(1, 1024, now_s=now - 1)
    ledger.charge(1, -1024, now_s=now)  # a refund
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again = BudgetLedger(path)  # a restarted gateway
    assert again.used_bits(0) == 256 and again.used_bits(1) == 0
    assert len(path.read_text().splitlines()) == 3  # the expired entry is dropped from the file too
    again.check(0, 512, 256, pair="SAE-A1 -> SAE-B1")
    with pytest.raises(EtsiError) as spent:
        again.check(0, 512, 257, pair="SAE-A1 -> SAE-B1")
    assert spent.value.status_code == 503
    assert "SAE-A1 -> SAE-B1 spent: 256 of 512 bits this hour, 257 more asked" in spent.value.message
    assert all(set(json.loads(line)) == {"time_s", "rule", "bits"} for line in path.read_text().splitlines())
