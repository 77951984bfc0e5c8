"""Run a ``ledger`` command inside this process, on an open ledger.

The server takes commands by the CLI's own names and arguments (so that the
two never drift apart: one parser, one set of library calls) and runs them
here with the ledger it holds and, for writes, a stand-in signer
(:class:`ledger.remote.RemoteSigner`).  Errors are raised as they are, not
turned into exit codes, so that the server maps them to HTTP statuses.

Only the commands in :data:`READS` and :data:`WRITES` may be run this way: a
server must never create ledgers, write files on its own disk or read keys.
"""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from contextlib import redirect_stderr, redirect_stdout
from typing import Any

import click

# Queries (each prints JSON with --json, the shape docs/cli.md documents).
READS = {
    ("audit",), ("log",), ("show",), ("keys", "list"), ("document", "list"),
    ("covenant", "show"), ("covenant", "list"), ("covenant", "diff"),
    ("committee", "show"), ("committee", "list"), ("meeting", "show"), ("meeting", "list"),
    ("motion", "show"), ("motion", "list"), ("fund", "show"), ("fund", "list"),
    ("milestone", "show"), ("milestone", "list"), ("dispute", "show"), ("dispute", "list"),
    ("organisation", "list"), ("feedback", "list"), ("feedback", "status"),
    ("projections", "status"), ("consultation", "show"), ("consultation", "list"), ("adjustment", "list"),
    ("feedback", "channels"),
}
# Acts: every command that writes records signed by one key.
WRITE_GROUPS = {"covenant", "committee", "meeting", "motion", "fund", "milestone", "dispute", "organisation",
                "feedback", "consultation", "adjustment"}
WRITES_KEYS = {("apply",), ("keys", "register"), ("keys", "rotate"), ("keys", "retire"), ("keys", "retire-holder"),
               ("keys", "revoke"), ("keys", "roles"), ("keys", "recipient"), ("sealed", "erase")}
# Commands of those groups that open sealed content with a private identity or write a file
# here: they run where the identity and the file are, never on a server.
LOCAL_ONLY = {("dispute", "report"), ("dispute", "replay"), ("feedback", "read")}
# Options that would make the server read or write its own files, or take a key.
FORBIDDEN_OPTIONS = {"--key", "--db", "--identity", "--out", "--log-key", "--state", "--bundle"}


def command_path(argv: Sequence[str]) -> tuple[str, ...]:
    """The command's words (``("motion", "vote")``) at the start of ``argv``."""
    from cli.main import cli

    words: list[str] = []
    group: Any = cli
    ctx = click.Context(cli)
    for word in argv:
        if not isinstance(group, click.Group):
            break
        found = group.get_command(ctx, word)
        if found is None:
            break
        words.append(word)
        group = found
    return tuple(words)


def classify(argv: Sequence[str]) -> str:
    """``"read"`` or ``"write"`` for a command the server runs; UsageError otherwise."""
    path = command_path(argv)
    if path in READS:
        return "read"
    if path in WRITES_KEYS or (len(path) == 2 and path[0] in WRITE_GROUPS and path not in READS
                               and path not in LOCAL_ONLY):
        return "write"
    shown = " ".join(path or argv[:1]) or "(nothing)"
    raise click.UsageError(f"'ledger {shown}' is not a command the server runs (see docs/server.md)")


def check_arguments(argv: Sequence[str], files: dict[str, str], own_user: bool = False) -> None:
    """Refuse options that touch the server's own files or keys, and paths that are not uploads.

    ``own_user``: the caller is the user the server runs as (a resident, reached only through
    a private socket), so a word that happens to name a file there is only a word."""
    for word in argv[len(command_path(argv)):]:  # the command's own words are not paths
        name = word.split("=", 1)[0]
        if name in FORBIDDEN_OPTIONS:
            raise click.UsageError(f"{name} is not accepted by the server (keys stay with their holders; "
                                   "files are sent with the command)")
        if own_user:
            continue
        for value in (word, word.split("=", 1)[-1]):
            if value in files or not value.strip():
                continue
            # Anything naming a path on the server's disk (its database, its log key...)
            # is refused: only files sent with the command can be read.
            if os.path.lexists(value) or os.path.lexists(os.path.expanduser(value)):
                raise click.UsageError(f"{value[:60]!r} names a file on the server; send the file with the "
                                       "command instead")


def run(ledger: Any, argv: Sequence[str], signer: Any = None, notes: io.StringIO | None = None) -> str:
    """Run one command; return what it printed (what it said on its standard error, a
    note such as "keep the receipt code", goes to ``notes``).  Raises what the command raises."""
    from cli.common import Settings
    from cli.main import cli

    settings = Settings(db=None, verbose=False, ledger=ledger, signer=signer, embedded=True)
    out = io.StringIO()
    with click.Context(cli, obj=settings, info_name="ledger") as root, redirect_stdout(out), \
            redirect_stderr(notes if notes is not None else io.StringIO()):
        ctx = cli.make_context("ledger", list(argv), parent=root)
        with ctx:
            cli.invoke(ctx)
    return out.getvalue()
