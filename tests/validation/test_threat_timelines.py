"""CRQC timelines and policy deadlines reproduce the numbers their sources state.

* GRI Quantum Threat Timeline Report 2023 (Mosca and Piani, January 2024), executive summary:
  ~11 % within 5 years and ~31 % within 10 years of the 2023 survey (2022 survey: 6 % and 27 %);
  a "pessimistic" interpretation still gives ~33 % within 15 years (a separate scenario: it is
  another reading of the survey bins, not a point of the average curve).
* Mosca, IACR ePrint 2015/1075: 1/7 chance of breaking RSA-2048 by 2026, 1/2 by 2031.
* NIST IR 8547 ipd (2024): 112-bit quantum-vulnerable algorithms deprecated after 2030 and
  disallowed after 2035; stronger ones disallowed after 2035.
* NSA CNSA 2.0 advisory (2022): software/firmware signing and networking equipment exclusively
  CNSA 2.0 by 2030; web browsers/servers/cloud, operating systems, niche and legacy by 2033;
  all NSS by 2035 (NSM-10).
* EU roadmap v1.1 (June 2025): start by end 2026, high-risk use cases by end 2030, medium-risk by 2035.
* UK NCSC (March 2025): discovery and plan by 2028, high-priority migration by 2031, all by 2035.
Tolerance: 1e-9 on probabilities (anchors are reproduced exactly), years exact.
"""

from __future__ import annotations

import pytest

from qit4n.threat import Asset, crqc_probability, load_catalog, policy_deadline

CATALOG = load_catalog()


@pytest.mark.parametrize(
    ("scenario", "year", "probability"),
    [
        ("gri-2023", 2028, 0.11),
        ("gri-2023", 2033, 0.31),
        ("gri-2023-pessimistic", 2038, 0.33),
        ("gri-2022", 2027, 0.06),
        ("gri-2022", 2032, 0.27),
        ("mosca-2015", 2026, 1 / 7),
        ("mosca-2015", 2031, 0.5),
    ],
)
def test_timeline_reproduces_the_source(scenario, year, probability):
    assert float(crqc_probability(CATALOG.timeline(scenario), year)) == pytest.approx(probability, abs=1e-6)


@pytest.mark.parametrize(
    ("policy", "asset", "year"),
    [
        ("nist-ir-8547", {"algorithms": ["rsa-2048"]}, 2035),
        ("nist-ir-8547", {"algorithms": ["ecdh-p384"]}, 2035),
        ("cnsa-2.0", {"category": "code-signing", "algorithms": ["rsa-3072"]}, 2030),
        ("cnsa-2.0", {"category": "vpn", "algorithms": ["ecdh-p384"]}, 2030),
        ("cnsa-2.0", {"category": "web", "algorithms": ["ecdh-p384"]}, 2033),
        ("cnsa-2.0", {"category": "operating-system", "algorithms": ["rsa-3072"]}, 2033),
        ("cnsa-2.0", {"category": "storage", "algorithms": ["rsa-3072"]}, 2035),
        ("eu-roadmap", {"risk": "high", "algorithms": ["x25519"]}, 2030),
        ("eu-roadmap", {"risk": "medium", "algorithms": ["x25519"]}, 2035),
        ("uk-ncsc", {"risk": "high", "algorithms": ["x25519"]}, 2031),
        ("uk-ncsc", {"risk": "low", "algorithms": ["x25519"]}, 2035),
    ],
)
def test_policy_deadlines(policy, asset, year):
    item = Asset(name="a", **asset)
    vulnerable = [CATALOG.algorithm(name) for name in asset["algorithms"]]
    assert policy_deadline(CATALOG.policy(policy), item, vulnerable).year == year


def test_nist_ir_8547_deprecates_112_bit_schemes_after_2030():
    deadline = policy_deadline(
        CATALOG.policy("nist-ir-8547"), Asset(name="a", algorithms=["rsa-2048"]), [CATALOG.algorithm("rsa-2048")]
    )
    assert (deadline.deprecated, deadline.year) == (2030, 2035)


def test_milestones_without_deadlines():
    rules = {rule.name: rule for policy in CATALOG.policies for rule in policy.rules}
    assert rules["first steps (inventory, national roadmaps)"].start_by == 2026
    assert rules["discovery and migration plan"].start_by == 2028
    assert rules["software and firmware signing"].prefer_by == 2025
    assert rules["traditional networking equipment (VPNs, routers)"].prefer_by == 2026


def test_gri_2023_average_curve_is_one_reading_and_respects_the_pessimistic_bound():
    """Each anchor of gri-2023 is an average estimate; the pessimistic 15-year reading (~33 %) is a
    lower bound, so the average curve must lie at or above it in 2038."""
    average = CATALOG.timeline("gri-2023")
    assert all(anchor.note.startswith("average estimate") for anchor in average.anchors)
    assert float(crqc_probability(average, 2038)) >= 0.33
