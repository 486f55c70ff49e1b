"""Durable key store of one KME: SQLite in WAL mode, one database per KME.

Link pools. Each QKD link's key is a stream of units numbered 0, 1, 2, ... with the same bytes
at both ends (:mod:`qit4n.kms.supply`). Per link the store keeps how many units the link has
delivered so far (``supplied``), which indices this end has spent, and a cursor: the end whose
parity matches an index *owns* it and allocates its own indices in increasing order; the peer
consumes an index only when the owner names it, and each index at most once (the ``consumed``
table refuses a second use). So the two ends never spend the same unit for different keys.
Unit bytes are produced by the supply when they are spent; the store holds positions, not bytes,
so a pool of any capacity costs a few rows.

Keys waiting for slave SAEs live in ``batches``: the keys issued by one Get key call, one row per
slave, with a bitmap of the keys already delivered; a delivered key's bytes are overwritten with
zeros and the row is deleted when its last key is delivered. A key_ID is its batch's UUID with
the key's index in the low 16 bits, so a lookup is one row whatever the batch size. Consumed
link units are recorded as runs (``consumed``), one row per relay message. A relayed batch is
stored *pending* with its sealed end-to-end key (:mod:`qit4n.kms.relayauth`) and is deliverable
only once :meth:`KeyStore.confirm` has checked the master's KME's confirm tag. The first units of a
link (``reserved``) hold its authentication hash key and are never allocated.

Supply agreement (ITU-T Q.4163 key supply notification, :mod:`qit4n.kms.kxsupply`). A link registered
with ``agreement=True`` also keeps ``peer_supplied``, the units the peer KME has notified it holds
(each notification must start exactly where the last accepted one ended), and ``announced``, the
units this end has notified and the peer accepted. This end then allocates only units below
``min(supplied, peer_supplied)``: both ends hold every unit it names.

Every change is one transaction (``BEGIN IMMEDIATE`` ... ``COMMIT``). A KME commits before it
answers, so after ``kill -9`` a key that was acknowledged is still there, and a key that was
delivered is gone: nothing acknowledged is lost and nothing is delivered twice. WAL with
``synchronous=NORMAL`` survives a process crash; ``synchronous=FULL`` also survives power loss.

At rest (:mod:`qit4n.kms.atrest`): the database and its ``-wal``/``-shm`` files are mode 0600 in
a 0700 folder; waiting key material is sealed with AES-256-GCM under the KME's key-encryption key,
bound to its (batch, slave) row; ``secure_delete`` overwrites deleted and replaced rows with
zeros, and :meth:`KeyStore.scrub` (a truncating WAL checkpoint, run by the KME every second)
removes the old page images from the WAL, so a delivered, voided or expired key is not
recoverable from either file afterwards.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from qit4n.errors import ServiceError
from qit4n.kms.atrest import KeySealer, check_private, private_dir
from qit4n.kms.storage import (
    KeyBatch,
    KeyLookupError,
    PeerUnits,
    PoolExhaustedError,
    StoredKey,
    UnitMismatchError,
    UnitSource,
)

__all__ = [
    "MAX_BATCH_KEYS",
    "KeyLookupError",
    "KeyStore",
    "PoolExhaustedError",
    "UnitMismatchError",
    "batch_key_ids",
    "new_batch_id",
    "split_key_id",
]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS links (link TEXT PRIMARY KEY, parity INTEGER NOT NULL, supplied INTEGER NOT NULL,
    cursor INTEGER NOT NULL, spent INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS consumed (link TEXT NOT NULL, lo INTEGER NOT NULL, hi INTEGER NOT NULL,
    PRIMARY KEY (link, lo)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS batches (batch_id TEXT NOT NULL, slave TEXT NOT NULL, master TEXT NOT NULL,
    size_bytes INTEGER NOT NULL, count INTEGER NOT NULL, material BLOB NOT NULL, delivered BLOB NOT NULL,
    remaining INTEGER NOT NULL, created_s REAL NOT NULL, confirmed INTEGER NOT NULL DEFAULT 1, e2e BLOB,
    PRIMARY KEY (batch_id, slave)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS batches_age ON batches (created_s);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS reserved (link TEXT PRIMARY KEY, units INTEGER NOT NULL);
"""

#: Columns added to ``batches`` and ``links`` since their first release (added to older databases on open).
_ADDED_COLUMNS = {
    "batches": {"confirmed": "INTEGER NOT NULL DEFAULT 1", "e2e": "BLOB"},
    "links": {"peer_supplied": "INTEGER", "announced": "INTEGER NOT NULL DEFAULT 0"},
}

_MAX_PARAMS = 900


#: How far a peer may name units beyond this end's own supply (this end then catches up).
MAX_UNITS_AHEAD = 1 << 22

_INDEX_BITS = 16
MAX_BATCH_KEYS = 1 << _INDEX_BITS


def new_batch_id() -> str:
    """A random UUID (version 4) whose low 16 bits are zero: the ID of a batch of keys."""
    return str(uuid.UUID(int=uuid.uuid4().int & ~(MAX_BATCH_KEYS - 1)))


def batch_key_ids(batch_id: str, count: int) -> list[str]:
    """The key_IDs of a batch: the batch UUID plus the key's index in its low 16 bits.

    >>> batch_key_ids("5f0c2a1e-8d3b-4c8e-9a41-7d2e3f100000", 2)
    ['5f0c2a1e-8d3b-4c8e-9a41-7d2e3f100000', '5f0c2a1e-8d3b-4c8e-9a41-7d2e3f100001']
    """
    prefix = batch_id[:-4]
    return [f"{prefix}{index:04x}" for index in range(count)]


def split_key_id(key_id: str) -> tuple[str, int] | None:
    """(batch ID, index) of a key_ID, or None if it is not a UUID."""
    try:
        value = uuid.UUID(key_id).int
    except (ValueError, AttributeError, TypeError):
        return None
    return str(uuid.UUID(int=value & ~(MAX_BATCH_KEYS - 1))), value & (MAX_BATCH_KEYS - 1)


def _chunks(items: Sequence[str], size: int = _MAX_PARAMS) -> Iterable[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


@dataclass
class _Waiting:
    """One ``batches`` row while :meth:`KeyStore.take` works on it."""

    master: str
    size_bytes: int
    count: int
    material: bytearray
    delivered: bytearray
    remaining: int

    def holds(self, index: int) -> bool:
        """Whether key ``index`` exists and has not been delivered yet."""
        return index < self.count and not self.delivered[index // 8] >> (index % 8) & 1

    def pop(self, index: int) -> bytes:
        """Key ``index``'s bytes; its place is zeroed and marked delivered."""
        span = slice(index * self.size_bytes, (index + 1) * self.size_bytes)
        material = bytes(self.material[span])
        self.material[span] = bytes(self.size_bytes)
        self.delivered[index // 8] |= 1 << (index % 8)
        self.remaining -= 1
        return material


class KeyStore:
    """The SQLite database of one KME (see the module docstring for the guarantees).

    Implements :class:`~qit4n.kms.storage.KeyStorage`.

    Parameters
    ----------
    path : Path
        Database file; created with its tables if missing.
    synchronous : str
        ``NORMAL`` (survives a process crash) or ``FULL`` (survives power loss too).
    kek_file : Path or None
        The key-encryption key (32 bytes, mode 0600; created if missing); default: the database
        path with ``.kek`` appended.
    sealer : KeySealer or None
        Seals the stored keys instead of ``kek_file``'s key (e.g. a PKCS#11 token's, :mod:`qit4n.kms.kek`).
    """

    def __init__(
        self, path: Path, *, synchronous: str = "NORMAL", kek_file: Path | None = None, sealer: KeySealer | None = None
    ) -> None:
        if synchronous not in ("NORMAL", "FULL"):
            raise ServiceError(f"synchronous = {synchronous!r}: must be NORMAL or FULL")
        if not path.parent.exists():
            private_dir(path.parent)
        if not path.exists():
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))  # SQLite gives -wal/-shm the same mode
        check_private(path.parent)
        self.path = path
        self._sealer = sealer or KeySealer.from_file(kek_file or path.with_name(path.name + ".kek"))
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA secure_delete=ON")
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(f"PRAGMA synchronous={synchronous}")
        self._db.executescript(_SCHEMA)
        for table, added in _ADDED_COLUMNS.items():
            columns = {row[1] for row in self._db.execute(f"PRAGMA table_info({table})")}
            for name, declaration in added.items():
                if name not in columns:
                    self._db.execute(f"ALTER TABLE {table} ADD COLUMN {name} {declaration}")
        self._grouped = False
        self._erased = True  # key material erased since the last scrub (unknown at open: scrub once)
        self._issued_pending = 0
        self._reserved: dict[str, int] = {}
        self._lock = threading.RLock()  # one connection; callers may use it from a worker thread

    def close(self) -> None:
        """Flush the counters, scrub the WAL and close the database (committed data stays on disk)."""
        self.flush_counters()
        self.scrub()
        self._db.close()

    @contextlib.contextmanager
    def _tx(self) -> Iterator[sqlite3.Cursor]:
        """One transaction, or a savepoint inside :meth:`group` (all or nothing either way)."""
        with self._lock:
            yield from self._tx_locked()

    def _tx_locked(self) -> Iterator[sqlite3.Cursor]:
        cursor = self._db.cursor()
        if self._grouped:
            cursor.execute("SAVEPOINT step")
            try:
                yield cursor
            except BaseException:
                cursor.execute("ROLLBACK TO step")
                cursor.execute("RELEASE step")
                raise
            cursor.execute("RELEASE step")
            return
        cursor.execute("BEGIN IMMEDIATE")
        try:
            yield cursor
        except BaseException:
            cursor.execute("ROLLBACK")
            raise
        cursor.execute("COMMIT")

    @contextlib.contextmanager
    def group(self) -> Iterator[None]:
        """Group commit: the changes made inside commit together on exit (each still all-or-nothing).

        Used for a batch of relay messages; the caller must not answer any of them before the
        block has exited.
        """
        with self._lock:
            yield from self._group_locked()

    def _group_locked(self) -> Iterator[None]:
        if self._grouped:
            yield
            return
        self._db.execute("BEGIN IMMEDIATE")
        self._grouped = True
        try:
            yield
        except BaseException:
            self._grouped = False
            self._db.execute("ROLLBACK")
            raise
        self._grouped = False
        self._db.execute("COMMIT")

    def _bump(self, cursor: sqlite3.Cursor, name: str, amount: int) -> None:
        cursor.execute(
            "INSERT INTO counters (name, value) VALUES (?, ?) "
            "ON CONFLICT (name) DO UPDATE SET value = value + excluded.value",
            (name, amount),
        )

    # -- link pools -------------------------------------------------------------------------
    def register_link(self, *, link_id: str, parity: int, reserved_units: int = 0, agreement: bool = False) -> None:
        """Declare a link; this end owns the unit indices with ``idx % 2 == parity``.

        The first ``reserved_units`` units (an even number) hold the link's authentication key:
        never allocated nor accepted from the peer, they count as spent as they are supplied. A
        link registered before with another reservation is refused
        (:class:`~qit4n.errors.ServiceError`): its ends would disagree on that key. With
        ``agreement``, units are allocated only once the peer has notified it holds them
        (:meth:`record_peer_supply`).
        """
        if reserved_units < 0 or reserved_units % 2:
            raise ServiceError(f"reserved_units = {reserved_units}: must be an even number >= 0")
        with self._tx() as cursor:
            known = cursor.execute("SELECT 1 FROM links WHERE link = ?", (link_id,)).fetchone()
            if known is None:
                cursor.execute(
                    "INSERT INTO links (link, parity, supplied, cursor, spent) VALUES (?, ?, 0, ?, 0)",
                    (link_id, parity, reserved_units + parity),
                )
                if reserved_units:
                    peer_first = 1 - parity
                    cursor.execute(
                        "INSERT INTO consumed (link, lo, hi) VALUES (?, ?, ?)",
                        (link_id, peer_first, reserved_units - 2 + peer_first),
                    )
                cursor.execute("INSERT INTO reserved (link, units) VALUES (?, ?)", (link_id, reserved_units))
                self._reserved[link_id] = reserved_units
                if agreement:
                    cursor.execute("UPDATE links SET peer_supplied = 0 WHERE link = ?", (link_id,))
                return
            if agreement:
                cursor.execute(
                    "UPDATE links SET peer_supplied = 0 WHERE link = ? AND peer_supplied IS NULL", (link_id,)
                )
            row = cursor.execute("SELECT units FROM reserved WHERE link = ?", (link_id,)).fetchone()
            if (0 if row is None else row[0]) != reserved_units:
                raise ServiceError(
                    f"{self.path}: link {link_id} reserves {0 if row is None else row[0]} units for its "
                    f"authentication key, this KME needs {reserved_units}; the database predates authenticated "
                    "relay: start from a fresh state folder"
                )
            self._reserved[link_id] = reserved_units

    def _link(self, cursor: sqlite3.Cursor, link_id: str) -> tuple[int, int, int, int]:
        row: tuple[int, int, int, int] | None = cursor.execute(
            "SELECT parity, supplied, cursor, spent FROM links WHERE link = ?", (link_id,)
        ).fetchone()
        if row is None:
            raise UnitMismatchError(f"link {link_id}: not a link of this KME")
        return row

    def _peer_supplied(self, cursor: sqlite3.Cursor, link_id: str) -> int | None:
        """Units the peer has notified it holds; None when the link does not use supply agreement."""
        row = cursor.execute("SELECT peer_supplied FROM links WHERE link = ?", (link_id,)).fetchone()
        return None if row is None or row[0] is None else int(row[0])

    def _usable(self, cursor: sqlite3.Cursor, link_id: str, supplied: int) -> int:
        """Units below which this end may allocate: all it holds, or those both ends hold (supply agreement)."""
        peer = self._peer_supplied(cursor, link_id)
        return supplied if peer is None else min(supplied, peer)

    def supply_agreement(self, *, link_id: str) -> tuple[int, int, int | None]:
        """(units this end holds, units it has announced and the peer accepted, units the peer holds
        or None without supply agreement)."""
        with self._lock:
            row = self._db.execute(
                "SELECT supplied, announced, peer_supplied FROM links WHERE link = ?", (link_id,)
            ).fetchone()
        if row is None:
            raise UnitMismatchError(f"link {link_id}: not a link of this KME")
        return row[0], row[1], row[2]

    def record_peer_supply(self, *, link_id: str, start: int, count: int) -> int:
        """The peer notified that it holds units ``start .. start+count-1``; returns the units it holds now.

        Raises :class:`UnitMismatchError` (nothing changes) unless the link uses supply agreement
        and the notification starts exactly where the last accepted one ended (a gap: notifications
        were lost; an overlap: a duplicate or a replay). The peer may hold more units than this end
        (its module may run ahead): only units both ends hold are allocated.
        """
        with self._tx() as cursor:
            self._link(cursor, link_id)
            expected = self._peer_supplied(cursor, link_id)
            if expected is None:
                raise UnitMismatchError(f"link {link_id}: this end does not use supply agreement")
            if start != expected:
                kind = "a gap (notifications lost)" if start > expected else "an overlap (a duplicate or a replay)"
                raise UnitMismatchError(
                    f"link {link_id}: notified key IDs from {start}, expected from {expected}: {kind}"
                )
            cursor.execute("UPDATE links SET peer_supplied = ? WHERE link = ?", (start + count, link_id))
        return start + count

    def record_announced(self, *, link_id: str, units: int) -> None:
        """The peer holds this end's notification of units ``0 .. units-1`` (its response said so).

        Raises :class:`UnitMismatchError` (nothing changes) if ``units`` exceeds what this end holds:
        the peer's record and this end's supply disagree.
        """
        with self._tx() as cursor:
            _parity, supplied, _next_own, _spent = self._link(cursor, link_id)
            if not 0 <= units <= supplied:
                raise UnitMismatchError(
                    f"link {link_id}: the peer records {units} units notified by this end, which holds {supplied}"
                )
            cursor.execute("UPDATE links SET announced = ? WHERE link = ?", (units, link_id))

    def _reserved_arriving(self, link_id: str, before: int, after: int) -> int:
        """Reserved units among units ``before .. after - 1`` (spent as they are supplied)."""
        reserved = self._reserved.get(link_id, 0)
        return max(0, min(after, reserved) - min(before, reserved))

    def supply_units(self, *, link_id: str, count: int) -> None:
        """Record that the link delivered ``count`` more units (one transaction)."""
        with self._tx() as cursor:
            _parity, supplied, _next_own, _spent = self._link(cursor, link_id)
            cursor.execute(
                "UPDATE links SET supplied = supplied + ?, spent = spent + ? WHERE link = ?",
                (count, self._reserved_arriving(link_id, supplied, supplied + count), link_id),
            )

    def unit_count(self, *, link_id: str, owned_only: bool = False) -> int:
        """Unspent units in the link's pool (all, or only those this end may allocate)."""
        with self._lock:
            cursor = self._db.cursor()
            _parity, supplied, next_own, spent = self._link(cursor, link_id)
            usable = self._usable(cursor, link_id, supplied) if owned_only else supplied
        if owned_only:
            return 0 if next_own >= usable else (usable - 1 - next_own) // 2 + 1
        return max(supplied - spent, 0)

    def _allocate(self, cursor: sqlite3.Cursor, link_id: str, supply: UnitSource, count: int) -> tuple[int, bytes]:
        _parity, supplied, next_own, _spent = self._link(cursor, link_id)
        usable = self._usable(cursor, link_id, supplied)
        last = next_own + 2 * (count - 1)
        if count < 1 or last >= usable:
            available = 0 if next_own >= usable else (usable - 1 - next_own) // 2 + 1
            raise PoolExhaustedError(f"link {link_id}: {available} key units stored, {count} needed")
        cursor.execute("UPDATE links SET cursor = ?, spent = spent + ? WHERE link = ?", (last + 2, count, link_id))
        return next_own, b"".join(supply.units(next_own, 2 * count - 1)[::2])

    def _consume(self, cursor: sqlite3.Cursor, units: PeerUnits) -> bytes:
        """Spend the peer's units ``start, start+2, ...`` (``count`` of them) once; their bytes."""
        link_id, start, count = units.link_id, units.start, units.count
        parity, supplied, _next_own, _spent = self._link(cursor, link_id)
        last = start + 2 * (count - 1)
        if count < 1 or start < 0 or start % 2 == parity:
            raise UnitMismatchError(f"link {link_id}: units from {start} (x{count}) are not the peer's to name")
        if last >= supplied and self._peer_supplied(cursor, link_id) is not None:
            raise UnitMismatchError(
                f"link {link_id}: unit {last} is not held here (this end holds {supplied} units and has "
                "notified no more to the peer)"
            )
        if last >= supplied + MAX_UNITS_AHEAD:
            raise UnitMismatchError(
                f"link {link_id}: unit {last} is more than {MAX_UNITS_AHEAD} units ahead "
                f"of this end's supply ({supplied})"
            )
        previous = cursor.execute(
            "SELECT lo, hi FROM consumed WHERE link = ? AND lo <= ? ORDER BY lo DESC LIMIT 1", (link_id, last)
        ).fetchone()
        if previous is not None and previous[1] >= start:
            raise UnitMismatchError(
                f"link {link_id}: units {start}..{last} overlap units {previous[0]}..{previous[1]} already consumed"
            )
        cursor.execute("INSERT INTO consumed (link, lo, hi) VALUES (?, ?, ?)", (link_id, start, last))
        now_supplied = max(supplied, last + 1)
        cursor.execute(
            "UPDATE links SET supplied = ?, spent = spent + ? WHERE link = ?",
            (now_supplied, count + self._reserved_arriving(link_id, supplied, now_supplied), link_id),
        )
        return b"".join(units.supply.units(start, 2 * count - 1)[::2])

    def allocate(self, *, link_id: str, supply: UnitSource, count: int) -> tuple[int, bytes]:
        """Take the next ``count`` owned units of a link (committed on return).

        Returns the first index (the units are ``start, start+2, ...``) and their bytes, concatenated.
        """
        with self._tx() as cursor:
            return self._allocate(cursor, link_id, supply, count)

    def forward(
        self, *, consumed: PeerUnits, out_link_id: str, out_supply: UnitSource, out_count: int
    ) -> tuple[bytes, int, bytes]:
        """Relay hop: consume the peer's named units and allocate ``out_count`` units of ``out_link_id``.

        Returns the incoming pad, and the first index and pad of the outgoing units, in one commit.
        """
        with self._tx() as cursor:
            pad_in = self._consume(cursor, consumed)
            out_start, pad_out = self._allocate(cursor, out_link_id, out_supply, out_count)
        return pad_in, out_start, pad_out

    # -- keys waiting for slaves --------------------------------------------------------------
    def receive(
        self,
        *,
        batch: KeyBatch,
        decode: Callable[[bytes], bytes],
        consumed: PeerUnits | None = None,
        e2e_bytes: int = 0,
        pending: bool = False,
    ) -> None:
        """Final hop: consume the pad (if any), decode the batch's keys with it, store them per slave.

        ``decode(pad) -> bytes`` returns the batch's keys concatenated (``pad`` is ``b""`` when
        nothing is ``consumed``: the keys were made here), followed by ``e2e_bytes`` bytes of
        end-to-end key (kept, sealed, to check the confirm and void tags). A ``pending`` batch is
        not deliverable before :meth:`confirm`. One transaction.
        """
        shape = batch.shape
        with self._tx() as cursor:
            pad = self._consume(cursor, consumed) if consumed is not None else b""
            decoded = decode(pad)
            material, e2e = (decoded[:-e2e_bytes], decoded[-e2e_bytes:]) if e2e_bytes else (decoded, b"")
            if len(material) != shape.total_bytes:
                raise UnitMismatchError(
                    f"batch {batch.batch_id}: {len(material)} key bytes, expected {shape.total_bytes}"
                )
            delivered = bytes(-(-shape.number // 8))
            now_s = time.time()
            rows = [
                (
                    batch.batch_id,
                    slave,
                    batch.master,
                    shape.size_bytes,
                    shape.number,
                    self._sealer.seal(material, context=f"{batch.batch_id}/{slave}"),
                    delivered,
                    shape.number,
                    now_s,
                    0 if pending else 1,
                    self._sealer.seal(e2e, context=f"{batch.batch_id}/{slave}/e2e") if e2e else None,
                )
                for slave in batch.slaves
            ]
            cursor.executemany(
                "INSERT INTO batches (batch_id, slave, master, size_bytes, count, material, delivered, remaining, "
                "created_s, confirmed, e2e) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )

    def confirm(self, *, batch_id: str, check: Callable[[str, list[str], bytes, bytes], bool]) -> bool:
        """Make a pending batch deliverable if ``check(master, slaves, keys, e2e)`` accepts it.

        A batch that ``check`` refuses is deleted (its keys can never be delivered); one that is
        not pending (unknown, confirmed already, or stored without end-to-end key) is refused
        and left alone. Returns whether the batch was confirmed. One transaction.
        """
        with self._tx() as cursor:
            rows = cursor.execute(
                "SELECT slave, master, material, e2e FROM batches WHERE batch_id = ? AND confirmed = 0 "
                "AND e2e IS NOT NULL ORDER BY slave",
                (batch_id,),
            ).fetchall()
            if not rows:
                return False
            slave, master = rows[0][0], rows[0][1]
            keys = self._sealer.open(rows[0][2], context=f"{batch_id}/{slave}")
            e2e = self._sealer.open(rows[0][3], context=f"{batch_id}/{slave}/e2e")
            if check(master, [row[0] for row in rows], keys, e2e):
                cursor.execute("UPDATE batches SET confirmed = 1 WHERE batch_id = ?", (batch_id,))
                return True
            cursor.execute("DELETE FROM batches WHERE batch_id = ?", (batch_id,))
            self._erased = True
            return False

    def count_issued(self, *, number: int) -> None:
        """Count ``number`` keys handed to a master SAE (kept in memory until :meth:`flush_counters`)."""
        self._issued_pending += number

    def flush_counters(self) -> None:
        """Write the in-memory ``issued`` count (the counters are statistics, not key state)."""
        if self._issued_pending:
            with self._tx() as cursor:
                self._bump(cursor, "issued", self._issued_pending)
            self._issued_pending = 0

    def take(self, *, slave: str, master: str, key_ids: list[str]) -> list[StoredKey]:
        """Deliver keys to ``slave`` and erase them, all or none (one transaction).

        Raises
        ------
        KeyLookupError
            Some IDs are unknown or already delivered, or were issued for another (master, slave) pair.
        """
        with self._tx() as cursor:
            parsed = {key_id: split_key_id(key_id) for key_id in key_ids}
            rows: dict[str, _Waiting] = {}
            for batch_id in {part[0] for part in parsed.values() if part is not None}:
                row = cursor.execute(
                    "SELECT master, size_bytes, count, material, delivered, remaining FROM batches "
                    "WHERE batch_id = ? AND slave = ? AND confirmed = 1",
                    (batch_id, slave),
                ).fetchone()
                if row is not None:
                    material = self._sealer.open(row[3], context=f"{batch_id}/{slave}")
                    rows[batch_id] = _Waiting(row[0], row[1], row[2], bytearray(material), bytearray(row[4]), row[5])
            missing, foreign = [], []
            found: dict[str, tuple[str, int]] = {}
            for key_id, part in parsed.items():
                waiting = None if part is None else rows.get(part[0])
                if part is None or waiting is None or not waiting.holds(part[1]):
                    missing.append(key_id)
                elif waiting.master != master:
                    foreign.append(key_id)
                else:
                    found[key_id] = part
            if missing or foreign:
                query = "SELECT 1 FROM batches WHERE batch_id = ? AND slave != ? AND count > ? LIMIT 1"
                elsewhere = [
                    key_id
                    for key_id in missing
                    if (part := parsed[key_id]) is not None
                    and part[0] not in rows
                    and cursor.execute(query, (part[0], slave, part[1])).fetchone()
                ]
                raise KeyLookupError(
                    sorted(set(foreign + elsewhere)) or missing, unauthorised=bool(foreign or elsewhere)
                )
            if len(set(found.values())) != len(key_ids):
                raise KeyLookupError(key_ids, unauthorised=False)
            keys = []
            for key_id in key_ids:
                batch_id, index = found[key_id]
                keys.append(StoredKey(key_id, master, rows[batch_id].pop(index)))
            for batch_id, waiting in rows.items():
                if waiting.remaining == 0:
                    cursor.execute("DELETE FROM batches WHERE batch_id = ? AND slave = ?", (batch_id, slave))
                else:
                    cursor.execute(
                        "UPDATE batches SET material = ?, delivered = ?, remaining = ? "
                        "WHERE batch_id = ? AND slave = ?",
                        (
                            self._sealer.seal(bytes(waiting.material), context=f"{batch_id}/{slave}"),
                            bytes(waiting.delivered),
                            waiting.remaining,
                            batch_id,
                            slave,
                        ),
                    )
            self._bump(cursor, "delivered", len(key_ids))
            self._erased = True
        return keys

    def void(self, *, batch_ids: list[str], authorise: Callable[[str, str, bytes | None], bool] | None = None) -> int:
        """Delete key batches whose relay failed upstream (no half-delivered key); returns rows deleted.

        With ``authorise``, a stored batch is deleted only if ``authorise(batch_id, master, e2e)``
        accepts it (``e2e`` is its end-to-end key, None for a batch made here); the others stay.
        """
        deleted = 0
        with self._tx() as cursor:
            if authorise is not None:
                allowed = []
                for batch_id in batch_ids:
                    row = cursor.execute(
                        "SELECT slave, master, e2e FROM batches WHERE batch_id = ? LIMIT 1", (batch_id,)
                    ).fetchone()
                    if row is None:
                        continue
                    e2e = None if row[2] is None else self._sealer.open(row[2], context=f"{batch_id}/{row[0]}/e2e")
                    if authorise(batch_id, row[1], e2e):
                        allowed.append(batch_id)
                batch_ids = allowed
            for chunk in _chunks(batch_ids):
                marks = ",".join("?" * len(chunk))
                deleted += cursor.execute(f"DELETE FROM batches WHERE batch_id IN ({marks})", tuple(chunk)).rowcount
            self._erased = self._erased or deleted > 0
        return deleted

    def expire(self, *, older_than_s: float) -> int:
        """Delete batches stored before the epoch time ``older_than_s`` (key lifetime); returns rows.

        Also removes keys orphaned by a crash between a slave's KME storing them and the master
        being answered: nobody knows their IDs, and they must not stay forever.
        """
        with self._tx() as cursor:
            keys = cursor.execute(
                "SELECT COALESCE(SUM(remaining), 0) FROM batches WHERE created_s < ?", (older_than_s,)
            ).fetchone()[0]
            deleted: int = cursor.execute("DELETE FROM batches WHERE created_s < ?", (older_than_s,)).rowcount
            if keys:
                self._bump(cursor, "expired", int(keys))
            self._erased = self._erased or deleted > 0
        return deleted

    def scrub(self) -> bool:
        """Checkpoint the WAL into the database and truncate it, so erased keys leave no old page
        image behind; False if a reader kept the checkpoint from completing (try again later).

        Nothing to do (True) when no key was erased since the last scrub: the WAL then holds only
        pages of keys still stored (sealed) and of counters, and SQLite's own checkpoints bound it.
        """
        with self._lock:
            if self._grouped:
                return False
            if not self._erased:
                return True
            busy, _frames, _done = self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            self._erased = bool(busy)
        return not busy

    def waiting_keys(self, *, master: str | None = None, slave: str | None = None) -> int:
        """Keys stored for slaves and not yet delivered (optionally for one pair)."""
        with self._lock:
            if master is None or slave is None:
                return int(self._db.execute("SELECT COALESCE(SUM(remaining), 0) FROM batches").fetchone()[0])
            query = "SELECT COALESCE(SUM(remaining), 0) FROM batches WHERE master = ? AND slave = ?"
            return int(self._db.execute(query, (master, slave)).fetchone()[0])

    def counters(self) -> dict[str, int]:
        """Keys issued to masters and delivered to slaves since the database was created."""
        with self._lock:
            values = dict(self._db.execute("SELECT name, value FROM counters").fetchall())
        return {
            "issued": values.get("issued", 0) + self._issued_pending,
            "delivered": values.get("delivered", 0),
            "expired": values.get("expired", 0),
        }

    def spent_units(self, *, link_id: str) -> int:
        """Units of a link this end has spent (allocated or consumed) since the database was created."""
        with self._lock:
            return self._link(self._db.cursor(), link_id)[3]
