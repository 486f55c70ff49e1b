"""Scanning at scale: target specs, targets files with reachable and unreachable hosts, rate limit,
resumable runs, CSV and SARIF findings; against real servers on 127.0.0.1."""

from __future__ import annotations

import csv
import io
import json
import socket
import time

import pytest
from typer.testing import CliRunner

from qit4n.cli import app
from qit4n.errors import ParameterError
from qit4n.threat.targets import expand_target, scan_targets

runner = CliRunner()


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_expand_cidr_and_port_ranges():
    assert len(expand_target("127.0.0.0/30:8000-8002,9000")) == 4 * 4
    assert expand_target("localhost:22") == [("localhost", 22)]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("127.0.0.1", "must be HOST:PORTS"),
        ("127.0.0.1:0", "0 < first <= last < 65536"),
        ("127.0.0.1:9-3", "0 < first <= last < 65536"),
        ("127.0.0.1:http", "ports must be"),
        ("127.0.0.300/30:22", "127.0.0.300/30"),
        ("10.0.0.0/8:1-2", "at most"),
    ],
)
def test_bad_specs_name_the_target(spec, message):
    with pytest.raises(ParameterError, match=message):
        expand_target(spec)


def test_rate_limit_spaces_the_starts():
    starts: list[float] = []

    def scanner(host: str, port: int) -> None:
        starts.append(time.monotonic())

    scan_targets([("h", port) for port in range(1, 6)], scanner, workers=5, rate_per_s=20.0)
    starts.sort()
    # 5 starts at 20 per second: the last starts at least 4 / 20 = 0.2 s after the first.
    assert starts[-1] - starts[0] >= 0.2 - 0.01


def test_targets_file_with_reachable_and_unreachable_hosts(openssl_server, tmp_path):
    server = openssl_server("-tls1_2", "-cipher", "AES128-GCM-SHA256")
    closed = _closed_port()
    targets = tmp_path / "targets.txt"
    targets.write_text(f"# estate\n127.0.0.1:{server.port}\n127.0.0.1:{closed}  # decommissioned\n\n", encoding="utf-8")
    results = tmp_path / "results.jsonl"
    csv_path, sarif_path = tmp_path / "findings.csv", tmp_path / "findings.sarif"
    arguments = ["threat", "scan", "--targets-file", str(targets), "--timeout", "2", "--workers", "2"]
    outcome = runner.invoke(
        app, [*arguments, "--results", str(results), "--csv", str(csv_path), "--sarif", str(sarif_path), "--json"]
    )
    assert outcome.exit_code == 0, outcome.output
    reachable, unreachable = json.loads(outcome.stdout)
    assert (reachable["target"], reachable["error"], reachable["verdict"]) == (
        f"127.0.0.1:{server.port}",
        None,
        "classical key exchange only",
    )
    assert unreachable["target"] == f"127.0.0.1:{closed}" and "cannot connect" in unreachable["error"]
    assert "threat catalog" in outcome.stderr
    assert len(results.read_text().splitlines()) == 2
    rows = list(csv.DictReader(io.StringIO(csv_path.read_text())))
    rules = {(row["target"], row["rule"], row["algorithm"]) for row in rows}
    assert (f"127.0.0.1:{server.port}", "harvestable-key-exchange", "rsa-2048") in rules
    assert (f"127.0.0.1:{closed}", "scan-error", "") in rules
    sarif = json.loads(sarif_path.read_text())
    (run,) = sarif["runs"]
    assert sarif["version"] == "2.1.0"
    rule_ids = [rule["id"] for rule in run["tool"]["driver"]["rules"]]
    assert len(run["results"]) == len(rows)
    for result in run["results"]:
        assert rule_ids[result["ruleIndex"]] == result["ruleId"]
        assert result["level"] in ("error", "warning", "note") and result["message"]["text"]
    # Resumed: only the target without a line in the results file would be scanned again; both have one.
    again = runner.invoke(app, [*arguments, "--results", str(results), "--resume", "--json"])
    assert again.exit_code == 0 and json.loads(again.stdout) == []


def test_ssh_scan_from_the_cli(sshd):
    from cryptography.hazmat.primitives.asymmetric import ed25519

    server = sshd("curve25519-sha256", {"ed": ed25519.Ed25519PrivateKey.generate()})
    outcome = runner.invoke(app, ["threat", "scan", "--protocol", "ssh", f"127.0.0.1:{server.port}", "--json"])
    assert outcome.exit_code == 0, outcome.output
    (entry,) = json.loads(outcome.stdout)
    assert entry["kex_algorithms"] == ["curve25519-sha256"] and entry["verdict"] == "classical key exchange only"


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--workers", "0", "127.0.0.1:1"], "--workers = 0"),
        (["--rate", "0", "127.0.0.1:1"], "--rate = 0"),
        (["--protocol", "ftp", "127.0.0.1:1"], "--protocol = 'ftp'"),
        (["--resume", "127.0.0.1:1"], "--resume: needs --results"),
        ([], "targets: give"),
    ],
)
def test_bad_scan_options_name_the_option(arguments, message):
    # The entry point turns a ParameterError into one line and exit status 2 (see test_threat_cli).
    outcome = runner.invoke(app, ["threat", "scan", *arguments])
    assert isinstance(outcome.exception, ParameterError)
    assert message in str(outcome.exception)


def test_same_key_on_two_endpoints_is_reported(openssl_server, pki, tmp_path):
    from cryptography.hazmat.primitives import serialization

    first = openssl_server("-tls1_2", "-cipher", "ECDHE-RSA-AES128-GCM-SHA256")
    second = openssl_server("-tls1_3")
    csv_path = tmp_path / "findings.csv"
    targets = [f"127.0.0.1:{first.port}", f"127.0.0.1:{second.port}"]
    outcome = runner.invoke(app, ["threat", "scan", *targets, "--json", "--csv", str(csv_path)])
    assert outcome.exit_code == 0, outcome.output
    der = pki["rsa"].certificate.public_bytes(serialization.Encoding.DER)
    assert [scan["chain_bytes"] for scan in json.loads(outcome.stdout)] == [len(der), len(der)]
    reused = [
        row for row in csv.DictReader(io.StringIO(csv_path.read_text())) if row["rule"] == "key-reused-across-hosts"
    ]
    assert sorted(row["target"] for row in reused) == sorted(targets)


def test_scan_diff_and_cbom_of_a_reconfigured_host(openssl_server, hybrid_tls12_fallback_server, tmp_path):
    """A host moves from TLS 1.2 RSA transport to hybrid ML-KEM with a TLS 1.2 ECDHE fallback: the
    two scans are real; the second record is renamed to the first target, as if the same host changed."""
    legacy = openssl_server("-tls1_2", "-cipher", "AES128-GCM-SHA256")
    before, after, cbom = tmp_path / "before.jsonl", tmp_path / "after.json", tmp_path / "scan.cdx.json"
    first = runner.invoke(app, ["threat", "scan", f"127.0.0.1:{legacy.port}", "--results", str(before)])
    assert first.exit_code == 0, first.output
    second = runner.invoke(
        app, ["threat", "scan", f"127.0.0.1:{hybrid_tls12_fallback_server.port}", "--json", "--cbom", str(cbom)]
    )
    assert second.exit_code == 0, second.output
    (record,) = json.loads(second.stdout)
    record["target"] = f"127.0.0.1:{legacy.port}"
    after.write_text(json.dumps([record]), encoding="utf-8")
    diff = runner.invoke(app, ["threat", "scan-diff", str(before), str(after), "--json"])
    assert diff.exit_code == 0, diff.output
    changes = {change["field"]: change for change in json.loads(diff.stdout)}
    assert set(changes) == {
        "verdict",
        "accepted_versions",
        "key_exchanges",
        "cipher_suites",
        "leaf_key_sha256",
        "trust",
    }
    # Neither test chain validates to the system trust store; the reasons differ (self-signed, unknown issuer).
    assert changes["trust"]["old"].startswith("not trusted: self-signed certificate (depth 0)")
    assert changes["trust"]["new"].startswith("not trusted: unable to get local issuer certificate (depth 1)")
    assert changes["verdict"]["old"] == "classical key exchange only"
    assert changes["verdict"]["new"] == "hybrid preferred, classical fallback accepted"
    assert "TLSv1.3 X25519MLKEM768" in changes["key_exchanges"]["new"]
    # The CBOM of the second scan validates (cbom_json checks the CycloneDX 1.6 schema) and reads back.
    from qit4n.threat import inventory_from_file

    (asset,) = inventory_from_file(cbom).assets
    assert {"x25519mlkem768", "ecdh-p256", "ecdsa-p256"} <= {use.name for use in asset.algorithms}
