"""docs/scenario-format.md documents every field of the scenario models, generated so that it cannot drift."""

from __future__ import annotations

import os
import re
from pathlib import Path

import yaml

from qit4n.scenario import scenario_from_dict
from qit4n.scenario.reference import MODELS, scenario_format_markdown

PAGE = Path(__file__).resolve().parents[2] / "docs" / "scenario-format.md"
MARKER = "<!-- generated below: do not edit by hand -->\n"


def test_the_page_lists_every_field_as_the_models_define_it() -> None:
    head, _, generated = PAGE.read_text(encoding="utf-8").partition(MARKER)
    expected = "\n" + scenario_format_markdown()
    if os.environ.get("QIT4N_REGOLD"):
        PAGE.write_text(head + MARKER + expected, encoding="utf-8")
        generated = expected
    assert generated == expected, "docs/scenario-format.md is stale: rerun this test with QIT4N_REGOLD=1"


def test_every_field_has_a_meaning_and_every_model_is_on_the_page() -> None:
    text = PAGE.read_text(encoding="utf-8")
    for model in MODELS:
        assert f"### {model.__name__}" in text
        for name, field in model.model_fields.items():
            assert field.description, f"{model.__name__}.{name} has no description"
            assert f"| `{name}` |" in text


def test_the_example_on_the_page_is_a_valid_scenario() -> None:
    example = re.search(r"```yaml\n(.*?)```", PAGE.read_text(encoding="utf-8"), flags=re.DOTALL)
    assert example is not None
    scenario = scenario_from_dict(yaml.safe_load(example.group(1)), "docs/scenario-format.md")
    assert [link.id for link in scenario.links] == ["A-R", "R-B"]
