"""Scan findings as rows (CSV) and as a SARIF 2.1.0 log, one finding per algorithm use and per failed target.

Rules:

* ``harvestable-key-exchange`` (error): the endpoint accepts a key exchange Shor's algorithm breaks,
  so recorded sessions can be decrypted later (harvest now, decrypt later);
* ``quantum-vulnerable-signature`` (warning): a certificate or host key signs with such a scheme;
* ``classically-weak`` (error): already unsafe today (RSA-1024, SHA-1, DH-1024);
* ``untrusted-certificate`` (error): the chain does not validate to the trust store, or not for the
  name asked for (expired, unknown root, wrong host);
* ``key-reused-across-hosts`` (warning): one certificate key on several endpoints (one key to
  migrate, and one key whose compromise exposes all of them);
* ``scan-error`` (note): the target could not be scanned.

References
----------
OASIS Static Analysis Results Interchange Format (SARIF) Version 2.1.0 (2020), Sections 3.13
(sarifLog), 3.14 (run), 3.19 (toolComponent), 3.27 (result), 3.28 (location).
"""

from __future__ import annotations

import csv
import io
from dataclasses import asdict, dataclass
from typing import Any

from qit4n.threat.catalog import Catalog
from qit4n.threat.targets import TargetResult

__all__ = ["RULES", "ScanFinding", "findings_csv", "findings_sarif", "scan_findings"]

#: Rule id -> (SARIF level, short description).
RULES = {
    "harvestable-key-exchange": ("error", "Key exchange broken by Shor's algorithm (harvest now, decrypt later)"),
    "quantum-vulnerable-signature": (
        "warning",
        "Signature scheme broken by Shor's algorithm (forgery once a CRQC exists)",
    ),
    "classically-weak": ("error", "Algorithm already unsafe against classical attacks"),
    "untrusted-certificate": ("error", "Certificate chain does not validate to the trust store for the server name"),
    "key-reused-across-hosts": ("warning", "The same certificate key is presented by several endpoints"),
    "scan-error": ("note", "Target could not be scanned"),
}


@dataclass(frozen=True)
class ScanFinding:
    """One finding on one target."""

    target: str
    protocol: str
    rule: str
    level: str
    algorithm: str
    use: str
    message: str


def _finding(target: str, protocol: str, rule: str, algorithm: str, use: str, message: str) -> ScanFinding:
    return ScanFinding(target, protocol, rule, RULES[rule][0], algorithm, use, message)


def scan_findings(results: list[TargetResult], catalog: Catalog, protocol: str = "tls") -> list[ScanFinding]:
    """The findings of every target, in target order."""
    findings = []
    for result in results:
        if result.scan is None:
            findings.append(_finding(result.target, protocol, "scan-error", "", "", result.error or "no result"))
            continue
        trust = getattr(result.scan, "trust", None)
        if trust is not None and not trust.valid:
            findings.append(_finding(result.target, protocol, "untrusted-certificate", "", "signature", trust.verdict))
        for probe in getattr(result.scan, "raw_probes", ()):
            if probe.offer == "SSLv3" and probe.accepted:
                message = "SSL 3.0 accepted; RFC 7568 prohibits it (POODLE, CVE-2014-3566)"
                findings.append(_finding(result.target, protocol, "classically-weak", "sslv3", "protocol", message))
        asset = result.scan.to_asset()
        for use in asset.algorithms:
            algorithm = catalog.find_algorithm(use.name)
            if algorithm is None:
                continue
            what = f"{algorithm.id} ({use.use}): {use.detail}"
            if algorithm.classical_weakness:
                message = f"{what}; {algorithm.classical_weakness}"
                findings.append(
                    _finding(result.target, protocol, "classically-weak", algorithm.id, use.use or "", message)
                )
            if algorithm.quantum_vulnerable and use.use in ("key-exchange", "encryption"):
                findings.append(
                    _finding(result.target, protocol, "harvestable-key-exchange", algorithm.id, use.use or "", what)
                )
            elif algorithm.quantum_vulnerable and use.use == "signature":
                findings.append(
                    _finding(result.target, protocol, "quantum-vulnerable-signature", algorithm.id, "signature", what)
                )
    findings.extend(_reused_keys(results, protocol))
    return findings


def _reused_keys(results: list[TargetResult], protocol: str) -> list[ScanFinding]:
    targets_by_key: dict[str, list[str]] = {}
    for result in results:
        for certificate in getattr(result.scan, "certificates", ())[:1]:
            targets_by_key.setdefault(certificate.public_key_sha256, []).append(result.target)
    findings = []
    for fingerprint, targets in targets_by_key.items():
        if len(targets) > 1:
            for target in targets:
                message = (
                    f"leaf key sha256:{fingerprint[:16]}... also on {', '.join(t for t in targets if t != target)}"
                )
                findings.append(_finding(target, protocol, "key-reused-across-hosts", "", "signature", message))
    return findings


def findings_csv(findings: list[ScanFinding]) -> str:
    """CSV text with a header row: target, protocol, rule, level, algorithm, use, message."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(ScanFinding.__dataclass_fields__), lineterminator="\n")
    writer.writeheader()
    for finding in findings:
        writer.writerow(asdict(finding))
    return buffer.getvalue()


def findings_sarif(findings: list[ScanFinding], catalog: Catalog, tool_version: str) -> dict[str, Any]:
    """A SARIF 2.1.0 log with one run; each result is located at ``PROTOCOL://TARGET``."""
    rule_ids = list(RULES)
    return {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "qit4n threat scan",
                        "version": tool_version,
                        "properties": {"catalogVersion": catalog.version},
                        "rules": [
                            {
                                "id": rule,
                                "shortDescription": {"text": RULES[rule][1]},
                                "defaultConfiguration": {"level": RULES[rule][0]},
                            }
                            for rule in rule_ids
                        ],
                    }
                },
                "results": [
                    {
                        "ruleId": finding.rule,
                        "ruleIndex": rule_ids.index(finding.rule),
                        "level": finding.level,
                        "message": {"text": finding.message},
                        "locations": [
                            {
                                "physicalLocation": {
                                    "artifactLocation": {"uri": f"{finding.protocol}://{finding.target}"}
                                }
                            }
                        ],
                        "properties": {"algorithm": finding.algorithm, "use": finding.use},
                    }
                    for finding in findings
                ],
            }
        ],
    }
