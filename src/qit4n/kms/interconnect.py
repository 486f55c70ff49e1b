"""Inter-domain settings of a KME and the bilateral policy its gateway enforces (issue 13 item 7).

Two QKD networks (domains), each with its own CA and controller, join through one gateway node
each, over one inter-domain QKD link. Every KME of a joined domain knows the peer domain's SAEs only
as "reachable via our gateway" (:class:`InterdomainConfig`: the directory maps them to the local
gateway's KME); the gateway alone holds the link, the peer gateway's address and CA, and the policy
(:class:`GatewaySettings`). The policy is a list of rules (:class:`PolicyRule`): a master SAE
pattern, a slave SAE pattern and a key budget in bits per hour. A pair no rule matches is refused;
a pair whose rule has spent its budget over the last hour is refused until older transfers age out
(:class:`BudgetLedger`, kept in a file so that a restart does not reset it).

References
----------
ITU-T Y.3810, Quantum key distribution network interworking - Framework (text not read; see
docs/network.md, "Standards followed").
ETSI GS QKD 020, Interoperable key management system API (draft OpenAPI 0.5.1 on forge.etsi.org).
"""

from __future__ import annotations

import collections
import fnmatch
import json
import os
import time
from pathlib import Path

from pydantic import Field

from qit4n.kms.errors import EtsiError
from qit4n.schema import StrictModel

__all__ = ["BUDGET_WINDOW_S", "BudgetLedger", "GatewaySettings", "InterdomainConfig", "PolicyRule", "match_rule"]

#: The policy's budgets are per hour, over a sliding window.
BUDGET_WINDOW_S = 3600.0


class PolicyRule(StrictModel):
    """Which master SAEs may get keys shared with which slave SAEs of the other domain, and how much."""

    master: str = Field(min_length=1, max_length=128, description="master SAE ID or shell pattern (SAE-A*)")
    slave: str = Field(min_length=1, max_length=128, description="slave SAE ID or shell pattern")
    max_bits_per_hour: float = Field(ge=0.0, le=1e15, description="key bits this rule lets through per hour")


class GatewaySettings(StrictModel):
    """What the gateway KME of a domain needs for the inter-domain link (the other KMEs have none)."""

    link_id: str = Field(min_length=1, description="the inter-domain QKD link (one of the KME's links)")
    peer_kme_id: str = Field(min_length=1, description="the peer domain's gateway KME (client certificate name)")
    peer_url: str = Field(pattern=r"^https://", description="base URL of the peer gateway's inter-domain interface")
    listen_host: str = Field(min_length=1, description="address of this gateway's inter-domain interface")
    listen_port: int = Field(ge=1, le=65535)
    peer_ca: Path = Field(description="the peer domain's CA certificate: trusted for the peer gateway only")
    rules: list[PolicyRule] = Field(default_factory=list, description="the bilateral policy, both directions")
    ledger_file: Path = Field(description="transfers of the last hour, per rule (JSON lines)")


class InterdomainConfig(StrictModel):
    """A KME's view of the interconnection of its domain with one peer domain."""

    agreement: str = Field(min_length=1, description="the bilateral agreement's ID")
    domain: str = Field(min_length=1, description="this domain's name in the agreement")
    peer_domain: str = Field(min_length=1)
    gateway_kme_id: str = Field(min_length=1, description="this domain's gateway KME")
    remote_sae_ids: list[str] = Field(default_factory=list, description="the peer domain's SAEs (via our gateway)")
    gateway: GatewaySettings | None = Field(None, description="set at the gateway KME only")


def match_rule(rules: list[PolicyRule], master: str, slave: str) -> int | None:
    """Index of the first rule that lets ``master`` get keys shared with ``slave``, or None.

    >>> rules = [PolicyRule(master="SAE-A*", slave="SAE-B1", max_bits_per_hour=1e6)]
    >>> match_rule(rules, "SAE-A2", "SAE-B1"), match_rule(rules, "SAE-B1", "SAE-A2")
    (0, None)
    """
    for index, rule in enumerate(rules):
        if fnmatch.fnmatchcase(master, rule.master) and fnmatch.fnmatchcase(slave, rule.slave):
            return index
    return None


class BudgetLedger:
    """Key bits each rule let through in the last :data:`BUDGET_WINDOW_S`, kept in a JSON-lines file.

    >>> import tempfile
    >>> ledger = BudgetLedger(Path(tempfile.mkdtemp()) / "ledger.jsonl")
    >>> ledger.charge(0, 256, now_s=100.0); ledger.used_bits(0, now_s=100.0 + BUDGET_WINDOW_S - 1)
    256.0
    >>> ledger.used_bits(0, now_s=100.0 + BUDGET_WINDOW_S)
    0.0
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._entries: dict[int, collections.deque[tuple[float, float]]] = collections.defaultdict(collections.deque)
        if path.exists():  # keep the last hour's entries only, here and in the file
            horizon = time.time() - BUDGET_WINDOW_S
            kept = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
            kept = [item for item in kept if item["time_s"] > horizon]
            for item in kept:
                self._entries[int(item["rule"])].append((float(item["time_s"]), float(item["bits"])))
            temporary = path.with_name(path.name + ".tmp")
            temporary.write_text("".join(json.dumps(item) + "\n" for item in kept))
            os.chmod(temporary, 0o600)
            os.replace(temporary, path)

    def used_bits(self, rule: int, *, now_s: float | None = None) -> float:
        """Bits charged to ``rule`` in the window ending ``now_s`` (default: now)."""
        now_s = time.time() if now_s is None else now_s
        entries = self._entries[rule]
        while entries and entries[0][0] <= now_s - BUDGET_WINDOW_S:
            entries.popleft()
        return max(0.0, float(sum(bits for _, bits in entries)))

    def check(self, rule: int, budget_bits: float, bits: float, *, pair: str) -> None:
        """503 naming the pair and the budget when ``bits`` more would exceed ``budget_bits`` this hour."""
        used = self.used_bits(rule)
        if used + bits > budget_bits:
            raise EtsiError(
                503,
                f"inter-domain key budget of {pair} spent: {used:.0f} of {budget_bits:.0f} bits this hour, "
                f"{bits:.0f} more asked; retry later",
                [{"max_bits_per_hour": budget_bits, "used_bits": used}],
            )

    def charge(self, rule: int, bits: float, *, now_s: float | None = None) -> None:
        """Record ``bits`` let through by ``rule`` (negative: a refund), appended to the file (mode 0600)."""
        now_s = time.time() if now_s is None else now_s
        self._entries[rule].append((now_s, float(bits)))
        descriptor = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        with os.fdopen(descriptor, "a") as handle:
            handle.write(json.dumps({"time_s": now_s, "rule": rule, "bits": bits}) + "\n")
