"""Snapshots: an object's state at a version, so a long history is not replayed every command.

Some objects collect a record for every meeting or payment for as long as the
partnership lasts (a committee, a fund).  Rebuilding them from their whole
history made each command on them cost more the older the ledger.  When a
command writes to a stream of ``MIN_VERSION`` records or more whose snapshot is
missing or ``INTERVAL`` records old, it also stores the object's state
(``ledger_snapshots``: one row per stream, replaced, in the same transaction),
and loading starts from it and applies only the records after it.

A snapshot is derived, like the views: never signed, never read by ``ledger
verify``.  Loading uses it only when the record at its version is still the
one it was taken after (its event hash matches); anything unreadable is
ignored, and the object is rebuilt from its records.  The state is plain JSON
with tags for the few Python types aggregates hold, and names only registered
aggregate classes: reading it imports nothing else and runs no code.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from eventsourcing.utils import get_topic, resolve_topic

from ledger.types import AGGREGATE_TOPIC

# The shape of the objects a snapshot holds: raised when an aggregate's attributes change
# (2: milestones keep their first and latest report, not every one), so that snapshots
# taken before are ignored and the object rebuilt from its records.
FORMAT = 2
INTERVAL = 200  # records of a stream between snapshots
MIN_VERSION = 200  # shorter streams are cheap to replay: no snapshot


class NotSnapshottable(Exception):
    """The object holds something this format does not carry: take no snapshot."""


def _allowed_dataclasses() -> dict[str, type[Any]]:
    from ledger.domain.identity import KeyInfo

    return {get_topic(KeyInfo): KeyInfo}


def encode(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, Decimal):
        return {"$dec": str(value)}
    if isinstance(value, datetime):
        return {"$dt": value.isoformat()}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    if isinstance(value, UUID):
        return {"$uuid": value.hex}
    if isinstance(value, (set, frozenset)):
        return {"$set": [encode(v) for v in value]}
    if isinstance(value, tuple):
        return {"$tuple": [encode(v) for v in value]}
    if isinstance(value, list):
        return [encode(v) for v in value]
    if isinstance(value, dict):
        if all(isinstance(k, str) and not k.startswith("$") for k in value):
            return {k: encode(v) for k, v in value.items()}
        return {"$dict": [[encode(k), encode(v)] for k, v in value.items()]}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        topic = get_topic(type(value))
        if topic in _allowed_dataclasses():
            return {"$dc": topic, "v": {f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value)}}
    raise NotSnapshottable(type(value).__name__)


def decode(value: Any) -> Any:
    if isinstance(value, list):
        return [decode(v) for v in value]
    if not isinstance(value, dict):
        return value
    if len(value) == 1:
        ((tag, inner),) = value.items()
        if tag == "$dec":
            return Decimal(inner)
        if tag == "$dt":
            return datetime.fromisoformat(inner)
        if tag == "$date":
            return date.fromisoformat(inner)
        if tag == "$uuid":
            return UUID(inner)
        if tag == "$set":
            return {decode(v) for v in inner}
        if tag == "$tuple":
            return tuple(decode(v) for v in inner)
        if tag == "$dict":
            return {decode(k): decode(v) for k, v in inner}
    if set(value) == {"$dc", "v"}:
        cls = _allowed_dataclasses().get(value["$dc"])
        if cls is None:
            raise ValueError(f"not a snapshot type: {value['$dc']}")
        return cls(**{k: decode(v) for k, v in value["v"].items()})
    return {k: decode(v) for k, v in value.items()}


def dumps(aggregate: Any) -> bytes:
    """An aggregate's state as snapshot bytes (NotSnapshottable if it holds anything unusual)."""
    topic = get_topic(type(aggregate))
    if topic not in set(AGGREGATE_TOPIC.values()):
        raise NotSnapshottable(topic)
    state = {k: v for k, v in vars(aggregate).items() if k != "_pending_events"}
    return json.dumps({"format": FORMAT, "topic": topic, "state": encode(state)}, separators=(",", ":")).encode()


def loads(raw: bytes) -> Any:
    """The aggregate a snapshot holds (ValueError if it is not one we wrote)."""
    body = json.loads(raw)
    if body.get("format") != FORMAT:
        raise ValueError("a snapshot of an earlier shape of the objects")
    topic = body.get("topic")
    if topic not in set(AGGREGATE_TOPIC.values()):
        raise ValueError("not an aggregate of this ledger")
    cls = resolve_topic(topic)
    aggregate = object.__new__(cls)
    aggregate.__dict__.update(decode(body["state"]))
    aggregate.__dict__["_pending_events"] = []
    return aggregate


def load(recorder: Any, aggregate_id: UUID, version: int | None) -> tuple[Any, int] | None:
    """(object, its version) from the stream's snapshot, when there is a usable one at or
    before ``version``; None otherwise (the caller rebuilds from the records)."""
    from sqlalchemy import select

    from ledger import record as rec
    from ledger.store import snapshots_table

    stream = str(aggregate_id)
    with recorder.transaction(commit=False) as session:
        # Every load asks; once the table is there it stays, so ask the catalogue once.
        if not getattr(recorder, "has_snapshots", False):
            connection = session.connection()
            if not connection.dialect.has_table(connection, snapshots_table.name):
                return None
            recorder.has_snapshots = True
        row = session.execute(select(snapshots_table.c.version, snapshots_table.c.head_hash,
                                     snapshots_table.c.state).where(snapshots_table.c.stream == stream)).first()
    if row is None or (version is not None and int(row[0]) > version):
        return None
    found = recorder.select_events(aggregate_id, gt=int(row[0]) - 1, lte=int(row[0]), limit=1)
    if not found or rec.event_hash(found[0].state) != row[1]:
        return None  # the records moved on from what the snapshot was taken after: ignore it
    try:
        aggregate = loads(bytes(row[2]))
    except (ValueError, TypeError, KeyError):
        return None
    if getattr(aggregate, "_version", None) != int(row[0]) or getattr(aggregate, "head_hash", None) != row[1]:
        return None
    return aggregate, int(row[0])


def keep(session: Any, aggregate: Any, new_records: int) -> None:
    """Store the object's state when its stream is long and its snapshot (if any) is
    ``INTERVAL`` or more records behind: a long stream written before snapshots
    existed gets one at its next write."""
    from sqlalchemy import delete, insert, select

    from ledger.store import snapshots_table

    version = int(aggregate.version)
    if version < MIN_VERSION or new_records <= 0:
        return
    stream = str(aggregate.id)
    kept = session.execute(select(snapshots_table.c.version).where(snapshots_table.c.stream == stream)).scalar()
    if kept is not None and version - int(kept) < INTERVAL:
        return
    try:
        state = dumps(aggregate)
    except NotSnapshottable:
        return
    session.execute(delete(snapshots_table).where(snapshots_table.c.stream == stream))
    session.execute(insert(snapshots_table).values(stream=stream, version=version, head_hash=aggregate.head_hash,
                                                   state=state))
