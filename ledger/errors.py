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
