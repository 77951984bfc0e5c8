"""Append-only is enforced by the database itself, on SQLite and PostgreSQL."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

import pytest

from ledger import Ledger


def _plain_sql(url: str, statement: str) -> None:
    if "://" not in url:
        with sqlite3.connect(url) as conn:
            conn.execute(statement)
        return
    import psycopg

    with psycopg.connect(url.replace("postgresql+psycopg", "postgresql"), autocommit=True) as conn:
        conn.execute(statement)


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE ledger_events SET topic = 'key.retired'",
        "UPDATE ledger_events SET state = state WHERE originator_version = 2",
        "DELETE FROM ledger_events WHERE originator_version = 3",
        "DELETE FROM ledger_events",
        "UPDATE ledger_log SET event_hash = 'x'",
        "DELETE FROM ledger_log",
    ],
)
def test_update_and_delete_fail_with_an_error_naming_the_ledger(
    db_url: str, make_ledger: Callable[[str], Ledger], statement: str
) -> None:
    ledger = make_ledger(db_url)
    ledger.close()
    with pytest.raises(Exception, match=r"governance ledger: ledger_(events|log) is append-only"):
        _plain_sql(db_url, statement)
    reopened = Ledger(db_url)
    try:
        assert reopened.size() == 3
    finally:
        reopened.close()


@pytest.mark.postgres
def test_truncate_fails_on_postgres(pg_server: str, make_ledger: Callable[[str], Ledger]) -> None:
    from tests.conftest import reset_pg

    reset_pg(pg_server)
    make_ledger(pg_server).close()
    for table in ("ledger_events", "ledger_log"):
        with pytest.raises(Exception, match="append-only"):
            _plain_sql(pg_server, f"TRUNCATE {table}")
