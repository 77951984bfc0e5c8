"""What a verifier remembers between runs, per ledger origin (like SSH's known_hosts).

A keeper who holds the database file and a stolen key can re-sign history
and every checkpoint; only someone who remembers what they saw before can
tell.  So ``ledger verify`` keeps, for each origin it has verified:

* ``log_key``: the log key's verifier key string it trusts (pinned on first
  use, or explicitly with ``--trust``);
* ``checkpoint``: the latest checkpoint note it verified (signature, and the
  root of the records as they were then);
* ``databases``: the database locations where it found this origin, so that
  a database that now claims another origin is noticed.

On every later run the history must have the same log key and its first
``size`` records must hash to the remembered root (the consistency of the old
checkpoint with the records as they are now, recomputed from the records,
not from stored hashes).  See docs/format.md §11.

The state lives in ``--state DIR``, or ``$LEDGER_STATE_DIR``, or
``$XDG_STATE_HOME/ledger``, or ``~/.local/state/ledger``: one JSON file per
origin, written atomically.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from ledger import note
from ledger.errors import InvalidInputError

STATE_ENV = "LEDGER_STATE_DIR"
FORMAT = "covenant-ledger/verifier-state/v1"


def default_state_dir() -> Path:
    """Where verifier state lives unless ``--state`` says otherwise."""
    explicit = os.environ.get(STATE_ENV)
    if explicit:
        return Path(explicit).expanduser()
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base).expanduser() / "ledger"


@dataclass(frozen=True)
class Remembered:
    """What this verifier saw last time for one origin."""

    origin: str
    log_key: str
    checkpoint: str | None  # the signed note, as verified
    size: int
    root: bytes | None
    databases: tuple[str, ...] = ()

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> Remembered:
        if value.get("format") != FORMAT:
            raise InvalidInputError("the verifier state file is not in a format this version knows")
        checkpoint = value.get("checkpoint")
        size, root = 0, None
        if checkpoint:
            parsed = note.parse_checkpoint(note.parse(str(checkpoint)).text)
            size, root = parsed.size, parsed.root
        return cls(str(value["origin"]), str(value["log_key"]), checkpoint, size, root,
                   tuple(str(d) for d in value.get("databases", [])))

    def to_json(self) -> dict[str, Any]:
        return {"format": FORMAT, "origin": self.origin, "log_key": self.log_key,
                "checkpoint": self.checkpoint, "size": self.size, "databases": list(self.databases)}


class TrustStore:
    """The folder of remembered origins."""

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = directory or default_state_dir()

    def path(self, origin: str) -> Path:
        # Origins are printable ASCII without spaces; '/' and others are escaped.
        return self.directory / (quote(origin, safe="") + ".json")

    def load(self, origin: str) -> Remembered | None:
        path = self.path(origin)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise InvalidInputError(f"cannot read the verifier state {path}: {exc.strerror}") from None
        try:
            return Remembered.from_json(json.loads(text))
        except (ValueError, KeyError, TypeError, note.NoteError) as exc:
            raise InvalidInputError(f"the verifier state {path} is damaged ({exc}); "
                                    "move it aside to trust this ledger anew") from None

    def save(self, remembered: Remembered) -> Path:
        """Write atomically: a crash leaves the old state or the new, never half of one."""
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = self.path(remembered.origin)
        fd, temporary = tempfile.mkstemp(prefix=".", suffix=".part", dir=self.directory)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(remembered.to_json(), handle, indent=2, sort_keys=True)
                handle.write("\n")
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        return path

    def origin_of_database(self, location: str) -> str | None:
        """The origin this verifier last found at a database location, if any."""
        if not self.directory.is_dir():
            return None
        for path in sorted(self.directory.glob("*.json")):
            try:
                value = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            if location in value.get("databases", []):
                return str(value.get("origin"))
        return None


def advance(old: Remembered | None, origin: str, log_key: str, checkpoint: str | None,
            database: str | None) -> Remembered:
    """The state after a successful run: never moves back to a smaller checkpoint."""
    size = 0
    if checkpoint:
        size = note.parse_checkpoint(note.parse(checkpoint).text).size
    keep_old = old is not None and old.checkpoint is not None and (checkpoint is None or old.size > size)
    chosen = old.checkpoint if keep_old and old is not None else checkpoint
    databases = tuple(old.databases) if old is not None else ()
    if database and database not in databases:
        databases = (*databases, database)
    final_size, root = 0, None
    if chosen:
        parsed = note.parse_checkpoint(note.parse(chosen).text)
        final_size, root = parsed.size, parsed.root
    return Remembered(origin, log_key, chosen, final_size, root, databases)


def pinned_for(store: TrustStore, origin: str, trust: str | None) -> tuple[Remembered | None, list[str]]:
    """What to hold this run to: the remembered state, or ``--trust`` on first use.

    Returns the state (None: trust on first use) and problems to report: an
    explicit ``--trust`` that disagrees with the key this verifier remembers
    is itself a finding (a changed log key is never accepted silently).
    """
    remembered = store.load(origin)
    if trust is None:
        return remembered, []
    if remembered is None:
        return Remembered(origin, trust, None, 0, None), []
    if remembered.log_key != trust:
        return remembered, [f"--trust names log key {trust}, but this verifier trusts {remembered.log_key} for "
                            f"{origin} (kept in {store.path(origin)}; move that file aside only if the partnership "
                            "announced a new log key)"]
    return remembered, []


def check_database_origin(store: TrustStore, location: str, origin: str) -> list[str]:
    """A database location that held another ledger when last verified is a finding."""
    known = store.origin_of_database(location)
    if known is not None and known != origin:
        return [f"this database held the ledger {known} when last verified; it now holds {origin}: its history "
                "was replaced"]
    return []


__all__ = ["STATE_ENV", "Remembered", "TrustStore", "advance", "check_database_origin", "default_state_dir",
           "pinned_for"]
