"""The SQLite key store and the modelled link supply, on real database files."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qit4n.kms.shape import KeyShape
from qit4n.kms.storage import KeyBatch, PeerUnits
from qit4n.kms.store import (
    KeyLookupError,
    KeyStore,
    PoolExhaustedError,
    UnitMismatchError,
    batch_key_ids,
    new_batch_id,
    split_key_id,
)
from qit4n.kms.supply import LinkFiller, SeededLinkSupply

SECRET = "ab" * 32


def _pair(tmp_path, unit_bytes: int = 32):
    supply = SeededLinkSupply(SECRET, unit_bytes=unit_bytes)
    low, high = KeyStore(tmp_path / "low.sqlite"), KeyStore(tmp_path / "high.sqlite")
    low.register_link(link_id="L", parity=0)
    high.register_link(link_id="L", parity=1)
    return supply, low, high


def _units(supply, start: int, count: int) -> bytes:
    return b"".join(supply.units(start + 2 * i, 1)[0] for i in range(count))


def test_both_ends_spend_identical_units_and_split_ownership(tmp_path):
    supply, low, high = _pair(tmp_path)
    low.supply_units(link_id="L", count=10)
    high.supply_units(link_id="L", count=10)
    assert low.unit_count(link_id="L", owned_only=True) == 5 and high.unit_count(link_id="L", owned_only=True) == 5
    start, pad = low.allocate(link_id="L", supply=supply, count=3)
    assert start == 0 and pad == _units(supply, 0, 3)
    assert (
        high.forward(consumed=PeerUnits("L", start, 3, supply), out_link_id="L", out_supply=supply, out_count=1)[0]
        == pad
    )
    assert low.unit_count(link_id="L") == 7 and high.unit_count(link_id="L") == 6
    with pytest.raises(UnitMismatchError):
        high.forward(consumed=PeerUnits("L", 2, 1, supply), out_link_id="L", out_supply=supply, out_count=1)
    with pytest.raises(UnitMismatchError):
        high.forward(consumed=PeerUnits("L", 1, 1, supply), out_link_id="L", out_supply=supply, out_count=1)
    with pytest.raises(PoolExhaustedError):
        low.allocate(link_id="L", supply=supply, count=3)
    assert low.unit_count(link_id="L", owned_only=True) == 2


def test_a_peer_that_lags_catches_up_and_nothing_is_reused_after_reopen(tmp_path):
    supply, low, high = _pair(tmp_path)
    low.supply_units(link_id="L", count=20)
    start, pad = low.allocate(link_id="L", supply=supply, count=10)
    assert (
        high.forward(consumed=PeerUnits("L", start, 10, supply), out_link_id="L", out_supply=supply, out_count=1)[0]
        == pad
    )
    assert high.unit_count(link_id="L") == 8  # caught up to index 18, the highest named; 1 own unit spent
    low.close()
    high.close()
    low, high = KeyStore(tmp_path / "low.sqlite"), KeyStore(tmp_path / "high.sqlite")
    with pytest.raises(UnitMismatchError):
        high.forward(consumed=PeerUnits("L", 16, 2, supply), out_link_id="L", out_supply=supply, out_count=1)
    with pytest.raises(PoolExhaustedError):
        low.allocate(link_id="L", supply=supply, count=1)


def test_filler_respects_rate_and_capacity(tmp_path):
    supply, low, _ = _pair(tmp_path)
    filler = LinkFiller("L", supply, key_rate_bps=256 * 100, capacity_bits=256 * 150)
    assert filler.tick(low, 0.5) == 50
    assert filler.tick(low, 10.0) == 100
    assert low.unit_count(link_id="L") == 150


def _store_batch(store, count: int, slaves=("S",), master="M", size_bytes=4) -> list[str]:
    batch = KeyBatch(new_batch_id(), master, list(slaves), KeyShape(number=count, size_bits=8 * size_bytes))
    material = b"".join(bytes([i]) * size_bytes for i in range(count))
    store.receive(batch=batch, decode=lambda _pad: material)
    return batch_key_ids(batch.batch_id, count)


def test_take_is_all_or_nothing_and_survives_reopen(tmp_path):
    store = KeyStore(tmp_path / "kme.sqlite")
    k1, k2 = _store_batch(store, 2)
    (k3,) = _store_batch(store, 1, slaves=("T",))
    with pytest.raises(KeyLookupError) as missing:
        store.take(slave="S", master="M", key_ids=[k1, "nope"])
    assert not missing.value.unauthorised
    with pytest.raises(KeyLookupError) as foreign:
        store.take(slave="S", master="M", key_ids=[k3])
    assert foreign.value.unauthorised
    with pytest.raises(KeyLookupError) as wrong_master:
        store.take(slave="S", master="X", key_ids=[k1])
    assert wrong_master.value.unauthorised
    store.close()
    reopened = KeyStore(tmp_path / "kme.sqlite")
    assert [key.material for key in reopened.take(slave="S", master="M", key_ids=[k2])] == [b"\x01" * 4]
    assert reopened.waiting_keys() == 2
    assert [key.material for key in reopened.take(slave="S", master="M", key_ids=[k1.upper()])] == [b"\x00" * 4]
    with pytest.raises(KeyLookupError):
        reopened.take(slave="S", master="M", key_ids=[k1])
    assert reopened.waiting_keys() == 1 and reopened.counters()["delivered"] == 2


def test_keys_past_their_lifetime_are_erased(tmp_path):
    import time

    store = KeyStore(tmp_path / "kme.sqlite")
    (old,) = _store_batch(store, 1)
    assert store.expire(older_than_s=time.time() - 3600) == 0
    assert store.expire(older_than_s=time.time() + 1) == 1
    with pytest.raises(KeyLookupError):
        store.take(slave="S", master="M", key_ids=[old])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(
        st.tuples(st.sampled_from(["issue", "take", "take_twice", "void"]), st.integers(1, 4)), min_size=1, max_size=25
    )
)
def test_no_key_is_lost_or_delivered_twice(tmp_path_factory, operations):
    """Invariant: every stored key is delivered exactly once unless voided; never twice."""
    folder = tmp_path_factory.mktemp("prop")
    store = KeyStore(folder / "kme.sqlite")
    waiting: dict[str, bytes] = {}
    batches: dict[str, list[str]] = {}
    delivered: set[str] = set()
    for operation, count in operations:
        if operation == "issue":
            ids = _store_batch(store, count)
            batches[split_key_id(ids[0])[0]] = ids
            waiting.update((key_id, bytes([i]) * 4) for i, key_id in enumerate(ids))
        elif operation in ("take", "take_twice") and waiting:
            chosen = sorted(waiting)[:count]
            keys = store.take(slave="S", master="M", key_ids=chosen)
            assert [key.material for key in keys] == [waiting.pop(key_id) for key_id in chosen]
            delivered.update(chosen)
            if operation == "take_twice":
                with pytest.raises(KeyLookupError):
                    store.take(slave="S", master="M", key_ids=chosen[:1])
        elif operation == "void" and waiting:
            batch_id = split_key_id(sorted(waiting)[0])[0]
            assert store.void(batch_ids=[batch_id]) == 1
            for key_id in batches[batch_id]:
                waiting.pop(key_id, None)
    assert store.waiting_keys() == len(waiting)
    for key_id in delivered:
        with pytest.raises(KeyLookupError):
            store.take(slave="S", master="M", key_ids=[key_id])
    store.close()
