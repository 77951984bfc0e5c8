"""Base classes for the ledger's aggregates.

Aggregates are ordinary eventsourcing aggregates: command methods check the
rules and trigger events; events set attributes.  The only addition is
``head_hash``: the event hash of the last *stored* record of the stream,
which the write side needs to chain the next record's ``prev``.
"""

from __future__ import annotations

from typing import Any

from eventsourcing.domain import Aggregate


class LedgerAggregate(Aggregate):
    """An aggregate whose events are stored as signed records."""

    head_hash: str | None = None

    class Event(Aggregate.Event):
        def mutate(self, aggregate: Any) -> Any:
            aggregate = super().mutate(aggregate)
            _note_hash(self, aggregate)
            return aggregate

    class Created(Event, Aggregate.Created):
        def mutate(self, aggregate: Any) -> Any:
            aggregate = super().mutate(aggregate)
            _note_hash(self, aggregate)
            return aggregate


def _note_hash(event: Any, aggregate: Any) -> None:
    # Events read back from storage carry their record's hash (set by the
    # mapper); freshly triggered ones do not until they are sealed on save.
    stored_hash = event.__dict__.get("_event_hash")
    if stored_hash is not None and aggregate is not None:
        aggregate.head_hash = stored_hash
