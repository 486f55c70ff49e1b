"""The demo section on the default scenario, and the hybrid chat example, run end to end."""

from __future__ import annotations

import runpy
from pathlib import Path

from qit4n.cli.kms import demo_section
from qit4n.scenario import load_scenario


def test_demo_section_runs_on_the_default_scenario(tmp_path):
    section = demo_section(load_scenario("secoqc-vienna-2008"), tmp_path)
    hybrid_keys, pools, counters = section.tables
    assert len(hybrid_keys.rows) == 4 and all(row[1] is True and row[2] for row in hybrid_keys.rows)
    assert any(row[0] == "KME-BREI" for row in pools.rows)
    issued = {row[0]: row[1] for row in counters.rows}
    assert len(counters.rows) == len(issued) == 6  # one row per KME, not one per link
    assert issued["KME-SIE"] == 4  # the master SAE-SIE's four hybrid keys, counted once
    assert (tmp_path / section.figures[0].file_name).stat().st_size > 1000
    assert "SIE → BREI → STP" in section.paragraphs[1]


def test_hybrid_chat_example_delivers_every_message():
    example = runpy.run_path(str(Path(__file__).parents[2] / "examples" / "hybrid_chat.py"), run_name="hybrid_chat")
    assert example["main"]() == example["MESSAGES"]
