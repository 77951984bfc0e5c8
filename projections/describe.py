"""Plain, JSON-ready descriptions of domain objects, for ``show`` commands.

Read-only: turns the current state of an aggregate (rebuilt from the signed
records) into a dict of its public attributes.  The fuller read models,
with history and time travel, are separate views.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from ledger import Ledger
from ledger.domain.base import LedgerAggregate, stream_id
from ledger.errors import NotFoundError
from ledger.types import CREATED_TYPE

HIDDEN = {"head_hash", "terms"}


def plain(value: Any) -> Any:
    """Decimals to strings, tuples to lists, nested all the way down."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [plain(v) for v in value]
    return value


def load(ledger: Ledger, cls: type[LedgerAggregate], ref: str) -> Any:
    from eventsourcing.application import AggregateNotFoundError

    try:
        return ledger.repository.get(stream_id(ledger.origin, cls.KIND, ref.strip().upper()))
    except AggregateNotFoundError:
        raise NotFoundError(f"{cls.KIND} {ref} does not exist") from None


def describe(aggregate: Any) -> dict[str, Any]:
    out = {"stream": str(aggregate.id), "seq": aggregate.version}
    for key, value in vars(aggregate).items():
        if not key.startswith("_") and key not in HIDDEN:
            out[key] = plain(value)
    if hasattr(aggregate, "status") and callable(aggregate.status):
        out["status"] = aggregate.status(datetime.now(UTC).date())
    return out


def refs(ledger: Ledger, cls: type[LedgerAggregate]) -> list[str]:
    """Every ref of a kind, in creation order."""
    from ledger import record as rec

    topic = CREATED_TYPE[cls.KIND]
    out = []
    start = None
    while True:
        batch = ledger.recorder.select_notifications(start=start, limit=500, topics=[topic])
        out += [str(rec.parse(n.state).data["ref"]) for n in batch]
        if len(batch) < 500:
            return out
        start = batch[-1].id + 1
