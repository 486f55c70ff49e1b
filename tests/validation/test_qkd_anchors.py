"""``qit4n validate``: the published anchors recomputed, written as a page, and a failing one caught."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from qit4n.cli import app
from qit4n.cli import validate as validate_module
from qit4n.qkd.anchors import Anchor, AnchorSpec, evaluate_anchors


def test_validate_writes_every_anchor_and_passes(cli_runner: CliRunner, tmp_path: Path) -> None:
    """All anchors (Ma et al. 2005, Lim et al. 2014, PLOB, TGW, GG02 at 80 digits, Shchukin et al.
    2019, Bernardes et al. 2011, Liao et al. 2017) are within their tolerances; the page lists them
    with their papers and shows the Micius loss curve next to the published points."""
    result = cli_runner.invoke(app, ["validate", "--out", str(tmp_path), "--json"])
    assert result.exit_code == 0, result.output
    anchors = json.loads(result.stdout.splitlines()[0])
    assert len(anchors) >= 20 and {anchor["verdict"] for anchor in anchors} == {"pass"}
    assert {
        "Ma, Qi, Zhao, Lo, PRA 72, 012326 (2005)",
        "Lim, Curty, Walenta, Xu, Zbinden, PRA 89, 022307 (2014)",
        "Lo, Curty, Qi, PRL 108, 130503 (2012)",
        "Wang, Yu, Hu, PRA 98, 062323 (2018)",
        "Lucamarini, Yuan, Dynes, Shields, Nature 557, 400 (2018)",
    } <= {anchor["paper"] for anchor in anchors}
    assert {"mdi", "tf (sending-or-not-sending)", "Raman scattering (silica)"} <= {
        anchor["model"] for anchor in anchors
    }
    page = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert "qit4n validation" in page and "micius-link-loss.png" in page and "Shchukin" in page
    assert (tmp_path / "micius-link-loss.png").stat().st_size > 10_000


def test_an_anchor_out_of_tolerance_fails_the_command(
    cli_runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A qit4n value 2 % off a published one with a 1 % tolerance is a FAIL and exit status 1."""
    wrong = AnchorSpec("toy", "nobody", "nowhere", "none", 100.0, 0.01, lambda: 102.0)
    monkeypatch.setattr(validate_module, "collect_anchors", lambda on_progress=None: evaluate_anchors([wrong]))
    result = cli_runner.invoke(app, ["validate", "--out", str(tmp_path)])
    assert result.exit_code == 1
    assert "FAIL" in result.output


def test_anchor_tolerances() -> None:
    assert Anchor("m", "p", "x", "q", 100.0, 100.9, 0.01).within
    assert not Anchor("m", "p", "x", "q", 100.0, 101.1, 0.01).within
    assert Anchor("m", "p", "x", "q", 30.0, 28.9, 1.2, relative=False, unit="dB").within
    assert not Anchor("m", "p", "x", "q", 30.0, float("nan"), 1.2, relative=False).within
    assert Anchor("m", "p", "x", "q", 2.0, 1.0, 1.0).ratio == 0.5
    assert Anchor("m", "p", "x", "q", 40.0, 46.4, 10.0, relative=False, at_least=True).within
    assert not Anchor("m", "p", "x", "q", 40.0, 39.9, 10.0, relative=False, at_least=True).within
    assert not Anchor("m", "p", "x", "q", 40.0, 50.1, 10.0, relative=False, at_least=True).within


def test_demo_section_writes_and_links_the_validation_page(tmp_path: Path) -> None:
    """The ``validation`` report section (registered for ``qit4n demo``) writes the page into the
    report folder, names its relative path and counts the anchors per model, all within tolerance."""
    from qit4n.cli.demo import section_plan

    assert "validation" in section_plan()
    section = validate_module.validation_section(None, tmp_path)
    assert (tmp_path / "validation" / "index.html").is_file()
    assert "validation/index.html" in section.paragraphs[0]
    rows = section.tables[0].rows
    assert sum(row[1] for row in rows) >= 20 and all(row[1] == row[2] for row in rows)
