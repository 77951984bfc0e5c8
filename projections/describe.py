"""Plain, JSON-ready descriptions of domain objects, for ``show`` commands.

Read-only: turns the current state of an aggregate (rebuilt from the signed
records) into a dict of its public attributes.  The fuller read models,
with history and time travel, are separate views.
"""

from __future__ import annotations

from collections.abc import Iterator
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
    if isinstance(value, (set, frozenset)):
        return sorted(plain(v) for v in value)
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def load(ledger: Ledger, cls: type[LedgerAggregate], ref: str, as_of: int | None = None) -> Any:
    """The object as it stands, or as it stood at log position ``as_of``.

    Reads only the object's own stream (up to its version at that point), so
    the cost grows with the stream, not with the ledger.
    """
    from eventsourcing.application import AggregateNotFoundError

    # Numbered refs (M-3) are written in capitals; slugs (organisations) in lower case.
    ref = ref.strip().upper() if cls.PREFIX else ref.strip().lower()
    sid = stream_id(ledger.origin, cls.KIND, ref)
    version = None if as_of is None else version_at(ledger, sid, as_of)
    if as_of is not None and version is None:
        raise NotFoundError(f"{cls.KIND} {ref} did not exist yet at position {as_of}")
    try:
        return ledger.repository.get(sid, version=version)
    except AggregateNotFoundError:
        raise NotFoundError(f"{cls.KIND} {ref} does not exist") from None


def milestone_reports(ledger: Ledger, milestone: Any) -> list[dict[str, Any]]:
    """Every progress report of a milestone, oldest first, as of the object's version.

    The object keeps only its first and latest (what the rules need); the history
    is read from its own stream when someone wants to see it."""
    from ledger.domain.milestone import Milestone

    return [{"value": e.value, "date": e.report_date, "evidence": e.evidence, "narrative": e.narrative}
            for e in ledger.events.get(milestone.id, lte=milestone.version)
            if isinstance(e, Milestone.ProgressReported)]


def describe_milestone(ledger: Ledger, milestone: Any, today: date | None = None) -> dict[str, Any]:
    """A milestone as `milestone show` gives it: with its reports, read from its stream."""
    out = describe(milestone, today)
    status = out.pop("status")
    for derived in ("report_count", "first_report_date", "latest_report", "evaluations"):
        out.pop(derived, None)
    out["reports"] = milestone_reports(ledger, milestone)
    out["evaluations"] = plain(milestone.evaluations)
    out["status"] = status
    return out


def version_at(ledger: Ledger, sid: UUID, position: int) -> int | None:
    """The stream's last seq at or before a log position (None: not yet created)."""
    from sqlalchemy import func, select

    events = ledger.recorder.events_record_cls.__table__  # type: ignore[attr-defined]
    nid = ledger.notification_id(position)
    if nid is None:
        raise NotFoundError(f"there is no record at position {position}")
    with ledger.recorder.transaction(commit=False) as session:  # type: ignore[attr-defined]
        found = session.execute(select(func.max(events.c.originator_version)).where(
            events.c.originator_id == sid, events.c.id <= nid)).scalar()
    return None if found is None else int(found)


def describe(aggregate: Any, today: date | None = None) -> dict[str, Any]:
    out = {"stream": str(aggregate.id), "seq": aggregate.version}
    for key, value in vars(aggregate).items():
        if not key.startswith("_") and key not in HIDDEN:
            out[key] = plain(value)
    if hasattr(aggregate, "status") and callable(aggregate.status):
        out["status"] = aggregate.status(today or datetime.now(UTC).date())
    return out


def refs(ledger: Ledger, cls: type[LedgerAggregate], as_of: int | None = None) -> list[str]:
    """Every ref of a kind, in creation order (created at or before ``as_of``)."""
    return list(iter_refs(ledger, cls, as_of))


def iter_refs(ledger: Ledger, cls: type[LedgerAggregate], as_of: int | None = None) -> Iterator[str]:
    """The same, read a page at a time (for kinds that grow with the ledger: meetings, motions)."""
    from ledger import record as rec

    stop = None if as_of is None else ledger.notification_id(as_of)
    for n in ledger.notifications(topics=[CREATED_TYPE[cls.KIND]], stop=stop):
        yield str(rec.parse(n.state).data["ref"])


def positions_of_stream(ledger: Ledger, stream: str) -> list[int]:
    """The log positions of one stream's records (reads only that stream)."""
    from sqlalchemy import select

    from ledger.store import log_table

    events = ledger.recorder.events_record_cls.__table__  # type: ignore[attr-defined]
    with ledger.recorder.transaction(commit=False) as session:  # type: ignore[attr-defined]
        rows = session.execute(
            select(log_table.c.position).join(events, events.c.id == log_table.c.notification_id)
            .where(events.c.originator_id == UUID(stream)).order_by(log_table.c.position)
        ).all()
    return [int(r[0]) for r in rows]


def registry_as_of(ledger: Ledger, as_of: int | None = None) -> Any:
    """The key registry as it stands, or as it stood at log position ``as_of``."""
    from ledger.domain.identity import registry_id

    if as_of is None:
        return ledger.registry()
    sid = registry_id(ledger.origin)
    return ledger.repository.get(sid, version=version_at(ledger, sid, as_of))
