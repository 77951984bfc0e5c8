"""Storage: how signed records live in eventsourcing's SQLAlchemy persistence.

* :class:`RecordMapper` turns a domain event into a signed record.  The
  stored event's ``state`` is exactly the record's canonical bytes and its
  ``topic`` is the record ``type``, so what is stored is what was signed.
* :class:`LedgerRecorder` adds the ``ledger_log`` table (dense 0-based log
  positions and event hashes, written in the same transaction as the events)
  and installs database triggers that refuse UPDATE and DELETE.
* :func:`configure_engine` makes writers take the write lock up front, so a
  command's reads, rule checks and inserts happen in one serial transaction.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Mapper, StoredEvent
from eventsourcing_sqlalchemy.datastore import SQLAlchemyDatastore
from eventsourcing_sqlalchemy.recorders import SQLAlchemyApplicationRecorder
from sqlalchemy import (
    BigInteger,
    Column,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    event,
    func,
    select,
    text,
)
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from ledger import merkle
from ledger import record as rec
from ledger.database import EVENTS_TABLE
from ledger.errors import InvalidInputError, StoreError
from ledger.keys import Signer
from ledger.types import AGGREGATE_TOPIC, EVENT_CLASSES, TYPE_OF_CLASS

LOG_TABLE = "ledger_log"
TREE_TABLE = "ledger_merkle"  # (was ledger_tree, keyed by level and idx)
CHECKPOINT_TABLE = "ledger_checkpoints"
COSIGNATURE_TABLE = "ledger_cosignatures"
DOCUMENTS_TABLE = "ledger_documents"
SNAPSHOTS_TABLE = "ledger_snapshots"
SEALED_TABLE = "ledger_sealed"
GUARDED_TABLES = (EVENTS_TABLE, LOG_TABLE, TREE_TABLE, CHECKPOINT_TABLE, COSIGNATURE_TABLE)
ENVELOPE = ("originator_id", "originator_version", "timestamp", "originator_topic")

LOCK_TIMEOUT_ENV = "LEDGER_LOCK_TIMEOUT"


def lock_timeout() -> float:
    """Seconds a writer waits for another writer's lock (LEDGER_LOCK_TIMEOUT, default 10)."""
    try:
        return max(0.0, float(os.environ.get(LOCK_TIMEOUT_ENV, "10")))
    except ValueError:
        raise InvalidInputError(f"{LOCK_TIMEOUT_ENV} must be a number of seconds") from None


_WRITING: ContextVar[bool] = ContextVar("ledger_writing", default=False)
# When the current command must have the write lock by (time.monotonic()):
# LEDGER_LOCK_TIMEOUT is the total a command waits, across its retries.
_LOCK_DEADLINE: ContextVar[float | None] = ContextVar("ledger_lock_deadline", default=None)


def lock_wait_ms() -> int:
    """Milliseconds this writer may still wait for the lock (0: do not wait at all)."""
    deadline = _LOCK_DEADLINE.get()
    if deadline is None:
        return int(lock_timeout() * 1000)
    return max(0, int((deadline - time.monotonic()) * 1000))


@contextmanager
def lock_deadline(seconds: float) -> Iterator[float]:
    """Within this block, every attempt to take the write lock shares one deadline."""
    deadline = time.monotonic() + seconds
    token = _LOCK_DEADLINE.set(deadline)
    try:
        yield deadline
    finally:
        _LOCK_DEADLINE.reset(token)


# --- sealing: from domain event to signed record ---------------------------

@dataclass
class Sealing:
    """What the mapper needs to sign the events of one command."""

    origin: str
    signer: Signer | None  # None only when copying already-signed records (replicas)
    authorise: Callable[[str], None]
    last_position: int | None = None  # known under the write lock; None: ask the database
    tree: tuple[int, bytes] | None = None  # (size, root) after this command's records
    peaks: list[bytes] | None = None  # the tree's peaks at last_position_before (if known), then after
    last_position_before: int | None = None
    heads: dict[str, str | None] = field(default_factory=dict)
    sealed: list[rec.Record] = field(default_factory=list)


_SEALING: ContextVar[Sealing | None] = ContextVar("ledger_sealing", default=None)


@contextmanager
def sealing(context: Sealing) -> Iterator[Sealing]:
    token = _SEALING.set(context)
    try:
        yield context
    finally:
        _SEALING.reset(token)


def current_sealing() -> Sealing:
    context = _SEALING.get()
    if context is None:
        raise RuntimeError("events can only be stored by a signed ledger command")
    return context


class RecordMapper(Mapper[UUID]):
    """Maps domain events to signed records and back."""

    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        context = current_sealing()
        if context.signer is None:
            raise RuntimeError("a replica copies signed records; it cannot sign new ones")
        record_type = TYPE_OF_CLASS[type(domain_event)]
        context.authorise(record_type)
        data = {k: v for k, v in vars(domain_event).items() if k not in ENVELOPE}
        for name in getattr(type(domain_event), "OPTIONAL", ()):
            # Fields added to a record type later are left out while they hold their default,
            # so that records which do not use them keep exactly their earlier form.
            if name in data and data[name] == _defaults(type(domain_event)).get(name):  # type: ignore[arg-type]
                del data[name]
        stream = str(domain_event.originator_id)
        seq = domain_event.originator_version
        prev = None if seq == 1 else context.heads[stream]
        unsigned = rec.build_trusted(
            ledger=context.origin, stream=stream, seq=seq, type=record_type,
            at=rec.format_time(domain_event.timestamp), actor=context.signer.key_id,
            prev=prev, data=data,
        )
        sealed = rec.sign_record(unsigned, context.signer.sign)
        context.heads[stream] = sealed.event_hash
        context.sealed.append(sealed)
        return StoredEvent(
            originator_id=domain_event.originator_id, originator_version=seq,
            topic=record_type, state=sealed.raw,
        )

    def to_domain_event(self, stored_event: StoredEvent) -> Any:
        return self.event_from_record(rec.parse(stored_event.state))

    def event_from_record(self, record: rec.Record) -> Any:
        """The domain event a (parsed, checked) record stands for."""
        cls = EVENT_CLASSES[record.type]
        state: dict[str, Any] = dict(_defaults(cls))  # type: ignore[arg-type]  # classes are hashable
        state.update(record.data)
        state["originator_id"] = _stream_uuid(record.stream)
        state["originator_version"] = record.seq
        state["timestamp"] = record.moment
        if record.type in AGGREGATE_TOPIC:
            state["originator_topic"] = AGGREGATE_TOPIC[record.type]
        state["_event_hash"] = record.event_hash
        state["_actor"] = record.actor
        domain_event = object.__new__(cls)
        object.__setattr__(domain_event, "__dict__", state)
        return domain_event


@functools.lru_cache(maxsize=4096)
def _stream_uuid(stream: str) -> UUID:
    # Replaying history turns each stream's id into a UUID once per record;
    # streams repeat, so remember the recent ones.
    return UUID(stream)


@functools.cache
def _defaults(cls: type[Any]) -> dict[str, Any]:
    # Fields added to an event class later get their defaults when old
    # records (which lack them) are read.
    out: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        if f.default is not dataclasses.MISSING:
            out[f.name] = f.default
        elif f.default_factory is not dataclasses.MISSING:
            out[f.name] = f.default_factory()
    return out


# --- the recorder: events plus the dense log table, append-only -----------

_metadata = MetaData()
log_table = Table(
    LOG_TABLE,
    _metadata,
    Column("position", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=False),
    Column("notification_id", BigInteger().with_variant(Integer(), "sqlite"), nullable=False, unique=True),
    # No index on event_hash: hashes are random, and keeping a B-tree of them
    # sorted dirtied a page per record and doubled the cost of a commit.
    # Lookups by hash (rare: --as-of HASH, grievances) scan this narrow table.
    Column("event_hash", String(64), nullable=False),
)
# Every complete subtree of the Merkle tree over the log: node (level, idx)
# covers leaves [idx * 2**level, (idx + 1) * 2**level) and is stored under
# merkle.node_id(level, idx), its number in completion order, so a command's
# new nodes are appended at the end of the table (see ledger/merkle.py).
tree_table = Table(
    TREE_TABLE,
    _metadata,
    Column("node", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=False),
    Column("hash", LargeBinary(32), nullable=False),
)
# Signed tree heads (C2SP checkpoints), one per size.
checkpoint_table = Table(
    CHECKPOINT_TABLE,
    _metadata,
    Column("size", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=False),
    Column("root", LargeBinary(32), nullable=False),
    Column("note", Text(), nullable=False),
)

# Documents cited by digest, kept beside the log (ledger/documents.py): not
# append-only, because a document may have to be erased; verify checks that
# every kept document still hashes to its digest.
documents_table = Table(
    DOCUMENTS_TABLE,
    _metadata,
    Column("digest", String(64), primary_key=True),
    Column("name", Text(), nullable=False),
    Column("size", BigInteger().with_variant(Integer(), "sqlite"), nullable=False),
    Column("content", LargeBinary(), nullable=False),
    Column("kept_at", String(32), nullable=False),
)

# Sealed (age-encrypted) files that records commit to by digest (ledger/sealed.py):
# erasable, so not append-only; verify checks every kept file against its digest.
sealed_table = Table(
    SEALED_TABLE,
    _metadata,
    Column("digest", String(64), primary_key=True),
    Column("size", BigInteger().with_variant(Integer(), "sqlite"), nullable=False),
    Column("content", LargeBinary(), nullable=False),
    Column("kept_at", String(32), nullable=False),
)

# The latest snapshot of each long stream (ledger/snapshots.py): derived, never
# verified, replaced as the stream grows; loading checks it still fits the records.
snapshots_table = Table(
    SNAPSHOTS_TABLE,
    _metadata,
    Column("stream", String(36), primary_key=True),
    Column("version", BigInteger().with_variant(Integer(), "sqlite"), nullable=False),
    Column("head_hash", String(64), nullable=False),
    Column("state", LargeBinary(), nullable=False),
)

# Witnesses' cosignature lines, per checkpoint size and witness name.
cosignature_table = Table(
    COSIGNATURE_TABLE,
    _metadata,
    Column("size", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=False),
    Column("witness", String(255), primary_key=True),
    Column("line", Text(), nullable=False),
)


def tree_nodes(session: Session, wanted: Any) -> dict[tuple[int, int], bytes]:
    """Fetch stored tree nodes by (level, idx), in one query."""
    by_id = {merkle.node_id(level, idx): (level, idx) for level, idx in wanted}
    if not by_id:
        return {}
    rows = session.execute(
        select(tree_table.c.node, tree_table.c.hash).where(tree_table.c.node.in_(sorted(by_id)))
    ).all()
    return {by_id[int(node)]: bytes(h) for node, h in rows}


def tree_size(session: Session) -> int:
    """The number of leaves the stored tree covers."""
    last = session.execute(select(func.max(tree_table.c.node))).scalar()
    size = merkle.size_of(0 if last is None else int(last) + 1)
    if size is None:
        raise StoreError("the stored Merkle tree is incomplete; run 'ledger checkpoint' to rebuild it")
    return size


def append_to_tree(session: Session, size_before: int, leaves: list[bytes],
                   known_peaks: list[bytes] | None = None) -> tuple[int, bytes, list[bytes]]:
    """Add leaf data to the stored tree; return the new (size, root, peaks).

    ``known_peaks`` (the peaks after this writer's previous command, valid
    when nobody has written since) saves reading them back.
    """
    rows, size, root, peaks = tree_rows(session, size_before, leaves, known_peaks)
    DriverSQL(session).insert(TREE_TABLE, ("node", "hash"), rows)
    return size, root, peaks


def tree_rows(session: Session, size_before: int, leaves: list[bytes], known_peaks: list[bytes] | None
              ) -> tuple[list[tuple[int, bytes]], int, bytes, list[bytes]]:
    """The tree nodes that adding the leaves completes (not yet stored), and the new size, root, peaks."""
    builder = merkle.RootBuilder()
    if known_peaks is None:
        known_peaks = _stored_peaks(session, size_before)
    builder.size, builder.peaks = size_before, list(known_peaks)
    rows = []
    for data in leaves:
        rows += [(merkle.node_id(level, idx), h) for (level, idx), h in builder.add(merkle.leaf_hash(data))]
    return rows, builder.size, builder.root(), builder.peaks


def _stored_peaks(session: Session, size: int) -> list[bytes]:
    """The stored tree's peaks at ``size`` leaves, catching the tree up first if it is behind."""
    nodes = merkle.range_nodes(0, size)
    found = tree_nodes(session, nodes)
    if len(found) != len(nodes) and catch_up_tree(session, size):
        found = tree_nodes(session, nodes)
    if len(found) != len(nodes):
        raise StoreError("the stored Merkle tree does not match the log")
    return [found[n] for n in nodes]


def catch_up_tree(session: Session, size: int, page: int = 10_000) -> int:
    """Add the tree nodes of log positions the stored tree lacks, up to ``size``.

    For a ledger whose tree was stored by an older version (in ``ledger_tree``)
    or lost: the tree is derived from the records, so it is rebuilt from them,
    a page at a time, in the caller's transaction.  Returns the leaves added.
    """
    have = tree_size(session)
    sql = DriverSQL(session)
    start = have
    while start < size:
        sql.cursor.execute(
            f"SELECT e.state FROM {LOG_TABLE} l JOIN {EVENTS_TABLE} e ON e.id = l.notification_id "
            f"WHERE l.position >= {sql.mark} AND l.position < {sql.mark} ORDER BY l.position",
            (start, min(start + page, size)))
        leaves = [bytes(state) for (state,) in sql.cursor.fetchall()]
        if not leaves:
            raise StoreError(f"log position {start} has no record; the log table does not match the records")
        append_to_tree(session, start, leaves)
        start += len(leaves)
    return max(size - have, 0)


class LedgerRecorder(SQLAlchemyApplicationRecorder):
    """The application recorder plus log positions and append-only guards."""

    # Set once ledger_snapshots is known to exist (it is never dropped): see snapshots.load.
    has_snapshots = False

    def __init__(self, datastore: SQLAlchemyDatastore) -> None:
        super().__init__(datastore, events_table_name=EVENTS_TABLE)
        self.tables += [log_table, tree_table, checkpoint_table, cosignature_table, documents_table,
                        snapshots_table, sealed_table]

    def create_table(self) -> None:
        """Create the schema in its own transaction (tests and tools; commands
        use :meth:`create_missing_tables` inside their writing transaction)."""
        engine = self.datastore.engine
        assert isinstance(engine, Engine)
        if schema_is_complete(engine):
            return
        with engine.begin() as conn:
            self.create_missing_tables(conn)

    def has_table(self, name: str) -> bool:
        """Whether the database has the table (no DDL, no writes)."""
        engine = self.datastore.engine
        assert isinstance(engine, Engine)
        with engine.connect() as conn:
            found = engine.dialect.has_table(conn, name)
            conn.rollback()
        return bool(found)

    def has_ledger_tables(self) -> bool:
        """True when the database holds a ledger's records table (no DDL, no writes)."""
        engine = self.datastore.engine
        assert isinstance(engine, Engine)
        with engine.connect() as conn:
            if engine.dialect.name == "postgresql":
                found = conn.execute(text("SELECT to_regclass(:t) IS NOT NULL"), {"t": EVENTS_TABLE}).scalar()
            else:
                found = conn.execute(text("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = :t"),
                                     {"t": EVENTS_TABLE}).scalar()
            conn.rollback()
        return bool(found)

    def create_missing_tables(self, conn: Any) -> list[str]:
        """Create the tables this database lacks, with their append-only guards,
        on ``conn`` (inside the caller's transaction, so a failed command
        leaves no tables behind).  Returns the tables created.

        Only ``init``, ``import`` and writing commands call this: reading never
        changes the schema.  Guards are installed only on tables created here:
        a guard missing from an existing table is evidence for ``ledger verify``,
        which only ``ledger repair-guards`` may replace.
        """
        dialect = conn.dialect.name
        if dialect == "postgresql":
            # Serialise schema creation between processes opening a new database.
            conn.execute(text(f"SET LOCAL lock_timeout = '{int(lock_timeout() * 1000)}ms'"))
            conn.execute(text("SELECT pg_advisory_xact_lock(7210931)"))
        created = []
        for table in self.tables:
            if not conn.dialect.has_table(conn, table.name):
                table.create(conn)
                created.append(table.name)
        install_guards(conn, dialect, [t for t in created if t in GUARDED_TABLES])
        return created

    def _insert_stored_events(
        self, session: Session, stored_events: Any, **kwargs: Any
    ) -> Any:
        # Plain driver statements (rather than the ORM unit of work the base
        # class uses) into the same tables: this is the write path's hottest
        # step, and SQLAlchemy's per-statement work cost more than SQLite's.
        if not session.info.get(LOCKED):
            self._lock_table(session)  # every writing path takes the lock first; this is a safety net
        sql = DriverSQL(session)
        ids = sql.insert_events(self.events_table_name, stored_events)
        # Writers hold the write lock, so the last position cannot move under us.
        context = current_sealing()
        start = sql.last_position() if context.last_position is None else context.last_position
        if context.last_position_before is None:
            context.last_position_before = start
        context.last_position = start + len(ids)
        log_rows = [(start + 1 + i, nid, hashlib.sha256(e.state).hexdigest())
                    for i, (nid, e) in enumerate(zip(ids, stored_events, strict=True))]
        peaks = context.peaks if context.peaks is not None and context.last_position_before == start else None
        nodes, size, root, context.peaks = tree_rows(session, start + 1, [e.state for e in stored_events], peaks)
        sql.insert_log_and_tree(log_rows, nodes)
        context.tree = (size, root)
        # No NOTIFY: nothing listens (eventsourcing's LISTEN-based subscriptions are not
        # used; readers page the log), and it cost every command a round trip.
        return ids


class DriverSQL:
    """The write path's own statements, sent straight to the database driver.

    Fixed statements on the session's connection, so they share its
    transaction; only the parameter style and UUID binding differ between
    SQLite and PostgreSQL.
    """

    CHUNK = 500  # rows per multi-row INSERT, well inside both drivers' parameter limits

    def __init__(self, session: Session) -> None:
        connection = session.connection()
        self.dialect = connection.dialect.name
        self.cursor = connection.connection.cursor()
        self.mark = "?" if self.dialect == "sqlite" else "%s"

    def insert(self, table: str, columns: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
        marks = "(" + ",".join([self.mark] * len(columns)) + ")"
        self.cursor.executemany(f"INSERT INTO {table} ({','.join(columns)}) VALUES {marks}", rows)

    def insert_log_and_tree(self, log_rows: list[tuple[Any, ...]], nodes: list[tuple[Any, ...]]) -> None:
        """The log positions and the tree nodes of a command's records.  On PostgreSQL one
        statement (a data-modifying WITH) writes both: one round trip instead of two."""
        if self.dialect != "postgresql" or not nodes or len(log_rows) + len(nodes) > self.CHUNK:
            self.insert(LOG_TABLE, ("position", "notification_id", "event_hash"), log_rows)
            self.insert(TREE_TABLE, ("node", "hash"), nodes)
            return
        log_marks = ",".join(["(%s,%s,%s)"] * len(log_rows))
        node_marks = ",".join(["(%s,%s)"] * len(nodes))
        params = [v for row in log_rows for v in row] + [v for row in nodes for v in row]
        self.cursor.execute(f"WITH log AS (INSERT INTO {LOG_TABLE} (position, notification_id, event_hash) "
                            f"VALUES {log_marks}) INSERT INTO {TREE_TABLE} (node, hash) VALUES {node_marks}", params)

    def insert_events(self, table: str, stored_events: Any) -> list[int]:
        """Insert stored events; return their notification ids in the events' order."""
        ids: list[int] = []
        binary = self.dialect == "sqlite"  # UUIDType stores 16 raw bytes there, a native uuid on PostgreSQL
        for begin in range(0, len(stored_events), self.CHUNK):
            chunk = stored_events[begin:begin + self.CHUNK]
            marks = ",".join(["(" + ",".join([self.mark] * 4) + ")"] * len(chunk))
            params: list[Any] = []
            for e in chunk:
                params += (e.originator_id.bytes if binary else e.originator_id, e.originator_version, e.topic, e.state)
            self.cursor.execute(
                f"INSERT INTO {table} (originator_id, originator_version, topic, state) VALUES {marks} "
                "RETURNING id", params)
            # Neither database promises RETURNING's row order, but rows get
            # increasing ids in VALUES order under the write lock: sort them.
            ids += sorted(int(row[0]) for row in self.cursor.fetchall())
        return ids

    def last_position(self) -> int:
        return self.max_of("position", LOG_TABLE)

    def max_of(self, column: str, table: str) -> int:
        """The largest value of a column, or -1 for an empty table."""
        self.cursor.execute(f"SELECT max({column}) FROM {table}")
        # fetchall, not fetchone: it runs the statement to its end, so no
        # read stays open on the connection after this.
        (value,) = self.cursor.fetchall()[0]
        return -1 if value is None else int(value)


def _trigger_names() -> set[str]:
    return {f"{t}_no_{op}" for t in GUARDED_TABLES for op in ("update", "delete")}


def schema_is_complete(engine: Engine) -> bool:
    """True when the tables and every append-only trigger already exist."""
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            found = {row[0] for row in conn.execute(text(
                "SELECT tgname FROM pg_trigger WHERE tgname LIKE 'ledger_%_append_only' AND NOT tgisinternal"
            ))}
            wanted = {f"{t}_append_only" for t in GUARDED_TABLES}
        else:
            found = {row[0] for row in conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger'"))}
            wanted = _trigger_names()
        conn.rollback()
    return wanted <= found


def iter_rows(recorder: LedgerRecorder, page: int = 1000,
              stop: int | None = None) -> Iterator[tuple[int, str, int, str, bytes]]:
    """Every stored row (id, stream, seq, topic, state) in log order, a page at a
    time (up to notification id ``stop``, if given).

    Plain driver queries: the verifier reads every row, and SQLAlchemy's
    result processing (UUID objects, then strings) would cost more than
    checking them.
    """
    table = recorder.events_table_name
    after = -1
    last = f" AND id <= {int(stop)}" if stop is not None else ""
    while True:
        with recorder.transaction(commit=False) as session:
            sql = DriverSQL(session)
            # SQLite: the topic as bytes, decoded here, so that a corrupted byte is a
            # mismatch the verifier names rather than a driver error that stops it.
            topic_column = "CAST(topic AS BLOB)" if sql.dialect == "sqlite" else "topic"
            sql.cursor.execute(
                f"SELECT id, originator_id, originator_version, {topic_column}, state FROM {table} "
                f"WHERE id > {sql.mark}{last} ORDER BY id LIMIT {int(page)}", (after,))
            batch = sql.cursor.fetchall()
        for row_id, stream, seq, topic, state in batch:
            if isinstance(topic, bytes):
                topic = topic.decode("utf-8", errors="replace")
            yield row_id, _uuid_text(stream), seq, topic, bytes(state) if isinstance(state, memoryview) else state
        if len(batch) < page:
            return
        after = batch[-1][0]


def last_row_id(recorder: LedgerRecorder) -> int:
    """The newest stored row's notification id (-1 when there is none)."""
    with recorder.transaction(commit=False) as session:
        return DriverSQL(session).max_of("id", recorder.events_table_name)


def _uuid_text(value: Any) -> str:
    """A stored originator id (16 bytes in SQLite, a UUID from PostgreSQL) as a canonical string."""
    if isinstance(value, bytes) and len(value) == 16:
        h = value.hex()
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
    return str(value)


def last_position(session: Session) -> int:
    """The position of the newest record, or -1 for an empty log."""
    return DriverSQL(session).last_position()


def guard_message(table: str) -> str:
    return f"governance ledger: {table} is append-only; records cannot be changed or deleted"


def guard_statements(dialect: str, tables: Any = GUARDED_TABLES) -> list[tuple[str, str]]:
    """SQLite: (trigger name, CREATE statement) of each guard (verify compares them with the schema)."""
    if dialect != "sqlite":
        return [(f"{table}_append_only", "") for table in tables]
    return [(f"{table}_no_{op.lower()}",
             f"CREATE TRIGGER IF NOT EXISTS {table}_no_{op.lower()} BEFORE {op} ON {table} "
             f"BEGIN SELECT RAISE(ABORT, '{guard_message(table)}'); END")
            for table in tables for op in ("UPDATE", "DELETE")]


def install_guards(conn: Any, dialect: str, tables: Any = GUARDED_TABLES) -> None:
    """Triggers that make the database itself refuse UPDATE and DELETE."""
    tables = tuple(tables)
    if not tables:
        return
    if dialect == "sqlite":
        for _name, statement in guard_statements(dialect, tables):
            conn.execute(text(statement))
        return
    if dialect == "postgresql":
        conn.execute(text(
            "CREATE OR REPLACE FUNCTION governance_ledger_append_only() RETURNS trigger "
            "LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION "
            "'governance ledger: % is append-only; records cannot be changed or deleted (% refused)', "
            "TG_TABLE_NAME, TG_OP; END $$"
        ))
        for table in tables:
            conn.execute(text(
                f"CREATE OR REPLACE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE OR TRUNCATE "
                f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION governance_ledger_append_only()"
            ))
            conn.execute(text(f"ALTER TABLE {table} ENABLE TRIGGER {table}_append_only"))
        install_ddl_guard(conn)
        return
    raise StoreError(f"unsupported database dialect {dialect}")


DDL_GUARD = "ledger_refuse_ddl"


def install_ddl_guard(conn: Any) -> bool:
    """PostgreSQL: an event trigger refusing DROP of the ledger's tables and guards.

    Only a superuser may create event triggers; for other roles this does
    nothing (returns False) and the row triggers remain the guard.  A
    superuser can still remove it, or skip triggers with
    ``session_replication_role``: docs/format.md §4 says what then reveals edits.
    """
    names = ", ".join(f"'{t}'" for t in GUARDED_TABLES)
    if not conn.execute(text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")).scalar():
        return False
    conn.execute(text(
        "CREATE OR REPLACE FUNCTION governance_ledger_refuse_ddl() RETURNS event_trigger LANGUAGE plpgsql AS $$ "
        "DECLARE obj record; BEGIN "
        "FOR obj IN SELECT * FROM pg_event_trigger_dropped_objects() LOOP "
        f"IF (obj.object_type = 'table' AND obj.object_name IN ({names})) "
        r"OR (obj.object_type = 'trigger' AND obj.object_identity LIKE 'ledger\_%\_append\_only on %') "
        "OR (obj.object_type = 'function' AND obj.object_identity LIKE '%governance_ledger_append_only()') THEN "
        "RAISE EXCEPTION 'governance ledger: % is part of an append-only ledger and cannot be dropped', "
        "obj.object_identity; END IF; END LOOP; END $$"))
    found = conn.execute(text("SELECT 1 FROM pg_event_trigger WHERE evtname = :n"), {"n": DDL_GUARD}).first()
    if found is None:
        conn.execute(text(f"CREATE EVENT TRIGGER {DDL_GUARD} ON sql_drop "
                          "EXECUTE FUNCTION governance_ledger_refuse_ddl()"))
    else:
        conn.execute(text(f"ALTER EVENT TRIGGER {DDL_GUARD} ENABLE"))
    return True


def drop_guards(conn: Any, dialect: str, tables: Any = GUARDED_TABLES) -> None:
    """Remove the guards of ``tables`` (only ``ledger repair`` does, inside the
    transaction that rebuilds them and puts them back)."""
    for table in tables:
        if dialect == "sqlite":
            for op in ("update", "delete"):
                conn.execute(text(f"DROP TRIGGER IF EXISTS {table}_no_{op}"))
        elif conn.execute(text("SELECT 1 FROM pg_trigger WHERE tgname = :n"), {"n": f"{table}_append_only"}).first():
            # Disabled rather than dropped: the DDL guard refuses to drop it, and
            # install_guards replaces and enables it again in this transaction.
            conn.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER {table}_append_only"))


def rebuild_derived(session: Session, page: int = 10_000) -> int:
    """Rebuild ``ledger_log`` and ``ledger_merkle`` from the records, in the
    caller's (writing) transaction, and restore every guard.  Returns the
    number of records.  Nothing derived is trusted: rows are recomputed from
    the records in commit order (their row ids), whatever the tables held.
    """
    conn = session.connection()
    dialect = conn.dialect.name
    drop_guards(conn, dialect)
    sql = DriverSQL(session)
    sql.cursor.execute(f"DELETE FROM {LOG_TABLE}")
    sql.cursor.execute(f"DELETE FROM {TREE_TABLE}")
    after, position, peaks = -1, 0, None
    while True:
        sql.cursor.execute(f"SELECT id, state FROM {EVENTS_TABLE} WHERE id > {sql.mark} ORDER BY id "
                           f"LIMIT {int(page)}", (after,))
        rows = [(int(row_id), bytes(state) if not isinstance(state, str) else state.encode())
                for row_id, state in sql.cursor.fetchall()]
        if not rows:
            break
        sql.insert(LOG_TABLE, ("position", "notification_id", "event_hash"),
                   [(position + i, row_id, hashlib.sha256(state).hexdigest()) for i, (row_id, state) in
                    enumerate(rows)])
        _size, _root, peaks = append_to_tree(session, position, [state for _, state in rows], peaks)
        position += len(rows)
        after = rows[-1][0]
    install_guards(conn, dialect)
    return position


# --- engine set-up ---------------------------------------------------------

def configure_engine(datastore: SQLAlchemyDatastore) -> None:
    """Make writing transactions take the database's write lock first."""
    engine = datastore.engine
    assert isinstance(engine, Engine)
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take over transaction control from pysqlite so we can BEGIN IMMEDIATE.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(lock_timeout() * 1000)}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        if _WRITING.get():
            # The wait left before the deadline (busy_timeout 0 fails at once).
            conn.exec_driver_sql(f"PRAGMA busy_timeout={lock_wait_ms()}")
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.exec_driver_sql("BEGIN")

    datastore._tried_init_sqlite_wal_mode = True  # we set WAL on every connect
    engine.dispose()


@contextmanager
def writing() -> Iterator[None]:
    """Mark the current context as a writer (SQLite: BEGIN IMMEDIATE)."""
    token = _WRITING.set(True)
    try:
        yield
    finally:
        _WRITING.reset(token)


LOCKED = "ledger_write_lock_held"


def lock_for_write(session: Session) -> None:
    """Take the ledger's write lock at the start of a writing transaction."""
    bind = session.get_bind()
    if bind.dialect.name == "postgresql":
        wait = lock_wait_ms()
        if wait == 0:
            # lock_timeout = 0 would mean "wait forever" to PostgreSQL: do not wait at all.
            statement = f"LOCK TABLE {EVENTS_TABLE} IN EXCLUSIVE MODE NOWAIT"
        else:
            # One round trip for both (no parameters: the driver sends them as one simple query).
            statement = f"SET LOCAL lock_timeout = '{int(wait)}ms'; LOCK TABLE {EVENTS_TABLE} IN EXCLUSIVE MODE"
        session.connection().exec_driver_sql(statement)
    session.info[LOCKED] = True  # the recorder need not lock again in this transaction
    # SQLite: BEGIN IMMEDIATE (see configure_engine) precedes the first statement.
