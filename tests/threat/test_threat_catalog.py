"""The shipped threat catalog: every entry cites a source; lookups, validation, export and diff."""

from __future__ import annotations

import pytest
import yaml

from qit4n.errors import InputError, ParameterError
from qit4n.threat import catalog_to_dict, diff_catalogs, load_catalog
from qit4n.threat.catalog import catalog_from_dict


def test_every_entry_cites_a_source():
    catalog = load_catalog()
    for table in (catalog.algorithms, catalog.estimates, catalog.timelines, catalog.policies):
        assert table
        for entry in table:
            assert len(entry.source) > 10, entry.id


def test_ids_are_unique_and_aliases_unambiguous():
    catalog = load_catalog()
    ids = [a.id for a in catalog.algorithms]
    assert len(ids) == len(set(ids))
    owner: dict[str, str] = {}
    for algorithm in catalog.algorithms:
        for name in {algorithm.id, *(alias.lower() for alias in algorithm.aliases)}:
            assert owner.setdefault(name, algorithm.id) == algorithm.id, (name, owner[name], algorithm.id)


def test_estimates_target_catalog_algorithms():
    catalog = load_catalog()
    for estimate in catalog.estimates:
        for target in (estimate.target, *estimate.also_breaks):
            assert catalog.find_algorithm(target) is not None, estimate.id


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("X25519MLKEM768", "x25519mlkem768"),
        ("secp256r1", "ecdh-p256"),
        ("ecdsa_secp256r1_sha256", "ecdsa-p256"),
        ("ML-KEM-768", "ml-kem-768"),
        ("AES_256_GCM", "aes-256"),
    ],
)
def test_lookup_by_alias(name, expected):
    assert load_catalog().algorithm(name).id == expected


def test_unknown_algorithm_names_itself():
    with pytest.raises(ParameterError, match="algorithm = 'rot13'"):
        load_catalog().algorithm("rot13")


def test_unknown_timeline_and_policy_list_the_valid_ones():
    catalog = load_catalog()
    with pytest.raises(ParameterError, match="gri-2023"):
        catalog.timeline("tomorrow")
    with pytest.raises(ParameterError, match="nist-ir-8547"):
        catalog.policy("never")


def test_quantum_vulnerable_schemes_have_no_nist_category_and_pqc_have_one():
    for algorithm in load_catalog().algorithms:
        if algorithm.quantum_vulnerable or algorithm.classical_weakness:
            # Broken by Shor's algorithm, or already broken classically (SHA-1): no PQC category.
            assert algorithm.nist_category is None, algorithm.id
        else:
            assert algorithm.nist_category in (1, 2, 3, 4, 5), algorithm.id


def test_export_reads_back_identical(tmp_path):
    catalog = load_catalog()
    path = tmp_path / "catalog.yaml"
    path.write_text(yaml.safe_dump(catalog_to_dict(catalog)), encoding="utf-8")
    assert load_catalog(path) == catalog
    assert diff_catalogs(catalog, load_catalog(path)) == []


def test_diff_reports_added_removed_and_changed_entries(tmp_path):
    data = catalog_to_dict(load_catalog())
    data["version"] = "2000.1"
    data["timelines"][0]["anchors"][0]["probability"] = 0.05
    removed = data["estimates"].pop()
    data["algorithms"] = [a for a in data["algorithms"] if a["id"] != "ml-kem-512"]
    old = catalog_from_dict(data, "old")
    changes = {(c.table, c.entry_id): c for c in diff_catalogs(old, load_catalog())}
    assert changes[("estimates", removed["id"])].change == "added"
    assert changes[("algorithms", "ml-kem-512")].change == "added"
    changed = changes[("timelines", "gri-2023")]
    assert changed.change == "changed"
    assert [field for field, _, _ in changed.fields] == ["anchors"]
    assert len(changes) == 3
    assert {c.change for c in diff_catalogs(load_catalog(), old)} == {"removed", "changed"}


def test_non_monotone_timeline_is_rejected_with_its_path():
    data = catalog_to_dict(load_catalog())
    data["timelines"][0]["anchors"][1]["probability"] = 0.01
    with pytest.raises(InputError, match=r"timelines\[0\].*anchors\[1\].probability = 0.01: must be >= 0.11"):
        catalog_from_dict(data, "bad")


def test_unknown_field_is_rejected():
    data = catalog_to_dict(load_catalog())
    data["algorithms"][0]["colour"] = "blue"
    with pytest.raises(InputError, match=r"algorithms\[0\].colour = 'blue': unknown field"):
        catalog_from_dict(data, "bad")


def test_missing_catalog_path_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="no such catalog"):
        load_catalog(tmp_path / "absent.yaml")


def test_post_2025_ecdlp_estimates_match_their_abstracts():
    """Chevignard, Schrottenloher et al. (February 2026), abstract: 3.12n + o(n) qubits, 1098 for n = 256, 22 runs
    of 2^38.10 Toffoli gates. Luo et al., arXiv:2604.02311, abstract: 5n + 4 floor(log2 n) + O(1) qubits, 1333 for
    n = 256. Tolerance: the catalog rounds 2^38.10 to four digits."""
    catalog = load_catalog()
    estimates = {estimate.id: estimate for estimate in catalog.estimates}
    rns = estimates["chevignard-schrottenloher-2026-p256"]
    assert rns.logical_qubits == 1098 and rns.toffoli_gates == pytest.approx(2**38.10, rel=1e-3)
    assert rns.logical_qubits > 3.12 * 256  # the o(n) term is positive at n = 256
    euclid = estimates["luo-2026-p256"]
    assert euclid.logical_qubits == 1333
    leading = 5 * 256 + 4 * 8  # 5n + 4 floor(log2 n)
    assert 0 <= euclid.logical_qubits - leading < 64  # the O(1) term: 21 qubits
    # Both are narrower than the earlier low-width circuit (Haner et al. 2020, 2124 logical qubits).
    assert max(rns.logical_qubits, euclid.logical_qubits) < (estimates["haner-2020-p256"].logical_qubits or 0)
    for estimate in (rns, euclid):
        assert estimate.breaks("ecdsa-p256") and estimate.breaks("secp256k1")
