"""Durable key store of one KME: SQLite in WAL mode, one database per KME.

Link pools. Each QKD link's key is a stream of units numbered 0, 1, 2, ... with the same bytes
at both ends (:mod:`qit4n.kms.supply`). Per link the store keeps how many units the link has
delivered so far (``supplied``), which indices this end has spent, and a cursor: the end whose
parity matches an index *owns* it and allocates its own indices in increasing order; the peer
consumes an index only when the owner names it, and each index at most once (the ``consumed``
table refuses a second use). So the two ends never spend the same unit for different keys.
Unit bytes are produced by the supply when they are spent; the store holds positions, not bytes,
so a pool of any capacity costs a few rows.

Keys waiting for slave SAEs live in ``keys``, one row per (key_ID, slave).

Every change is one transaction (``BEGIN IMMEDIATE`` ... ``COMMIT``). A KME commits before it
answers, so after ``kill -9`` a key that was acknowledged is still there, and a key that was
delivered is gone: nothing acknowledged is lost and nothing is delivered twice. WAL with
``synchronous=NORMAL`` survives a process crash; ``synchronous=FULL`` also survives power loss.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from qit4n.errors import ServiceError

__all__ = ["KeyStore", "StoredKey", "KeyLookupError", "PoolExhaustedError", "UnitMismatchError"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS links (link TEXT PRIMARY KEY, parity INTEGER NOT NULL, supplied INTEGER NOT NULL,
    cursor INTEGER NOT NULL, spent INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS consumed (link TEXT NOT NULL, idx INTEGER NOT NULL, PRIMARY KEY (link, idx)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS keys (key_id TEXT NOT NULL, slave TEXT NOT NULL, master TEXT NOT NULL,
    material BLOB NOT NULL, PRIMARY KEY (key_id, slave)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS keys_pair ON keys (master, slave);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""

_MAX_PARAMS = 900


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


@dataclass(frozen=True)
class StoredKey:
    """A key waiting for a slave SAE."""

    key_id: str
    master: str
    material: bytes


def _chunks(items: Sequence, size: int = _MAX_PARAMS) -> Iterable[Sequence]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _units_at(supply, indices: list[int]) -> list[bytes]:
    """Bytes of the named units, generating each run of nearby indices in one call."""
    found: dict[int, bytes] = {}
    ordered = sorted(indices)
    start = 0
    for end in range(1, len(ordered) + 1):
        if end == len(ordered) or ordered[end] - ordered[end - 1] > 2:
            low, high = ordered[start], ordered[end - 1]
            block = supply.units(low, high + 1 - low)
            found.update((idx, block[idx - low]) for idx in ordered[start:end])
            start = end
    return [found[idx] for idx in indices]


class KeyStore:
    """The SQLite database of one KME (see the module docstring for the guarantees).

    Parameters
    ----------
    path : Path
        Database file; created with its tables if missing.
    synchronous : str
        ``NORMAL`` (survives a process crash) or ``FULL`` (survives power loss too).
    """

    def __init__(self, path: Path, *, synchronous: str = "NORMAL") -> None:
        if synchronous not in ("NORMAL", "FULL"):
            raise ServiceError(f"synchronous = {synchronous!r}: must be NORMAL or FULL")
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(f"PRAGMA synchronous={synchronous}")
        self._db.executescript(_SCHEMA)
        self._grouped = False

    def close(self) -> None:
        """Close the database (committed data stays on disk)."""
        self._db.close()

    @contextlib.contextmanager
    def _tx(self) -> Iterator[sqlite3.Cursor]:
        """One transaction, or a savepoint inside :meth:`group` (all or nothing either way)."""
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
            "INSERT INTO counters (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = value + excluded.value",
            (name, amount),
        )

    # -- link pools -------------------------------------------------------------------------
    def register_link(self, link_id: str, parity: int) -> None:
        """Declare a link; this end owns the unit indices with ``idx % 2 == parity``."""
        self._db.execute(
            "INSERT OR IGNORE INTO links (link, parity, supplied, cursor, spent) VALUES (?, ?, 0, ?, 0)", (link_id, parity, parity)
        )

    def _link(self, cursor: sqlite3.Cursor, link_id: str) -> tuple[int, int, int, int]:
        row = cursor.execute("SELECT parity, supplied, cursor, spent FROM links WHERE link = ?", (link_id,)).fetchone()
        if row is None:
            raise UnitMismatchError(f"link {link_id}: not a link of this KME")
        return row

    def supply_units(self, link_id: str, count: int) -> None:
        """Record that the link delivered ``count`` more units (one transaction)."""
        with self._tx() as cursor:
            cursor.execute("UPDATE links SET supplied = supplied + ? WHERE link = ?", (count, link_id))

    def unit_count(self, link_id: str, *, owned_only: bool = False) -> int:
        """Unspent units in the link's pool (all, or only those this end may allocate)."""
        _parity, supplied, next_own, spent = self._link(self._db.cursor(), link_id)
        if owned_only:
            return 0 if next_own >= supplied else (supplied - 1 - next_own) // 2 + 1
        return max(supplied - spent, 0)

    def _allocate(self, cursor: sqlite3.Cursor, link_id: str, supply, count: int) -> tuple[list[int], list[bytes]]:
        _parity, supplied, next_own, _spent = self._link(cursor, link_id)
        indices = list(range(next_own, next_own + 2 * count, 2))
        if count and indices[-1] >= supplied:
            available = 0 if next_own >= supplied else (supplied - 1 - next_own) // 2 + 1
            raise PoolExhaustedError(f"link {link_id}: {available} key units stored, {count} needed")
        cursor.execute("UPDATE links SET cursor = ?, spent = spent + ? WHERE link = ?", (next_own + 2 * count, count, link_id))
        materials = supply.units(next_own, 2 * count - 1)[::2] if count else []
        return indices, materials

    def _consume(self, cursor: sqlite3.Cursor, link_id: str, indices: list[int], supply) -> list[bytes]:
        parity, supplied, _next_own, _spent = self._link(cursor, link_id)
        if not indices:
            return []
        wrong = [idx for idx in indices if idx < 0 or idx % 2 == parity]
        if wrong or len(set(indices)) != len(indices):
            raise UnitMismatchError(f"link {link_id}: units {wrong[:5] or indices[:5]} are not the peer's to name (own, negative or repeated)")
        try:
            cursor.executemany("INSERT INTO consumed (link, idx) VALUES (?, ?)", [(link_id, idx) for idx in indices])
        except sqlite3.IntegrityError:
            raise UnitMismatchError(f"link {link_id}: some of units {indices[:5]}... were already consumed") from None
        highest = max(indices)
        caught_up = max(supplied, highest + 1)
        cursor.execute("UPDATE links SET supplied = ?, spent = spent + ? WHERE link = ?", (caught_up, len(indices), link_id))
        return _units_at(supply, indices)

    def allocate(self, link_id: str, supply, count: int) -> tuple[list[int], list[bytes]]:
        """Take the next ``count`` owned units of a link (committed on return): indices and bytes."""
        with self._tx() as cursor:
            result = self._allocate(cursor, link_id, supply, count)
        return result

    def forward(self, in_link: str, in_indices: list[int], in_supply, out_link: str, out_supply, out_count: int) -> tuple[list[bytes], list[int], list[bytes]]:
        """Relay hop: consume the peer's named units of ``in_link`` and allocate units of ``out_link``.

        Returns the incoming pads, and the indices and pads of the outgoing units, in one commit.
        """
        with self._tx() as cursor:
            pads_in = self._consume(cursor, in_link, in_indices, in_supply)
            out_indices, pads_out = self._allocate(cursor, out_link, out_supply, out_count)
        return pads_in, out_indices, pads_out

    # -- keys waiting for slaves --------------------------------------------------------------
    def receive(self, in_link: str | None, in_indices: list[int], in_supply, decode, rows_for) -> int:
        """Final hop: consume pads (if any), decode the keys with them and store the slave rows.

        ``decode(pads) -> list[bytes]`` turns the pads into key material; ``rows_for(keys)`` yields
        ``(key_id, slave, master, material)`` rows. All in one transaction; returns rows written.
        """
        with self._tx() as cursor:
            pads = self._consume(cursor, in_link, in_indices, in_supply) if in_link is not None else []
            rows = list(rows_for(decode(pads)))
            cursor.executemany("INSERT INTO keys (key_id, slave, master, material) VALUES (?, ?, ?, ?)", rows)
        return len(rows)

    def count_issued(self, number: int) -> None:
        """Record ``number`` keys handed to a master SAE."""
        with self._tx() as cursor:
            self._bump(cursor, "issued", number)

    def take(self, slave: str, master: str, key_ids: list[str]) -> list[StoredKey]:
        """Deliver keys to ``slave`` and delete them, all or none (one transaction).

        Raises
        ------
        KeyLookupError
            Some IDs are unknown, or were issued for another (master, slave) pair.
        """
        with self._tx() as cursor:
            found: dict[str, tuple[str, bytes]] = {}
            for chunk in _chunks(key_ids):
                marks = ",".join("?" * len(chunk))
                query = f"SELECT key_id, master, material FROM keys WHERE slave = ? AND key_id IN ({marks})"
                found.update((row[0], (row[1], row[2])) for row in cursor.execute(query, (slave, *chunk)))
            missing = [key_id for key_id in key_ids if key_id not in found]
            foreign = [key_id for key_id, (owner, _) in found.items() if owner != master]
            if missing or foreign:
                elsewhere = [k for k in missing if cursor.execute("SELECT 1 FROM keys WHERE key_id = ? LIMIT 1", (k,)).fetchone()]
                raise KeyLookupError(sorted(set(foreign + elsewhere)) or missing, unauthorised=bool(foreign or elsewhere))
            cursor.executemany("DELETE FROM keys WHERE key_id = ? AND slave = ?", [(key_id, slave) for key_id in key_ids])
            self._bump(cursor, "delivered", len(key_ids))
        return [StoredKey(key_id, found[key_id][0], found[key_id][1]) for key_id in key_ids]

    def void(self, key_ids: list[str]) -> int:
        """Delete keys whose relay failed upstream (no half-delivered key); returns rows deleted."""
        deleted = 0
        with self._tx() as cursor:
            for chunk in _chunks(key_ids):
                marks = ",".join("?" * len(chunk))
                deleted += cursor.execute(f"DELETE FROM keys WHERE key_id IN ({marks})", tuple(chunk)).rowcount
        return deleted

    def waiting_keys(self, master: str | None = None, slave: str | None = None) -> int:
        """Keys stored for slaves (optionally for one pair)."""
        if master is None or slave is None:
            return self._db.execute("SELECT COUNT(*) FROM keys").fetchone()[0]
        return self._db.execute("SELECT COUNT(*) FROM keys WHERE master = ? AND slave = ?", (master, slave)).fetchone()[0]

    def counters(self) -> dict[str, int]:
        """Keys issued to masters and delivered to slaves since the database was created."""
        values = dict(self._db.execute("SELECT name, value FROM counters").fetchall())
        return {"issued": values.get("issued", 0), "delivered": values.get("delivered", 0)}

    def spent_units(self, link_id: str) -> int:
        """Units of a link this end has spent (allocated or consumed) since the database was created."""
        return self._link(self._db.cursor(), link_id)[3]
