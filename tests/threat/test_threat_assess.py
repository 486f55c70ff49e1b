"""Inventories with hand-computed expectations: exposure, deadlines per policy, reasons, errors."""

from __future__ import annotations

import pytest

from qit4n.errors import InputError, ParameterError
from qit4n.threat import Asset, assess_inventory, inventory_from_dict, load_catalog, policy_deadline

CATALOG = load_catalog()
GRI = "gri-2023"

INVENTORY = {
    "name": "hand-computed",
    "assets": [
        # F(2026 + 5 + 2) = F(2033) = 0.31 for HNDL; forgery F(2028) = 0.11.
        {
            "name": "vpn",
            "category": "vpn",
            "algorithms": [{"name": "x25519", "use": "key-exchange"}, {"name": "ecdsa-p256", "use": "signature"}],
            "secrecy_lifetime_years": 5,
            "migration_time_years": 2,
            "risk": "high",
        },
        # RSA with no use given counts as key exchange and signature: F(2026 + 0 + 1) = 0.088.
        {
            "name": "legacy",
            "category": "custom-application",
            "algorithms": ["rsa-2048"],
            "migration_time_years": 1,
            "risk": "low",
        },
        # A root trusted 12 more years: forgery F(2038) = 0.31 + 0.04 * (2038 - 2033) = 0.51.
        {
            "name": "root",
            "category": "firmware-signing",
            "algorithms": [{"name": "rsa-3072", "use": "signature"}],
            "migration_time_years": 3,
            "trust_lifetime_years": 12,
        },
        {
            "name": "pqc",
            "algorithms": ["X25519MLKEM768", "ml-dsa-65", "aes-256", "sha-384"],
            "secrecy_lifetime_years": 30,
        },
    ],
    "policies": [{"id": "ours", "rules": [{"name": "everything by 2029", "complete_by": 2029}]}],
}


def _assess(policies=("nist-ir-8547",)):
    return assess_inventory(
        inventory_from_dict(INVENTORY), now_year=2026, timeline_id=GRI, policy_ids=policies, catalog=CATALOG
    )


def test_exposure_probabilities_match_hand_computation():
    by_name = {entry["name"]: entry for entry in _assess().to_dict()["assets"]}
    assert by_name["vpn"]["hndl_probability"] == pytest.approx(0.31)
    assert by_name["vpn"]["forgery_probability"] == pytest.approx(0.11)
    assert by_name["vpn"]["exposure_probability"] == pytest.approx(0.31)
    assert by_name["legacy"]["hndl_probability"] == pytest.approx(0.088)
    assert by_name["legacy"]["forgery_probability"] == pytest.approx(0.088)
    assert by_name["root"]["hndl_probability"] == 0.0
    assert by_name["root"]["forgery_probability"] == pytest.approx(0.51)
    assert by_name["pqc"]["vulnerable"] is False and by_name["pqc"]["exposure_probability"] == 0.0
    assert [by_name[n]["vulnerable"] for n in ("vpn", "legacy", "root")] == [True, True, True]


def test_nist_ir_8547_deadlines():
    by_name = {entry["name"]: entry for entry in _assess().to_dict()["assets"]}
    # RSA-2048 (112 bits): deprecated after 2030, disallowed after 2035; P-256 and RSA-3072: 2035.
    assert by_name["legacy"]["deadlines"]["nist-ir-8547"] == {
        "year": 2035,
        "rule": "112-bit quantum-vulnerable signatures and key establishment",
        "deprecated": 2030,
    }
    assert by_name["vpn"]["deadlines"]["nist-ir-8547"]["year"] == 2035
    assert by_name["vpn"]["deadlines"]["nist-ir-8547"]["deprecated"] is None
    assert by_name["pqc"]["deadline"] is None


def test_cnsa_eu_ncsc_and_user_deadlines():
    entries = _assess(("cnsa-2.0", "eu-roadmap", "uk-ncsc", "ours")).to_dict()["assets"]
    by_name = {entry["name"]: entry["deadlines"] for entry in entries}
    # CNSA 2.0: VPNs exclusively by 2030, software/firmware signing 2030, custom/legacy 2033.
    assert by_name["vpn"]["cnsa-2.0"]["year"] == 2030
    assert by_name["root"]["cnsa-2.0"]["year"] == 2030
    assert by_name["legacy"]["cnsa-2.0"]["year"] == 2033
    # EU roadmap: high-risk by end of 2030, the rest by 2035; NCSC: high priority 2031, all 2035.
    assert by_name["vpn"]["eu-roadmap"]["year"] == 2030
    assert by_name["legacy"]["eu-roadmap"]["year"] == 2035
    assert by_name["vpn"]["uk-ncsc"]["year"] == 2031
    assert by_name["root"]["uk-ncsc"]["year"] == 2035
    assert by_name["legacy"]["ours"]["year"] == 2029
    assert by_name["pqc"]["ours"]["year"] is None


def test_cnsa_recommends_pure_ml_kem_1024_and_ml_dsa_87():
    entries = {e["name"]: e for e in _assess(("cnsa-2.0",)).to_dict()["assets"]}
    assert entries["vpn"]["recommendation"] == "pqc"
    assert (entries["vpn"]["plan"]["key_exchange"], entries["vpn"]["plan"]["signature"]) == ("ml-kem-1024", "ml-dsa-87")


def test_reasons_cite_the_catalog_entries_and_inputs():
    entry = _assess().to_dict()["assets"][0]
    text = " | ".join(entry["reasons"])
    assert "x25519 (key-exchange) is broken by Shor's algorithm" in text
    assert (
        "ecdsa-p256 (signature) is broken by Shor's algorithm (resource estimates: roetteler-2017-p256, "
        "haner-2020-p256, litinski-2023-p256-active-volume, chevignard-schrottenloher-2026-p256, luo-2026-p256)" in text
    )
    assert "= 0.310 under gri-2023" in text
    assert entry["inputs"]["catalog_version"] == CATALOG.version
    assert entry["inputs"]["secrecy_lifetime_years"] == 5.0
    assert entry["findings"][0]["source"].startswith("RFC 7748")


def test_unknown_algorithm_names_the_field():
    bad = {"assets": [{"name": "a", "algorithms": ["x25519", "des"]}]}
    with pytest.raises(ParameterError, match=r"assets\[0\].algorithms\[1\].name = 'des': not in threat catalog"):
        assess_inventory(inventory_from_dict(bad), now_year=2026)


def test_unknown_policy_names_the_valid_ones():
    with pytest.raises(ParameterError, match=r"policy = 'nope': must be one of .*ours"):
        _assess(("nope",))


@pytest.mark.parametrize(
    ("asset", "message"),
    [
        ({"name": "a", "algorithms": []}, r"assets\[0\].algorithms: .*at least 1"),
        (
            {"name": "a", "algorithms": ["x25519"], "secrecy_lifetime_years": -1},
            r"assets\[0\].secrecy_lifetime_years = -1: must be in \[0, 200\] years",
        ),
        (
            {"name": "a", "algorithms": ["x25519"], "migration_time_years": {"low": 3, "mode": 1, "high": 2}},
            "low <= mode <= high",
        ),
        ({"name": "a", "algorithms": ["x25519"], "risk": "extreme"}, r"assets\[0\].risk = 'extreme': must be one of"),
        ({"name": "a", "algorithms": ["x25519"], "colour": "red"}, r"assets\[0\].colour = 'red': unknown field"),
    ],
)
def test_inventory_errors_name_field_and_allowed_range(asset, message):
    with pytest.raises(InputError, match=message):
        inventory_from_dict({"assets": [asset]})


def test_policy_rule_selectors():
    policy = CATALOG.policy("nist-ir-8547")
    p384 = CATALOG.algorithm("ecdsa-p384")
    found = policy_deadline(policy, Asset(name="a", algorithms=["ecdsa-p384"]), [p384])
    assert (found.year, found.deprecated, found.rule) == (2035, None, "128-bit and stronger quantum-vulnerable schemes")
    assert policy_deadline(policy, Asset(name="b", algorithms=["ml-kem-768"]), []).year is None
