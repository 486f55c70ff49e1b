"""The threat section of ``qit4n demo`` on the default scenario, with qit4n's real link models."""

from __future__ import annotations

from qit4n.cli.demo import DEFAULT_SCENARIO
from qit4n.scenario import load_scenario
from qit4n.threat import assess_inventory, inventory_from_dict
from qit4n.threat.report import demo_inventory, threat_section


def test_demo_section_runs_and_writes_figures(tmp_path):
    scenario = load_scenario(DEFAULT_SCENARIO)
    section = threat_section(scenario, tmp_path)
    assert section.title == "Quantum threat"
    assert {figure.file_name for figure in section.figures} == {"threat-timeline.png", "threat-schedule.png"}
    for figure in section.figures:
        assert (tmp_path / figure.file_name).read_bytes()[:4] == b"\x89PNG"
    captions = [table.caption for table in section.tables]  # assets, cited estimates, schedule, paths
    assert len(section.tables) == 4 and captions[1] == "Quantum resource estimates cited above"


def test_demo_plan_uses_each_links_own_key_rate_model():
    from qit4n.links import link_budget

    scenario = load_scenario(DEFAULT_SCENARIO)
    result = assess_inventory(inventory_from_dict(demo_inventory(scenario)), now_year=2026, network=scenario)
    demand_bps = max(demand.key_rate_bps for demand in scenario.demands)
    for index, recommendation in enumerate(result.recommendations[: len(scenario.links)]):
        rate_bps = link_budget(scenario, index).key_rate_bps
        assert recommendation.qkd_key_rate_bps == rate_bps
        assert (recommendation.action == "qkd") == (rate_bps >= demand_bps)
    assert {path.demand for path in result.paths} == {demand.name for demand in scenario.demands}
