"""Shared CLI plumbing: the one place errors become exit codes, and helpers.

Exit codes: 0 success; 1 a refused command or a failed verification; 2 a
usage error.  Library imports happen inside functions so that ``ledger
--help`` does not pay for eventsourcing, SQLAlchemy or cryptography.
"""

from __future__ import annotations

import json
import sys
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from ledger import Ledger, Signer


class RefusedExit(click.ClickException):
    """A LedgerError, shown as one line on stderr with exit code 1."""

    exit_code = 1

    def show(self, file: Any = None) -> None:
        click.echo(f"error: {self.message}", err=True)


@dataclass
class Settings:
    db: str | None
    verbose: bool
    ledger: Any = None  # set while `ledger apply` runs a batch, and by the server
    default_key: str | None = None
    signer: Any = None  # the server's stand-in for a key held elsewhere (ledger.remote.RemoteSigner)
    embedded: bool = False  # run by the server: errors go up as they are, for its HTTP statuses


class LedgerGroup(click.Group):
    """A group that maps library errors to one-line messages and exit codes."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except BrokenPipeError:
            # The reader went away (e.g. `| head`): stop quietly, as Unix tools do.
            import os
            import sys

            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            raise click.exceptions.Exit(0) from None
        except Exception as exc:
            from ledger.errors import LedgerError, explain_store_error

            root = ctx.find_root().obj
            if isinstance(root, Settings) and root.embedded:
                raise  # the server maps errors to HTTP statuses itself (server/errors.py)
            verbose = isinstance(ctx.obj, Settings) and ctx.obj.verbose
            if verbose:
                traceback.print_exc()
            if isinstance(exc, LedgerError):
                raise RefusedExit(str(exc)) from None
            known = explain_store_error(exc) if _is_store_error(exc) else None
            if known:
                raise RefusedExit(known) from None
            hint = "" if verbose else " (run with --verbose for details)"
            raise RefusedExit(f"internal error: {type(exc).__name__}: {exc}{hint}") from None


def _is_store_error(exc: BaseException) -> bool:
    """A failure of the database layer (SQLite, psycopg, SQLAlchemy or eventsourcing's wrappers)."""
    names = {cls.__module__.split(".")[0] for cls in type(exc).__mro__}
    return bool(names & {"sqlite3", "psycopg", "sqlalchemy", "eventsourcing"})


def settings() -> Settings:
    obj = click.get_current_context().find_root().obj
    assert isinstance(obj, Settings)
    return obj


def open_ledger(create: bool = False) -> Ledger:
    from ledger import Ledger

    current = settings()
    if current.ledger is not None:
        return current.ledger  # type: ignore[no-any-return]
    ledger = Ledger(current.db, create=create, log_key=_log_key())
    from projections import views

    views.attach(ledger)  # writing commands bring the views up to date in their own transaction
    return ledger


def _log_key() -> Signer | None:
    """The keeper's log key, if LEDGER_LOG_KEY names it: then every writing
    command also signs a checkpoint."""
    import os

    path = os.environ.get("LEDGER_LOG_KEY")
    return read_signer(path) if path and os.path.exists(path) else None


def load_key(path: str | None) -> Signer:
    current = settings()
    if current.signer is not None:
        if path:
            raise click.UsageError("the server never reads key files: sign on your own machine "
                                   "(ledger --server URL ... --key FILE)")
        return current.signer  # type: ignore[no-any-return]
    path = path or current.default_key
    if not path:
        raise click.UsageError("this command writes: give the signer's key with --key FILE (or LEDGER_KEY)")
    return read_signer(path)


def ask_passphrase(path: Any) -> str | None:
    """Ask for an encrypted key's passphrase at a terminal (never echoed); None when
    nobody is there to answer (a script: it sets LEDGER_KEY_PASSPHRASE instead)."""
    import sys

    if not sys.stdin.isatty():
        return None
    answer: str = click.prompt(f"Passphrase for {path}", hide_input=True, default="", show_default=False,
                               err=True)
    return answer or None


def read_signer(path: Any) -> Signer:
    """A private key file, asking for its passphrase at a terminal when it is encrypted."""
    from ledger import load_signer

    return load_signer(path, ask_passphrase)


def key_option(func: Any) -> Any:
    return click.option(
        "--key", "key_path", envvar="LEDGER_KEY", metavar="FILE",
        help="Private key file of the signer (or LEDGER_KEY).",
    )(func)


def json_option(func: Any) -> Any:
    return click.option("--json", "as_json", is_flag=True, help="Print JSON (stable shape, see docs/cli.md).")(func)


def emit_json(value: Any) -> None:
    click.echo(json.dumps(value, indent=2, ensure_ascii=False))


def progress_to_terminal(label: str, total: int) -> Any:
    """A progress bar on an interactive stderr; a silent stand-in otherwise."""
    if not sys.stderr.isatty():
        return _Quiet()
    return click.progressbar(length=total, label=label, file=sys.stderr)


class _Quiet:
    def __enter__(self) -> _Quiet:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def update(self, n: int) -> None:
        return None


def plural(count: int, word: str) -> str:
    """'1 record', '2 records'; '1 entry', '2 entries'."""
    if count == 1:
        return f"{count} {word}"
    if word.endswith("y") and word[-2:-1] not in "aeiou":
        return f"{count} {word[:-1]}ies"
    return f"{count} {word}s"


def table(rows: list[list[str]], headers: list[str]) -> str:
    """A plain left-aligned text table."""
    widths = [max(len(str(c)) for c in col) for col in zip(headers, *rows, strict=True)]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(headers, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    return "\n".join(lines)


def signer_and_ledger(key_path: str | None) -> tuple[Any, Any]:
    """The signer's key and the open ledger, for a writing command."""
    return load_key(key_path), open_ledger()


def show(value: dict[str, Any], as_json: bool, names: dict[str, str] | None = None) -> None:
    """Print a described object as JSON (ids as stored), or as indented lines for
    people: person and key ids shown as names with organisations, no ``None``
    fields, yes/no for flags."""
    if as_json:
        emit_json(value)
        return
    for line in readable_lines(value, names or {}, 0):
        click.echo(line)


def readable_lines(value: Any, names: dict[str, str], depth: int) -> list[str]:
    """The text form of ``show``: ``key: value`` lines, nested by two spaces."""
    pad = "  " * depth
    lines: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            label = names.get(str(key), str(key))
            if item is None or item == [] or item == {}:
                continue
            if _one_line(item):
                lines.append(f"{pad}{label}: {_scalar(item, names)}")
            else:
                lines.append(f"{pad}{label}:")
                lines += readable_lines(item, names, depth + 1)
    elif isinstance(value, list):
        for item in value:
            if _one_line(item):
                lines.append(f"{pad}- {_scalar(item, names)}")
            else:
                inner = readable_lines(item, names, depth + 1)
                lines.append(f"{pad}- {inner[0].lstrip()}" if inner else f"{pad}-")
                lines += inner[1:]
    else:
        lines.append(pad + _scalar(value, names))
    return lines


def _one_line(item: Any) -> bool:
    if isinstance(item, list):
        return all(not isinstance(i, (dict, list)) for i in item) and len(item) <= 8 and \
            sum(len(str(i)) for i in item) < 60 and not any(len(str(i)) == 64 for i in item)
    return not isinstance(item, dict)


def _scalar(item: Any, names: dict[str, str]) -> str:
    if isinstance(item, list):
        return ", ".join(_scalar(i, names) for i in item)
    if isinstance(item, bool):
        return "yes" if item else "no"
    text = str(item)
    return names.get(text, text)


def people_names(ledger: Any, position: int | None = None) -> dict[str, str]:
    """Person and key ids -> "Name (Organisation)", as the registry stood at ``position``."""
    from projections.describe import registry_as_of

    return dict(registry_as_of(ledger, position).names())


def read_data_file(path: str) -> Any:
    """A JSON or TOML file given by a person (terms, changes)."""
    import tomllib
    from pathlib import Path

    from ledger.errors import InvalidInputError

    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise InvalidInputError(f"{path} is not a text file (UTF-8 JSON or TOML)") from None
    except OSError as exc:
        raise InvalidInputError(f"cannot read {path}: {exc.strerror}") from None
    try:
        if path.endswith(".toml"):
            return tomllib.loads(text)
        return json.loads(text, parse_float=_no_float)
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
        raise InvalidInputError(f"{path}: {exc}") from None


def _no_float(text: str) -> Any:
    from ledger.errors import InvalidInputError

    raise InvalidInputError(f"{text} is a float; write amounts and fractions as strings")


def as_of_option(func: Any) -> Any:
    return click.option(
        "--as-of", "as_of", default=None, metavar="POSITION|EVENT_HASH|TIME",
        help="Answer as the ledger stood then: a log position, an event hash, or a time.",
    )(func)


def as_of_point(ledger: Any, as_of: str | None) -> tuple[int | None, Any]:
    """(log position, moment) for --as-of; (None, now) without it."""
    from datetime import UTC, datetime

    if as_of is None:
        return None, datetime.now(UTC)
    from projections.history import resolve_as_of

    position = resolve_as_of(ledger, as_of)
    return position, ledger.record_at(position).moment


@contextmanager
def new_file(path: str) -> Iterator[Any]:
    """Write a file that must not exist yet, all or nothing.

    The content goes to a temporary file beside it, renamed into place only
    when complete: a failure (or Ctrl-C) leaves no half-written file, and a
    user's existing file is never replaced.
    """
    import os
    import tempfile
    from pathlib import Path

    from ledger.errors import InvalidInputError

    target = Path(path)
    if target.exists():
        raise InvalidInputError(f"{path} already exists; choose another name (nothing was written)")
    if not target.parent.is_dir():
        raise InvalidInputError(f"cannot write {path}: the folder {target.parent} does not exist")
    fd, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
        os.chmod(temporary, 0o644)  # mkstemp's 0600 is for private files; exports are for sharing
        # link() fails if the name appeared meanwhile, unlike rename(): still no overwrite.
        os.link(temporary, target)
    except FileExistsError:
        raise InvalidInputError(f"{path} already exists; choose another name (nothing was written)") from None
    finally:
        os.unlink(temporary)


DOCUMENT_HELP = ("the SHA-256 digest of a document (64 hex digits), or the document's file, whose digest "
                 "is computed")


def keep_option(func: Any) -> Any:
    return click.option(
        "--keep-document", "keep", is_flag=True,
        help="Also keep the document file(s) in the ledger's document store ('ledger document get'); kept "
             "documents are public: 'ledger publish' links them.",
    )(func)


class Documents:
    """Turns what a person gave for a document (a digest, or a file) into digests,
    remembering the files so that a command can keep them."""

    def __init__(self) -> None:
        self.files: list[Any] = []

    def digest(self, value: str) -> str:
        import re
        from pathlib import Path

        from ledger.documents import read_document
        from ledger.errors import InvalidInputError

        text = value.strip()
        if re.fullmatch(r"[0-9a-fA-F]{64}", text) and not Path(text).exists():
            return text.lower()
        if not Path(text).exists():
            raise InvalidInputError(f"{value!r} is neither a SHA-256 digest (64 hex digits) nor a file that exists")
        document = read_document(text)
        self.files.append(document)
        return document.digest

    def kept_with(self, ledger: Any, keep: bool) -> Any:
        """A context in which the ledger keeps the files with the next command (if asked to)."""
        from contextlib import nullcontext

        if keep and not self.files:
            from ledger.errors import InvalidInputError

            raise InvalidInputError("--keep-document keeps files: give the document as a file, not a digest")
        return ledger.keeping(self.files) if keep else nullcontext()
