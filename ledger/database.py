"""Where a ledger lives: its database URL and the name of its events table.

Light on purpose (no SQLAlchemy): ``ledger verify`` reads these to start its
signature workers before it imports the rest of the package.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

from ledger.errors import InvalidInputError

DEFAULT_DB = "ledger.db"
EVENTS_TABLE = "ledger_events"


def database_url(db: str | None) -> str:
    """Turn ``--db`` (a URL or a plain file path) into a SQLAlchemy URL."""
    if db is None:
        db = os.environ.get("LEDGER_DB") or DEFAULT_DB
    if not db.strip():
        # An empty --db must not quietly mean ./ledger.db: the user meant some other ledger.
        raise InvalidInputError("the database is empty: give a SQLite file path or a postgresql:// URL")
    if "://" not in db:
        path = str(Path(db).expanduser().resolve())
        if "?" in path:
            # In a URL, "?" starts the options: the database would silently be another file.
            raise InvalidInputError(f"the database path {path} contains '?'; rename the file or its folder")
        return "sqlite:///" + path
    if db.startswith(("postgresql://", "postgres://")):
        db = "postgresql+psycopg://" + db.split("://", 1)[1]
    if db.startswith("postgresql+psycopg://"):
        _require_database_name(db)
        return db
    if db.startswith("sqlite"):
        return db
    raise InvalidInputError(f"unsupported database URL {db.split('://')[0]}:// (use a SQLite path or postgresql://)")


def _require_database_name(url: str) -> None:
    """Refuse a PostgreSQL URL that names no database.

    Without one, libpq connects to a database named after the user (often
    ``postgres``), so a ledger would be read from, or created in, a database
    nobody chose.
    """
    parsed = urlsplit(url)
    named = parsed.path.strip("/") or dict(parse_qsl(parsed.query)).get("dbname", "")
    if not named:
        raise InvalidInputError(
            "the PostgreSQL URL names no database: add one, as in postgresql://user@host:5432/ledger")
