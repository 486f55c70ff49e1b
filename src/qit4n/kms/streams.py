"""Key-stream state of one KME for ETSI GS QKD 004: streams, their ends, and the key of each index.

A key stream (Key_stream_ID, ``KSID``) joins a source SAE and a destination SAE. Each KME keeps a
row per end attached to it (``role`` ``source`` or ``destination``): the SAEs, the QoS agreed at
OPEN_CONNECT, whether the other end has connected, how many chunks this end has taken (for the
``max_bps`` limit), and whether the stream is closed. The key of (KSID, index) is an ETSI 014 key
of the KME's key store; ``stream_keys`` maps it to its key_ID, so both ends take the same key
exactly once through the store.

The state lives in its own SQLite file next to the KME's database (``<database>.streams``, mode
0600 in the store's 0700 folder; no key material, only IDs), one transaction per change, so a KME
restart keeps the open streams.

References
----------
ETSI GS QKD 004 V2.1.1 (2020-08), clause 6 (OPEN_CONNECT, GET_KEY, CLOSE) and the QoS parameters.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qit4n.kms.atrest import check_private, private_dir

__all__ = ["StreamBook", "StreamEnd", "streams_path"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS streams (ksid TEXT NOT NULL, role TEXT NOT NULL, source TEXT NOT NULL,
    destination TEXT NOT NULL, qos TEXT NOT NULL, peer_connected INTEGER NOT NULL, taken INTEGER NOT NULL,
    opened_s REAL NOT NULL, closed INTEGER NOT NULL, PRIMARY KEY (ksid, role)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS stream_keys (ksid TEXT NOT NULL, idx INTEGER NOT NULL, key_id TEXT NOT NULL,
    PRIMARY KEY (ksid, idx)) WITHOUT ROWID;
"""


def streams_path(database: Path) -> Path:
    """The stream file of the KME whose key store is ``database``."""
    return database.with_name(database.name + ".streams")


@dataclass(frozen=True)
class StreamEnd:
    """One end of a key stream as this KME holds it."""

    ksid: str
    role: str
    source: str
    destination: str
    qos: dict[str, Any]
    peer_connected: bool
    taken: int
    opened_s: float
    closed: bool

    @property
    def sae(self) -> str:
        """The SAE at this end."""
        return self.source if self.role == "source" else self.destination

    @property
    def peer(self) -> str:
        """The SAE at the other end."""
        return self.destination if self.role == "source" else self.source


class StreamBook:
    """The stream table of one KME (module docstring); thread-safe, one transaction per call."""

    def __init__(self, path: Path) -> None:
        if not path.parent.exists():
            private_dir(path.parent)
        if not path.exists():
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))  # SQLite gives -wal/-shm the same mode
        check_private(path.parent)
        self.path = path
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)
        self._lock = threading.Lock()

    def close(self) -> None:
        """Close the database (committed streams stay on disk)."""
        self._db.close()

    def open_end(self, end: StreamEnd) -> bool:
        """Record a new end; False (nothing written) if the KSID already has that end here."""
        with self._lock:
            try:
                self._db.execute(
                    "INSERT INTO streams VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        end.ksid,
                        end.role,
                        end.source,
                        end.destination,
                        json.dumps(end.qos),
                        int(end.peer_connected),
                        end.taken,
                        end.opened_s,
                        int(end.closed),
                    ),
                )
            except sqlite3.IntegrityError:
                return False
        return True

    def ends(self, ksid: str) -> list[StreamEnd]:
        """The ends of ``ksid`` held here (none, one, or both when both SAEs are attached here)."""
        with self._lock:
            rows = self._db.execute("SELECT * FROM streams WHERE ksid = ? ORDER BY role DESC", (ksid,)).fetchall()
        return [
            StreamEnd(row[0], row[1], row[2], row[3], json.loads(row[4]), bool(row[5]), row[6], row[7], bool(row[8]))
            for row in rows
        ]

    def end(self, ksid: str, role: str) -> StreamEnd | None:
        """The ``role`` end of ``ksid``, if held here."""
        return next((end for end in self.ends(ksid) if end.role == role), None)

    def connect_peer(self, ksid: str) -> bool:
        """Mark the source end's peer connected; False if it was already (the KSID is in use)."""
        with self._lock:
            cursor = self._db.execute(
                "UPDATE streams SET peer_connected = 1 WHERE ksid = ? AND role = 'source' AND peer_connected = 0",
                (ksid,),
            )
        return cursor.rowcount == 1

    def count_taken(self, ksid: str, role: str) -> None:
        """One more chunk delivered to the ``role`` end."""
        with self._lock:
            self._db.execute("UPDATE streams SET taken = taken + 1 WHERE ksid = ? AND role = ?", (ksid, role))

    def close_stream(self, ksid: str) -> list[str]:
        """Close every end of ``ksid`` held here and forget its key IDs; returns those key IDs."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                key_ids = [row[0] for row in self._db.execute("SELECT key_id FROM stream_keys WHERE ksid = ?", (ksid,))]
                self._db.execute("UPDATE streams SET closed = 1 WHERE ksid = ?", (ksid,))
                self._db.execute("DELETE FROM stream_keys WHERE ksid = ?", (ksid,))
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
        return key_ids

    def key_id(self, ksid: str, index: int) -> str | None:
        """The key_ID of (``ksid``, ``index``), if it was made."""
        with self._lock:
            row = self._db.execute(
                "SELECT key_id FROM stream_keys WHERE ksid = ? AND idx = ?", (ksid, index)
            ).fetchone()
        return None if row is None else str(row[0])

    def record_key(self, ksid: str, index: int, key_id: str) -> None:
        """Remember the key_ID of (``ksid``, ``index``)."""
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO stream_keys VALUES (?, ?, ?)", (ksid, index, key_id))

    def reserved_bps(self, link_id: str) -> float:
        """Sum of ``min_bps`` of the open source ends whose QoS was granted on ``link_id``."""
        with self._lock:
            rows = self._db.execute("SELECT qos FROM streams WHERE role = 'source' AND closed = 0").fetchall()
        qos = [json.loads(row[0]) for row in rows]
        return float(sum(item.get("min_bps", 0) for item in qos if item.get("link_id") == link_id))
