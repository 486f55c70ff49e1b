"""``qit4n threat``: timeline, assess (JSON, CBOM, HTML), scan, catalog --diff, and bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import yaml
from typer.testing import CliRunner

from qit4n.cli import app
from qit4n.threat import catalog_to_dict, load_catalog

runner = CliRunner()

INVENTORY = {
    "name": "cli-test",
    "assets": [
        {
            "name": "vpn",
            "category": "vpn",
            "algorithms": [{"name": "x25519", "use": "key-exchange"}, {"name": "ecdsa-p256", "use": "signature"}],
            "secrecy_lifetime_years": 5,
            "migration_time_years": 2,
            "risk": "high",
        },
        {"name": "pqc", "algorithms": ["X25519MLKEM768", "ml-dsa-65"]},
    ],
}


def _write(tmp_path: Path, data: dict) -> Path:
    path = tmp_path / "inventory.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def test_timeline_json_and_plot(tmp_path):
    plot = tmp_path / "timeline.png"
    result = runner.invoke(app, ["threat", "timeline", "--json", "--from", "2023", "--to", "2034", "--plot", str(plot)])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    gri = next(s for s in payload["scenarios"] if s["id"] == "gri-2023")
    assert gri["probability_by_year"]["2028"] == 0.11 and gri["probability_by_year"]["2033"] == 0.31
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_assess_json_cbom_and_report(tmp_path):
    cbom, out = tmp_path / "bom.json", tmp_path / "report"
    args = [
        "threat",
        "assess",
        str(_write(tmp_path, INVENTORY)),
        "--json",
        "--year",
        "2026",
        "--policy",
        "nist-ir-8547",
        "--policy",
        "cnsa-2.0",
        "--cbom",
        str(cbom),
        "--out",
        str(out),
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    vpn, pqc = json.loads(result.output)["assets"]
    assert (vpn["vulnerable"], vpn["deadline"], vpn["recommendation"]) == (True, 2030, "pqc")
    assert abs(vpn["exposure_probability"] - 0.31) < 1e-12
    assert vpn["reasons"] and vpn["inputs"]["timeline"] == "gri-2023"
    assert (pqc["vulnerable"], pqc["exposure_probability"], pqc["deadline"], pqc["recommendation"]) == (
        False,
        0.0,
        None,
        "none",
    )
    assert json.loads(cbom.read_text())["specVersion"] == "1.6"
    html = (out / "index.html").read_text(encoding="utf-8")
    assert "Migration schedule" in html and "threat-timeline.png" in html
    assert (out / "threat-timeline.png").is_file() and (out / "threat-schedule.png").is_file()


def test_assess_table_lists_reasons(tmp_path):
    result = runner.invoke(
        app, ["threat", "assess", str(_write(tmp_path, INVENTORY)), "--year", "2026", "--timeline", "mosca-2015"]
    )
    assert result.exit_code == 0, result.output
    assert "x25519 (key-exchange) is broken by Shor's algorithm" in result.output


def test_scan_json_and_inventory_out(hybrid_server, tmp_path):
    inventory_out = tmp_path / "scanned.yaml"
    result = runner.invoke(
        app, ["threat", "scan", f"127.0.0.1:{hybrid_server.port}", "--json", "--inventory-out", str(inventory_out)]
    )
    assert result.exit_code == 0, result.output
    (scan,) = json.loads(result.stdout)
    assert scan["negotiated_group"] == "X25519MLKEM768"
    scanned = yaml.safe_load(inventory_out.read_text())
    # The server prefers X25519MLKEM768 but a legacy client still gets x25519: both are listed.
    assert [a["name"] for a in scanned["assets"][0]["algorithms"]] == [
        "X25519MLKEM768",
        "x25519",
        "ecdsa-p256",
        "ecdsa-p256",
        "aes-256",
    ]
    assert scan["verdict"] == "hybrid preferred, classical fallback accepted"
    assessed = runner.invoke(app, ["threat", "assess", str(inventory_out), "--json", "--year", "2026"])
    assert json.loads(assessed.output)["assets"][0]["hndl_probability"] > 0.0


def test_catalog_diff_against_an_older_export(tmp_path):
    old = catalog_to_dict(load_catalog())
    old["version"] = "2025.1"
    old["policies"] = [p for p in old["policies"] if p["id"] != "uk-ncsc"]
    old_path = tmp_path / "old.yaml"
    old_path.write_text(yaml.safe_dump(old), encoding="utf-8")
    result = runner.invoke(app, ["threat", "catalog", "--diff", str(old_path), "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert payload["old_version"] == "2025.1"
    assert payload["changes"] == [{"table": "policies", "id": "uk-ncsc", "change": "added", "fields": []}]
    export = tmp_path / "export.yaml"
    assert runner.invoke(app, ["threat", "catalog", "--export", str(export)]).exit_code == 0
    assert load_catalog(export) == load_catalog()


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "qit4n", *args], capture_output=True, text=True, timeout=120)


def test_bad_inventory_exits_2_naming_the_field(tmp_path):
    bad = _write(tmp_path, {"assets": [{"name": "a", "algorithms": ["x25519"], "secrecy_lifetime_years": -3}]})
    completed = _cli("threat", "assess", str(bad))
    assert completed.returncode == 2
    assert "assets[0].secrecy_lifetime_years = -3: must be in [0, 200] years" in completed.stderr
    assert "Traceback" not in completed.stderr


def test_unknown_algorithm_and_bad_target_exit_2(tmp_path):
    completed = _cli("threat", "assess", str(_write(tmp_path, {"assets": [{"name": "a", "algorithms": ["rc4"]}]})))
    assert completed.returncode == 2 and "assets[0].algorithms[0].name = 'rc4'" in completed.stderr
    completed = _cli("threat", "scan", "127.0.0.1")
    assert completed.returncode == 2 and "target = '127.0.0.1': must be HOST:PORT" in completed.stderr


def test_example_inventory_on_its_scenario():
    example = Path(__file__).resolve().parents[2] / "examples" / "inventory.yaml"
    result = runner.invoke(
        app,
        [
            "threat",
            "assess",
            str(example),
            "--json",
            "--year",
            "2026",
            "--policy",
            "nist-ir-8547",
            "--policy",
            "company-2030",
        ],
    )
    assert result.exit_code == 0, result.output
    by_name = {entry["name"]: entry for entry in json.loads(result.output)["assets"]}
    assert by_name["pqc-pilot"]["vulnerable"] is False
    assert by_name["public-web"]["recommendation"] == "hybrid"
    assert by_name["firmware-signing-root"]["recommendation"] == "pqc"
    assert by_name["hq-research-vpn"]["deadline"] == 2030  # company-2030: high-risk assets by 2030
    assert by_name["hq-research-vpn"]["recommendation"] == "qkd"  # 16.5 km SECOQC link, 10-year secrets
    # Trusted 15 years: F(2041) = 0.31 + 0.04 * 8 = 0.63 (gri-2023 rises at its last slope after 2033).
    assert abs(by_name["firmware-signing-root"]["forgery_probability"] - 0.63) < 1e-12
    paths = json.loads(result.output)["paths"]
    assert {p["demand"] for p in paths} == {
        "headquarters-to-stpoelten",
        "research-to-stpoelten",
        "headquarters-to-research",
    }


def test_catalog_table_and_folder_diff(tmp_path):
    from importlib import resources

    listing = runner.invoke(app, ["threat", "catalog"])
    assert listing.exit_code == 0 and "gidney-2025-rsa2048" in listing.output
    folder = tmp_path / "old"
    folder.mkdir()
    for name in ("catalog", "algorithms", "estimates", "timelines", "policies"):
        text = resources.files("qit4n.threat").joinpath("data", f"{name}.yaml").read_text(encoding="utf-8")
        (folder / f"{name}.yaml").write_text(text.replace("probability: 0.31,", "probability: 0.30,"), encoding="utf-8")
    result = runner.invoke(app, ["threat", "catalog", "--diff", str(folder)])
    assert result.exit_code == 0, result.output
    assert "1 change(s)" in result.output and "timelines/gri-2023 changed" in result.output


def test_scan_table(python_ssl_server):
    result = runner.invoke(app, ["threat", "scan", f"127.0.0.1:{python_ssl_server.port}"])
    assert result.exit_code == 0, result.output
    assert "ECDHE-RSA-AES128-GCM-SHA256" in result.output and "secp256r1" in result.output


def test_timeline_with_reversed_years_is_a_parameter_error():
    from qit4n.errors import ParameterError

    result = runner.invoke(app, ["threat", "timeline", "--from", "2040", "--to", "2030"])
    assert isinstance(result.exception, ParameterError)
    assert "--to = 2030: must be >= --from = 2040" in str(result.exception)
