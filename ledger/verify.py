"""Verification: re-derive everything from the stored records alone.

The verifier is deliberately independent of the domain classes and of every
derived table (views, caches, snapshots): it reads records in log order and
checks, for each one (the step numbers match ``docs/format.md``):

1. the bytes are a well-formed record in RFC 8785 canonical form;
2. the storage row agrees with the record (stream, seq, type);
3. ``ledger`` is the origin named by the genesis record at position 0;
4. ``seq`` follows the stream's previous record and ``prev`` is its hash;
5. the signer's key is known at that point of the log, not retired before
   it, and not revoked (compromised since a time at or before ``at``);
6. the signer held a role that may write the record's type;
7. the Ed25519 signature is valid (checked on every core);
8. the record obeys the governance rules (see ``ledger.rules``).

It fails closed: anything it cannot check is a finding.  Memory holds one
page of records plus a small state per stream and per key.
"""

from __future__ import annotations

import hashlib
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple, Protocol

from ledger import authz, merkle, note
from ledger import record as rec
from ledger.errors import InvalidRecordError, LedgerError
from ledger.sigcheck import (
    SignatureWorkers,
    announced_key,
    bad_signatures,
    row_digest,
    start_signature_workers,
)
from ledger.spill import SpillingMap

# Chain heads kept in memory (~250 bytes each with the dictionary's share); the rest spill.
STREAM_CAPACITY = 8_000
CHUNK = 256  # records per chunk of signature checks made here, without workers
DATABASE = "(database)"  # the type shown for findings about the database rather than one record


@dataclass(frozen=True)
class Finding:
    """One thing wrong with one record."""

    position: int
    stream: str
    seq: int | None
    type: str
    reason: str

    def line(self) -> str:
        seq = "-" if self.seq is None else str(self.seq)
        return f"{self.position} {self.stream} {seq} {self.type}: {self.reason}"

    def to_json(self) -> dict[str, Any]:
        return {"position": self.position, "stream": self.stream, "seq": self.seq,
                "type": self.type, "reason": self.reason}


@dataclass
class Report:
    """The outcome of a verification."""

    origin: str | None = None
    records: int = 0
    streams: int = 0
    keys: int = 0
    seconds: float = 0.0
    findings: list[Finding] = field(default_factory=list)
    # Allowed by the rules, but worth a reader's attention (never a failure).
    warnings: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.findings and self.records > 0

    def to_json(self) -> dict[str, Any]:
        out = {
            "ok": self.ok, "origin": self.origin, "records": self.records,
            "streams": self.streams, "keys": self.keys, "seconds": round(self.seconds, 3),
            "findings": [f.to_json() for f in sorted(self.findings, key=_order)],
            "warnings": list(self.warnings),
        }
        out.update(self.extra)
        return out


def _order(f: Finding) -> tuple[int, str]:
    return (f.position, f.reason)


class Entry(NamedTuple):
    """One stored record: its bytes and, from a database, the row's columns.

    A named tuple because the verifier makes one per record."""

    raw: bytes
    stream: str | None = None
    seq: int | None = None
    topic: str | None = None
    id: int | None = None  # the row's notification id


class _Chunk:
    """A run of entries whose signatures are checked together."""

    def __init__(self, key: int, first: int, digest: Any) -> None:
        self.key = key
        self.first = first
        self.items: list[tuple[int, rec.Record, bytes, int | None]] = []  # position, record, public key, row id
        self.digest = digest  # of every row read, to compare with what a worker read

    def add(self, position: int, entry: Entry, record: rec.Record | None, public: bytes) -> None:
        if self.digest is not None:
            raw_hash = (bytes.fromhex(record.event_hash) if record is not None
                        else hashlib.sha256(bytes(entry.raw)).digest())
            self.digest.update(row_digest(int(entry.id or 0), raw_hash))
        if record is not None:
            self.items.append((position, record, public, entry.id))

    def jobs(self) -> list[tuple[bytes, bytes, bytes]]:
        return [(public, record.signature(), record.signed_message()) for _, record, public, _ in self.items]


class _Pending:
    """A chunk and its verdict: bad indexes (checked here), or a worker's future."""

    def __init__(self, chunk: _Chunk, outcome: Any) -> None:
        self.chunk = chunk
        self.outcome = outcome

    def ready(self) -> bool:
        return isinstance(self.outcome, list) or bool(self.outcome.done())

    def failures(self) -> list[tuple[int, rec.Record]]:
        items = self.chunk.items
        try:
            result = self.outcome if isinstance(self.outcome, list) else self.outcome.result()
        except Exception:  # a worker failed (could not read, or died): check here, never skip
            result = bad_signatures(self.chunk.jobs())
        if isinstance(result, list):  # indexes into the chunk
            return [(items[i][0], items[i][1]) for i in result]
        bad_ids, digest = result  # a worker read the rows itself
        if digest != self.chunk.digest.digest():
            # It read other bytes than this process judged (they changed in
            # between): its verdict is about something else; check here.
            return [(items[i][0], items[i][1]) for i in bad_signatures(self.chunk.jobs())]
        bad = set(bad_ids)
        return [(position, record) for position, record, _, row_id in items if row_id in bad]


class RuleChecker(Protocol):
    """Step 8: replays the governance rules; returns reasons for findings."""

    def check(self, position: int, record: rec.Record) -> list[str]: ...

    def warnings(self) -> list[str]:
        """What the rules allow but a reader should know (a committee in breach...)."""
        ...

    def close(self) -> None:
        """Release what the replay kept (its temporary state file)."""
        ...


@dataclass
class _Key:
    raw: bytes
    holder: str
    roles: tuple[str, ...]
    retired_at: int | None = None
    revoked_at: int | None = None


class Verifier:
    """Streams records through the checks; feed it with :meth:`run`."""

    def __init__(
        self,
        revocations: dict[str, datetime],
        rules: RuleChecker | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> None:
        self.revocations = revocations
        self.rules = rules
        self.progress = progress
        self.report = Report()
        self.keys: dict[str, _Key] = {}
        # Each stream's last record, packed as 8 bytes of seq, the 32-byte event hash
        # and `at`; the most recently used in memory, the rest spilled to a temporary
        # file (a ledger collects streams for ever: a million records have ~110,000).
        self.streams = SpillingMap(STREAM_CAPACITY, encode=str.encode)
        self.stream_count = 0
        self.genesis_keys: set[str] = set()
        # Step 9: the Merkle root of the records so far, against checkpoints.
        self.tree = merkle.RootBuilder()
        self.checkpoints: Any = {}  # size -> root: a dict, or tlog.PackedRoots from a database
        # Step 10: what this verifier saw before (size, root), and a sink for
        # every computed tree node (compared with the stored tree).
        self.remembered: tuple[int, bytes] | None = None
        self.node_sink: Callable[[bytes], None] | None = None
        self.genesis_log_key: str | None = None

    # -- driving --------------------------------------------------------

    def run(self, entries: Iterable[Entry], signatures: SignatureWorkers | None = None) -> Report:
        """Check every entry in log order.

        Signature checks (most of the work) run on other cores when
        ``signatures`` brings workers reading the same records themselves
        (entries then carry row ids or byte offsets, which name the chunks);
        this thread checks a chunk itself whenever the workers are all busy,
        so every core works and none is shared by two busy processes.
        (Threads would copy nothing, but between checks they wait for the GIL
        while this thread parses, and cores sit idle.)  Without workers, this
        thread checks everything.
        """
        started = time.perf_counter()
        pending: deque[_Pending] = deque()
        chunk: _Chunk | None = None
        try:
            for position, entry in enumerate(entries):
                self._grow_tree(position, entry.raw)
                record = self._check_safely(position, entry)
                key = position // CHUNK if signatures is None else int(entry.id or 0) // signatures.span
                if chunk is None or key != chunk.key:
                    if chunk is not None:
                        self._dispatch(chunk, signatures, pending)
                    chunk = _Chunk(key, position, hashlib.sha256() if signatures is not None else None)
                chunk.add(position, entry, record, self.keys[record.actor].raw if record is not None else b"")
                if self.progress and position % 1000 == 999:
                    self.progress(1000)
                self.report.records = position + 1
            if chunk is not None:
                self._dispatch(chunk, signatures, pending)
            while pending:
                self._collect(pending.popleft())
        finally:
            if signatures is not None:
                signatures.close()
            self.streams.close()
        self.report.streams = self.stream_count
        self.report.keys = len(self.keys)
        self.report.seconds = time.perf_counter() - started
        if self.rules is not None:
            self.report.warnings = self.rules.warnings()
            self.rules.close()
        if self.report.records == 0:
            self._find(0, "-", None, "-", "the ledger holds no records")
        return self.report

    def _dispatch(self, chunk: _Chunk, signatures: SignatureWorkers | None, pending: deque[_Pending]) -> None:
        """Find who checks a chunk's signatures: a worker, or this thread."""
        verdict = signatures.take(chunk.key) if signatures is not None else None
        pending.append(_Pending(chunk, verdict if verdict is not None else bad_signatures(chunk.jobs())))
        if signatures is not None:
            signatures.keep_busy()
        # Report finished chunks in order, so that memory holds only a few.
        while pending and pending[0].ready():
            self._collect(pending.popleft())

    def _grow_tree(self, position: int, raw: Any) -> None:
        data = raw if isinstance(raw, bytes) else str(raw).encode()
        if self.node_sink is None:
            self.tree.add_data(data)
        else:
            self.tree.add_data_nodes(data, self.node_sink)
        if self.remembered is not None and self.remembered[0] == self.tree.size \
                and self.remembered[1] != self.tree.root():
            self._find(position, "-", None, "-",
                       f"the first {self.tree.size} records no longer hash to the checkpoint this verifier kept "
                       "from its last run: history it saw was changed")
        if not self.checkpoints:
            return
        expected = self.checkpoints.get(self.tree.size)
        if expected is not None and expected != self.tree.root():
            self._find(position, "-", None, "-",
                       f"the checkpoint of size {self.tree.size} has a different root: the first "
                       f"{self.tree.size} records are not the ones that checkpoint signed")

    def check_checkpoints_cover(self) -> None:
        """Checkpoints larger than the log mean that signed records have gone."""
        size = self.tree.size
        beyond = sorted(s for s in self.checkpoints if s > size)
        if beyond:
            self._find(size, "-", None, "-",
                       f"a checkpoint of size {beyond[-1]} was signed, but the log has {size} records: "
                       f"records {size} to {beyond[-1] - 1} are missing")

    def _collect(self, item: _Pending) -> None:
        for position, record in item.failures():
            self._find(position, record.stream, record.seq, record.type,
                       f"signature does not verify with key {record.actor[:12]}")

    # -- the per-record checks ----------------------------------------

    def _find(self, position: int, stream: str, seq: int | None, rtype: str, reason: str) -> None:
        self.report.findings.append(Finding(position, stream, seq, rtype, reason))

    def _check_safely(self, position: int, entry: Entry) -> rec.Record | None:
        try:
            return self._check(position, entry)
        except Exception as exc:
            self._find(position, entry.stream or "-", entry.seq, entry.topic or "-",
                       f"cannot be checked: {type(exc).__name__}: {exc}")
            return None

    def _check(self, position: int, entry: Entry) -> rec.Record | None:
        """Steps 1-6 and 8; returns the record if its signature should be checked."""
        try:
            record = rec.parse(entry.raw)  # step 1
        except InvalidRecordError as exc:
            self._find(position, entry.stream or "-", entry.seq, entry.topic or "-", f"malformed record: {exc}")
            return None

        def find(reason: str) -> None:
            self._find(position, record.stream, record.seq, record.type, reason)

        # Step 2: the row's columns must say what the signed record says.
        if entry.stream is not None and (entry.stream, entry.seq, entry.topic) != (
            record.stream, record.seq, record.type
        ):
            find(f"stored row ({entry.stream} seq {entry.seq} {entry.topic}) does not match the record")
        if position == 0:
            self._genesis(record, find)
        elif record.type == authz.GENESIS:
            find("a second genesis record")
        if record.ledger != self.report.origin:  # step 3
            find(f"ledger {record.ledger!r} is not this ledger's origin {self.report.origin!r}")
        self._chain(record, find)  # step 4
        if self.rules is not None:
            # Step 8 sees every readable record, in order, whatever else is
            # wrong with it, so that the replayed state stays in step.
            for reason in self.rules.check(position, record):
                find(reason)
        key = self._signer(position, record, find)  # steps 5 and 6
        if key is None:
            return None
        if record.type.startswith("key.") or record.type == authz.GENESIS:
            # Key changes alter who may sign what: apply them only once their
            # own signature is proven, so a forged registration grants nothing.
            if bad_signatures([(key.raw, record.signature(), record.signed_message())]):
                find(f"signature does not verify with key {record.actor[:12]}")
                return None
            self._apply_key_change(position, record, find)
            return None
        return record

    def _genesis(self, record: rec.Record, find: Callable[[str], None]) -> None:
        self.report.origin = record.ledger
        log_key = record.data.get("log_key")
        self.genesis_log_key = log_key if isinstance(log_key, str) else None
        if record.type != authz.GENESIS:
            find("the first record is not a ledger.genesis record")
            return
        if record.data.get("origin") != record.ledger:
            find("genesis origin does not match the record's ledger field")
        for entry in record.data.get("keys") or []:
            if not _add_key(self.keys, entry):
                find(f"genesis lists a malformed key entry {str(entry)[:60]}")
                continue
            self.genesis_keys.add(entry["key_id"])

    def _chain(self, record: rec.Record, find: Callable[[str], None]) -> None:
        last = self.streams.get(record.stream)
        if last is None:
            self.stream_count += 1
            if record.seq != 1:
                find(f"stream starts at seq {record.seq}: records 1 to {record.seq - 1} are missing")
        else:
            last_seq, last_hash, last_at = int.from_bytes(last[:8], "big"), last[8:40], last[40:].decode()
            if record.at < last_at:  # the fixed-width RFC 3339 form sorts as time does
                find(f"at {record.at} is earlier than the stream's previous record ({last_at}): time runs backwards")
            if record.seq <= last_seq:
                find(f"seq {record.seq} repeats or goes back (the stream is already at seq {last_seq})")
            elif record.seq > last_seq + 1:
                missing = f"{last_seq + 1}" if record.seq == last_seq + 2 else f"{last_seq + 1} to {record.seq - 1}"
                find(f"seq {record.seq} follows seq {last_seq}: record {missing} of this stream is missing")
            elif record.prev is None or record.prev != last_hash.hex():
                find(f"prev does not match the event hash of seq {last_seq}")
        self.streams[record.stream] = (max(record.seq, 0).to_bytes(8, "big") + bytes.fromhex(record.event_hash)
                                       + record.at.encode())

    def _signer(self, position: int, record: rec.Record, find: Callable[[str], None]) -> _Key | None:
        key = self.keys.get(record.actor)
        if key is None:
            find(f"signed by key {record.actor[:12]}, which is not registered at this point")
            return None
        if key.retired_at is not None and key.retired_at < position:
            find(f"signed by key {record.actor[:12]} ({key.holder}) after it was retired at position {key.retired_at}")
            return None
        since = self.revocations.get(record.actor)
        if since is not None and rec.parse_time(record.at) >= since:
            find(f"signed by key {record.actor[:12]} ({key.holder}), revoked as compromised since "
                 f"{rec.format_time(since)}")
            return None
        if key.revoked_at is not None and key.revoked_at < position:
            find(f"signed by key {record.actor[:12]} ({key.holder}) after it was revoked at position {key.revoked_at}")
            return None
        if record.type == authz.GENESIS:
            if record.actor not in self.genesis_keys:
                find("genesis is not signed by one of its founding keys")
                return None
        elif not authz.may_write(record.type, key.roles):
            find(f"key {record.actor[:12]} ({key.holder}) with roles {', '.join(key.roles) or 'none'} "
                 f"may not write {record.type} (allowed: {authz.writers_of(record.type)})")
            return None
        return key

    def _apply_key_change(self, position: int, record: rec.Record, find: Callable[[str], None]) -> None:
        data = record.data
        if record.type == authz.GENESIS:
            return  # its keys were taken in by _genesis
        if record.stream != _registry_stream(self.report.origin):
            # Elsewhere it would change nothing the write side reads: refuse to let it change the verifier's keys.
            find("key records belong in the ledger's registry stream (the genesis record's stream)")
            return
        if record.type == "key.recipient_registered":
            return  # names an age recipient for sealing; no signing key changes
        if record.type == "key.registered":
            if data.get("key_id") in self.keys:
                find("registers a key that is already registered")
            elif not _add_key(self.keys, data):
                find("malformed key entry")
            return
        key = self.keys.get(str(data.get("key_id")))
        if key is None:
            find(f"names key {str(data.get('key_id'))[:12]}, which is not registered")
        elif record.type == "key.rotated":
            new_id = str(data.get("new_key_id"))
            if new_id in self.keys:
                find("rotates to a key that is already registered")
            elif not _add_key(self.keys, {"key_id": new_id, "public_key": data.get("public_key"),
                                          "holder": key.holder, "roles": list(key.roles)}):
                find("malformed key entry")
            if key.retired_at is None and key.revoked_at is None:
                key.retired_at = position
        elif record.type == "key.retired":
            key.retired_at = position
        elif record.type == "key.revoked":
            key.revoked_at = position
        elif record.type == "key.roles_changed" and isinstance(data.get("roles"), list):
            key.roles = tuple(str(r) for r in data["roles"])


def _registry_stream(origin: str | None) -> str:
    """The registry stream's id: UUIDv5 of ``ledger:<origin>`` (docs/format.md §5)."""
    import uuid

    from ledger.domain.base import LEDGER_NAMESPACE

    return str(uuid.uuid5(LEDGER_NAMESPACE, f"ledger:{origin}"))


def _add_key(keys: dict[str, _Key], entry: Any) -> bool:
    try:
        key_id, public = announced_key(entry)
        keys[key_id] = _Key(public.public_bytes_raw(), str(entry["holder"]), tuple(entry["roles"]))
    except (KeyError, TypeError, ValueError):
        return False
    return True


def revocations_from(raws: Iterable[bytes]) -> dict[str, datetime]:
    """Pre-scan: the earliest compromise time claimed for each revoked key.

    Revocation reaches back in time, so it must be known before the records
    it invalidates are checked.  The revocation records themselves are
    verified in the main pass like any other.
    """
    out: dict[str, datetime] = {}
    for raw in raws:
        # Only a revocation can parse as one, and its canonical bytes name its
        # type exactly so: skip the rest without parsing them (a bundle's
        # pre-scan reads every record).
        if isinstance(raw, bytes) and b'"type":"key.revoked"' not in raw:
            continue
        try:
            record = rec.parse(raw)
            if record.type != "key.revoked":
                continue
            key = str(record.data["key_id"])
            since = rec.parse_time(str(record.data["compromised_since"]))
        except (InvalidRecordError, KeyError):
            continue
        if key not in out or since < out[key]:
            out[key] = since
    return out


def verify_ledger(ledger: Any, progress: Callable[[int], None] | None = None,
                  workers: int | None = None, rules: RuleChecker | None = None,
                  signatures: SignatureWorkers | None = None, remembered: Any = None) -> Report:
    """Verify a ledger database (see the module docstring for the steps).

    ``workers`` is the number of cores to use (default: all, for ledgers big
    enough to gain); ``signatures`` may bring workers already started (see
    :func:`ledger.sigcheck.start_signature_workers`), on this ledger's database.
    ``remembered`` (a :class:`ledger.trust.Remembered`) is what this verifier
    saw last time: the same log key, and a history whose first records still
    hash to the checkpoint it kept.  The append-only guards and the derived
    tables are checked too (see :mod:`ledger.storecheck`).
    """
    if signatures is None:
        signatures = start_signature_workers(ledger.url, ledger.recorder.events_table_name, workers)
    try:
        revocations = revocations_from(
            n.state for n in ledger.notifications(topics=["key.revoked"])
        )
        from ledger.store import iter_rows, last_row_id

        # The records present now (workers were started on them): a writer
        # adding more meanwhile does not make the run endless or uneven.
        stop = signatures.last_id if signatures is not None else last_row_id(ledger.recorder)
        entries = (Entry(state, stream, seq, topic, row_id)
                   for row_id, stream, seq, topic, state in iter_rows(ledger.recorder, stop=stop))
        if rules is None:
            from ledger.replay import RuleReplayer

            rules = RuleReplayer()
        from ledger.storecheck import DerivedTables, guard_problems
        from ledger.tlog import TransparencyLog

        verifier = Verifier(revocations, rules=rules, progress=progress)
        log = TransparencyLog(ledger)
        verifier.checkpoints = log.checkpoints()
        if remembered is not None and remembered.root is not None:
            verifier.remembered = (remembered.size, remembered.root)
        derived = DerivedTables(ledger.recorder, lambda p, why: verifier._find(p, "-", None, DATABASE, why), stop)
        verifier.node_sink = derived.node
    except BaseException:
        if signatures is not None:
            signatures.close()
        raise

    def checked(rows: Iterable[Entry]) -> Iterable[Entry]:
        for position, entry in enumerate(rows):
            derived.record(position, entry.id, entry.raw)
            yield entry

    report = verifier.run(checked(entries), signatures=signatures)
    verifier.check_checkpoints_cover()
    derived.finish()
    for problem in guard_problems(ledger.factory.datastore.engine):
        verifier._find(0, "-", None, DATABASE, problem)
    from ledger.documents import mismatches

    with ledger.factory.datastore.engine.connect() as conn:
        for problem in mismatches(conn):  # a missing document is no finding; an altered one is
            verifier._find(0, "-", None, DATABASE, problem)
        from ledger import sealed

        for problem in sealed.mismatches(conn):  # likewise for sealed files
            verifier._find(0, "-", None, DATABASE, problem)
    _check_remembered(verifier, report, remembered)
    if remembered is not None and remembered.checkpoint and remembered.size <= verifier.tree.size \
            and remembered.size not in verifier.checkpoints:
        verifier._find(remembered.size - 1, "-", None, DATABASE,
                       f"the checkpoint of size {remembered.size} this verifier verified before is no longer "
                       "stored: checkpoints were deleted")
    _check_stored_log(ledger, log, verifier, report)
    report.extra["log_key"] = verifier.genesis_log_key
    return report


def _check_remembered(verifier: Verifier, report: Report, remembered: Any) -> None:
    """Step 10: the same log key, and no fewer records than this verifier saw before."""
    if remembered is None:
        return
    size = verifier.tree.size
    if verifier.genesis_log_key is not None and verifier.genesis_log_key != remembered.log_key:
        verifier._find(0, "-", None, "-",
                       f"the log key changed: this verifier trusts {remembered.log_key} for {remembered.origin}, "
                       f"but the genesis record now names {verifier.genesis_log_key}")
    if remembered.size > size:
        verifier._find(max(size - 1, 0), "-", None, "-",
                       f"this verifier saw {remembered.size} records before, but the log now has {size}: "
                       f"records {size} to {remembered.size - 1} were removed")


def _check_stored_log(ledger: Any, log: Any, verifier: Verifier, report: Report) -> None:
    """The latest checkpoint's signature, and the stored tree, against the records."""
    size = verifier.tree.size
    if size == 0 or not report.origin:
        return
    if not verifier.checkpoints:
        report.extra["checkpoint"] = None
        return
    latest = log.checkpoint()
    try:
        from ledger.keys import parse_verifier_key

        genesis_log_key = rec.parse(next(iter(ledger.read(0, 1)))[1].raw).data["log_key"]
        name, _, public = parse_verifier_key(genesis_log_key)
        note.verify(note.parse(latest.note), name, public)
        checkpoint = note.parse_checkpoint(note.parse(latest.note).text)
        if (checkpoint.size, checkpoint.root) != (latest.size, latest.root):
            raise note.NoteError("the stored size and root differ from the signed note")
    except (note.NoteError, LedgerError, KeyError, ValueError) as exc:
        verifier._find(min(latest.size, size) - 1, "-", None, "-", f"the latest checkpoint does not verify: {exc}")
    report.extra["checkpoint"] = {"size": latest.size, "records_after": max(size - latest.size, 0),
                                  "note": latest.note}
    policy = _witness_policy(verifier.rules)
    if policy is not None:
        _check_witnesses(ledger, log, verifier, report, latest, policy)


def _check_witnesses(ledger: Any, log: Any, verifier: Verifier, report: Report, latest: Any,
                     policy: tuple[int, list[str]]) -> None:
    """Witnesses are required, not decorative: the newest checkpoint carrying K valid
    cosignatures from the named witnesses must exist; records after it are not yet witnessed."""
    required, keys = policy
    status = witness_status(latest.note, required, keys)
    report.extra["witnesses"] = status
    witnessed = latest if status["met"] else None
    if witnessed is None:
        for size in log.cosigned_sizes():
            if size >= latest.size:
                continue
            candidate = log.checkpoint(size)
            if witness_status(candidate.note, required, keys)["met"]:
                witnessed = candidate
                break
    size = verifier.tree.size
    if witnessed is None:
        names = ", ".join(note.parse_vkey(k)[0] for k in keys)
        verifier._find(max(size - 1, 0), "-", None, "-",
                       f"the covenant requires {required} of {len(keys)} named witnesses ({names}) to cosign a "
                       f"checkpoint, but no checkpoint carries {required} valid cosignatures from them")
        return
    status["witnessed_size"] = witnessed.size
    status["not_yet_witnessed"] = max(size - witnessed.size, 0)


def _witness_policy(rules: Any) -> tuple[int, list[str]] | None:
    """K and the N witness keys named by the newest covenant in force, if any."""
    covenants = [c for c in (rules.covenants() if hasattr(rules, "covenants") else [])
                 if c.status == "in_force" and c.terms.get("witnesses")]
    if not covenants:
        return None
    witnesses = covenants[-1].terms["witnesses"]
    return int(witnesses["required"]), [str(k) for k in witnesses["keys"]]


def witness_status(checkpoint_note: str, required: int, keys: list[str]) -> dict[str, Any]:
    """How many of the named witnesses validly cosigned this checkpoint."""
    signed = note.parse(checkpoint_note)
    valid = []
    for vkey in keys:
        name, _type, public = note.parse_vkey(vkey)
        try:
            note.verify_cosignature(signed, name, public)
            valid.append(name)
        except note.NoteError:
            continue
    return {"required": required, "named": len(keys), "cosigned_by": valid, "met": len(valid) >= required}
