"""The SQLite key store and the modelled link supply, on real database files."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qit4n.kms.store import KeyLookupError, KeyStore, PoolExhaustedError, UnitMismatchError
from qit4n.kms.supply import LinkFiller, SeededLinkSupply

SECRET = "ab" * 32


def _pair(tmp_path, unit_bytes: int = 32):
    supply = SeededLinkSupply(SECRET, unit_bytes=unit_bytes)
    low, high = KeyStore(tmp_path / "low.sqlite"), KeyStore(tmp_path / "high.sqlite")
    low.register_link("L", 0)
    high.register_link("L", 1)
    return supply, low, high


def test_both_ends_spend_identical_units_and_split_ownership(tmp_path):
    supply, low, high = _pair(tmp_path)
    low.supply_units("L", 10)
    high.supply_units("L", 10)
    assert low.unit_count("L", owned_only=True) == 5 and high.unit_count("L", owned_only=True) == 5
    indices, pads = low.allocate("L", supply, 3)
    assert indices == [0, 2, 4] and pads == [supply.units(i, 1)[0] for i in indices]
    assert high.forward("L", indices, supply, "L", supply, 0)[0] == pads
    assert low.unit_count("L") == high.unit_count("L") == 7
    with pytest.raises(UnitMismatchError):
        high.forward("L", indices, supply, "L", supply, 0)
    with pytest.raises(UnitMismatchError):
        high.forward("L", [1], supply, "L", supply, 0)
    with pytest.raises(PoolExhaustedError):
        low.allocate("L", supply, 3)
    assert low.unit_count("L", owned_only=True) == 2


def test_a_peer_that_lags_catches_up_and_nothing_is_reused_after_reopen(tmp_path):
    supply, low, high = _pair(tmp_path)
    low.supply_units("L", 20)
    indices, pads = low.allocate("L", supply, 10)
    assert high.forward("L", indices, supply, "L", supply, 0)[0] == pads
    assert high.unit_count("L") == 9  # caught up to index 18, the highest named; its 9 own units remain
    low.close()
    high.close()
    low, high = KeyStore(tmp_path / "low.sqlite"), KeyStore(tmp_path / "high.sqlite")
    low.register_link("L", 0)
    with pytest.raises(UnitMismatchError):
        high.forward("L", indices[:1], supply, "L", supply, 0)
    with pytest.raises(PoolExhaustedError):
        low.allocate("L", supply, 1)


def test_filler_respects_rate_and_capacity(tmp_path):
    supply, low, _ = _pair(tmp_path)
    filler = LinkFiller("L", supply, key_rate_bps=256 * 100, capacity_bits=256 * 150)
    assert filler.tick(low, 0.5) == 50
    assert filler.tick(low, 10.0) == 100
    assert low.unit_count("L") == 150


def test_take_is_all_or_nothing_and_survives_reopen(tmp_path):
    store = KeyStore(tmp_path / "kme.sqlite")
    rows = [("k1", "S", "M", b"1"), ("k2", "S", "M", b"2"), ("k3", "T", "M", b"3")]
    store.receive(None, [], None, lambda _pads: [], lambda _keys: rows)
    with pytest.raises(KeyLookupError) as missing:
        store.take("S", "M", ["k1", "nope"])
    assert not missing.value.unauthorised
    with pytest.raises(KeyLookupError) as foreign:
        store.take("S", "M", ["k3"])
    assert foreign.value.unauthorised
    with pytest.raises(KeyLookupError) as wrong_master:
        store.take("S", "X", ["k1"])
    assert wrong_master.value.unauthorised
    store.close()
    reopened = KeyStore(tmp_path / "kme.sqlite")
    assert [key.material for key in reopened.take("S", "M", ["k1", "k2"])] == [b"1", b"2"]
    assert reopened.waiting_keys() == 1 and reopened.counters()["delivered"] == 2


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.sampled_from(["issue", "take", "take_twice", "void"]), st.integers(1, 4)), min_size=1, max_size=25))
def test_no_key_is_lost_or_delivered_twice(tmp_path_factory, operations):
    """Invariant: every stored key is delivered exactly once unless voided; never twice."""
    folder = tmp_path_factory.mktemp("prop")
    store = KeyStore(folder / "kme.sqlite")
    waiting: dict[str, bytes] = {}
    delivered: set[str] = set()
    counter = 0
    for operation, count in operations:
        if operation == "issue":
            rows = [(f"k{counter + i}", "S", "M", bytes([i])) for i in range(count)]
            counter += count
            store.receive(None, [], None, lambda _p: [], lambda _k, rows=rows: rows)
            waiting.update((row[0], row[3]) for row in rows)
        elif operation in ("take", "take_twice") and waiting:
            chosen = sorted(waiting)[:count]
            keys = store.take("S", "M", chosen)
            assert [key.material for key in keys] == [waiting.pop(key_id) for key_id in chosen]
            delivered.update(chosen)
            if operation == "take_twice":
                with pytest.raises(KeyLookupError):
                    store.take("S", "M", chosen[:1])
        elif operation == "void" and waiting:
            victim = sorted(waiting)[0]
            assert store.void([victim]) == 1
            waiting.pop(victim)
    assert store.waiting_keys() == len(waiting)
    for key_id in delivered:
        with pytest.raises(KeyLookupError):
            store.take("S", "M", [key_id])
    store.close()
