"""The KMEs' relay routes and link rates come from one evaluation of the scenario's links."""

from __future__ import annotations

import qit4n.net
from qit4n.kms.launcher import write_kme_plan
from qit4n.kms.routes import kme_network, relay_route


def test_planning_builds_the_key_network_once_whatever_the_number_of_kmes(tmp_path, make_star, monkeypatch):
    calls = []
    build = qit4n.net.build_network

    def counted(*args, **kwargs):
        calls.append(args)
        return build(*args, **kwargs)

    monkeypatch.setattr(qit4n.net, "build_network", counted)
    plan = write_kme_plan(make_star(), tmp_path)
    assert len(calls) == 1 and len(plan.configs) == 4
    assert plan.configs["KME-A"].routes == {"KME-B": ["KME-B"], "KME-C": ["KME-B", "KME-C"], "KME-D": ["KME-D"]}
    assert plan.configs["KME-C"].routes["KME-D"] == ["KME-B", "KME-A", "KME-D"]


def test_routes_match_single_pair_routes_and_rates_count_every_system(make_star):
    from qit4n.scenario import scenario_from_dict

    star = make_star()
    network = kme_network(star)
    for source in ("A", "B", "C", "D"):
        for target, hops in network.routes[source].items():
            assert [source, *hops] == relay_route(star, source, target)
    pair = scenario_from_dict(
        {
            "name": "pair",
            "nodes": [{"id": "A"}, {"id": "B"}],
            "links": [{"endpoints": ["A", "B"], "key_rate_bps": 1e3, "systems": 3}],
        }
    )
    assert kme_network(pair).rates_bps == (3e3,)
