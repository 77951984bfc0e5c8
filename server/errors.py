"""The one place errors become HTTP statuses and one-line JSON bodies.

Every error answer is ``{"error": {"code": CODE, "message": ONE_LINE}}`` with
a stable code; no stack trace ever leaves the server.
"""

from __future__ import annotations

import click

from ledger import errors as E
from ledger.remote import MovedOnError


class HTTPError(Exception):
    """An error with its status and code decided where it is raised (size, rate, parsing)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


# Most specific first: the first class an error is an instance of decides.
_STATUSES: list[tuple[type[BaseException], int, str]] = [
    (HTTPError, 0, ""),
    (click.UsageError, 400, "usage"),
    (click.BadParameter, 400, "usage"),
    (click.ClickException, 400, "usage"),
    (MovedOnError, 409, "moved_on"),
    (E.ConflictError, 409, "conflict"),
    (E.UnauthorisedError, 403, "unauthorised"),
    (E.InvalidInputError, 400, "invalid"),
    (E.KeyFileError, 400, "invalid"),
    (E.NotFoundError, 404, "not_found"),
    (E.UncoveredError, 404, "uncovered"),
    (E.StoreError, 503, "store"),
    (E.RefusedError, 422, "refused"),
    (E.LedgerError, 422, "refused"),
]


def status_of(exc: BaseException) -> tuple[int, str, str]:
    """(HTTP status, stable code, one-line message) for an error."""
    if isinstance(exc, HTTPError):
        return exc.status, exc.code, exc.message
    for cls, status, code in _STATUSES:
        if isinstance(exc, cls):
            message = exc.format_message() if isinstance(exc, click.ClickException) else str(exc)
            return status, code, one_line(message)
    from ledger.errors import explain_store_error

    known = explain_store_error(exc)
    if known:
        return 503, "store", known
    return 500, "internal", "internal error (the server's log has the details)"


def one_line(text: str) -> str:
    return " ".join(text.split())[:500]
