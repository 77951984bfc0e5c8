"""``ledger resident``: keep a ledger open in a process of its own, so commands start instantly.

Every ``ledger`` process pays for importing SQLAlchemy and the domain model
(about half a second on a small machine) before a command of 40 ms runs.  A
*resident* is ``ledger serve`` on a Unix socket in a private directory, started
once (``ledger resident start``) and stopped by ``ledger resident stop`` or after
a while unused.  While it runs, the queries and acts on that ledger are sent to
it exactly as ``ledger --server`` sends them: queries are answered there, acts are
prepared there, **signed here** with the key given to the command, and
submitted.  The resident never reads a key, so it holds nothing a command line
would not.  Whatever it cannot run (``verify``, ``publish``, commands writing
or reading files of their own, a different log key) runs here as before.

Where: ``$XDG_RUNTIME_DIR/covenant-ledger/`` (else ``/tmp/covenant-ledger-UID/``),
a directory only its owner may enter; a resident is found by the ledger it
serves (the SQLite file's real path, or the PostgreSQL URL) and the package
version, so an upgrade never talks to an older resident.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from typing import Any

import click

from ledger.version import __version__

MAX_SOCKET_PATH = 100  # Unix sockets' paths are limited (108 bytes on Linux, 104 on BSDs)


def runtime_dir(create: bool = False) -> str | None:
    """The private directory of residents; None when it is missing or not private."""
    base = os.environ.get("XDG_RUNTIME_DIR")
    folder = os.path.join(base, "covenant-ledger") if base else f"/tmp/covenant-ledger-{os.getuid()}"
    if create:
        os.makedirs(folder, mode=0o700, exist_ok=True)
    try:
        found = os.lstat(folder)
    except FileNotFoundError:
        return None
    import stat

    # Anyone else able to enter it could answer in the resident's place: then there is none.
    if not stat.S_ISDIR(found.st_mode) or found.st_uid != os.getuid() or found.st_mode & 0o077:
        if create:
            from ledger.errors import InvalidInputError

            raise InvalidInputError(f"{folder} is not a private directory of yours (mode 700): "
                                    "remove it or set XDG_RUNTIME_DIR")
        return None
    return folder


def ledger_identity(db: str) -> str:
    """What names a ledger: a SQLite file by its real path, a server database by its URL."""
    return db if "://" in db else os.path.realpath(db)


def shown(db: str) -> str:
    """A ledger as messages show it: a PostgreSQL URL without its password."""
    import re

    return re.sub(r"^([a-z+]+://[^:/@]*):[^@/]*@", r"\1:***@", db)


def paths(db: str, create: bool = False) -> dict[str, str] | None:
    """The socket, information and log files of the resident for ``db``."""
    folder = runtime_dir(create)
    if folder is None:
        return None
    name = hashlib.sha256(ledger_identity(db).encode("utf-8")).hexdigest()[:20] + "-" + __version__
    found = {ext: os.path.join(folder, f"{name}.{ext}") for ext in ("sock", "json", "log")}
    if len(os.fsencode(found["sock"])) > MAX_SOCKET_PATH:
        if create:
            from ledger.errors import InvalidInputError

            raise InvalidInputError(f"{folder} is too deep for a Unix socket ({MAX_SOCKET_PATH} bytes at most): "
                                    "set XDG_RUNTIME_DIR to a shorter folder")
        return None
    return found


def read_info(found: dict[str, str]) -> dict[str, Any] | None:
    try:
        with open(found["json"], encoding="utf-8") as handle:
            info = json.load(handle)
    except (OSError, ValueError):
        return None
    return info if isinstance(info, dict) else None


def alive(info: dict[str, Any]) -> bool:
    """Whether the process the information names is still a resident (not a reused pid)."""
    pid = info.get("pid")
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return False  # someone else's process now has that number
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            return b"server.resident" in handle.read()
    except OSError:
        return True  # no /proc here: the signal test is all there is


# --- the command line's side: send a command to the resident ------------------------------


def split_globals(argv: list[str]) -> tuple[str, list[str]] | None:
    """The ledger (``--db``, LEDGER_DB, ./ledger.db) and the command's words; None when the
    global options are not simple enough to be sure of them (then the command runs here)."""
    db = os.environ.get("LEDGER_DB") or "ledger.db"
    i = 0
    while i < len(argv):
        word = argv[i]
        if word == "--db" and i + 1 < len(argv):
            db, i = argv[i + 1], i + 2
        elif word.startswith("--db="):
            db, i = word.split("=", 1)[1], i + 1
        elif word == "--verbose":
            i += 1
        elif word.startswith("-"):
            return None  # --version, --help, anything unexpected: the full CLI answers
        else:
            return db, argv[i:]
    return None


# Options that make a command read or write files of its own, open sealed content, or
# name another ledger: such a command runs here.
LOCAL_OPTIONS = {"--db", "--identity", "--out", "--log-key", "--state", "--bundle"}


def run_main(argv: list[str]) -> int | None:
    """The entry point's hook: the exit code when a resident ran the command, else None."""
    if os.environ.get("LEDGER_NO_RESIDENT"):
        return None
    split = split_globals(argv)
    if split is None:
        return None
    db, rest = split
    found = paths(db)
    if found is None or not os.path.exists(found["sock"]):
        return None
    info = read_info(found)
    # A resident signs checkpoints with the log key it was started with; a command
    # given another one (LEDGER_LOG_KEY) runs here, as it would without a resident.
    wanted_log_key = os.environ.get("LEDGER_LOG_KEY") or None
    if info is None or (info.get("log_key") or None) != (os.path.realpath(wanted_log_key) if wanted_log_key
                                                          else None):
        return None
    if any(word.split("=", 1)[0] in LOCAL_OPTIONS for word in rest):
        return None
    from cli import remote

    kind = remote.handles(rest)
    if kind not in ("read", "write"):
        return None
    if kind == "write" and not remote.take_key(rest)[1]:
        return None  # the local CLI says how to give a key
    address = "unix:" + found["sock"]
    try:
        return remote.main(address, rest, kind, fallback=True)
    except remote.Unreachable:
        return None  # it went away (stopped, idle): nothing was written, run the command here


# --- the commands ------------------------------------------------------------------------


@click.group("resident")
def resident() -> None:
    """Keep this ledger open in a background process, so commands start instantly.

    \b
    Example:
      ledger resident start          # then every query and act on ./ledger.db is fast
      ledger motion vote M-3 yes --key me.key
      ledger resident stop
    """


def _db() -> str:
    from cli.common import settings

    return settings().db or "ledger.db"


@resident.command("start")
@click.option("--idle", default=30.0, show_default=True, type=click.FloatRange(0.05, 7 * 24 * 60),
              metavar="MINUTES", help="Stop after this many minutes without a command.")
@click.option("--log-key", "log_key_path", envvar="LEDGER_LOG_KEY", metavar="FILE", default=None,
              help="The keeper's log key: sign a checkpoint after every write, as LEDGER_LOG_KEY does.")
def start(idle: float, log_key_path: str | None) -> None:
    """Start the resident process of this ledger (nothing happens if one runs)."""
    import subprocess
    import time

    from ledger.errors import InvalidInputError, LedgerError

    db = _db()
    if "://" not in db and not os.path.isfile(db):
        raise InvalidInputError(f"{shown(db)} holds no ledger: create one first ('ledger init' or 'ledger demo')")
    if log_key_path and not os.path.isfile(log_key_path):
        raise InvalidInputError(f"no log key at {log_key_path}")
    found = paths(db, create=True)
    assert found is not None
    info = read_info(found)
    if info is not None and alive(info) and os.path.exists(found["sock"]):
        click.echo(f"a resident already serves {shown(db)} (pid {info['pid']})")
        return
    # The ledger goes in the environment, not the arguments: other users can read a
    # process's arguments, and a PostgreSQL URL may carry a password.
    command = [sys.executable, "-m", "server.resident", "--socket", found["sock"],
               "--info", found["json"], "--idle", str(round(idle * 60, 3))]
    if log_key_path:
        command += ["--log-key", os.path.realpath(log_key_path)]
    env = {k: v for k, v in os.environ.items() if k not in ("LEDGER_KEY", "LEDGER_KEY_PASSPHRASE")}
    env["LEDGER_DB"] = ledger_identity(db)
    with open(found["log"], "ab") as log:
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=env,
                                   cwd=os.path.dirname(found["sock"]), start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise LedgerError(f"the resident stopped at once: {_last_line(found['log'])}")
        info = read_info(found)
        if info is not None and info.get("pid") == process.pid and info.get("ready"):
            click.echo(f"resident started for {shown(db)} (pid {process.pid}); queries and acts on it now run "
                       f"through it; it stops after {_minutes(idle * 60)} unused or with 'ledger resident stop'")
            return
        time.sleep(0.05)
    process.terminate()
    raise LedgerError("the resident did not start within 60 s; see " + found["log"])


def _last_line(path: str) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            lines = [line.strip() for line in handle if line.strip()]
    except OSError:
        return "no log"
    return lines[-1][:300] if lines else "no message"


@resident.command("stop")
def stop() -> None:
    """Stop the resident process of this ledger (commands then run in their own process)."""
    import signal
    import time

    db = _db()
    found = paths(db)
    info = read_info(found) if found else None
    if found is None or info is None or not alive(info):
        click.echo(f"no resident serves {shown(db)}")
        return
    os.kill(info["pid"], signal.SIGTERM)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and alive(info):
        time.sleep(0.05)
    if alive(info):
        from ledger.errors import LedgerError

        raise LedgerError(f"the resident (pid {info['pid']}) did not stop within 20 s")
    click.echo(f"resident of {shown(db)} stopped")


def _minutes(seconds: float) -> str:
    minutes = seconds / 60
    return f"{minutes:g} minute" + ("" if minutes == 1 else "s")


def ask(socket_path: str) -> dict[str, Any] | None:
    """What the resident listening at ``socket_path`` says about itself; None if nobody answers."""
    import http.client

    from cli.remote import unix_connection

    connection = unix_connection(socket_path, 5.0)
    try:
        connection.request("GET", "/resident")
        response = connection.getresponse()
        answer = json.loads(response.read()) if response.status == 200 else None
    except (OSError, ValueError, http.client.HTTPException):
        return None
    finally:
        connection.close()
    return answer if isinstance(answer, dict) else None


@resident.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def status(as_json: bool) -> None:
    """Whether a resident serves this ledger: since when, how many requests, where its socket is."""
    db = _db()
    found = paths(db)
    about = ask(found["sock"]) if found and os.path.exists(found["sock"]) else None
    answer = {"ledger": shown(ledger_identity(db)), "running": about is not None,
              "pid": about.get("pid") if about else None, "started": about.get("started") if about else None,
              "idle_minutes": about["idle"] / 60 if about else None,
              "requests_served": about.get("served") if about else None,
              "log_key": about.get("log_key") if about else None,
              "socket": found["sock"] if found and about else None}
    if as_json:
        click.echo(json.dumps(answer, indent=2))
    elif about:
        click.echo(f"a resident serves {shown(db)}: pid {answer['pid']}, since {answer['started']}, "
                   f"{answer['requests_served']} requests served, stops after {_minutes(about['idle'])} unused "
                   f"(socket {answer['socket']})")
    else:
        click.echo(f"no resident serves {shown(db)}")
