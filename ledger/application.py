"""The write side: the ``Ledger`` application.

Every command follows the eventsourcing pattern (load aggregates, call a
method that checks the rules, save), wrapped so that:

1. the command holds the ledger's write lock for its whole transaction, so
   the rules are checked against the latest history;
2. every event is signed by the command's key, after checking that the key
   is registered, active, and holds a role allowed to write that type;
3. all of the command's events commit together, or none do;
4. a clash with another writer is retried a bounded number of times, then
   reported as a retryable :class:`ConflictError`.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar
from uuid import UUID

import sqlalchemy.exc
from eventsourcing.application import AggregateNotFoundError, Application, ProcessingEvent
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError, Notification, OperationalError, PersistenceError, Recording

import ledger.domain  # noqa: F401  (registers every record type)
from ledger import authz
from ledger import record as rec
from ledger.database import EVENTS_TABLE, database_url
from ledger.domain.base import Context, rule_context
from ledger.domain.identity import KeyInfo, Registry, key_entry, registry_id
from ledger.errors import (
    ConflictError,
    InvalidInputError,
    KeyFileError,
    LedgerError,
    NotFoundError,
    StoreError,
    UnauthorisedError,
)
from ledger.keys import Signer, verifier_key_string
from ledger.store import (
    LOCKED,
    DriverSQL,
    LedgerRecorder,
    RecordMapper,
    Sealing,
    configure_engine,
    current_sealing,
    last_position,
    lock_for_write,
    sealing,
    writing,
)

T = TypeVar("T")
AGGREGATE_CACHE = 2000  # objects kept between commands by one Ledger
CONFLICT_MESSAGE = ("another writer was changing the ledger at the same time; "
                    "nothing was written, try the command again")
ATTEMPTS = 5
PAGE = 1000


class Ledger(Application[UUID]):
    """A governance ledger stored in one SQLite file or PostgreSQL database."""

    name = "Ledger"

    def __init__(self, db: str | None = None, *, create: bool = False, log_key: Signer | None = None) -> None:
        self.url = database_url(db)
        # Set before the recorder is built: opening never changes the database
        # (tables are created by the first writing transaction, see _write).
        self._schema_ready = False
        self._repairing = False
        self._staged_documents: list[Any] = []
        self._staged_sealed: list[Any] = []
        self._erasing: str | None = None
        # Objects kept between commands by a long-running process (apply, a server, the
        # benchmark generator), exactly as its own last command left them.  They are
        # used only while the log is where that command left it (nobody else wrote),
        # and forgotten when a transaction does not commit; otherwise objects are
        # rebuilt from their records, as any other process would.
        self._objects: OrderedDict[UUID, Any] = OrderedDict()
        self._objects_at: int | None = None
        self._pending_checkpoint: tuple[Any, Sealing] | None = None
        self._loaded: dict[UUID, Any] = {}
        self._create = create
        if _plain_file(self.url):
            path = Path(self.url[len("sqlite:///"):])
            if path.is_dir():
                raise StoreError(f"{path} is a directory, not a ledger file")
            if not create and not path.exists():
                raise StoreError(f"no ledger at {path} (create one with 'ledger init' or 'ledger demo')")
            if create and not path.parent.is_dir():
                raise StoreError(f"cannot create {path}: the folder {path.parent} does not exist")
        env = {
            "PERSISTENCE_MODULE": "eventsourcing_sqlalchemy",
            "SQLALCHEMY_URL": self.url,
            "CREATE_TABLE": "no",
            "IS_SNAPSHOTTING_ENABLED": "no",
        }
        try:
            super().__init__(env=env)
        except (sqlalchemy.exc.SQLAlchemyError, PersistenceError) as exc:
            raise StoreError(f"cannot open database: {_first_line(exc)}") from None
        if not create and not self._has_tables():
            raise StoreError(f"no ledger in {_shown(self.url)} (create one with 'ledger init' or 'ledger import')")
        self._origin: str | None = None
        self._registry: Registry | None = None
        self._seen_position: int | None = None  # the log's last position when _registry was current
        self._last_moment: datetime | None = None  # the time of this instance's previous command
        self._batch_depth = 0
        self._rehearsing = False  # inside Ledger.rehearsal(): every rule runs, nothing stays
        self._tree_peaks: tuple[int, list[bytes]] | None = None  # (last position, peaks) after our last write
        # Read models that want to be updated in each command's own transaction
        # (see projections.views.attach); called with the session after saving.
        self.after_save: list[Callable[[Any], Any]] = []
        # The log key signs a checkpoint after every command, when the keeper
        # has it here (``LEDGER_LOG_KEY``); otherwise `ledger checkpoint` does.
        self.log_key = log_key
        # The signer's clock: a record's ``at``.  The demo (and tests) replace it
        # to record a year in its own time; see _moment for why it never goes back.
        self.clock: Callable[[], datetime] = lambda: datetime.now(UTC)

    # --- infrastructure hooks (eventsourcing) -----------------------------

    def construct_repository(self) -> Any:
        from eventsourcing.application import Repository, project_aggregate

        recorder = self.recorder

        class SnapshotRepository(Repository):  # type: ignore[type-arg]
            """Starts long streams from their snapshot (ledger/snapshots.py)."""

            def get(self, aggregate_id: Any, *, version: int | None = None, **kwargs: Any) -> Any:
                from ledger import snapshots

                found = snapshots.load(recorder, aggregate_id, version)
                if found is None:
                    return super().get(aggregate_id, version=version, **kwargs)
                aggregate, at = found
                events = self.event_store.get(originator_id=aggregate_id, gt=at, lte=version)
                return project_aggregate(aggregate, events)

        return SnapshotRepository(event_store=self.events)

    def construct_mapper(self) -> RecordMapper:
        return RecordMapper(transcoder=self.construct_transcoder())

    def construct_recorder(self) -> LedgerRecorder:
        datastore = self.factory.datastore  # type: ignore[attr-defined]
        configure_engine(datastore)
        return LedgerRecorder(datastore)

    def _has_tables(self) -> bool:
        if _plain_file(self.url) and not Path(self.url[len("sqlite:///"):]).exists():
            return False  # asking would create the file
        try:
            return self.recorder.has_ledger_tables()  # type: ignore[attr-defined, no-any-return]
        except (sqlalchemy.exc.SQLAlchemyError, PersistenceError) as exc:
            raise StoreError(f"cannot open database: {_first_line(exc)}") from None

    @contextmanager
    def _write(self) -> Iterator[Any]:
        """A writing transaction holding the ledger's write lock.

        The first one of this instance creates any tables the database lacks,
        inside the same transaction: a command that fails leaves no schema behind.
        """
        try:
            with writing(), self.recorder.transaction(commit=True) as session:  # type: ignore[attr-defined]
                if not self._schema_ready:
                    self.recorder.create_missing_tables(session.connection())  # type: ignore[attr-defined]
                    if not self._repairing:
                        self._refuse_without_guards(session)
                lock_for_write(session)
                try:
                    yield session
                finally:
                    session.info.pop(LOCKED, None)  # the lock ends with this transaction
        except BaseException:
            # Objects cached during a transaction that did not commit may hold its
            # records: forget them all (the next command rebuilds what it needs).
            self._forget_cached()
            raise
        self._schema_ready = True

    @staticmethod
    def _keep_snapshots(session: Any, aggregates: Sequence[Aggregate], context: Sealing) -> None:
        from ledger import snapshots

        written: dict[str, int] = {}
        for sealed in context.sealed:
            written[sealed.stream] = written.get(sealed.stream, 0) + 1
        for aggregate in aggregates:
            snapshots.keep(session, aggregate, written.get(str(aggregate.id), 0))

    def _keep_objects(self, position: int | None) -> None:
        """Keep the objects this command loaded or saved, as of the log position it left."""
        if position is None:
            return
        for aggregate_id, aggregate in self._loaded.items():
            if getattr(aggregate, "_pending_events", None) or isinstance(aggregate, Registry):
                continue  # changed but not saved (or the registry, which is kept apart)
            self._objects[aggregate_id] = aggregate
            self._objects.move_to_end(aggregate_id)
        while len(self._objects) > AGGREGATE_CACHE:
            self._objects.popitem(last=False)
        self._objects_at = position

    def _forget_cached(self) -> None:
        self._objects.clear()
        self._objects_at = None

    def _refuse_without_guards(self, session: Any) -> None:
        """A database whose guards were removed is evidence: write nothing on it until
        ``ledger repair`` restores them on the record."""
        from ledger.storecheck import guard_problems_on

        problems = guard_problems_on(session.connection())
        if problems:
            raise StoreError(f"{problems[0]}; nothing was written: run 'ledger verify', then 'ledger repair "
                             "--key FILE' (signed by the secretariat) to restore the guards on the record")

    def _record(self, processing_event: ProcessingEvent[UUID]) -> list[Recording[UUID]]:
        # Seed each stream's chain with its last stored hash, sign (in the
        # mapper), then remember the new heads on the aggregates.
        context = current_sealing()
        for aggregate_id, aggregate in processing_event.aggregates.items():
            context.heads.setdefault(str(aggregate_id), getattr(aggregate, "head_hash", None))
        recordings = super()._record(processing_event)
        for aggregate_id, aggregate in processing_event.aggregates.items():
            aggregate.head_hash = context.heads[str(aggregate_id)]  # type: ignore[union-attr]
        return recordings

    def close(self) -> None:
        engine = self.factory.datastore.engine  # type: ignore[attr-defined]
        if engine is not None:
            engine.dispose()
        super().close()

    # --- reading ----------------------------------------------------------

    @property
    def origin(self) -> str:
        if self._origin is None:
            first = self.recorder.select_notifications(start=None, limit=1)
            if not first:
                raise StoreError("this database holds no ledger yet (run 'ledger init')")
            self._origin = rec.parse(first[0].state).ledger
        return self._origin

    def registry(self) -> Registry:
        """The key registry as of the latest record.

        Kept between commands and brought forward by reading only the newer
        registry records: every command needs it, and it only ever grows.
        """
        cached = self._registry
        if cached is None:
            try:
                loaded: object = self.repository.get(registry_id(self.origin))
            except AggregateNotFoundError:
                raise StoreError("the ledger's genesis record is missing") from None
            assert isinstance(loaded, Registry)
            cached = loaded
        else:
            for event in self.events.get(cached.id, gt=cached.version):
                cached = event.mutate(cached)  # type: ignore[attr-defined]
        self._registry = cached
        return cached

    def notifications(self, start: int | None = None, page: int = PAGE, topics: Sequence[str] = (),
                      stop: int | None = None) -> Iterator[Notification]:
        """Stored records in log order (optionally only some types, up to notification id ``stop``),
        read a page at a time."""
        while True:
            batch = self.recorder.select_notifications(start=start, limit=page, stop=stop, topics=topics)
            yield from batch
            if len(batch) < page:
                return
            start = batch[-1].id + 1

    @property
    def last_position_written(self) -> int | None:
        """The log's last position after this Ledger's latest command (None before any)."""
        return self._seen_position

    def holds_ledger(self) -> bool:
        """True when the database has a ledger's tables and at least its genesis record."""
        return self._has_tables() and bool(self.recorder.select_notifications(start=None, limit=1))

    def size(self) -> int:
        """The number of records in the log (positions are dense: the last one plus one)."""
        if self._create and not self._schema_ready and not self._has_tables():
            return 0  # a database being created: no tables until its first write
        with self.recorder.transaction(commit=False) as session:  # type: ignore[attr-defined]
            return last_position(session) + 1

    def notification_id(self, position: int) -> int | None:
        """The storage id of the record at a log position (None if there is none)."""
        from sqlalchemy import select

        from ledger.store import log_table

        with self.recorder.transaction(commit=False) as session:  # type: ignore[attr-defined]
            found = session.execute(
                select(log_table.c.notification_id).where(log_table.c.position == position)
            ).scalar()
        return None if found is None else int(found)

    # --- the command runner ----------------------------------------------

    def run(self, signer: Signer, action: Callable[[Context], tuple[T, Sequence[Aggregate]]]) -> T:
        """Run one command: lock, load, check, sign, save, all or nothing."""
        if self._batch_depth:
            return self._run_once(signer, action)  # the batch's transaction decides
        return self._retrying(lambda: self._run_once(signer, action))

    @contextmanager
    def keeping(self, documents: Sequence[Any]) -> Iterator[None]:
        """Keep these documents (ledger.documents.Document) in the document store with
        the next commands, in their transactions: a refused command keeps nothing."""
        previous, self._staged_documents = self._staged_documents, list(documents)
        try:
            yield
        finally:
            self._staged_documents = previous

    def stage_sealed(self, *sealed: Any) -> None:
        """Keep these age files with the next (or the running) command, in its transaction;
        replaces what was staged.  Forgotten once that command ends, kept or not."""
        self._staged_sealed = list(sealed)

    def register_recipient(self, signer: Signer, person: str, recipient: str) -> str:
        """Register a person's age recipient (signed by that person or the secretariat)."""
        def action(ctx: Context) -> tuple[str, list[Aggregate]]:
            return ctx.keys.register_recipient(person, recipient), [ctx.keys]

        return self.run(signer, action)

    def erase_sealed(self, signer: Signer, digest: str, reason: str, covenant: str | None = None) -> None:
        """Delete a sealed file and record who erased it and why, in one transaction (under
        ``covenant``, whose ``erasers``, when it names them, are the only ones who may)."""
        from ledger.domain.sealing import SealedFile

        wanted = digest.strip().lower()

        def action(ctx: Context) -> tuple[None, list[Aggregate]]:
            if ctx.exists(SealedFile, wanted):
                from ledger.domain.base import RuleError

                raise RuleError(f"sealed content {wanted[:12]}… was already erased")
            return None, [SealedFile.erase(ctx, wanted, reason, covenant)]

        self._erasing = wanted
        try:
            self.run(signer, action)
        finally:
            self._erasing = None

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Run several commands (with any signers) as one transaction: all or nothing.

        Used by ``ledger apply`` to record a whole meeting at once.
        """
        try:
            with self._write():
                self._batch_depth += 1
                try:
                    yield
                finally:
                    self._batch_depth -= 1
                if self._pending_checkpoint is not None and not self._rehearsing:
                    self._checkpoint(*self._pending_checkpoint)
        except BaseException:
            self._registry = None
            self._tree_peaks = None
            raise
        finally:
            self._pending_checkpoint = None

    @contextmanager
    def rehearsal(self) -> Iterator[None]:
        """Run commands with every rule, then roll everything back (the server's prepare).

        What this Ledger cached before stays cached, except objects the commands
        changed in memory (their version moved): those are loaded afresh next time.
        """
        registry, seen, moment = self._registry, self._seen_position, self._last_moment
        objects, objects_at = dict(self._objects), self._objects_at
        versions = {key: getattr(value, "version", None) for key, value in objects.items()}
        registry_version = registry.version if registry is not None else None
        self._rehearsing = True  # no views, snapshots or checkpoints for records that will not stay
        try:
            with self.batch():
                yield
                raise _Rehearsed
        except _Rehearsed:
            pass
        finally:
            self._rehearsing = False
            self._tree_peaks = None  # the rolled-back command may have extended the cached peaks
            self._seen_position, self._last_moment = seen, moment
            self._registry = registry if registry is not None and registry.version == registry_version else None
            self._objects.clear()
            self._objects.update((key, value) for key, value in objects.items()
                                 if getattr(value, "version", None) == versions[key])
            self._objects_at = objects_at

    def _run_once(self, signer: Signer, action: Callable[[Context], tuple[T, Sequence[Aggregate]]]) -> T:
        try:
            return self._run_locked(signer, action)
        except BaseException:
            # The action may have changed the cached registry before failing.
            self._registry = None
            self._tree_peaks = None
            raise
        finally:
            self._staged_sealed = []  # sealed files belong to one command, kept or not

    def _run_locked(self, signer: Signer, action: Callable[[Context], tuple[T, Sequence[Aggregate]]]) -> T:
        with self._write() as session:
            last = last_position(session)
            # If nobody has written since our last command, the cached registry
            # is current and one query served for both lock and freshness.
            registry = self._registry if last == self._seen_position and self._registry else self.registry()
            signer_info = registry.keys.get(signer.key_id)
            if signer_info is None:
                raise UnauthorisedError(f"key {signer.key_id[:12]} is not registered in this ledger")
            if signer_info.status != "active":
                raise UnauthorisedError(f"key {signer_info.short()} is {signer_info.status} and can no longer sign")
            ctx = self._context(signer_info, registry, session, last)
            with rule_context(ctx):
                result, aggregates = action(ctx)

            def authorise(record_type: str) -> None:
                # Judged by the key's state when the command began, so that a
                # command retiring its own signer is still signed validly.
                _authorise(signer_info, record_type)

            fresh = self._tree_peaks is not None and self._tree_peaks[0] == last
            context = Sealing(self.origin, signer, authorise, last_position=last,
                              peaks=self._tree_peaks[1] if fresh and self._tree_peaks else None,
                              last_position_before=last)
            with sealing(context):
                self.save(*aggregates)
            if not self._rehearsing:
                self._keep_snapshots(session, aggregates, context)
            if self._rehearsing:
                pass
            elif self._batch_depth:
                self._pending_checkpoint = (session, context)  # one checkpoint for the whole batch
            else:
                self._checkpoint(session, context)
            if self._staged_documents:
                from ledger import documents

                documents.keep(session, self._staged_documents, rec.format_time(ctx.at))
            if self._staged_sealed:
                from ledger import sealed

                sealed.keep(session, self._staged_sealed, rec.format_time(ctx.at))
            if self._erasing is not None:
                from ledger import sealed

                sealed.erase(session, self._erasing)
            for hook in () if self._rehearsing else self.after_save:
                hook(session)
        self._seen_position = context.last_position
        self._last_moment = ctx.at
        self._keep_objects(context.last_position)
        if context.peaks is not None and context.last_position is not None:
            self._tree_peaks = (context.last_position, context.peaks)
        return result

    def append_verified(self, raws: list[bytes], checkpoint_note: str) -> int:
        """Copy already-verified records onto the end of this log (a replica), with
        the checkpoint that covers them; all in one transaction."""
        from eventsourcing.persistence import StoredEvent
        from sqlalchemy import insert

        from ledger import note
        from ledger.store import checkpoint_table, cosignature_table

        signed = note.parse(checkpoint_note)
        checkpoint = note.parse_checkpoint(signed.text)
        with self._write() as session:
            last = last_position(session)
            context = Sealing(checkpoint.origin, None, lambda _type: None, last_position=last)
            with sealing(context):
                for start in range(0, len(raws), 1000):
                    records = [rec.parse(raw) for raw in raws[start:start + 1000]]
                    self.recorder.insert_events([
                        StoredEvent(originator_id=UUID(r.stream), originator_version=r.seq, topic=r.type, state=r.raw)
                        for r in records
                    ])
            if context.tree != (checkpoint.size, checkpoint.root):
                raise StoreError("the copied records do not hash to the checkpoint's root")
            log_line = [s for s in signed.signatures if s.name == checkpoint.origin]
            session.execute(insert(checkpoint_table).values(
                size=checkpoint.size, root=checkpoint.root, note=note.Note(signed.text, tuple(log_line)).render()))
            for s in signed.signatures:
                if s.name != checkpoint.origin:
                    session.execute(insert(cosignature_table).values(size=checkpoint.size, witness=s.name,
                                                                     line=s.line()))
        # The log moved without a command of ours: forget what we cached about it.
        self._origin, self._registry, self._seen_position, self._tree_peaks = checkpoint.origin, None, None, None
        return len(raws)

    def _checkpoint(self, session: Any, context: Sealing) -> None:
        if self.log_key is not None and context.tree is not None:
            from ledger.tlog import write_checkpoint

            write_checkpoint(session, self.origin, *context.tree, self.log_key)

    def checkpoint(self) -> str:
        """Sign and store a checkpoint of the whole log now; return its note."""
        from ledger.store import tree_size
        from ledger.tlog import rebuild_tree, write_checkpoint

        if self.log_key is None:
            raise KeyFileError("give the log key (--log-key FILE or LEDGER_LOG_KEY) to sign a checkpoint")
        if self.log_key.public_bytes != self.log_public():
            raise KeyFileError("that is not this ledger's log key (see the genesis record's log_key)")
        from ledger.merkle import Tree
        from ledger.store import tree_nodes

        rebuild_tree(self)
        with self._write() as session:
            size = tree_size(session)
            root = Tree(lambda wanted: tree_nodes(session, wanted)).root(size)
            return write_checkpoint(session, self.origin, size, root, self.log_key)

    def log_public(self) -> bytes:
        """The log key's public key, from the genesis record."""
        from ledger.keys import parse_verifier_key

        return parse_verifier_key(self.registry().log_key)[2]

    def _moment(self, session: Any, last: int | None = None) -> datetime:
        """The time of this command's records: the clock, but never earlier than the
        latest record (a clock behind the ledger, or two writers' clocks a little
        apart, must not make history run backwards: --as-of by time relies on it).

        When nobody has written since this instance's previous command (log
        position ``last`` unchanged), that command's time is the latest: no read."""
        now = self.clock()
        if last is not None and last == self._seen_position and self._last_moment is not None:
            return max(now, self._last_moment)
        sql = DriverSQL(session)
        table = EVENTS_TABLE
        sql.cursor.execute(f"SELECT state FROM {table} WHERE id = (SELECT max(id) FROM {table})")
        rows = sql.cursor.fetchall()
        if rows:
            latest = rec.parse(bytes(rows[0][0])).moment
            if latest > now:
                return latest
        return now

    def _context(self, actor: KeyInfo, registry: Registry | None, session: Any,
                 last: int | None = None) -> Context:
        """The rule context of one command: lookups go through a per-command
        cache, so every rule and the final save see the same objects."""
        loaded: dict[UUID, Any] = {}
        if registry is not None:
            loaded[registry.id] = registry

        current = last is not None and last == self._objects_at
        if not current:
            self._objects.clear()  # someone else wrote since our last command: what we kept may be stale

        def lookup(aggregate_id: UUID) -> Any:
            if aggregate_id not in loaded:
                kept = self._objects.get(aggregate_id) if current else None
                if kept is not None:
                    if self._rehearsing:
                        # A rehearsal changes its objects and then forgets its records: it works on a
                        # copy, so that the command it rehearses finds the kept object as it was.
                        import copy

                        kept = copy.deepcopy(kept)
                    loaded[aggregate_id] = kept
                    return kept
                try:
                    loaded[aggregate_id] = self.repository.get(aggregate_id)
                except AggregateNotFoundError:
                    return None
            return loaded[aggregate_id]

        def existing(kind: str) -> int:
            return _count_refs(session, self.origin, kind)

        def record_exists(digest: str) -> bool:
            from sqlalchemy import select

            from ledger.store import log_table

            return session.execute(
                select(log_table.c.position).where(log_table.c.event_hash == digest)
            ).first() is not None

        def remember(aggregate: Any) -> None:
            loaded[aggregate.id] = aggregate

        self._loaded = loaded
        return Context(self.origin if registry else "", actor, registry, self._moment(session, last), lookup, existing,
                       record_exists=record_exists, remember=remember)

    def retrying(self, attempt: Callable[[], T]) -> T:
        """Run a writing attempt, again after a clash with another writer, within
        LEDGER_LOCK_TIMEOUT in all (0: one attempt that does not wait); then a
        retryable :class:`ConflictError`.  ``ledger apply`` runs its batch this way."""
        from ledger.store import lock_deadline, lock_timeout

        with lock_deadline(lock_timeout()) as deadline:
            for number in range(1, ATTEMPTS + 1):
                try:
                    return attempt()
                except (IntegrityError, OperationalError, sqlalchemy.exc.IntegrityError,
                        sqlalchemy.exc.OperationalError, sqlalchemy.exc.DBAPIError) as exc:
                    if not is_conflict(exc):
                        from ledger.errors import explain_store_error

                        raise StoreError(explain_store_error(exc) or f"database error: {_first_line(exc)}") from None
                    left = deadline - time.monotonic()
                    if number == ATTEMPTS or left <= 0:
                        raise ConflictError(CONFLICT_MESSAGE) from None
                    time.sleep(min(0.05 * number, left))
        raise AssertionError("unreachable")

    _retrying = retrying

    # --- identity commands ---------------------------------------------

    def init(
        self, *, origin: str, name: str, founder: Signer, holder: str, roles: list[str],
        other_founders: Sequence[dict[str, Any]] = (), log_public: bytes,
    ) -> rec.Record:
        """Write the genesis record, signed by the founder."""
        if self.holds_ledger():
            raise LedgerError("this database already holds a ledger")
        keys = [key_entry(founder.public_b64, holder, roles), *other_founders]
        founder_info = KeyInfo(keys[0]["key_id"], keys[0]["public_key"], holder, tuple(keys[0]["roles"]))
        ctx = Context(origin, founder_info, None, self.clock(), lambda _id: None)
        with rule_context(ctx):
            registry = Registry.found(
                origin=origin, name=name, keys=keys, log_key=verifier_key_string(origin, log_public)
            )

        def authorise(record_type: str) -> None:
            if record_type != authz.GENESIS:
                raise UnauthorisedError(f"{record_type} cannot be part of genesis")

        def once() -> rec.Record:
            context = Sealing(origin, founder, authorise)
            with self._write() as session:
                with sealing(context):
                    self.save(registry)
                self._origin = origin
                if self.log_key is None or self.log_key.public_bytes == log_public:
                    self._checkpoint(session, context)
            return context.sealed[0]

        genesis = self._retrying(once)
        self._origin = origin
        return genesis

    def repair_store(self, signer: Signer, reason: str) -> dict[str, Any]:
        """Rebuild the derived tables from the records and restore the append-only
        guards, in one transaction with a signed ``ledger.store_repaired`` record
        saying what was wrong.  Not blocked by the damage it repairs: it reads
        only the records.
        """
        from ledger.storecheck import guard_problems

        problems = guard_problems(self.factory.datastore.engine)  # type: ignore[attr-defined]
        self._repairing, self._schema_ready = True, False
        try:
            return self._repair(signer, reason, problems)
        finally:
            self._repairing = False

    def _repair(self, signer: Signer, reason: str, problems: list[str]) -> dict[str, Any]:
        from ledger.store import rebuild_derived

        with self.batch():
            with self.recorder.transaction(commit=True) as session:  # type: ignore[attr-defined]
                records = rebuild_derived(session)
            self._registry, self._seen_position, self._tree_peaks = None, None, None

            def action(ctx: Context) -> tuple[None, list[Aggregate]]:
                ctx.keys.record_repair(problems, ["ledger_log", "ledger_merkle"], reason)
                return None, [ctx.keys]

            self.run(signer, action)
        return {"guards": problems, "records": records}

    def register_key(self, signer: Signer, public_key: str, holder: str, roles: list[str],
                     person: str | None = None) -> KeyInfo:
        """Register a key for a new person, or another key of ``person`` (a name or id)."""
        def action(ctx: Context) -> tuple[KeyInfo, list[Aggregate]]:
            return ctx.keys.register_key(public_key, holder, roles, person), [ctx.keys]

        return self.run(signer, action)

    def rotate_key(self, signer: Signer, key: str, public_key: str, reason: str = "") -> KeyInfo:
        """Move the holder of ``key`` to a new key (signed by ``key`` itself or the secretariat)."""
        def action(ctx: Context) -> tuple[KeyInfo, list[Aggregate]]:
            return ctx.keys.rotate_key(key, public_key, reason), [ctx.keys]

        return self.run(signer, action)

    def retire_key(self, signer: Signer, key: str, reason: str = "") -> KeyInfo:
        def action(ctx: Context) -> tuple[KeyInfo, list[Aggregate]]:
            return ctx.keys.retire_key(key, reason), [ctx.keys]

        return self.run(signer, action)

    def retire_holder(self, signer: Signer, holder: str, reason: str = "") -> list[KeyInfo]:
        def action(ctx: Context) -> tuple[list[KeyInfo], list[Aggregate]]:
            return ctx.keys.retire_holder(holder, reason), [ctx.keys]

        return self.run(signer, action)

    def revoke_key(self, signer: Signer, key: str, compromised_since: datetime, reason: str = "") -> KeyInfo:
        def action(ctx: Context) -> tuple[KeyInfo, list[Aggregate]]:
            return ctx.keys.revoke_key(key, compromised_since, reason), [ctx.keys]

        return self.run(signer, action)

    def change_roles(self, signer: Signer, key: str, roles: list[str]) -> KeyInfo:
        def action(ctx: Context) -> tuple[KeyInfo, list[Aggregate]]:
            return ctx.keys.change_roles(key, roles), [ctx.keys]

        return self.run(signer, action)

    # --- looking records up -------------------------------------------

    def read(self, start: int, limit: int, check: bool = True) -> list[tuple[int, rec.Record]]:
        """Up to ``limit`` records from log position ``start``, in log order.

        ``check=False`` skips re-validating each record (for derived views,
        which verification never trusts anyway).
        """
        if start < 0:
            raise InvalidInputError("positions start at 0")
        first = self.notification_id(start)
        if first is None:
            return []
        found = self.recorder.select_notifications(start=first, limit=limit)
        load = rec.parse if check else rec.load_stored
        return [(start + i, load(n.state)) for i, n in enumerate(found)]

    def record_at(self, position: int) -> rec.Record:
        """The record at a 0-based log position."""
        found = self.read(position, 1)
        if not found:
            raise NotFoundError(f"there is no record at position {position} (the log has {self.size()})")
        return found[0][1]

    def hash_at(self, stream: str, seq: int) -> str:
        """The event hash of record ``seq`` of ``stream`` (a way to cite a record besides its hash)."""
        stream_uuid = UUID(rec.canonical_stream(stream))
        found = self.recorder.select_events(stream_uuid, gt=seq - 1, lte=seq, limit=1)
        if not found:
            raise NotFoundError(f"stream {stream_uuid} has no record with seq {seq}")
        return rec.event_hash(found[0].state)

    def position_of(self, event_hash: str) -> int:
        from sqlalchemy import select

        from ledger.store import log_table

        with self.recorder.transaction(commit=False) as session:  # type: ignore[attr-defined]
            position = session.execute(
                select(log_table.c.position).where(log_table.c.event_hash == event_hash.lower())
            ).scalar()
        if position is None:
            raise NotFoundError(f"no record has event hash {event_hash}")
        return int(position)


class _Rehearsed(Exception):
    """Ends a rehearsal's transaction: nothing it wrote is kept."""


def _authorise(info: KeyInfo, record_type: str) -> None:
    if info.status != "active":
        raise UnauthorisedError(f"key {info.short()} is {info.status} and can no longer sign")
    if not authz.may_write(record_type, info.roles):
        raise UnauthorisedError(
            f"key {info.short()} with roles {', '.join(info.roles)} may not write "
            f"{record_type} (allowed: {authz.writers_of(record_type)})"
        )


def _count_refs(session: Any, origin: str, kind: str) -> int:
    """How many objects of a kind exist, i.e. the highest ref number in use.

    Refs are numbered 1, 2, 3, ... with no gaps, and each names its own stream,
    so "does ref N exist" is one lookup on the stream index: an exponential then
    a binary search needs about 2 log2(n) of them, instead of counting every
    creation record of the kind (a cost that grew with the ledger's age).
    """
    from ledger.domain.base import stream_id
    from ledger.types import REF_PREFIX

    prefix = REF_PREFIX[kind]
    sql = DriverSQL(session)
    binary = sql.dialect == "sqlite"

    def exists(number: int) -> bool:
        sid = stream_id(origin, kind, f"{prefix}-{number}")
        sql.cursor.execute(f"SELECT 1 FROM {EVENTS_TABLE} WHERE originator_id = {sql.mark} "
                           f"AND originator_version = 1", (sid.bytes if binary else sid,))
        return bool(sql.cursor.fetchall())

    high = 1
    while exists(high):
        high *= 2
    low = high // 2  # refs 1..low exist (low 0: none); high does not
    while high - low > 1:
        middle = (low + high) // 2
        if exists(middle):
            low = middle
        else:
            high = middle
    return low


def is_conflict(exc: BaseException) -> bool:
    """A clash with another writer (lock not granted, or a row it wrote first): safe to retry."""
    text = str(exc).lower()
    return any(
        marker in text
        for marker in (
            "database is locked", "unique constraint", "duplicate key", "lock timeout",
            "could not obtain lock", "deadlock", "could not serialize", "busy",
            "canceling statement due to lock timeout", "lock not available", "locknotavailable",
        )
    )


def _plain_file(url: str) -> bool:
    """A SQLite URL that is just a file's path (not a ``file:`` URI with options)."""
    return url.startswith("sqlite:///") and "?" not in url


def _shown(url: str) -> str:
    """A database URL as a person should see it: the file, or the URL without a password."""
    if url.startswith("sqlite:///"):
        return url[len("sqlite:///"):]
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True).replace("postgresql+psycopg://", "postgresql://")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
