"""Append-only, hash-chained audit log of a KME: who asked for which key_ID when, never key material.

One JSON object per line (mode 0600, opened for appending only). Each entry holds ``seq`` (0, 1,
2, ...), ``time_s`` (epoch seconds), ``kme``, ``event`` and its fields, ``prev`` (the previous
entry's hash; 64 zeros for the first) and ``hash`` = SHA-256 over ``prev`` and the entry's
canonical JSON without ``hash``. Changing, inserting, reordering or deleting an entry breaks the
chain at that line (:func:`verify_log`); removing entries from the end is detected only against an
independent copy of the last hash (e.g. the ``audit_head`` a KME reports on its health endpoint).

Events: ``enc_keys`` (master, slaves, first key_ID and count: the batch's key_IDs are that ID
with the index in its low 16 bits), ``dec_keys`` (slave, master, key_IDs), ``expired`` (count), and
the refused or mismatched Kx messages (:mod:`qit4n.kms.kx`): ``relay_refused``, ``confirm_refused``,
``void_refused`` (sender, key_relay_ID, reason), ``supply_refused``, ``supply_resync`` and
``supply_mismatch`` (peer or sender, link_ID, reason); in a domain joined to another
(:mod:`qit4n.kms.gateway`), ``enc_keys_refused`` and, at the gateway, ``interdomain`` (one policy
decision: stage, master, slave, bits, allowed or refused and why).
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qit4n.errors import ServiceError

__all__ = ["AuditLog", "AuditVerdict", "verify_log"]

_GENESIS = "0" * 64


def _digest(prev: str, entry: dict[str, Any]) -> str:
    canonical = json.dumps(entry, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256((prev + canonical).encode()).hexdigest()


@dataclass(frozen=True)
class AuditVerdict:
    """Outcome of :func:`verify_log`: entries checked, and the first broken line (1-based) and why."""

    entries: int
    head: str
    broken_line: int | None = None
    reason: str = ""

    @property
    def intact(self) -> bool:
        """Whether the whole chain checks."""
        return self.broken_line is None


def verify_log(path: Path) -> AuditVerdict:
    """Check every entry's hash and link to its predecessor."""
    prev, seq = _GENESIS, 0
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            try:
                entry = json.loads(line)
                claimed = entry.pop("hash")
            except (json.JSONDecodeError, KeyError, AttributeError, TypeError):
                return AuditVerdict(seq, prev, number, "not an audit entry")
            if entry.get("prev") != prev:
                return AuditVerdict(seq, prev, number, "does not follow the previous entry (removed or reordered)")
            if entry.get("seq") != seq:
                return AuditVerdict(seq, prev, number, f"seq {entry.get('seq')!r}, expected {seq}")
            if _digest(prev, entry) != claimed:
                return AuditVerdict(seq, prev, number, "hash mismatch (entry altered)")
            prev, seq = claimed, seq + 1
    return AuditVerdict(seq, prev)


class AuditLog:
    """The audit log of one KME (``path`` is created 0600 if missing; an existing chain is continued).

    Each entry is appended with one ``write`` on a descriptor opened for it, so no file handle
    outlives a call."""

    def __init__(self, path: Path, kme_id: str) -> None:
        self.path = path
        self.kme_id = kme_id
        if path.exists():
            verdict = verify_log(path)
            if not verdict.intact:
                raise ServiceError(
                    f"{path}: audit log broken at line {verdict.broken_line} ({verdict.reason}); "
                    "keep it as evidence and start a new one"
                )
            self.seq, self.head = verdict.entries, verdict.head
        else:
            self.seq, self.head = 0, _GENESIS
        os.close(os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600))

    def record(self, event: str, **fields: Any) -> None:
        """Append one entry (``fields``: SAE IDs, key_IDs, counts; never key material)."""
        entry = {"seq": self.seq, "time_s": round(time.time(), 6), "kme": self.kme_id, "event": event, **fields}
        entry["prev"] = self.head
        entry["hash"] = self.head = _digest(self.head, entry)
        line = (json.dumps(entry, sort_keys=True, separators=(",", ":")) + "\n").encode()
        descriptor = os.open(self.path, os.O_WRONLY | os.O_APPEND)  # one write per entry, no handle kept open
        try:
            os.write(descriptor, line)
        finally:
            os.close(descriptor)
        self.seq += 1
