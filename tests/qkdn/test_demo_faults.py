"""The demo's fault sequence (qit4n.qkdn.demo): which pairs and faults each built-in scenario gets."""

from __future__ import annotations

import networkx as nx
import pytest

from qit4n.errors import InputError
from qit4n.qkdn.demo import _Topology, pick_pairs, plan_faults
from qit4n.scenario import load_scenario


def test_secoqc_gets_a_reroute_a_degraded_link_and_a_cut_that_leaves_a_pair_without_a_path() -> None:
    scenario = load_scenario("secoqc-vienna-2008")
    pairs = pick_pairs(scenario)
    assert pairs == [("SIE", "FOR"), ("SIE", "STP"), ("FOR", "STP")]  # the demands, fewest hops first
    faults = plan_faults(scenario, pairs)
    assert [fault.command for fault in faults] == [
        "cut SIE-FOR",
        "noise SIE-ERD --classical 1550.12:-20dBm",
        "cut FOR-GUD",
        "restore FOR-GUD",
        "restore SIE-FOR",
        "restore SIE-ERD",
    ]
    topology = _Topology(scenario)
    assert topology.route("SIE", "FOR", {"SIE-FOR"})  # the first cut leaves another route
    assert not nx.has_path(topology.graph({"SIE-FOR", "FOR-GUD"}), "SIE", "FOR")  # the second leaves none


@pytest.mark.parametrize("name", ["tokyo-2010", "micius-xinglong", "qin-metro-2qc"])
def test_scenarios_without_two_joined_user_nodes_say_why(name: str) -> None:
    with pytest.raises(InputError, match="no two user nodes joined by QKD links"):
        pick_pairs(load_scenario(name))


def test_every_fault_is_undone_by_the_end() -> None:
    for name in ("cambridge-metro", "beijing-shanghai-backbone"):
        scenario = load_scenario(name)
        faults = plan_faults(scenario, pick_pairs(scenario))
        applied = {fault.target for fault in faults if fault.action != "restore"}
        restored = [fault.target for fault in faults if fault.action == "restore"]
        assert faults and sorted(restored) == sorted(applied), name
