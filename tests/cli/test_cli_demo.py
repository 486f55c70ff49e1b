"""``qit4n demo`` writes a complete HTML report for every built-in scenario, atomically."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from qit4n.cli import app
from qit4n.report import REPORT_SECTIONS, Section
from qit4n.scenario import builtin_names


def test_demo_writes_a_report_with_the_link_table_and_figures(cli_runner: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "report"
    result = cli_runner.invoke(app, ["demo", "--out", str(out)])
    assert result.exit_code == 0, result.output
    page = (out / "index.html").read_text()
    assert "BREI-STP" in page and "key-rate-vs-distance.png" in page
    # the QKD network section: faults came and went, SAEs kept getting keys, nothing lost or served twice
    ledger = re.search(
        r"Ledger: (\d+) keys requested, (\d+) delivered to both SAEs, (\d+) refused with ETSI 503, "
        r"(\d+) lost, (\d+) duplicated",
        page,
    )
    assert ledger is not None and "qkdn_fault_timeline.png" in page
    requested, delivered, refused, lost, duplicated = map(int, ledger.groups())
    assert lost == 0 and duplicated == 0 and delivered > 0 and refused > 0 and requested >= delivered + refused
    assert "no key route to slave_SAE_ID" in page and "network fault cut SIE-FOR" in page
    for image in out.glob("*.png"):
        assert image.read_bytes()[:4] == b"\x89PNG"
    assert "report written to" in result.stdout
    assert [path.name for path in tmp_path.iterdir()] == ["report"]


@pytest.mark.parametrize("name", [name for name in builtin_names() if name != "secoqc-vienna-2008"])
def test_demo_writes_a_complete_report_for_each_builtin_scenario(
    cli_runner: CliRunner, tmp_path: Path, name: str
) -> None:
    out = tmp_path / "report"
    result = cli_runner.invoke(app, ["demo", "--scenario", name, "--out", str(out)])
    assert result.exit_code == 0, result.output
    page = (out / "index.html").read_text()
    assert f"qit4n demo: {name}" in page
    assert page.count("<section ") == len(REPORT_SECTIONS.names()) + 1  # + the references
    assert "<h2>References</h2>" in page and "<h2>Provenance</h2>" in page and "https://doi.org/" in page
    for image in out.glob("*.png"):
        assert image.read_bytes()[:4] == b"\x89PNG"
        assert image.name in page
    assert [path.name for path in tmp_path.iterdir()] == ["report"]


def test_a_section_that_does_not_apply_says_why_in_the_page(cli_runner: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "report"
    result = cli_runner.invoke(app, ["demo", "--scenario", "micius-xinglong", "--out", str(out), "--section", "qin"])
    assert result.exit_code == 0, result.output
    assert "not applicable to this scenario" in result.output
    assert "Not built: micius-xinglong" in (out / "index.html").read_text()


def _failing(scenario: object, out_dir: Path) -> Section:
    (out_dir / "half.png").write_bytes(b"half")
    raise RuntimeError("a bug in a section")


def test_a_failing_demo_leaves_the_previous_report_and_no_partial_folder(cli_runner: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "report"
    out.mkdir()
    (out / "index.html").write_text("previous")
    REPORT_SECTIONS.register("failing", _failing)
    try:
        result = cli_runner.invoke(app, ["demo", "--out", str(out), "--section", "failing"])
    finally:
        REPORT_SECTIONS.unregister("failing")
    assert isinstance(result.exception, RuntimeError)
    assert (out / "index.html").read_text() == "previous"
    assert [path.name for path in tmp_path.iterdir()] == ["report"]


def test_demo_refuses_to_replace_a_folder_that_is_not_a_report(cli_runner: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    result = cli_runner.invoke(app, ["demo", "--out", str(tmp_path), "--section", "links"])
    assert result.exit_code != 0
    assert "not a qit4n report" in str(result.exception)
    assert (tmp_path / "notes.txt").read_text() == "mine"
