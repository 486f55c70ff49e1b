"""Issue 14, the report: a provenance footer, references as DOI links, threat reasons given once, rate kinds."""

from __future__ import annotations

import platform
import re
from pathlib import Path

import numpy as np
import pytest
import yaml

from qit4n.cli import main
from qit4n.cli.demo import references_section
from qit4n.net.report import scenario_link_rates
from qit4n.qkd.registry import get_protocol, protocol_names
from qit4n.report import Provenance, Section, Table, write_report
from qit4n.report.html import linked_text
from qit4n.report.provenance import COMMAND_LINE
from qit4n.scenario import load_scenario, scenario_digest, scenario_from_dict, scenario_to_yaml


def _footer(page: str) -> str:
    return page[page.index("<footer>") :]


def test_every_page_ends_with_version_command_inputs_date_and_library_versions(tmp_path: Path) -> None:
    token = COMMAND_LINE.set("qit4n simulate secoqc-vienna-2008 --seed 5")
    try:
        provenance = Provenance.collect(scenario="secoqc-vienna-2008 sha256:0123456789ab", seed="5")
    finally:
        COMMAND_LINE.reset(token)
    footer = _footer(write_report(tmp_path, "t", [Section("s")], provenance=provenance).read_text())
    for text in (
        "<code>qit4n simulate secoqc-vienna-2008 --seed 5</code>",
        "secoqc-vienna-2008 sha256:0123456789ab",
        "<th>seed</th><td>5</td>",
        f"python {platform.python_version()}",
        f"numpy {np.__version__}",
        f"qit4n {provenance.qit4n_version}",
    ):
        assert text in footer, (text, footer)
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", footer)


def test_a_cli_report_records_the_exact_command_and_the_scenario_digest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "plan report"
    with pytest.raises(SystemExit) as done:
        main(["plan", "secoqc-vienna-2008", "--no-survivability", "--out", str(out)])
    assert done.value.code in (0, None), capsys.readouterr()
    footer = _footer((out / "index.html").read_text())
    digest = scenario_digest(load_scenario("secoqc-vienna-2008"))
    assert f"<code>qit4n plan secoqc-vienna-2008 --no-survivability --out &#x27;{out}&#x27;</code>" in footer, footer
    assert digest in footer and re.fullmatch(r"secoqc-vienna-2008 sha256:[0-9a-f]{12}", digest)


def test_the_scenario_digest_survives_a_yaml_round_trip_and_changes_with_the_content() -> None:
    scenario = load_scenario("tokyo-2010")
    again = scenario_from_dict(yaml.safe_load(scenario_to_yaml(scenario)))
    assert scenario_digest(again) == scenario_digest(scenario)
    changed = scenario.model_copy(update={"description": scenario.description + "!"})
    assert scenario_digest(changed) != scenario_digest(scenario)


def test_dois_arxiv_ids_and_addresses_become_links_and_other_text_stays_escaped() -> None:
    text = linked_text("see doi:10.1088/1367-2630/11/7/075001, arXiv:2505.15917 (2025) and https://x.org/a.")
    assert '<a href="https://doi.org/10.1088/1367-2630/11/7/075001">doi:10.1088/1367-2630/11/7/075001</a>,' in text
    assert '<a href="https://arxiv.org/abs/2505.15917">arXiv:2505.15917</a> (2025)' in text
    assert '<a href="https://x.org/a">https://x.org/a</a>.' in text
    assert linked_text("<script>") == "&lt;script&gt;"


def test_every_key_rate_model_cites_a_doi_and_the_demo_lists_its_references() -> None:
    for name in protocol_names():
        assert "doi:10." in get_protocol(name).reference, name
    section = references_section(load_scenario("secoqc-vienna-2008"))
    cited = [reference for _, reference in section.tables[0].rows]
    assert sum("doi:" in reference for reference in cited) >= len(protocol_names()) + 1  # + the SECOQC paper


def test_threat_reasons_shared_by_several_assets_are_given_once(tmp_path: Path) -> None:
    """Issue 14 saw eight near-identical paragraphs in the reasons column, one per VPN link."""
    from qit4n.threat.report import threat_section

    section = threat_section(load_scenario("secoqc-vienna-2008"), tmp_path)
    assets: Table = next(table for table in section.tables if "reasons" in table.columns)
    cells = [str(row[-1]) for row in assets.rows]
    notes = [paragraph for paragraph in section.paragraphs if re.search(r"R\d+ \(\d+ assets\): ", paragraph)]
    assert notes and all(cell.count("Shor's algorithm") <= 1 for cell in cells), cells
    for note in notes:  # each shared reason appears once, as its note, and in no cell
        reason = note.split("): ", 1)[1]
        assert not any(reason in cell for cell in cells)
    assert max(len(cell) for cell in cells[:8]) < 200, cells
    estimates = next(table for table in section.tables if table.caption.startswith("Quantum resource estimates"))
    assert any("arXiv:1905.09749" in str(row[-1]) for row in estimates.rows)


def test_each_link_rate_says_what_kind_of_rate_it_is() -> None:
    kinds = {rate.protocol: rate.kind for rate in scenario_link_rates(load_scenario("secoqc-vienna-2008"))}
    assert kinds == {"bb84-decoy": "asymptotic", "cv-gg02": "asymptotic"}
    assert get_protocol("bb84-decoy-finite").key_kind == "finite-key" and get_protocol("plob").key_kind == "bound"
