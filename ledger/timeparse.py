"""Parsing times typed by people (RFC 3339 with an offset, or a date)."""

from __future__ import annotations

from datetime import UTC, datetime

from ledger.errors import InvalidInputError


def parse_user_time(text: str) -> datetime:
    """RFC 3339 (``Z`` or an offset) or a plain date (midnight UTC); aware UTC."""
    value = text.strip()
    try:
        if len(value) == 10:
            return datetime.fromisoformat(value).replace(tzinfo=UTC)
        moment = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise InvalidInputError(f"{text!r} is not an RFC 3339 time such as 2026-11-01T09:00:00Z") from None
    if moment.tzinfo is None:
        raise InvalidInputError(f"{text!r} has no time zone; add Z or an offset such as +01:00")
    return moment.astimezone(UTC)
