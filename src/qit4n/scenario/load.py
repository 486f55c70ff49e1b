"""Load scenarios from YAML or JSON files or built-in names, reporting every problem at once."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from qit4n.errors import Qit4nError, ScenarioError
from qit4n.scenario.model import ChannelKind, Scenario
from qit4n.schema import problems_from, validate_parameters

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


def _cross_reference_problems(scenario: Scenario) -> list[str]:
    from qit4n.qkd.registry import make_parameters

    problems = []
    seen: set[str] = set()
    for index, node in enumerate(scenario.nodes):
        if node.id in seen:
            problems.append(f"nodes[{index}].id = {node.id!r}: duplicate node id")
        seen.add(node.id)
    link_ids: set[str] = set()
    for index, link in enumerate(scenario.links):
        for end, endpoint in enumerate(link.endpoints):
            if endpoint not in seen:
                problems.append(f"links[{index}].endpoints[{end}] = {endpoint!r}: no such node")
        if link.id:
            if link.id in link_ids:
                problems.append(f"links[{index}].id = {link.id!r}: duplicate link id")
            link_ids.add(link.id)
        if link.key_rate_bps is None:
            try:
                make_parameters(link.protocol, link.preset, link.device, context=f"links[{index}].device")
            except Qit4nError as error:
                problems.append(str(error) if "links[" in str(error) else f"links[{index}]: {error}")
            if link.channel is not ChannelKind.FIBRE:
                problems.extend(_optics_problems(link.optics, link.channel, f"links[{index}].optics"))
    problems.extend(_quantum_hardware_problems(scenario.quantum_hardware))
    for kind, items in (("demands", scenario.demands), ("requests", scenario.requests)):
        for index, item in enumerate(items):
            for end, endpoint in enumerate(item.endpoints):
                if endpoint not in seen:
                    problems.append(f"{kind}[{index}].endpoints[{end}] = {endpoint!r}: no such node")
    return problems


def _quantum_hardware_problems(hardware: dict[str, Any]) -> list[str]:
    from qit4n.qin.chain import ChainParameters

    problems = [
        f"quantum_hardware.{name}: set by each request's path, not by the scenario"
        for name in ("segments", "length_km")
        if name in hardware
    ]
    try:
        validate_parameters(ChainParameters, hardware, "quantum_hardware")
    except Qit4nError as error:
        problems.append(str(error))
    return problems


def _optics_problems(optics: dict[str, Any], channel: ChannelKind, context: str) -> list[str]:
    from qit4n.physics.freespace import validate_optics

    try:
        validate_optics(optics, channel.value, context)
    except Qit4nError as error:
        return [str(error)]
    return []


def scenario_from_dict(data: Any, source: str = "scenario") -> Scenario:
    """Validate a parsed scenario; :class:`ScenarioError` lists every problem with its path."""
    if not isinstance(data, dict):
        raise ScenarioError(
            source, [f"(top level): must be a mapping with nodes, links and demands, got {type(data).__name__}"]
        )
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as error:
        raise ScenarioError(source, problems_from(error, model=Scenario)) from None
    problems = _cross_reference_problems(scenario)
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
