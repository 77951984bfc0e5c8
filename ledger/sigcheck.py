"""Signature checks: inline, or in worker processes that read the records themselves.

Ed25519 verification is most of the work of ``ledger verify``.  Workers check
chunks of stored rows (by notification id) that they read from the database
on their own connection (or chunks of a bundle file's lines, by byte offset),
so nothing is copied between processes, and they can start while the
verifying process is still importing the rest of the package (see
:func:`start_signature_workers`).  Their verdict is only "this record's
signature is valid for the public key its ``actor`` names" (a key id
is the SHA-256 of its public key, so any record announcing that key will do):
whether the key was valid *then* is the verifier's own step 5.  Each chunk's
verdict also carries a digest of the rows the worker read, which the verifier
compares with the rows it read itself, so both judged the same bytes.

Kept free of the heavy imports (SQLAlchemy, eventsourcing, the domain): a
spawned worker imports only this, ``ledger.record`` and ``cryptography``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import multiprocessing
import os
import sqlite3
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ledger.record import signing_parts

ROWS_PER_CHUNK = 256  # notification ids per chunk a worker checks (a database)
BYTES_PER_CHUNK = 160 * 1024  # bytes of lines per chunk (a bundle file): about 256 records
BUNDLE = "bundle:"  # a source location naming a bundle file rather than a database URL
INLINE_BELOW = 5000  # small ledgers: starting worker processes costs more than it saves
EARLY_CHUNKS = 32  # queued before the verifier starts: about a second of work for one worker
QUEUED_PER_WORKER = 4  # afterwards: enough to keep each worker busy while the verifier parses
KEY_TYPES = ("ledger.genesis", "key.registered", "key.rotated")

# (database URL, events table, last notification id to check), or
# (BUNDLE + path, "", offset of the last record line to check).
Source = tuple[str, str, int]

_keys: dict[bytes, Ed25519PublicKey] = {}


def bad_signatures(jobs: list[tuple[bytes, bytes, bytes]]) -> list[int]:
    """Indexes of the (public key, signature, message) jobs that fail."""
    bad = []
    for index, (public, signature, message) in enumerate(jobs):
        key = _keys.get(public)
        if key is None:
            key = _keys[public] = Ed25519PublicKey.from_public_bytes(public)
        try:
            key.verify(signature, message)
        except InvalidSignature:
            bad.append(index)
    return bad


# --- reading rows in a worker ------------------------------------------------

def _connect(url: str) -> tuple[Any, str]:
    """A plain driver connection for a database URL, and its parameter mark."""
    if url.startswith("sqlite:///"):
        # Read-only, and never creating a file that is not there.
        uri = Path(url[len("sqlite:///"):]).resolve().as_uri() + "?mode=ro"
        return sqlite3.connect(uri, uri=True, check_same_thread=False), "?"
    if url.startswith("postgresql+psycopg://"):
        import psycopg

        return psycopg.connect("postgresql://" + url.split("://", 1)[1], autocommit=True), "%s"
    raise ValueError(f"worker processes cannot read {url.split('://')[0]} databases")


def readable(url: str) -> bool:
    """Whether worker processes can read this database themselves (a file or a server)."""
    return url.startswith("postgresql+psycopg://") or (
        url.startswith("sqlite:///") and ":memory:" not in url and "mode=memory" not in url
    )


def last_row_id(url: str, table: str) -> int | None:
    """The newest notification id (None for an empty table), with a light query."""
    conn, _mark = _connect(url)
    try:
        ((value,),) = conn.execute(f"SELECT max(id) FROM {table}").fetchall()
    finally:
        conn.close()
    return None if value is None else int(value)


class _DatabaseReader:
    """One worker's connection to the ledger and the public keys it announces."""

    def __init__(self, source: Source) -> None:
        url, self.table, self.last_id = source
        self.conn, self.mark = _connect(url)
        self.keys = self._announced_keys()

    def rows(self, lo: int, hi: int) -> list[tuple[int, bytes]]:
        cursor = self.conn.execute(
            f"SELECT id, state FROM {self.table} WHERE id >= {self.mark} AND id < {self.mark} ORDER BY id",
            (lo, min(hi, self.last_id + 1)))
        return [(int(row_id), bytes(state)) for row_id, state in cursor.fetchall()]

    def _announced_keys(self) -> dict[bytes, Ed25519PublicKey]:
        cursor = self.conn.execute(
            f"SELECT state FROM {self.table} WHERE topic IN ({', '.join([self.mark] * len(KEY_TYPES))}) "
            f"AND id <= {self.mark}",
            (*KEY_TYPES, self.last_id))
        return _keys_announced(bytes(state) for (state,) in cursor.fetchall())


class _BundleReader:
    """One worker's handle on a bundle file: record lines by byte offset."""

    def __init__(self, source: Source) -> None:
        self.path = source[0][len(BUNDLE):]
        self.last = source[2]
        self.handle = open(self.path, "rb")  # noqa: SIM115  (kept open for the worker's life)
        self.keys = _keys_announced(line for _, line in self._lines(0, self.last + 1)
                                    if any(f'"type":"{t}"'.encode() in line for t in KEY_TYPES))

    def rows(self, lo: int, hi: int) -> list[tuple[int, bytes]]:
        return list(self._lines(lo, min(hi, self.last + 1)))

    def _lines(self, lo: int, hi: int) -> Any:
        """(offset, line) for the record lines that start in [lo, hi)."""
        handle = self.handle
        handle.seek(max(lo - 1, 0))
        if lo > 0:
            handle.readline()  # the rest of the line before lo (just its newline, if one ends there)
        while True:
            offset = handle.tell()
            if offset >= hi:
                return
            line = handle.readline()
            if not line:
                return
            if line.startswith(b'{"actor":"'):  # not the header or the checkpoint line
                yield offset, line.rstrip(b"\n")


def announced_key(entry: Any) -> tuple[str, Ed25519PublicKey]:
    """The key id and public key of a key entry (genesis ``keys``, ``key.registered``).

    Only a key that hashes to its id is accepted: then no record can lie about
    which key an id names.  Raises KeyError, TypeError or ValueError otherwise.
    """
    public = base64.b64decode(entry["public_key"], validate=True)
    if len(public) != 32 or hashlib.sha256(public).hexdigest() != entry["key_id"]:
        raise ValueError("the public key does not hash to the key id")
    return entry["key_id"], Ed25519PublicKey.from_public_bytes(public)


def rotated_entry(data: dict[str, Any]) -> dict[str, Any]:
    """The key a ``key.rotated`` record announces, as a key entry."""
    return {"key_id": data["new_key_id"], "public_key": data["public_key"]}


def _keys_announced(raws: Any) -> dict[bytes, Ed25519PublicKey]:
    """Key id -> public key, from genesis and key registration records."""
    keys: dict[bytes, Ed25519PublicKey] = {}
    for raw in raws:
        try:
            data = json.loads(raw)["data"]
            entries = data.get("keys") or [rotated_entry(data) if "new_key_id" in data else data]
        except (ValueError, KeyError, TypeError, AttributeError):
            continue  # malformed: the verifier reports it; no key comes from it
        for entry in entries:
            try:
                key_id, public = announced_key(entry)
            except (ValueError, KeyError, TypeError):
                continue
            keys[key_id.encode("ascii")] = public
    return keys


_readers: dict[Source, _DatabaseReader | _BundleReader] = {}


def check_rows(source: Source, lo: int, hi: int) -> tuple[list[int], bytes]:
    """Ids in [lo, hi) whose signature fails, and the digest of the rows read (see :func:`row_digest`)."""
    reader = _readers.get(source)
    if reader is None:
        reader = _readers[source] = _BundleReader(source) if source[0].startswith(BUNDLE) else _DatabaseReader(source)
    bad = []
    digest = hashlib.sha256()
    for row_id, raw in reader.rows(lo, hi):
        digest.update(row_digest(row_id, hashlib.sha256(raw).digest()))
        if not _verifies(reader.keys, raw):
            bad.append(row_id)
    return bad, digest.digest()


def row_digest(row_id: int, raw_hash: bytes) -> bytes:
    """What one row adds to a chunk's digest: its id and the SHA-256 of its bytes."""
    return row_id.to_bytes(8, "big") + raw_hash


def _verifies(keys: dict[bytes, Ed25519PublicKey], raw: bytes) -> bool:
    # Canonical records begin with the actor (the first key in JCS order).
    key = keys.get(raw[10:74]) if raw.startswith(b'{"actor":"') else None
    parts = signing_parts(raw)
    if key is None or parts is None:
        return False
    message, signature = parts
    try:
        key.verify(signature, message)
    except InvalidSignature:
        return False
    return True


# --- the verifier's side ---------------------------------------------------

def start_signature_workers(url: str, table: str, cores: int | None = None) -> SignatureWorkers | None:
    """Start signature workers on a ledger database, if it is worth it.

    ``cores``: how many to use (default: every core, for ledgers of at least
    INLINE_BELOW records; a number given is used whatever the size).
    """
    import os

    wanted = cores if cores is not None else os.cpu_count() or 1
    return SignatureWorkers.start(url, table, wanted, minimum=0 if cores is not None else INLINE_BELOW)


def start_bundle_workers(path: str, cores: int | None = None) -> SignatureWorkers | None:
    """The same for a bundle file (see :func:`start_signature_workers`)."""
    import os

    wanted = cores if cores is not None else os.cpu_count() or 1
    return SignatureWorkers.start_bundle(path, wanted, minimum=0 if cores is not None else INLINE_BELOW)


def die_with_parent(parent: int) -> None:
    """Worker initializer: exit as soon as the verifier that started us is gone.

    A killed ``ledger verify`` (kill -9) cannot shut its pool down; without
    this, workers (and so multiprocessing's resource tracker) would live on,
    holding the database or bundle open.  A daemon thread polls the parent
    id: portable, and unaffected by which thread spawned the worker (unlike
    Linux's PR_SET_PDEATHSIG).
    """
    import threading
    import time

    def watch() -> None:
        while True:
            if os.getppid() != parent:
                os._exit(1)
            time.sleep(0.5)

    threading.Thread(target=watch, name="die-with-parent", daemon=True).start()


class SignatureWorkers:
    """Worker processes checking chunks of rows, ahead of the verifier.

    The verifier asks for each chunk's verdict with :meth:`take`; a chunk no
    worker has been given yet is the verifier's to check itself, which keeps
    every core busy whatever the balance of work.
    """

    def __init__(self, source: Source, workers: int, span: int = ROWS_PER_CHUNK) -> None:
        self.source = source
        self.workers = workers
        self.span = span  # row ids (or bytes of a bundle) per chunk
        self.pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                                        initializer=die_with_parent, initargs=(os.getpid(),))
        self.futures: dict[int, Future[tuple[list[int], bytes]]] = {}  # by chunk, until taken
        self.running: list[Future[tuple[list[int], bytes]]] = []
        self.broken = False
        self.next_chunk = 0
        self.last_chunk = source[2] // span
        self.submit_ahead(EARLY_CHUNKS * workers)

    @classmethod
    def start(cls, url: str, table: str, cores: int, minimum: int = INLINE_BELOW) -> SignatureWorkers | None:
        """Start cores - 1 workers on the ledger as it is now, or None when not worth it."""
        if cores < 2 or not readable(url):
            return None
        try:
            last = last_row_id(url, table)
        except Exception:  # no such database or table, no server...: opening the ledger will say
            return None
        if last is None or last < minimum:
            return None
        return cls((url, table, last), cores - 1)

    @classmethod
    def start_bundle(cls, path: str, cores: int, minimum: int = INLINE_BELOW) -> SignatureWorkers | None:
        """Start cores - 1 workers on a bundle file, or None when not worth it."""
        try:
            size = Path(path).stat().st_size
        except OSError:
            return None  # verifying the bundle will say what is wrong
        if cores < 2 or size < minimum * 500:  # records are rarely under 500 bytes
            return None
        return cls((BUNDLE + str(Path(path).resolve()), "", size), cores - 1, span=BYTES_PER_CHUNK)

    @property
    def last_id(self) -> int:
        return self.source[2]

    def queued(self) -> int:
        """Chunks given to workers and not finished (whether or not taken yet)."""
        self.running = [future for future in self.running if not future.done()]
        return len(self.running)

    def submit_ahead(self, limit: int) -> None:
        """Give workers the next chunks while fewer than ``limit`` are waiting."""
        while not self.broken and self.next_chunk <= self.last_chunk and self.queued() < limit:
            lo = self.next_chunk * self.span
            try:
                future = self.pool.submit(check_rows, self.source, lo, lo + self.span)
            except RuntimeError:  # the pool broke (a worker died): the verifier checks the rest itself
                self.broken = True
                return
            self.futures[self.next_chunk] = future
            self.running.append(future)
            self.next_chunk += 1

    def take(self, chunk: int) -> Future[tuple[list[int], bytes]] | None:
        """The workers' verdict on a chunk, or None: the caller checks it (and no worker will)."""
        if chunk < self.next_chunk:
            return self.futures.pop(chunk, None)
        self.next_chunk = chunk + 1
        return None

    def keep_busy(self) -> None:
        self.submit_ahead(QUEUED_PER_WORKER * self.workers)

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)
