"""Migration planner: PQC/hybrid/QKD choice with reasons, bandwidth cost, schedule order, network paths."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qit4n.errors import ParameterError
from qit4n.scenario.model import Scenario
from qit4n.threat import (
    Asset,
    PolicyDeadline,
    assess_asset,
    assess_inventory,
    inventory_from_dict,
    load_catalog,
    recommend,
    schedule_migrations,
)

CATALOG = load_catalog()
GRI = CATALOG.timeline("gri-2023")


def _risk(**fields):
    return assess_asset(Asset(**{"name": "a", **fields}), CATALOG, GRI, [], now_year=2026)


def test_added_bytes_per_handshake_from_fips_sizes():
    # x25519 -> X25519MLKEM768: (1216 + 1120) - 2 * 32 = 2272 bytes.
    # ecdsa-p256 -> ML-DSA-65: (1952 + 3309) - (65 + 64) = 5132 bytes.
    risk = _risk(
        algorithms=[{"name": "x25519", "use": "key-exchange"}, {"name": "ecdsa-p256", "use": "signature"}],
        handshakes_per_s=100,
        bandwidth_bps=1e7,
    )
    plan = recommend(risk, CATALOG)
    assert plan.action == "hybrid"
    assert (plan.key_exchange, plan.signature) == ("x25519mlkem768", "ml-dsa-65")
    assert plan.added_bytes_per_handshake == 2272 + 5132
    assert plan.overhead_bps == pytest.approx(100 * (2272 + 5132) * 8)
    assert plan.overhead_fraction == pytest.approx(100 * (2272 + 5132) * 8 / 1e7)


def test_qkd_needs_a_length_a_demand_and_enough_rate():
    risk = _risk(algorithms=["x25519"], secrecy_lifetime_years=20, key_demand_bps=1000)
    assert recommend(risk, CATALOG, length_km=40, qkd_rate_bps=1000.0).action == "qkd"
    too_slow = recommend(risk, CATALOG, length_km=250, qkd_rate_bps=999.0)
    assert too_slow.action == "hybrid"
    assert "QKD not usable: 999 bit/s over 250 km < demand 1000 bit/s" in too_slow.reasons
    no_link = recommend(risk, CATALOG, qkd_rate_bps=None)
    assert no_link.action == "hybrid" and any(r.startswith("QKD not considered") for r in no_link.reasons)


def test_qkd_for_short_lived_data_only_when_pqc_overhead_is_too_high():
    cheap = _risk(
        algorithms=["x25519"], secrecy_lifetime_years=1, key_demand_bps=100, handshakes_per_s=1, bandwidth_bps=1e9
    )
    assert recommend(cheap, CATALOG, length_km=10, qkd_rate_bps=1e4).action == "hybrid"
    costly = _risk(
        algorithms=["x25519"], secrecy_lifetime_years=1, key_demand_bps=100, handshakes_per_s=1000, bandwidth_bps=1e7
    )
    plan = recommend(costly, CATALOG, length_km=10, qkd_rate_bps=1e4)
    assert plan.action == "qkd"
    assert (plan.signature, plan.added_bytes_per_handshake, plan.overhead_bps) == (None, 0, 0.0)
    assert any("PQC overhead" in reason for reason in plan.reasons)
    assert any("authenticated classical channel" in reason for reason in plan.reasons)


def test_qkd_plan_counts_only_the_signature_bytes():
    # QKD replaces the key exchange; ecdsa-p256 -> ML-DSA-65 still adds 5132 bytes per handshake.
    risk = _risk(
        algorithms=[{"name": "x25519", "use": "key-exchange"}, {"name": "ecdsa-p256", "use": "signature"}],
        secrecy_lifetime_years=15,
        key_demand_bps=10,
        handshakes_per_s=2,
    )
    plan = recommend(risk, CATALOG, length_km=20, qkd_rate_bps=1e3)
    assert (plan.action, plan.key_exchange, plan.signature) == ("qkd", "qkd", "ml-dsa-65")
    assert (plan.added_bytes_per_handshake, plan.overhead_bps) == (5132, 2 * 5132 * 8.0)
    assert "PQC adds 7404 bytes per handshake = 1.185e+05 bit/s at 2 handshakes/s" in plan.reasons


def test_signatures_only_get_pqc_and_safe_assets_nothing():
    assert recommend(_risk(algorithms=[{"name": "rsa-2048", "use": "signature"}]), CATALOG).action == "pqc"
    keep = recommend(_risk(algorithms=["ml-kem-768", "ml-dsa-44"]), CATALOG)
    assert keep.action == "none" and keep.added_bytes_per_handshake == 0


def test_schedule_meets_deadlines_then_follows_exposure_per_migration_year():
    policy = CATALOG.policy("eu-roadmap")
    risks = [
        assess_asset(
            Asset(name="big", algorithms=["x25519"], secrecy_lifetime_years=10, migration_time_years=4, risk="high"),
            CATALOG,
            GRI,
            [policy],
            now_year=2026,
        ),
        assess_asset(
            Asset(name="small", algorithms=["x25519"], secrecy_lifetime_years=2, migration_time_years=1),
            CATALOG,
            GRI,
            [policy],
            now_year=2026,
        ),
        assess_asset(Asset(name="safe", algorithms=["ml-kem-768"]), CATALOG, GRI, [policy], now_year=2026),
    ]
    # Without deadlines, Smith's ratio rule: small F(2029) / 1 = 0.15 before big F(2040) / 4 = 0.1475
    # (gri-2023 rises at 0.04 a year after its last anchor, 0.31 in 2033).
    plan = schedule_migrations([_without_deadline(r) for r in risks], GRI, now_year=2026)
    assert [(p.asset, p.start_year, p.finish_year) for p in plan] == [
        ("small", 2026.0, 2027.0),
        ("big", 2027.0, 2031.0),
    ]
    # With the EU roadmap, big (high risk) must be done by 2030 and small (medium) by 2035: the
    # backward rule puts small last (its deadline allows finishing in 2031), so big meets 2030.
    plan = schedule_migrations(risks, GRI, now_year=2026)
    assert [(p.asset, p.start_year, p.finish_year, p.deadline, p.meets_deadline) for p in plan] == [
        ("big", 2026.0, 2030.0, 2030, True),
        ("small", 2030.0, 2031.0, 2035, True),
    ]
    assert plan[0].planned_exposure_probability == pytest.approx(0.59)  # F(2026 + 10 + 4) = 0.31 + 0.04 * 7
    assert plan[1].planned_exposure_probability == pytest.approx(0.31)  # F(2026 + 2 + 5) = F(2033)
    parallel = schedule_migrations(risks, GRI, now_year=2026, teams=2)
    assert [(p.asset, p.start_year, p.finish_year) for p in parallel] == [
        ("big", 2026.0, 2030.0),
        ("small", 2026.0, 2027.0),
    ]


def test_impossible_deadline_is_reported_late():
    risk = assess_asset(
        Asset(name="slow", algorithms=["x25519"], migration_time_years=12, risk="high"),
        CATALOG,
        GRI,
        [CATALOG.policy("eu-roadmap")],
        now_year=2026,
    )
    (item,) = schedule_migrations([risk], GRI, now_year=2026)
    assert (item.finish_year, item.deadline, item.meets_deadline) == (2038.0, 2030, False)


def _without_deadline(risk):
    return replace(risk, deadlines=())


NETWORK = Scenario.model_validate(
    {
        "name": "line",
        "nodes": [{"id": "A"}, {"id": "R", "role": "trusted-relay"}, {"id": "B"}, {"id": "C"}],
        "links": [
            {"id": "A-R", "endpoints": ["A", "R"], "length_km": 20},
            {"id": "R-B", "endpoints": ["R", "B"], "length_km": 30},
            {"id": "A-C", "endpoints": ["A", "C"], "length_km": 80},
            {"id": "C-B", "endpoints": ["C", "B"], "length_km": 80},
        ],
        "demands": [{"name": "a-b", "endpoints": ["A", "B"], "key_rate_bps": 500}],
    }
)


def test_weakest_hop_decides_and_relays_are_exposure_points():
    inventory = inventory_from_dict(
        {
            "assets": [
                {
                    "name": "weak",
                    "algorithms": ["x25519"],
                    "secrecy_lifetime_years": 10,
                    "migration_time_years": 2,
                    "location": {"link": "R-B"},
                    "key_demand_bps": 500,
                },
                {
                    "name": "mild",
                    "algorithms": ["x25519"],
                    "secrecy_lifetime_years": 1,
                    "migration_time_years": 1,
                    "location": {"link": "A-R"},
                },
                {
                    "name": "elsewhere",
                    "algorithms": ["rsa-2048"],
                    "secrecy_lifetime_years": 20,
                    "location": {"link": "A-C"},
                },
            ]
        }
    )
    result = assess_inventory(
        inventory, now_year=2026, network=NETWORK, qkd_key_rate_bps=lambda km: 1e5 * 10 ** (-0.02 * km)
    )
    (path,) = result.paths
    assert path.route == ("A", "R", "B") and path.hops == ("A-R", "R-B")
    assert path.trusted_relays == ("R",)
    assert path.weakest == "link R-B: weak"
    # weak: F(2026 + 10 + 2) = F(2038) = 0.31 + 0.04 * 5 = 0.51; mild: F(2028) = 0.11; the path takes the larger.
    assert result.risks[0].exposure_probability == pytest.approx(0.51)
    assert result.risks[1].exposure_probability == pytest.approx(0.11)
    assert path.exposure_probability == pytest.approx(0.51)
    # weak sits on a 30 km link: 1e5 * 10^-0.6 = 25119 bit/s >= 500 bit/s and 10-year secrets -> QKD.
    assert result.recommendations[0].action == "qkd"
    assert result.recommendations[0].qkd_key_rate_bps == pytest.approx(1e5 * 10 ** (-0.6))


def test_unknown_link_in_location_names_the_field():
    inventory = inventory_from_dict({"assets": [{"name": "x", "algorithms": ["x25519"], "location": {"link": "Z-Z"}}]})
    with pytest.raises(ParameterError, match=r"assets\[0\].location.link = 'Z-Z': no such link in scenario line"):
        assess_inventory(inventory, now_year=2026, network=NETWORK)


@settings(max_examples=80, deadline=None)
@given(
    jobs=st.lists(
        st.tuples(
            st.integers(min_value=1, max_value=5),
            st.integers(min_value=2027, max_value=2045),
            st.floats(min_value=0.0, max_value=30.0),
        ),
        min_size=1,
        max_size=7,
    )
)
def test_one_team_meets_every_deadline_whenever_earliest_deadline_first_does(jobs):
    risks = []
    for index, (years, deadline, secrecy) in enumerate(jobs):
        risk = assess_asset(
            Asset(name=f"a{index}", algorithms=["x25519"], secrecy_lifetime_years=secrecy, migration_time_years=years),
            CATALOG,
            GRI,
            [],
            now_year=2026,
        )
        risks.append(replace(risk, deadlines=(PolicyDeadline("test", deadline, "test rule", None, "test"),)))
    finish, edf_feasible = 2026, True
    for years, deadline, _ in sorted(jobs, key=lambda job: job[1]):
        finish += years
        edf_feasible &= finish <= deadline
    plan = schedule_migrations(risks, GRI, now_year=2026)
    assert len(plan) == len(jobs)
    assert all(item.meets_deadline for item in plan) == edf_feasible
