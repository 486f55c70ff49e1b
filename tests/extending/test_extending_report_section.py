"""The report-section recipe of docs/extending.md: a toy section registered through the public registry."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from qit4n.cli import app
from qit4n.errors import ParameterError
from qit4n.report import REPORT_SECTIONS, Section, Table
from qit4n.scenario import Scenario


def toy_section(scenario: Scenario, out_dir: Path) -> Section:
    """A section that only counts the scenario's nodes."""
    return Section(
        "Toy census",
        paragraphs=[f"{scenario.name} has {len(scenario.nodes)} nodes."],
        tables=[Table(["nodes"], [[len(scenario.nodes)]], caption="toy census table")],
    )


@pytest.fixture
def toy_registered() -> Iterator[str]:
    REPORT_SECTIONS.register("toy-census", toy_section)
    yield "toy-census"
    REPORT_SECTIONS.unregister("toy-census")


def test_a_registered_section_appears_in_the_demo_report(
    toy_registered: str, cli_runner: CliRunner, tmp_path: Path
) -> None:
    result = cli_runner.invoke(app, ["demo", "--out", str(tmp_path), "--section", toy_registered])
    assert result.exit_code == 0, result.output
    page = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert "<h2>Toy census</h2>" in page and "toy census table" in page
    assert "secoqc-vienna-2008 has 6 nodes." in page
    assert toy_registered in REPORT_SECTIONS


def test_the_demo_runs_the_packages_sections_in_data_flow_order() -> None:
    from qit4n.cli.demo import section_plan

    assert [item for item in section_plan() if isinstance(item, str)][:8] == [
        "links",
        "net",
        "postprocess",
        "qrng",
        "kms",
        "qkdn",
        "qin",
        "threat",
    ]


def test_an_unregistered_section_is_gone(cli_runner: CliRunner, tmp_path: Path) -> None:
    REPORT_SECTIONS.register("toy-census", toy_section)
    REPORT_SECTIONS.unregister("toy-census")
    assert "toy-census" not in REPORT_SECTIONS
    result = cli_runner.invoke(app, ["demo", "--out", str(tmp_path), "--section", "toy-census"])
    assert isinstance(result.exception, ParameterError)
    message = str(result.exception)
    assert message.startswith("report section = 'toy-census': must be one of") and "links" in message
