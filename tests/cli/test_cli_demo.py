"""``qit4n demo`` runs the main job on the default scenario and writes the HTML report."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from qit4n.cli import app


def test_demo_writes_a_report_with_the_link_table_and_figures(cli_runner: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "report"
    result = cli_runner.invoke(app, ["demo", "--out", str(out)])
    assert result.exit_code == 0, result.output
    page = (out / "index.html").read_text()
    assert "BREI-STP" in page and "key-rate-vs-distance.png" in page
    for image in out.glob("*.png"):
        assert image.read_bytes()[:4] == b"\x89PNG"
    assert "report written to" in result.stdout
