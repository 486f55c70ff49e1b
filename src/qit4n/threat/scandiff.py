"""What changed between two scans: targets added or removed, verdicts, key exchanges, versions, keys.

A scan file is what ``qit4n threat scan`` writes: the ``--json`` list or the ``--results`` JSON
lines (the last line of a target wins, as a resumed run appends).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qit4n.errors import InputError

__all__ = ["ScanChange", "diff_scans", "load_scan_records"]


@dataclass(frozen=True)
class ScanChange:
    """One change of one target; ``old``/``new`` are ``None`` where the field did not exist."""

    target: str
    field: str
    old: Any
    new: Any

    def describe(self) -> str:
        """E.g. ``127.0.0.1:443 verdict: 'classical key exchange only' -> 'hybrid preferred, ...'``."""
        return f"{self.target} {self.field}: {self.old!r} -> {self.new!r}"


def load_scan_records(path: str | Path) -> dict[str, dict[str, Any]]:
    """``{target: record}`` from a ``--json`` list or ``--results`` JSON lines."""
    file = Path(path)
    if not file.is_file():
        raise InputError(f"{file}: no such scan file")
    text = file.read_text(encoding="utf-8")
    try:
        document = json.loads(text)
        records = document if isinstance(document, list) else [document]
    except json.JSONDecodeError:
        try:
            records = [json.loads(line) for line in text.splitlines() if line.strip()]
        except json.JSONDecodeError as error:
            raise InputError(f"{file}: neither a JSON list nor JSON lines ({error})") from None
    by_target = {}
    for index, record in enumerate(records):
        if not isinstance(record, dict) or not isinstance(record.get("target"), str):
            raise InputError(f"{file}: record {index} has no 'target'")
        by_target[record["target"]] = record
    return by_target


def _key_exchanges(record: dict[str, Any]) -> list[str]:
    if "kex_algorithms" in record:
        return sorted(record["kex_algorithms"])
    names = set()
    for exchange in record.get("key_exchanges") or []:
        group = exchange.get("group") or (
            f"DHE-{exchange['dh_bits']}" if exchange.get("method") == "dhe" else exchange.get("method")
        )
        names.add(f"{exchange.get('version')} {group}")
    return sorted(names)


def _leaf_key(record: dict[str, Any]) -> str | None:
    certificates = record.get("certificates") or []
    return certificates[0].get("public_key_sha256") if certificates else None


_FIELDS = {
    "error": lambda record: record.get("error"),
    "verdict": lambda record: record.get("verdict"),
    "accepted_versions": lambda record: record.get("accepted_versions"),
    "key_exchanges": _key_exchanges,
    "cipher_suites": lambda record: record.get("cipher_suites"),
    "leaf_key_sha256": _leaf_key,
    "trust": lambda record: (record.get("trust") or {}).get("verdict"),
}


def diff_scans(old: dict[str, dict[str, Any]], new: dict[str, dict[str, Any]]) -> list[ScanChange]:
    """Changes from ``old`` to ``new``, target by target (sorted), field by field."""
    changes = []
    for target in sorted(old.keys() | new.keys()):
        if target not in new:
            changes.append(ScanChange(target, "target", "scanned", None))
            continue
        if target not in old:
            changes.append(ScanChange(target, "target", None, "scanned"))
            continue
        for field, read in _FIELDS.items():
            before, after = read(old[target]), read(new[target])
            if before != after:
                changes.append(ScanChange(target, field, before, after))
    return changes
