"""Bounded in-memory structures that spill to a temporary SQLite file.

``ledger verify`` replays the rules over history and needs every object's state
as of the current point of the log, because any later record may refer to any
earlier object (an allocation cites a funding decision made years before).
Holding every object in memory made verify's memory grow with the ledger's age;
this map keeps the most recently used objects in memory and the rest, pickled,
in a private temporary file that is deleted when verification ends.  Only this
process writes and reads that file, so unpickling it trusts nothing outside.
The same holds for each stream's chain head (:class:`SpillingMap` keyed by
stream) and for the digests a later record may cite (:class:`SpillingSet`):
what verify keeps in memory no longer grows with the ledger's age.
"""

from __future__ import annotations

import os
import pickle
import sqlite3
import tempfile
from array import array
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

SPILL_BATCH = 256  # evicted objects written to the file together
DEFAULT_CAPACITY = 4_000  # objects kept in memory (measured: ~270 MB peak at 1M records with 20,000)


class _TemporaryDatabase:
    """A private SQLite file, made on first use and deleted by close()."""

    def __init__(self, schema: str) -> None:
        self.schema = schema
        self._db: sqlite3.Connection | None = None
        self._dir: tempfile.TemporaryDirectory[str] | None = None

    @property
    def opened(self) -> sqlite3.Connection | None:
        return self._db

    def connection(self) -> sqlite3.Connection:
        if self._db is None:
            self._dir = tempfile.TemporaryDirectory(prefix="ledger-verify-")
            path = os.path.join(self._dir.name, "state.db")
            self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode = OFF")
            self._db.execute("PRAGMA synchronous = OFF")
            self._db.execute(self.schema)
        return self._db

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
        if self._dir is not None:
            self._dir.cleanup()
            self._dir = None


def _uuid_bytes(key: Any) -> bytes:
    return key.bytes  # type: ignore[no-any-return]


class SpillingMap:
    """key -> object, at most ``capacity`` objects in memory; the rest on disk.
    Keys are UUIDs unless ``encode`` says how to turn them into bytes."""

    def __init__(self, capacity: int = DEFAULT_CAPACITY, encode: Callable[[Any], bytes] = _uuid_bytes) -> None:
        self.capacity = capacity
        self.encode = encode
        self.hot: OrderedDict[Hashable, Any] = OrderedDict()
        self._file = _TemporaryDatabase("CREATE TABLE spilled (key BLOB PRIMARY KEY, value BLOB NOT NULL)")
        # Evicted objects, pickled, written a batch at a time (one transaction each).
        self.outgoing: dict[Hashable, bytes] = {}
        self.spilled = 0  # objects written out (for tests and benchmarks)

    @property
    def _db(self) -> sqlite3.Connection | None:
        return self._file.opened

    def get(self, key: Hashable, default: Any = None) -> Any:
        found = self.hot.get(key)
        if found is not None:
            self.hot.move_to_end(key)
            return found
        pickled = self.outgoing.pop(key, None)
        if pickled is None:
            if self._db is None:
                return default
            row = self._db.execute("SELECT value FROM spilled WHERE key = ?", (self.encode(key),)).fetchone()
            if row is None:
                return default
            pickled = row[0]
        value = pickle.loads(pickled)
        self._put(key, value)
        return value

    def __setitem__(self, key: Hashable, value: Any) -> None:
        self._put(key, value)

    def _put(self, key: Hashable, value: Any) -> None:
        self.hot[key] = value
        self.hot.move_to_end(key)
        while len(self.hot) > self.capacity:
            old_key, old_value = self.hot.popitem(last=False)
            self._spill(old_key, old_value)

    def _spill(self, key: Hashable, value: Any) -> None:
        self.outgoing[key] = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        self.spilled += 1
        if len(self.outgoing) >= SPILL_BATCH:
            db = self._file.connection()
            with db:
                db.execute("BEGIN")
                db.executemany("INSERT OR REPLACE INTO spilled VALUES (?, ?)",
                               ((self.encode(k), v) for k, v in self.outgoing.items()))
            self.outgoing.clear()

    def close(self) -> None:
        self.outgoing.clear()
        self._file.close()


class SpillingSet:
    """A set of 64-bit numbers (digest prefixes): the newest ``capacity`` packed in memory,
    the rest in a temporary file, indexed."""

    def __init__(self, capacity: int = 1 << 16) -> None:
        self.capacity = capacity
        self.recent = array("Q")
        self._file = _TemporaryDatabase("CREATE TABLE seen (prefix INTEGER PRIMARY KEY) WITHOUT ROWID")
        self.spilled = 0

    def add(self, value: int) -> None:
        self.recent.append(value)
        if len(self.recent) >= self.capacity:
            # SQLite integers are signed: store each as value - 2**63.  One transaction
            # a batch: a commit per row would cost far more than the row.
            db = self._file.connection()
            with db:
                db.execute("BEGIN")
                db.executemany("INSERT OR IGNORE INTO seen VALUES (?)", ((v - (1 << 63),) for v in self.recent))
            self.spilled += len(self.recent)
            self.recent = array("Q")

    def __contains__(self, value: int) -> bool:
        if value in self.recent:  # a scan in C: citations are rare
            return True
        db = self._file.opened
        return db is not None and db.execute("SELECT 1 FROM seen WHERE prefix = ?",
                                             (value - (1 << 63),)).fetchone() is not None

    def close(self) -> None:
        self._file.close()
