"""The audit trail's queries: who signed what, when, in which role.

A query with a limit costs the same on a ledger of any age: rows come from the
indexed audit view (``view_audit``, kept by every writing command in its own
transaction) with the filters and the limit in SQL, newest first; records the
view has not caught up with (written through the library without the CLI's
hooks, or imported) are computed from the records themselves, page by page,
keeping only the last ``limit`` matches.  Without a view at all the whole log is
read page by page, still in flat memory.  Read-only: nothing is written.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, func, literal, select

from projections.views import AuditState, audit, state_from_views, tracking

PAGE = 2000


@dataclass
class Filters:
    """What to keep; every field optional."""

    stream: str | None = None
    ref: str | None = None
    actors: set[str] | None = None  # key ids (an organisation's representatives, every key they held)
    holder: str | None = None
    record_type: str | None = None  # a type, or a prefix ending in "."
    role: str | None = None
    since: str | None = None  # record times, as stored (RFC 3339, fixed width)
    until: str | None = None

    def keep(self, row: dict[str, Any]) -> bool:
        if self.stream and row["stream"] != self.stream:
            return False
        if self.ref and row["ref"].upper() != self.ref.upper():
            return False
        if self.actors is not None and row["actor"] not in self.actors:
            return False
        if self.holder and self.holder.casefold() not in row["holder"].casefold():
            return False
        if self.record_type and not (row["type"] == self.record_type or (
                self.record_type.endswith(".") and row["type"].startswith(self.record_type))):
            return False
        if self.role and self.role not in row["roles"].split(","):
            return False
        return not ((self.since and row["at"] < self.since) or (self.until and row["at"] >= self.until))

    def sql(self) -> list[Any]:
        """The same filters as SQL conditions on view_audit."""
        c = audit.c
        out: list[Any] = []
        if self.stream:
            out.append(c.stream == self.stream)
        if self.ref:
            out.append(func.upper(c.ref) == self.ref.upper())
        if self.actors is not None:
            out.append(c.actor.in_(sorted(self.actors)) if self.actors else literal(False))
        if self.holder:
            out.append(func.lower(c.holder).contains(self.holder.casefold(), autoescape=True))
        if self.record_type:
            out.append(c.type.startswith(self.record_type, autoescape=True) if self.record_type.endswith(".")
                       else c.type == self.record_type)
        if self.role:
            out.append((literal(",") + c.roles + literal(",")).contains(f",{self.role},", autoescape=True))
        if self.since:
            out.append(c.at >= self.since)
        if self.until:
            out.append(c.at < self.until)
        return out


def latest(ledger: Any, filters: Filters, end: int, limit: int, notes: list[str] | None = None
           ) -> list[dict[str, Any]]:
    """The last ``limit`` audit rows at or before log position ``end`` that pass the filters, oldest first.

    The view is derived data a keeper could edit, so what it gives is checked
    against the records: it must hold one row per record (no row removed), and
    every row returned must name its record exactly (position, hash, type,
    stream, seq, time and signer).  If not, the answer comes from the records
    alone, and ``notes`` (when given) gets a line saying why."""
    try:
        return _latest(ledger, filters, end, limit, use_view=True)
    except ViewMismatch as exc:
        if notes is not None:
            notes.append(f"{exc}: answered from the records (run 'ledger projections rebuild')")
        return _latest(ledger, filters, end, limit, use_view=False)


class ViewMismatch(Exception):
    """The audit view does not match the records."""


def _latest(ledger: Any, filters: Filters, end: int, limit: int, use_view: bool) -> list[dict[str, Any]]:
    with ledger.recorder.transaction(commit=False) as session:
        caught_up = _view_position(session) if use_view else -1
        upto = min(caught_up, end)
        tail: deque[dict[str, Any]] = deque(maxlen=limit)
        if end > upto:
            state = state_from_views(session) if upto >= 0 else AuditState()
            for row in _rows(ledger, state, upto + 1, end):
                if filters.keep(row):
                    tail.append(row)
        rows = list(tail)
        wanted = limit - len(rows)
        if wanted > 0 and upto >= 0:
            found = session.execute(
                select(*[audit.c[name] for name in COLUMNS]).where(and_(audit.c.position <= upto, *filters.sql()))
                .order_by(audit.c.position.desc()).limit(wanted)).all()
            if session.execute(select(func.count()).select_from(audit).where(audit.c.position <= upto)).scalar() \
                    != upto + 1:
                raise ViewMismatch("rows are missing from the audit view")
            viewed = [dict(zip(COLUMNS, r, strict=True)) for r in reversed(found)]
            _check_against_records(ledger, viewed)
            rows = viewed + rows
    return rows


def _check_against_records(ledger: Any, rows: list[dict[str, Any]]) -> None:
    for row in rows:
        found = ledger.read(int(row["position"]), 1, check=False)
        record = found[0][1] if found else None
        if record is None or (record.event_hash, record.type, record.stream, record.seq, record.at, record.actor) != (
                row["event_hash"], row["type"], row["stream"], row["seq"], row["at"], row["actor"]):
            raise ViewMismatch(f"the audit view's row {row['position']} does not match its record")


COLUMNS = ("position", "at", "actor", "holder", "roles", "type", "summary", "stream", "seq", "ref", "event_hash")


def every_row(ledger: Any, end: int) -> Iterator[dict[str, Any]]:
    """Every audit row up to ``end``, in log order, page by page (for exports and the site)."""
    yield from _rows(ledger, AuditState(), 0, end)


def _rows(ledger: Any, state: AuditState, start: int, end: int) -> Iterator[dict[str, Any]]:
    position = start
    while position <= end:
        page = ledger.read(position, min(PAGE, end - position + 1), check=False)
        if not page:
            return
        for at, record in page:
            yield state.row(at, record)
        position = page[-1][0] + 1


def _view_position(session: Any) -> int:
    """How far the views have caught up (-1: no views in this database)."""
    connection = session.connection()
    if not connection.dialect.has_table(connection, tracking.name):
        return -1
    from projections.views import NAME

    found = session.execute(select(tracking.c.position).where(tracking.c.name == NAME)).scalar()
    return -1 if found is None else int(found)
