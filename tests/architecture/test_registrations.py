"""Higher packages extend lower ones through entry points (pyproject.toml): the installed metadata must list them.

A stale install (metadata from before the entry points were declared) would silently drop qin's
repeater protocol and the model checks of a scenario; these tests name the fix.
"""

from __future__ import annotations

import pytest

from qit4n.errors import ScenarioError
from qit4n.qkd import PROTOCOLS
from qit4n.scenario import SCENARIO_CHECKS, Scenario, scenario_from_dict

REINSTALL = "entry points missing: reinstall qit4n (pip install -e .) so its metadata lists them"


def test_qin_registers_its_repeater_protocol_with_qkd() -> None:
    assert "bbm92-repeater" in PROTOCOLS, REINSTALL
    assert PROTOCOLS.get("bbm92-repeater").name == "bbm92-repeater"


def test_links_and_qin_register_their_scenario_checks() -> None:
    assert {"links", "quantum_hardware"} <= set(SCENARIO_CHECKS.names()), REINSTALL


def test_a_check_registered_in_code_runs_at_load_time() -> None:
    def no_lonely_nodes(scenario: Scenario) -> list[str]:
        linked = {end for link in scenario.links for end in link.endpoints}
        return [
            f"nodes[{i}].id = {node.id!r}: no link" for i, node in enumerate(scenario.nodes) if node.id not in linked
        ]

    SCENARIO_CHECKS.register("lonely", no_lonely_nodes)
    try:
        data = {"name": "t", "nodes": [{"id": "A"}, {"id": "B"}, {"id": "C"}]}
        data["links"] = [{"endpoints": ["A", "B"], "key_rate_bps": 1.0}]
        with pytest.raises(ScenarioError) as caught:
            scenario_from_dict(data)
        assert caught.value.problems == ["nodes[2].id = 'C': no link"]
    finally:
        SCENARIO_CHECKS.unregister("lonely")
