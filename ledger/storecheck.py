"""Checks of what the database keeps besides the records: guards and derived tables.

The records are the truth; everything else the database holds is either a
guard (the triggers that refuse UPDATE, DELETE and TRUNCATE) or derived from
the records (``ledger_log``: which record is at which log position;
``ledger_merkle``: the Merkle tree over them).  A keeper with the file can
drop a guard or forge a derived row, so ``ledger verify`` treats both as
evidence:

* every guard must exist, be enabled and say what it should (a trigger of
  the right name that does nothing is no guard);
* every ``ledger_log`` row must name exactly the record at its place in
  commit order, with that record's event hash, and no row may be extra;
* every stored Merkle node must equal the node computed from the records,
  in completion order, and none may be extra.

The derived checks run alongside the main pass (one page of rows at a time),
so memory stays flat and the records are read once.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Engine

from ledger.database import EVENTS_TABLE
from ledger.store import (
    DDL_GUARD,
    GUARDED_TABLES,
    LOG_TABLE,
    TREE_TABLE,
    DriverSQL,
    guard_statements,
)

PAGE = 5000

Find = Callable[[int, str], None]  # (position, reason)


# --- guards ----------------------------------------------------------------------

def guard_problems(engine: Engine) -> list[str]:
    """What is wrong with the append-only guards (empty when all are in place)."""
    with engine.connect() as conn:
        try:
            return guard_problems_on(conn)
        finally:
            conn.rollback()


def guard_problems_on(conn: Any) -> list[str]:
    """:func:`guard_problems` on an open connection (a writer's, inside its transaction)."""
    if conn.dialect.name == "postgresql":
        return _postgres_guard_problems(conn)
    return _sqlite_guard_problems(conn)


def _normal(sql: str) -> str:
    return " ".join(sql.replace("IF NOT EXISTS ", "").split()).rstrip(";").lower()


def _sqlite_guard_problems(conn: Any) -> list[str]:
    found = {name: sql for name, sql in conn.execute(
        text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'"))}
    problems = []
    for name, statement in guard_statements("sqlite"):
        if name not in found:
            problems.append(f"the append-only guard {name} is missing (dropped outside the ledger)")
        elif _normal(found[name] or "") != _normal(statement):
            problems.append(f"the append-only guard {name} has been replaced by one that does something else")
    return problems


def _postgres_guard_problems(conn: Any) -> list[str]:
    rows = {name: (enabled, table, definition) for name, enabled, table, definition in conn.execute(text(
        "SELECT t.tgname, t.tgenabled, c.relname, pg_get_triggerdef(t.oid) FROM pg_trigger t "
        "JOIN pg_class c ON c.oid = t.tgrelid WHERE NOT t.tgisinternal"))}
    problems = []
    for table in GUARDED_TABLES:
        name = f"{table}_append_only"
        if name not in rows:
            problems.append(f"the append-only guard {name} is missing (dropped outside the ledger)")
            continue
        enabled, on_table, definition = rows[name]
        if enabled == "D":
            problems.append(f"the append-only guard {name} is disabled (ALTER TABLE ... DISABLE TRIGGER)")
        elif enabled != "O" and enabled != "A":
            problems.append(f"the append-only guard {name} fires only in replica or local mode ({enabled})")
        events = set(definition.split(" ON ")[0].split(" BEFORE ")[-1].split(" OR "))
        if on_table != table or events != {"UPDATE", "DELETE", "TRUNCATE"} or "FOR EACH STATEMENT" not in definition \
                or "EXECUTE FUNCTION governance_ledger_append_only()" not in definition:
            problems.append(f"the append-only guard {name} has been replaced by one that does something else")
    body = conn.execute(text(
        "SELECT prosrc FROM pg_proc WHERE proname = 'governance_ledger_append_only'")).scalar()
    if body is None or "RAISE EXCEPTION" not in body.upper():
        problems.append("the append-only guard function governance_ledger_append_only no longer refuses changes")
    event = conn.execute(text("SELECT evtenabled FROM pg_event_trigger WHERE evtname = :n"), {"n": DDL_GUARD}).first()
    superuser = conn.execute(text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")).scalar()
    if event is not None and event[0] == "D":
        problems.append(f"the DDL guard {DDL_GUARD} (refusing DROP of ledger tables) is disabled")
    elif event is None and superuser:
        # Installed whenever the ledger's role may (a superuser): missing means removed.
        problems.append(f"the DDL guard {DDL_GUARD} (refusing DROP of ledger tables) is missing")
    return problems


def ddl_guard_present(engine: Engine) -> bool | None:
    """PostgreSQL: whether the event trigger refusing DROP/ALTER of ledger tables exists (None on SQLite)."""
    if engine.dialect.name != "postgresql":
        return None
    with engine.connect() as conn:
        found = conn.execute(text("SELECT 1 FROM pg_event_trigger WHERE evtname = :n"), {"n": DDL_GUARD}).first()
        conn.rollback()
    return found is not None


# --- derived tables ----------------------------------------------------------------

class DerivedTables:
    """Compares ``ledger_log`` and ``ledger_merkle`` with the records, page by page.

    Feed it every record in log order (:meth:`record`) and every Merkle node
    the verifier computes (:meth:`node`), then call :meth:`finish`.  Each
    table's first wrong row is reported (with its position); everything after
    it follows from it, so that table is not compared further.
    """

    def __init__(self, recorder: Any, find: Find, stop: int | None = None) -> None:
        self.recorder = recorder
        self.find = find
        self.stop = stop  # the last row id verified: rows written meanwhile are not this run's
        self._log: Iterator[tuple[Any, ...]] | None = self._rows(
            f"SELECT position, notification_id, event_hash FROM {LOG_TABLE}", "position")
        self._nodes: Iterator[tuple[Any, ...]] | None = self._rows(f"SELECT node, hash FROM {TREE_TABLE}", "node")
        self._next_node = 0
        self.tree_behind = False  # the stored tree lacks the newest nodes: the next write adds them
        self.positions = 0

    def _rows(self, select: str, key: str) -> Iterator[tuple[Any, ...]]:
        """Rows in key order, a page at a time (keyset paging: no OFFSET scans)."""
        after = -1
        while True:
            with self.recorder.transaction(commit=False) as session:
                sql = DriverSQL(session)
                sql.cursor.execute(f"{select} WHERE {key} > {sql.mark} ORDER BY {key} LIMIT {PAGE}", (after,))
                batch = sql.cursor.fetchall()
            yield from batch
            if len(batch) < PAGE:
                return
            after = batch[-1][0]

    def _log_wrong(self, position: int, reason: str) -> None:
        self.find(position, f"{LOG_TABLE} {reason}: the log table and the records disagree "
                            "(one of them was changed outside the ledger)")
        self._log = None

    def record(self, position: int, row_id: int | None, raw: bytes) -> None:
        self.positions = position + 1
        if self._log is None:
            return
        row = next(self._log, None)
        if row is None:
            self._log_wrong(position, f"has no row for position {position}")
            return
        stored_position, notification_id, event_hash = int(row[0]), int(row[1]), str(row[2])
        if stored_position != position:
            self._log_wrong(position, f"skips from position {position - 1} to {stored_position}")
        elif notification_id != row_id:
            self._log_wrong(position, f"position {position} names another stored record (row {notification_id}) "
                                      f"than the one at that place in commit order (row {row_id})")
        elif event_hash != hashlib.sha256(raw if isinstance(raw, bytes) else str(raw).encode()).hexdigest():
            self._log_wrong(position, f"position {position} holds an event hash that is not its record's")

    def node(self, value: bytes) -> None:
        """The next node in completion order, as computed from the records."""
        expected_id = self._next_node
        self._next_node += 1
        if self._nodes is None:
            return
        row = next(self._nodes, None)
        if row is None:
            self.tree_behind = True  # not forged: rebuilt from the records by the next write
            self._nodes = None
            return
        node_id, stored = int(row[0]), bytes(row[1])
        if node_id != expected_id:
            self._tree_wrong(f"lacks node {expected_id} but holds node {node_id}: the stored tree has a gap")
        elif stored != value:
            self._tree_wrong(f"node {node_id} is not the hash computed from the records")

    def _tree_wrong(self, reason: str) -> None:
        self.find(max(self.positions - 1, 0), f"{TREE_TABLE} {reason} (a record or the stored tree was "
                                              "changed outside the ledger)")
        self._nodes = None

    def finish(self) -> None:
        from ledger.merkle import node_count

        later = 0  # log rows of records written while this run read (real rows beyond the stop)
        for row in self._log or ():
            position, notification_id = int(row[0]), int(row[1])
            if self.stop is not None and notification_id > self.stop and self._row_exists(notification_id):
                later += 1
                continue
            self._log_wrong(position, f"has a row for position {position}, beyond the last record "
                                      f"(position {self.positions - 1})")
            break
        limit = node_count(self.positions + later)
        for row in self._nodes or ():
            if int(row[0]) >= limit:
                self._tree_wrong(f"holds node {int(row[0])}, beyond the tree of the records")
                break

    def _row_exists(self, row_id: int) -> bool:
        with self.recorder.transaction(commit=False) as session:
            sql = DriverSQL(session)
            sql.cursor.execute(f"SELECT 1 FROM {EVENTS_TABLE} WHERE id = {sql.mark}", (row_id,))
            return bool(sql.cursor.fetchall())


def _chain(first: list[tuple[Any, ...]], rest: Iterator[tuple[Any, ...]]) -> Iterator[tuple[Any, ...]]:
    yield from first
    yield from rest


__all__ = ["DDL_GUARD", "DerivedTables", "ddl_guard_present", "guard_problems"]
