"""Where a ledger lives: its database URL and the name of its events table.

Light on purpose (no SQLAlchemy): ``ledger verify`` reads these to start its
signature workers before it imports the rest of the package.
"""

from __future__ import annotations

import os
from pathlib import Path

from ledger.errors import InvalidInputError

DEFAULT_DB = "ledger.db"
EVENTS_TABLE = "ledger_events"


def database_url(db: str | None) -> str:
    """Turn ``--db`` (a URL or a plain file path) into a SQLAlchemy URL."""
    db = db or os.environ.get("LEDGER_DB") or DEFAULT_DB
    if "://" not in db:
        path = str(Path(db).expanduser().resolve())
        if "?" in path:
            # In a URL, "?" starts the options: the database would silently be another file.
            raise InvalidInputError(f"the database path {path} contains '?'; rename the file or its folder")
        return "sqlite:///" + path
    if db.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + db.split("://", 1)[1]
    if db.startswith(("sqlite", "postgresql+psycopg")):
        return db
    raise InvalidInputError(f"unsupported database URL {db.split('://')[0]}:// (use a SQLite path or postgresql://)")
