"""The scenario schema: built-ins load, bad files report every problem with its path and range."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from qit4n.errors import ScenarioError
from qit4n.scenario import builtin_names, load_scenario, scenario_from_dict, scenario_to_json, scenario_to_yaml


def _minimal() -> dict:
    return {
        "name": "t",
        "nodes": [{"id": "A"}, {"id": "B", "role": "trusted-relay"}, {"id": "C"}],
        "links": [
            {"endpoints": ["A", "B"], "length_km": 10, "key_rate_bps": 1000},
            {"endpoints": ["B", "C"], "length_km": 20, "key_rate_bps": 500},
        ],
        "demands": [{"endpoints": ["A", "C"], "key_rate_bps": 100}],
    }


def test_default_scenario_matches_the_published_shape() -> None:
    scenario = load_scenario("secoqc-vienna-2008")
    lengths = [link.length_km for link in scenario.links if link.length_km is not None]
    assert len(scenario.nodes) == 6 and len(scenario.links) == len(lengths) == 8
    assert min(lengths) == pytest.approx(6.0) and max(lengths) == pytest.approx(85.0)
    assert "secoqc-vienna-2008" in builtin_names()


def test_yaml_and_json_files_load_the_same(tmp_path: Path) -> None:
    yaml_path = tmp_path / "net.yaml"
    json_path = tmp_path / "net.json"
    yaml_path.write_text(yaml.safe_dump(_minimal()))
    json_path.write_text(json.dumps(_minimal()))
    assert load_scenario(yaml_path) == load_scenario(json_path)


def test_round_trip_through_yaml(tmp_path: Path) -> None:
    scenario = load_scenario("secoqc-vienna-2008")
    path = tmp_path / "copy.yaml"
    path.write_text(scenario_to_yaml(scenario))
    assert load_scenario(path) == scenario


@pytest.mark.parametrize("name", ["secoqc-vienna-2008", "tokyo-2010", "generated"])
def test_yaml_and_json_writers_load_back_identical_scenarios(name: str, tmp_path: Path) -> None:
    """Issue 18: large networks travel as JSON (parsed ~60x faster); both files give the same object."""
    from qit4n.net.generate import generate_scenario

    scenario = generate_scenario(300, demands=10, seed=5) if name == "generated" else load_scenario(name)
    yaml_path, json_path = tmp_path / "net.yaml", tmp_path / "net.json"
    yaml_path.write_text(scenario_to_yaml(scenario))
    json_path.write_text(scenario_to_json(scenario))
    assert load_scenario(yaml_path) == scenario == load_scenario(json_path)
    assert scenario_to_yaml(scenario) == yaml.safe_dump(
        scenario.model_dump(mode="json", exclude_defaults=True), sort_keys=False
    )  # libyaml's emitter writes what PyYAML's did


def test_every_problem_is_reported_with_path_and_range() -> None:
    data = _minimal()
    data["links"].append({"endpoints": ["A", "C"], "length_km": -5})
    data["nodes"][0]["latitude_deg"] = 91
    data["links"][0]["colour"] = "red"
    with pytest.raises(ScenarioError) as caught:
        scenario_from_dict(data, "net.yaml")
    problems = caught.value.problems
    assert "links[2].length_km = -5: must be >= 0" in problems
    assert "nodes[0].latitude_deg = 91: must be <= 90" in problems
    assert any(p.startswith("links[0].colour") and "unknown field" in p for p in problems)


def test_cross_references_are_checked() -> None:
    data = _minimal()
    data["links"][1]["endpoints"] = ["B", "Z"]
    data["demands"][0]["endpoints"] = ["A", "Q"]
    data["nodes"].append({"id": "A"})
    with pytest.raises(ScenarioError) as caught:
        scenario_from_dict(data)
    problems = caught.value.problems
    assert "links[1].endpoints[1] = 'Z': no such node" in problems
    assert "demands[0].endpoints[1] = 'Q': no such node" in problems
    assert "nodes[3].id = 'A': duplicate node id" in problems


def test_unknown_protocol_and_bad_device_parameters_are_named() -> None:
    data = _minimal()
    data["links"][0] = {"endpoints": ["A", "B"], "length_km": 10, "protocol": "bb85"}
    with pytest.raises(ScenarioError) as caught:
        scenario_from_dict(data)
    assert any("protocol = 'bb85': must be one of" in p for p in caught.value.problems)


def test_quantum_hardware_block_is_checked_against_the_chain_model() -> None:
    """The ``quantum_hardware`` block takes qit4n.qin.ChainParameters fields: bad values and the
    per-path fields are named with their path; a good block loads as given."""
    data = _minimal()
    data["quantum_hardware"] = {"eta_detector": 1.5, "memory": {"t2_s": -1.0}, "segments": 3, "colour": "red"}
    with pytest.raises(ScenarioError) as caught:
        scenario_from_dict(data)
    problems = " | ".join(caught.value.problems)
    for expected in (
        "quantum_hardware.eta_detector = 1.5: must be <= 1",
        "quantum_hardware.memory.t2_s = -1",
        "quantum_hardware.segments: set by each request's path",
        "quantum_hardware.colour",
    ):
        assert expected in problems
    data["quantum_hardware"] = {"eta_detector": 0.5, "memory": {"t2_s": 0.2, "t1_s": 2.0}}
    assert scenario_from_dict(data).quantum_hardware["memory"]["t2_s"] == 0.2


def test_missing_file_names_the_built_ins() -> None:
    with pytest.raises(ScenarioError, match=r"built-ins: .*secoqc-vienna-2008"):
        load_scenario("no-such-scenario.yaml")


def test_fibre_link_needs_length_or_loss() -> None:
    data = _minimal()
    data["links"][0] = {"endpoints": ["A", "B"]}
    with pytest.raises(ScenarioError, match="needs length_km or loss_db"):
        scenario_from_dict(data)
