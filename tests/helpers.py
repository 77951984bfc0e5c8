"""Test helpers: database snapshots, dropping guards, forging records.

Tamper tests play the part of someone holding the database file: they use
plain SQL (sqlite3 / psycopg), never the ledger's own code, to change it.
"""

from __future__ import annotations

import sqlite3
import uuid
from pathlib import Path
from typing import Any

from ledger import Signer
from ledger import record as rec
from ledger.canonical import canonical_record_bytes


def snapshot(ledger: Any) -> list[tuple[Any, ...]]:
    """Every stored row of the events and log tables, for before/after checks."""
    from sqlalchemy import text

    engine = ledger.factory.datastore.engine
    with engine.connect() as conn:
        events = conn.execute(text(
            "SELECT id, originator_id, originator_version, topic, state FROM ledger_events ORDER BY id"
        )).fetchall()
        log = conn.execute(text("SELECT position, notification_id, event_hash FROM ledger_log ORDER BY position")
                           ).fetchall()
    return [tuple(r) for r in events] + [tuple(r) for r in log]


def contents(path: Path) -> list[str]:
    """Everything a SQLite database holds (schema and rows), as SQL text.

    "Nothing written" is checked on this rather than on the file's bytes: in
    WAL mode the main file changes whenever the log is checkpointed (when the
    last connection closes, say) although no command wrote anything.
    """
    conn = sqlite3.connect(path)
    try:
        return list(conn.iterdump())
    finally:
        conn.close()


def drop_guards(path: Path) -> None:
    """What an attacker with the file would do first."""
    with sqlite3.connect(path) as conn:
        for table in ("ledger_events", "ledger_log", "ledger_merkle", "ledger_checkpoints"):
            for op in ("update", "delete"):
                conn.execute(f"DROP TRIGGER IF EXISTS {table}_no_{op}")


def rows(path: Path) -> list[tuple[int, str, int, str, bytes]]:
    with sqlite3.connect(path) as conn:
        return conn.execute(
            "SELECT id, originator_id, originator_version, topic, state FROM ledger_events ORDER BY id"
        ).fetchall()


def forge(signer: Signer, *, ledger: str, stream: str, seq: int, type: str, prev: str | None,
          data: dict[str, Any], at: str | None = None) -> bytes:
    """A correctly formed record signed by ``signer`` (who may have no right to);
    ``at`` defaults to now, after the records a test has just written."""
    if at is None:
        from datetime import UTC, datetime

        at = rec.format_time(datetime.now(UTC))
    unsigned = {"v": 1, "ledger": ledger, "stream": stream, "seq": seq, "type": type, "at": at,
                "actor": signer.key_id, "prev": prev, "data": data}
    return rec.seal(unsigned, signer.sign(rec.signed_message(unsigned)))


def append_raw(path: Path, raw: bytes) -> None:
    """Insert a record row (and its log position) with plain SQL."""
    record = rec.parse(raw)
    with sqlite3.connect(path) as conn:
        cur = conn.execute(
            "INSERT INTO ledger_events (originator_id, originator_version, topic, state) VALUES (?, ?, ?, ?)",
            (uuid.UUID(record.stream).bytes, record.seq, record.type, raw),
        )
        position = conn.execute("SELECT COALESCE(MAX(position), -1) + 1 FROM ledger_log").fetchone()[0]
        conn.execute("INSERT INTO ledger_log VALUES (?, ?, ?)", (position, cur.lastrowid, record.event_hash))


def canonical(obj: Any) -> bytes:
    return canonical_record_bytes(obj)
