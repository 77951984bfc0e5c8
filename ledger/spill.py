"""A bounded in-memory map that spills what it evicts to a temporary SQLite file.

``ledger verify`` replays the rules over history and needs every object's state
as of the current point of the log, because any later record may refer to any
earlier object (an allocation cites a funding decision made years before).
Holding every object in memory made verify's memory grow with the ledger's age;
this map keeps the most recently used objects in memory and the rest, pickled,
in a private temporary file that is deleted when verification ends.  Only this
process writes and reads that file, so unpickling it trusts nothing outside.
"""

from __future__ import annotations

import os
import pickle
import sqlite3
import tempfile
from collections import OrderedDict
from typing import Any
from uuid import UUID

DEFAULT_CAPACITY = 4_000  # objects kept in memory (measured: ~270 MB peak at 1M records with 20,000)


class SpillingMap:
    """UUID -> object, at most ``capacity`` objects in memory; the rest on disk."""

    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        self.capacity = capacity
        self.hot: OrderedDict[UUID, Any] = OrderedDict()
        self._db: sqlite3.Connection | None = None
        self._dir: tempfile.TemporaryDirectory[str] | None = None
        self.spilled = 0  # objects written out (for tests and benchmarks)

    def get(self, key: UUID, default: Any = None) -> Any:
        found = self.hot.get(key)
        if found is not None:
            self.hot.move_to_end(key)
            return found
        if self._db is None:
            return default
        row = self._db.execute("SELECT value FROM spilled WHERE key = ?", (key.bytes,)).fetchone()
        if row is None:
            return default
        value = pickle.loads(row[0])
        self._put(key, value)
        return value

    def __setitem__(self, key: UUID, value: Any) -> None:
        self._put(key, value)

    def _put(self, key: UUID, value: Any) -> None:
        self.hot[key] = value
        self.hot.move_to_end(key)
        while len(self.hot) > self.capacity:
            old_key, old_value = self.hot.popitem(last=False)
            self._spill(old_key, old_value)

    def _spill(self, key: UUID, value: Any) -> None:
        if self._db is None:
            self._dir = tempfile.TemporaryDirectory(prefix="ledger-verify-")
            path = os.path.join(self._dir.name, "state.db")
            self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode = OFF")
            self._db.execute("PRAGMA synchronous = OFF")
            self._db.execute("CREATE TABLE spilled (key BLOB PRIMARY KEY, value BLOB NOT NULL)")
        self._db.execute("INSERT OR REPLACE INTO spilled VALUES (?, ?)",
                         (key.bytes, pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)))
        self.spilled += 1

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
        if self._dir is not None:
            self._dir.cleanup()
            self._dir = None
