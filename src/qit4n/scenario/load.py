"""Load scenarios from YAML or JSON files or built-in names, reporting every problem at once."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from qit4n.errors import ScenarioError
from qit4n.scenario.checks import cross_reference_problems, model_problems
from qit4n.scenario.model import Scenario
from qit4n.schema import problems_from

__all__ = ["builtin_names", "load_scenario", "scenario_from_dict", "scenario_to_yaml"]


def builtin_names() -> list[str]:
    """Names of the scenarios shipped with qit4n."""
    folder = resources.files("qit4n.scenario").joinpath("builtin")
    return sorted(entry.name.removesuffix(".yaml") for entry in folder.iterdir() if entry.name.endswith(".yaml"))


def _read(source: str | Path) -> tuple[Any, str]:
    text_source = str(source)
    if text_source in builtin_names():
        entry = resources.files("qit4n.scenario").joinpath("builtin", f"{text_source}.yaml")
        return yaml.safe_load(entry.read_text(encoding="utf-8")), f"built-in scenario {text_source}"
    path = Path(source)
    if not path.is_file():
        raise ScenarioError(
            text_source, [f"no such file, and not a built-in scenario (built-ins: {', '.join(builtin_names())})"]
        )
    text = path.read_text(encoding="utf-8")
    try:
        data = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as error:
        raise ScenarioError(
            text_source, [f"not valid {'JSON' if path.suffix.lower() == '.json' else 'YAML'}: {error}"]
        ) from None
    return data, text_source


def scenario_from_dict(data: Any, source: str = "scenario") -> Scenario:
    """Validate a parsed scenario; :class:`ScenarioError` lists every problem with its path.

    The schema first, then cross-references and the model checks of :data:`SCENARIO_CHECKS`
    (see :mod:`qit4n.scenario.checks`), all reported together.
    """
    if not isinstance(data, dict):
        raise ScenarioError(
            source, [f"(top level): must be a mapping with nodes, links and demands, got {type(data).__name__}"]
        )
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as error:
        raise ScenarioError(source, problems_from(error, model=Scenario)) from None
    problems = cross_reference_problems(scenario) + model_problems(scenario)
    if problems:
        raise ScenarioError(source, problems)
    return scenario


def load_scenario(source: str | Path) -> Scenario:
    """Load a scenario from a YAML/JSON file or a built-in name (see :func:`builtin_names`).

    >>> scenario = load_scenario("secoqc-vienna-2008")
    >>> len(scenario.nodes), len(scenario.links)
    (6, 8)
    """
    data, label = _read(source)
    return scenario_from_dict(data, label)


def scenario_to_yaml(scenario: Scenario) -> str:
    """The scenario as YAML text that :func:`load_scenario` reads back unchanged."""
    return yaml.safe_dump(scenario.model_dump(mode="json", exclude_defaults=True), sort_keys=False)
