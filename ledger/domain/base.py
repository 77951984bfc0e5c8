"""Base classes for the ledger's aggregates, and the rule-checking hook.

Aggregates are ordinary eventsourcing aggregates: command methods trigger
events; events' ``apply`` set attributes.  Each rule lives in exactly one
place, an event's ``check(aggregate, ctx)`` method, which raises
:class:`RuleError` when the event may not happen given the state before it:

* on the write side, a freshly triggered event is checked before it is
  applied (so the command is refused and nothing is written);
* ``ledger verify`` replays stored records through the same aggregates and
  calls the same ``check``: a validly signed record that breaks a rule is
  a finding.

``head_hash`` is the event hash of the last *stored* record of the stream,
which the write side needs to chain the next record's ``prev``.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Self, TypeVar

from eventsourcing.domain import Aggregate

from ledger.errors import NotFoundError, RefusedError

if TYPE_CHECKING:
    from ledger.domain.identity import KeyInfo, Registry

LEDGER_NAMESPACE = uuid.UUID("6f1c3a52-2b7e-4c1d-9a8e-0d7b5e4f3a21")
A = TypeVar("A", bound="LedgerAggregate")


class RuleError(RefusedError):
    """The governance rules forbid this event."""


@functools.lru_cache(maxsize=4096)
def stream_id(origin: str, kind: str, ref: str) -> uuid.UUID:
    """The stream id of a domain object with a readable ref (``motion``, ``M-12``).
    Cached: rules look the same few objects up for every record (verify: 2 a record)."""
    return uuid.uuid5(LEDGER_NAMESPACE, f"{origin}/{kind}/{ref}")


@dataclass
class Context:
    """What a rule may consult: the signer, the time, and other aggregates."""

    origin: str
    actor: KeyInfo
    registry: Registry | None  # None only while writing the genesis record
    at: datetime
    lookup: Callable[[uuid.UUID], LedgerAggregate | None]
    # How many objects of a kind exist already (the write side's next ref).
    existing: Callable[[str], int] = lambda kind: 0
    # Whether a record with this event hash is already in the log.
    record_exists: Callable[[str], bool] = lambda digest: False
    # Makes an aggregate created by this command visible to later lookups.
    remember: Callable[[LedgerAggregate], None] = lambda aggregate: None
    counters: dict[str, int] = field(default_factory=dict)

    @property
    def keys(self) -> Registry:
        if self.registry is None:
            raise RuleError("no key registry yet")
        return self.registry

    def name(self, person: str) -> str:
        """A person as messages show them: their name (with organisation)."""
        if self.registry is None or person not in self.registry.keys:
            return f"key {person[:12]}"
        return self.registry.name_of(self.registry.keys[person].person)

    def find(self, cls: type[A], ref: str) -> A:
        """The aggregate of type ``cls`` with readable ref ``ref``, or NotFoundError."""
        found = self.lookup(stream_id(self.origin, cls.KIND, ref))
        if not isinstance(found, cls):
            raise NotFoundError(f"{cls.KIND} {ref} does not exist")
        return found

    def exists(self, cls: type[LedgerAggregate], ref: str) -> bool:
        return isinstance(self.lookup(stream_id(self.origin, cls.KIND, ref)), cls)


_CONTEXT: ContextVar[Context | None] = ContextVar("ledger_rule_context", default=None)


@contextmanager
def rule_context(ctx: Context) -> Iterator[Context]:
    token = _CONTEXT.set(ctx)
    try:
        yield ctx
    finally:
        _CONTEXT.reset(token)


def current_context() -> Context:
    ctx = _CONTEXT.get()
    if ctx is None:
        raise RuntimeError("domain commands must run inside Ledger.run (no rule context)")
    return ctx


class LedgerAggregate(Aggregate):
    """An aggregate whose events are stored as signed records."""

    KIND = ""  # e.g. "motion"; with ``ref`` it names the stream
    PREFIX = ""  # e.g. "M" for refs such as M-12
    head_hash: str | None = None

    class Event(Aggregate.Event):
        @staticmethod
        def create_timestamp() -> datetime:
            # The command's time (Context.at: the signer's clock, never behind
            # the ledger), so that the record's `at` is what the rules judged.
            return current_context().at

        def check(self, aggregate: Any, ctx: Context) -> None:
            """Raise RuleError if this event may not follow the aggregate's state."""

        def mutate(self, aggregate: Any) -> Any:
            _check_if_new(self, aggregate)
            aggregate = super().mutate(aggregate)
            _note_hash(self, aggregate)
            return aggregate

    class Created(Event, Aggregate.Created):
        @staticmethod
        def create_timestamp() -> datetime:
            return current_context().at

        def mutate(self, aggregate: Any) -> Any:
            _check_if_new(self, aggregate)
            aggregate = super().mutate(aggregate)
            _note_hash(self, aggregate)
            return aggregate

    @classmethod
    def _create(cls, event_class: Any, *, id: Any = None, **kwargs: Any) -> Self:
        aggregate: Self = super()._create(event_class, id=id, **kwargs)
        current_context().remember(aggregate)
        return aggregate

    @classmethod
    def new_id(cls, ctx: Context, ref: str) -> uuid.UUID:
        return stream_id(ctx.origin, cls.KIND, ref)

    @classmethod
    def next_ref(cls, ctx: Context) -> str:
        if cls.KIND not in ctx.counters:
            ctx.counters[cls.KIND] = ctx.existing(cls.KIND)
        number = ctx.counters[cls.KIND] + 1
        ctx.counters[cls.KIND] = number
        return f"{cls.PREFIX}-{number}"


def _check_if_new(event: Any, aggregate: Any) -> None:
    # Stored events carry their record's hash (set by the mapper) and are
    # history: never re-judged on load.  New events are judged before they
    # change anything.
    if "_event_hash" not in event.__dict__:
        event.check(aggregate, current_context())


def _note_hash(event: Any, aggregate: Any) -> None:
    stored_hash = event.__dict__.get("_event_hash")
    if stored_hash is not None and aggregate is not None:
        aggregate.head_hash = stored_hash


def require_not_future(day: str, ctx: Context, what: str) -> None:
    """A date saying when something happened cannot be later than the record saying so
    (the record's ``at``, the signer's clock)."""
    today = ctx.at.date().isoformat()
    require(day <= today, f"the {what} {day} is later than this record's time ({today}): it has not happened yet")


def require(condition: bool, message: str) -> None:
    """Raise RuleError(message) unless condition holds."""
    if not condition:
        raise RuleError(message)
