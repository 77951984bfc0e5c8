"""What the server does, without HTTP: queries, prepare and submit, the tiled log.

One :class:`LedgerService` per server process holds one open ledger and runs
one command at a time on it (the ledger object keeps caches that are not
thread-safe); several processes share a PostgreSQL database, whose write lock
orders their writes, so servers are stateless and scale out.
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import os
import re
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from cli import inprocess
from ledger import determinism
from ledger import record as rec
from ledger.errors import InvalidInputError, NotFoundError, UnauthorisedError
from ledger.remote import RemoteSigner, command_time, parse_signatures
from server.errors import HTTPError

MAX_FILES = 8
_FILE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


class LedgerService:
    """One open ledger and the operations the HTTP layer offers on it."""

    def __init__(self, db: str, log_key: Any = None, witnesses: list[Any] | None = None,
                 own_user: bool = False) -> None:
        """``own_user``: a resident (``ledger resident``), reached only by the user it runs as
        through a private socket: no page limit, and words naming files are only words."""
        from ledger import Ledger
        from projections import views

        self.ledger = Ledger(db, log_key=log_key)
        views.attach(self.ledger)
        self.lock = threading.Lock()
        self.witnesses = witnesses or []  # ledger.netwitness.WitnessClient, asked after each write
        self._clock = self.ledger.clock
        self.own_user = own_user
        self.notes = threading.local()  # what the last command of this thread said on stderr

    # --- queries ------------------------------------------------------------

    def query(self, argv: list[str], fmt: str = "json") -> Any:
        """Run a query command; its --json value (or its text, for ``fmt="text"``)."""
        argv = _strings(argv, "argv")
        if inprocess.classify(argv) != "read":
            raise HTTPError(405, "not_a_query", "that command writes: prepare and submit it (POST /v1/prepare)")
        inprocess.check_arguments(argv, {}, own_user=self.own_user)
        if not self.own_user:
            _require_page(argv)
        if fmt == "json" and "--json" not in argv:
            argv = [*argv, "--json"]
        notes = io.StringIO()
        with self.lock:
            out = inprocess.run(self.ledger, argv, notes=notes)
        self.notes.text = notes.getvalue()
        return json.loads(out) if fmt == "json" else out

    # --- writes -------------------------------------------------------------

    def prepare(self, body: dict[str, Any]) -> dict[str, Any]:
        """Apply every rule to the command and return the records it would write,
        with the exact bytes to sign; write nothing."""
        argv, signer, files = self._write_request(body, preparing=True)
        moment = command_time(body.get("at"))
        recorded = _recorded(body)
        with self.lock, self._uploaded(files) as mapping:
            argv = [mapping.get(word, word) for word in argv]

            def attempt() -> str:
                recorded.reset()
                with determinism.reusing(recorded), self.ledger.rehearsal():
                    return inprocess.run(self.ledger, argv, signer)

            signer.wanted.clear()
            self.ledger.clock = lambda: moment
            try:
                self.ledger.retrying(attempt)
            except Exception as exc:
                raise _named(exc, mapping) from None
            finally:
                self.ledger.clock = self._clock
        return {
            "at": rec.format_time(moment),
            "key": signer.key_id,
            "records": [w.to_json() for w in signer.wanted],
            "sign": [w.to_json() for w in signer.pending if w.digest not in signer.signatures],
            "complete": signer.complete,
            # What this run sealed and drew: give them back with the signatures, so that the
            # command run again makes the same records (ledger/determinism.py).
            "sealed": [base64.b64encode(item).decode("ascii") for item in recorded.made_sealed],
            "codes": list(recorded.made_codes),
        }

    def submit(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """Run the prepared command again with its signatures; append its records
        atomically, or refuse (409 when the log moved on).  Idempotent: records
        already in the log (a retry after a lost answer) are acknowledged again."""
        argv, signer, files = self._write_request(body, preparing=False)
        hashes = body.get("event_hashes")
        if hashes is not None:
            hashes = _strings(hashes, "event_hashes")
        if "at" not in body:
            raise InvalidInputError("a submission carries the at the server returned when preparing")
        moment = command_time(body.get("at"))
        recorded = _recorded(body)
        with self.lock, self._uploaded(files) as mapping:
            argv = [mapping.get(word, word) for word in argv]
            self.ledger.clock = lambda: moment
            try:
                output = self.ledger.retrying(lambda: self._run_batch(argv, signer, recorded))
            except Exception as exc:
                # A retry of a submission already recorded (its answer was lost) cannot run
                # again: each of its records holds its place (stream, seq), so the command
                # now makes other bytes or none.  Only then are the hashes looked up (a scan
                # of the log: never on the way of a submission that goes through).
                if hashes and self._all_recorded(hashes):
                    return 200, {"status": "already recorded", "event_hashes": hashes, "size": self.ledger.size()}
                raise _named(exc, mapping) from None
            finally:
                self.ledger.clock = self._clock
            output = _unmapped(output, mapping)
            size = (self.ledger.last_position_written or -1) + 1
        self._ask_witnesses()
        return 201, {"status": "recorded", "output": output, "event_hashes": signer.signed, "size": size}

    def _run_batch(self, argv: list[str], signer: RemoteSigner, recorded: determinism.Recorded) -> str:
        signer.signed.clear()  # a retried attempt signs (with the same signatures) again
        recorded.reset()
        notes = io.StringIO()
        with determinism.reusing(recorded), self.ledger.batch():
            output = inprocess.run(self.ledger, argv, signer, notes=notes)
        self.notes.text = notes.getvalue()
        return output

    def _all_recorded(self, hashes: list[str]) -> bool:
        try:
            for digest in hashes:
                self.ledger.position_of(digest)
        except NotFoundError:
            return False
        return True

    def _write_request(self, body: Any, preparing: bool) -> tuple[list[str], RemoteSigner, dict[str, bytes]]:
        if not isinstance(body, dict):
            raise InvalidInputError("the request body must be a JSON object")
        unknown = set(body) - {"argv", "key", "at", "signatures", "files", "event_hashes", "sealed", "codes"}
        if unknown:
            raise InvalidInputError(f"unknown field {sorted(unknown)[0]!r} in the request")
        argv = _strings(body.get("argv"), "argv")
        if inprocess.classify(argv) != "write":
            raise HTTPError(405, "not_an_act", "that command only reads: ask GET /v1/... or POST /v1/query")
        files = _files(body.get("files"))
        inprocess.check_arguments(argv, {name: name for name in files}, own_user=self.own_user)
        key = body.get("key")
        if not isinstance(key, str) or not re.fullmatch(r"[0-9a-f]{64}", key):
            raise InvalidInputError("key must be the signer's key id (64 lowercase hex digits: 'ledger keys id FILE')")
        with self.lock:
            info = self.ledger.registry().keys.get(key)
        if info is None:
            raise UnauthorisedError(f"key {key[:12]} is not registered in this ledger")
        public = base64.b64decode(info.public_key)
        return argv, RemoteSigner(key, public, parse_signatures(body.get("signatures")), preparing=preparing), files

    @contextmanager
    def _uploaded(self, files: dict[str, bytes]) -> Iterator[dict[str, str]]:
        """The command's files in a private temporary folder; names mapped to paths there."""
        if not files:
            yield {}
            return
        with tempfile.TemporaryDirectory(prefix="ledger-upload-") as folder:
            mapping = {}
            for name, content in files.items():
                path = os.path.join(folder, name)
                with open(path, "wb") as handle:
                    handle.write(content)
                mapping[name] = path
            yield mapping

    def _ask_witnesses(self) -> None:
        for witness in self.witnesses:
            try:
                with self.lock:
                    witness.request(self.ledger)
            except Exception:  # a witness being away must not fail a recorded command
                continue

    # --- the tiled log ------------------------------------------------------

    def checkpoint(self) -> str:
        from ledger.tlog import TransparencyLog

        with self.lock:
            return TransparencyLog(self.ledger).checkpoint().note

    def tile(self, path: str) -> bytes:
        from ledger import tiles
        from ledger.tlog import TransparencyLog

        level, index, width = tiles.parse_tile_path(path)
        with self.lock:
            size = TransparencyLog(self.ledger).checkpoint().size
            if level is None:
                return tiles.entry_bundle(self.ledger, index, width, size)
            with self.ledger.recorder.transaction(commit=False) as session:  # type: ignore[attr-defined]
                return tiles.tile(session, level, index, width, size)

    def document(self, digest: str) -> tuple[str, bytes]:
        from ledger import documents

        with self.lock:
            found = documents.get(self.ledger, digest)
        return found.name, found.content

    def sealed_file(self, digest: str) -> bytes:
        """A kept age file: ciphertext only (opening it takes a recipient's identity, never here)."""
        from ledger import sealed

        with self.lock:
            return sealed.get(self.ledger, digest)

    def bundle(self) -> bytes:
        """The whole log as an export bundle up to the latest checkpoint (for 'ledger --server URL verify')."""
        import io

        from ledger.bundle import write_bundle
        from ledger.tlog import TransparencyLog

        out = io.BytesIO()
        with self.lock:
            size = TransparencyLog(self.ledger).checkpoint().size
            write_bundle(self.ledger, out, size)
        return out.getvalue()


MAX_PAGE = 10_000


def _require_page(argv: list[str]) -> None:
    """The log and the audit trail are served a page at a time: at most MAX_PAGE rows."""
    for i, word in enumerate(argv):
        value = argv[i + 1] if word == "--limit" and i + 1 < len(argv) else (
            word.split("=", 1)[1] if word.startswith("--limit=") else None)
        if value is not None and value.isdigit() and int(value) > MAX_PAGE:
            raise HTTPError(400, "usage", f"at most {MAX_PAGE:,} rows a page: page with --from (log) or "
                                          "--until/--as-of (audit)")


def _unmapped(text: str, mapping: dict[str, str]) -> str:
    """Uploaded files by the names the client gave, never the server's temporary paths."""
    for name, path in mapping.items():
        text = text.replace(path, name)
    return text


def _named(exc: Exception, mapping: dict[str, str]) -> Exception:
    """The same error, its message naming uploaded files as the client named them."""
    if not mapping:
        return exc
    if hasattr(exc, "message") and isinstance(exc.message, str):  # click's errors
        exc.message = _unmapped(exc.message, mapping)
    elif exc.args and isinstance(exc.args[0], str):
        exc.args = (_unmapped(exc.args[0], mapping), *exc.args[1:])
    return exc


def _recorded(body: dict[str, Any]) -> determinism.Recorded:
    """The sealed files and receipt codes a prepared run made, as the client gives them back."""
    sealed, codes = body.get("sealed") or [], body.get("codes") or []
    if not isinstance(sealed, list) or len(sealed) > MAX_FILES or not all(isinstance(x, str) for x in sealed):
        raise InvalidInputError(f"sealed is a list of at most {MAX_FILES} base64 age files")
    if not isinstance(codes, list) or len(codes) > MAX_FILES or not all(isinstance(x, str) for x in codes):
        raise InvalidInputError(f"codes is a list of at most {MAX_FILES} receipt codes")
    try:
        files = [base64.b64decode(x, validate=True) for x in sealed]
    except (binascii.Error, ValueError):
        raise InvalidInputError("a sealed file given back is not base64") from None
    return determinism.Recorded(sealed=files, codes=list(codes))


def _strings(value: Any, name: str) -> list[str]:
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value) or len(value) > 200:
        raise InvalidInputError(f"{name} must be a non-empty list of strings (the command's words and options)")
    if any("\0" in v for v in value):
        raise InvalidInputError(f"{name} may not contain NUL characters")
    return list(value)


def _files(value: Any) -> dict[str, bytes]:
    if value is None:
        return {}
    if not isinstance(value, dict) or len(value) > MAX_FILES:
        raise InvalidInputError(f"files must be an object of at most {MAX_FILES} names to base64 contents")
    out = {}
    for name, content in value.items():
        if not _FILE_NAME.fullmatch(name) or not isinstance(content, str):
            raise InvalidInputError(f"file name {str(name)[:40]!r} must be a plain name (letters, digits, . _ -)")
        try:
            out[name] = base64.b64decode(content, validate=True)
        except (binascii.Error, ValueError):
            raise InvalidInputError(f"file {name} is not base64") from None
    return out

