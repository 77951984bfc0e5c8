"""Concurrent writers in real processes, on SQLite and PostgreSQL.

Several processes append to the same stream at once.  None may overwrite
another: every success is in the ledger exactly once, seqs stay contiguous,
and the whole history verifies.  A writer that cannot get the lock in time
gets a clear, retryable error and writes nothing.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from ledger import Ledger
from ledger.keys import write_key_pair
from ledger.verify import verify_ledger
from tests.conftest import People
from tests.helpers import snapshot

ROOT = Path(__file__).resolve().parents[1]
WRITERS, EACH = 4, 12


def test_concurrent_writers_to_one_stream_lose_nothing(
    db_url: str, make_ledger: Callable[[str], Ledger], people: People, tmp_path: Path
) -> None:
    ledger = make_ledger(db_url)
    key_file, _ = write_key_pair(people.founder, tmp_path / "founder")
    procs = [
        subprocess.Popen([sys.executable, "-m", "tests.writer_process", db_url, str(key_file), str(EACH), f"w{n}"],
                         cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for n in range(WRITERS)
    ]
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=180)
        assert proc.returncode == 0, err
        results.append(json.loads(out))
    written = [key for r in results for key in r["ok"]]
    assert len(written) + sum(r["conflicts"] for r in results) == WRITERS * EACH
    assert len(written) >= WRITERS * EACH // 2  # retries absorb ordinary contention
    registry = ledger.registry()
    assert set(written) <= set(registry.keys)
    assert len(registry.keys) == 3 + len(written)  # nothing lost, nothing duplicated
    records = [r for _, r in ledger.read(0, 10_000)]
    assert [r.seq for r in records] == list(range(1, len(records) + 1))
    report = verify_ledger(ledger)
    assert report.ok, [f.line() for f in report.findings]


def _hold_write_lock(url: str):  # type: ignore[no-untyped-def]
    """Another writer, mid-transaction, holding the ledger's write lock."""
    if "://" not in url:
        conn = sqlite3.connect(url, isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")
        return conn
    import psycopg

    conn = psycopg.connect(url)
    conn.execute("LOCK TABLE ledger_events IN EXCLUSIVE MODE")
    return conn


def test_a_writer_that_cannot_get_the_lock_gets_a_retryable_error(
    db_url: str, make_ledger: Callable[[str], Ledger], people: People, tmp_path: Path
) -> None:
    ledger = make_ledger(db_url)
    key_file, _ = write_key_pair(people.founder, tmp_path / "founder")
    new = tmp_path / "new"
    write_key_pair(people.log, new)
    before = snapshot(ledger)
    holder = _hold_write_lock(db_url)
    try:
        result = subprocess.run(
            [sys.executable, "-m", "cli.main", "--db", db_url, "keys", "register", f"{new}.pub",
             "--holder", "Late", "--role", "member", "--key", str(key_file)],
            cwd=ROOT, capture_output=True, text=True, timeout=120,
            env={**os.environ, "LEDGER_LOCK_TIMEOUT": "0.2"},
        )
    finally:
        holder.rollback()
        holder.close()
    assert result.returncode == 1, result.stderr
    assert result.stderr == (
        "error: another writer was changing the ledger at the same time; nothing was written, "
        "try the command again\n"
    )
    assert snapshot(ledger) == before


@pytest.mark.parametrize("attempt", [1])
def test_the_unique_stream_index_refuses_a_second_record_at_the_same_seq(
    db_url: str, make_ledger: Callable[[str], Ledger], attempt: int
) -> None:
    # The backstop beneath the write lock: even a writer that bypassed the
    # lock could not store two records at one (stream, seq).
    from eventsourcing.persistence import StoredEvent

    ledger = make_ledger(db_url)
    last = ledger.record_at(2)
    from uuid import UUID

    duplicate = StoredEvent(originator_id=UUID(last.stream), originator_version=last.seq,
                            topic=last.type, state=last.raw)
    before = snapshot(ledger)
    with pytest.raises(Exception, match=r"(?i)unique|duplicate"):
        ledger.recorder.insert_events([duplicate])
    assert snapshot(ledger) == before
