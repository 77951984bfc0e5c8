"""The ledger's error types.

Every error the ledger raises on purpose derives from :class:`LedgerError` and
carries a one-line, user-facing message.  The CLI maps them to exit codes in
exactly one place (``cli/main.py``); library users can catch ``LedgerError``.
"""

from __future__ import annotations


class LedgerError(Exception):
    """Base class: a refused or failed operation with a one-line message."""

    exit_code = 1


class InvalidInputError(LedgerError):
    """The input is malformed (bad id, float for money, oversized field...)."""


class RefusedError(LedgerError):
    """The command is well formed but the ledger's rules forbid it."""


class UnauthorisedError(RefusedError):
    """The signing key is unknown, retired, revoked or lacks the role."""


class ConflictError(LedgerError):
    """Another writer changed the ledger at the same time; safe to retry."""


class KeyFileError(LedgerError):
    """A key file is missing, unreadable, or needs a passphrase."""


class StoreError(LedgerError):
    """The database cannot be opened or is not a ledger."""


class NotFoundError(LedgerError):
    """A named thing (record, key, stream) does not exist in the ledger."""


class InvalidRecordError(LedgerError):
    """Bytes that do not form a valid record (used by verification)."""


class UncoveredError(LedgerError):
    """Records that no signed checkpoint covers yet, where one is needed."""


# Database failures that are the environment's, not the ledger's, in a
# person's words.  Matched on the driver's text: SQLite and libpq report these
# as generic OperationalErrors, whichever layer (eventsourcing, SQLAlchemy, the
# driver) passes them on.
_STORE_MESSAGES = (
    ("readonly database", "cannot write: the database is read-only (check the permissions of the file "
                          "and its folder); nothing was written"),
    ("unable to open database file", "cannot open the database file: check that it and its folder exist "
                                     "and are readable"),
    ("database or disk is full", "cannot write: the disk is full; nothing was written"),
    ("file is not a database", "that file is not a ledger (not a SQLite database)"),
    ("database is locked", "another writer was changing the ledger at the same time; nothing was written, "
                           "try the command again"),
    ("lock timeout", "another writer was changing the ledger at the same time; nothing was written, "
                     "try the command again"),
    ("connection refused", "cannot connect to the PostgreSQL server (is it running, and is the URL right?)"),
    ("could not translate host name", "cannot connect to the PostgreSQL server: unknown host name"),
    ("does not exist", None),  # e.g. a PostgreSQL database that does not exist: the driver's words are clear
)


def explain_store_error(exc: BaseException) -> str | None:
    """One line for a known database failure, or None."""
    text = str(exc).lower()
    for needle, message in _STORE_MESSAGES:
        if needle in text:
            if message is None:
                first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                return f"database error: {first.removeprefix('(psycopg.OperationalError) ')}"
            return message
    return None
