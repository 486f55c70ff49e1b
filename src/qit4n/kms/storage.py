"""What a KME needs from its durable key store: the :class:`KeyStorage` interface.

:class:`~qit4n.kms.store.KeyStore` (SQLite) implements it and documents the guarantees every
implementation must keep: each change is all or nothing and committed before the KME answers, a
link unit is spent at most once, and a key is delivered to each of its slaves at most once.
Every method takes keyword arguments only, so a call says what each number is. The errors an
implementation raises are part of the interface: :class:`PoolExhaustedError` (not enough owned
units), :class:`UnitMismatchError` (units a peer may not name) and :class:`KeyLookupError`.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Protocol

from qit4n.errors import ServiceError
from qit4n.kms.shape import KeyShape

__all__ = [
    "KeyBatch",
    "KeyLookupError",
    "KeyStorage",
    "PeerUnits",
    "PoolExhaustedError",
    "StoredKey",
    "UnitMismatchError",
    "UnitSource",
]


class KeyLookupError(ServiceError):
    """Some requested key IDs are unknown (``unauthorised=False``) or belong to another pair."""

    def __init__(self, key_ids: list[str], *, unauthorised: bool) -> None:
        self.key_ids = key_ids
        self.unauthorised = unauthorised
        super().__init__(f"key_IDs {key_ids}: {'issued for another SAE pair' if unauthorised else 'not found'}")


class PoolExhaustedError(ServiceError):
    """The link pool holds fewer owned units than a request needs."""


class UnitMismatchError(ServiceError):
    """A peer named units this end does not hold (already consumed, or owned by this end)."""


class UnitSource(Protocol):
    """Where the bytes of a link's units come from (a :class:`~qit4n.kms.supply.KeySupply`)."""

    def units(self, start: int, count: int) -> list[bytes]:
        """Units ``start .. start+count-1``."""
        ...


@dataclass(frozen=True)
class PeerUnits:
    """Units of a link named by the peer that owns them: ``start, start+2, ...`` (``count`` of them)."""

    link_id: str
    start: int
    count: int
    supply: UnitSource


@dataclass(frozen=True)
class KeyBatch:
    """Keys issued together: one batch ID, keys of one :class:`KeyShape`, for these slaves."""

    batch_id: str
    master: str
    slaves: list[str]
    shape: KeyShape


@dataclass(frozen=True)
class StoredKey:
    """A key waiting for a slave SAE."""

    key_id: str
    master: str
    material: bytes


class KeyStorage(Protocol):
    """The durable store of one KME: link pools (positions of units) and keys waiting for slaves."""

    def close(self) -> None:
        """Flush the counters and close the store (committed data stays)."""
        ...

    def group(self) -> AbstractContextManager[None]:
        """Group commit: the changes made inside commit together on exit (each still all-or-nothing)."""
        ...

    def register_link(self, *, link_id: str, parity: int, reserved_units: int = 0, agreement: bool = False) -> None:
        """Declare a link; this end owns the unit indices with ``index % 2 == parity``; the first
        ``reserved_units`` units hold its authentication key and are spent at once. With
        ``agreement`` only units both ends hold (:meth:`record_peer_supply`) are allocated."""
        ...

    def supply_units(self, *, link_id: str, count: int) -> None:
        """Record that the link delivered ``count`` more units."""
        ...

    def supply_agreement(self, *, link_id: str) -> tuple[int, int, int | None]:
        """(units held here, units announced to the peer and accepted, units the peer holds or None)."""
        ...

    def record_peer_supply(self, *, link_id: str, start: int, count: int) -> int:
        """The peer holds units ``start .. start+count-1`` (key supply notification); returns the units
        it holds now. :class:`UnitMismatchError` unless ``start`` continues the last accepted one."""
        ...

    def record_announced(self, *, link_id: str, units: int) -> None:
        """The peer accepted this end's notifications of units ``0 .. units-1``; :class:`UnitMismatchError`
        if this end holds fewer."""
        ...

    def unit_count(self, *, link_id: str, owned_only: bool = False) -> int:
        """Unspent units in the link's pool (all, or only those this end may allocate)."""
        ...

    def spent_units(self, *, link_id: str) -> int:
        """Units of a link this end has spent so far."""
        ...

    def allocate(self, *, link_id: str, supply: UnitSource, count: int) -> tuple[int, bytes]:
        """Take the next ``count`` owned units: (first index, their bytes concatenated)."""
        ...

    def forward(
        self, *, consumed: PeerUnits, out_link_id: str, out_supply: UnitSource, out_count: int
    ) -> tuple[bytes, int, bytes]:
        """Relay hop: spend the peer's units and allocate ``out_count`` owned units of ``out_link_id``, in one commit.

        Returns (incoming pad, first outgoing index, outgoing pad).
        """
        ...

    def receive(
        self,
        *,
        batch: KeyBatch,
        decode: Callable[[bytes], bytes],
        consumed: PeerUnits | None = None,
        e2e_bytes: int = 0,
        pending: bool = False,
    ) -> None:
        """Store a batch for its slaves; ``decode(pad)`` gives the keys from the consumed pad (b"" without),
        then ``e2e_bytes`` of end-to-end key; a ``pending`` batch waits for :meth:`confirm`."""
        ...

    def confirm(self, *, batch_id: str, check: Callable[[str, list[str], bytes, bytes], bool]) -> bool:
        """Make a pending batch deliverable if ``check(master, slaves, keys, e2e)`` accepts it, else delete it."""
        ...

    def take(self, *, slave: str, master: str, key_ids: list[str]) -> list[StoredKey]:
        """Deliver keys to ``slave`` and erase them, all or none."""
        ...

    def void(self, *, batch_ids: list[str], authorise: Callable[[str, str, bytes | None], bool] | None = None) -> int:
        """Delete batches whose relay failed (those ``authorise(batch_id, master, e2e)`` accepts); rows deleted."""
        ...

    def expire(self, *, older_than_s: float) -> int:
        """Delete batches stored before the epoch time ``older_than_s`` (counted as expired keys); returns rows."""
        ...

    def scrub(self) -> bool:
        """Remove erased keys' remnants (old page images) from durable storage; False if it must be retried."""
        ...

    def waiting_keys(self, *, master: str | None = None, slave: str | None = None) -> int:
        """Keys stored for slaves and not yet delivered (optionally for one pair)."""
        ...

    def count_issued(self, *, number: int) -> None:
        """Count keys handed to a master SAE."""
        ...

    def flush_counters(self) -> None:
        """Write the in-memory counters."""
        ...

    def counters(self) -> dict[str, int]:
        """Keys issued to masters, delivered to slaves and expired so far."""
        ...
