"""`ledger resident`: a ledger kept open in a background process, as a secretariat uses it:
real `ledger` processes, a real resident on a Unix socket in a private directory.

The resident must change how fast a command starts and nothing else: the same output,
errors and exit codes as the command run in its own process, the key read only by
the command, and whatever it cannot run (or when it has gone) run in the command's
own process."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.main import cli
from ledger import Ledger
from tests.serving import LEDGER


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("resident") / "demo"
    assert CliRunner().invoke(cli, ["demo", "--dir", str(directory)], catch_exceptions=False).exit_code == 0
    return directory


@pytest.fixture
def keeper(demo_dir: Path, tmp_path: Path) -> Iterator[tuple[Path, dict[str, str]]]:
    """A copy of the demo and an environment whose residents live in a private folder of this test."""
    folder = tmp_path / "keeper"
    shutil.copytree(demo_dir, folder)
    # Unix sockets' paths are short: the runtime folder is not under pytest's deep tmp_path.
    runtime = Path(tempfile.mkdtemp(prefix="lr-", dir="/tmp"))
    env = {"XDG_RUNTIME_DIR": str(runtime), "LEDGER_NO_RESIDENT": ""}
    env_all = {k: v for k, v in os.environ.items() if k not in ("LEDGER_LOG_KEY", "LEDGER_KEY", "LEDGER_DB")}
    yield folder, {**env_all, **env}
    for info in (runtime / "covenant-ledger").glob("*.json") if (runtime / "covenant-ledger").exists() else ():
        with contextlib.suppress(OSError, ValueError, KeyError):
            os.kill(json.loads(info.read_text())["pid"], signal.SIGKILL)
    shutil.rmtree(runtime, ignore_errors=True)


def run(folder: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([LEDGER, *args], cwd=folder, capture_output=True, text=True, timeout=120, env=env)


def local(folder: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return run(folder, {**env, "LEDGER_NO_RESIDENT": "1"}, *args)


def served(folder: Path, env: dict[str, str]) -> int:
    status = json.loads(run(folder, env, "resident", "status", "--json").stdout)
    assert status["running"], status
    return int(status["requests_served"])


def start(folder: Path, env: dict[str, str], *extra: str) -> None:
    started = run(folder, env, "resident", "start", *extra)
    assert started.returncode == 0, started.stderr
    assert started.stdout.startswith("resident started for "), started.stdout


QUERIES = [
    ("motion", "list"), ("motion", "show", "M-1"), ("motion", "show", "M-1", "--json"),
    ("committee", "show", "K-1"), ("audit", "--limit", "5"), ("log", "--limit", "3", "--json"),
    ("covenant", "show", "--as-of", "10"), ("motion", "show", "M-404"), ("motion", "frobnicate"),
    ("fund", "show", "F-1", "--json"),
]


def test_queries_answer_exactly_as_in_their_own_process(keeper) -> None:  # type: ignore[no-untyped-def]
    folder, env = keeper
    expected = [local(folder, env, *query) for query in QUERIES]
    start(folder, env)
    before = served(folder, env)
    for query, want in zip(QUERIES, expected, strict=True):
        got = run(folder, env, *query)
        assert (got.returncode, got.stdout, got.stderr) == (want.returncode, want.stdout, want.stderr), query
    # Every query the resident can answer went to it (the unknown command is click's to report).
    assert served(folder, env) - before == len(QUERIES) - 1


def test_acts_are_signed_here_and_recorded_there(keeper) -> None:  # type: ignore[no-untyped-def]
    folder, env = keeper
    start(folder, env)
    before = served(folder, env)
    done = run(folder, env, "meeting", "schedule", "--committee", "K-1", "--at", "2035-05-01T18:00:00Z",
               "--key", "keys/secretariat.key")
    assert (done.returncode, done.stdout, done.stderr) == (0, "scheduled MT-6\n", "")
    assert served(folder, env) - before >= 2  # prepared and submitted there
    # A refusal reads as it does locally, and writes nothing.
    size = Ledger(str(folder / "ledger.db")).size()
    refused = run(folder, env, "motion", "vote", "M-1", "yes", "--key", "keys/cso-air.key")
    alone = local(folder, env, "motion", "vote", "M-1", "yes", "--key", "keys/cso-air.key")
    assert refused.returncode == alone.returncode == 1
    assert refused.stderr == alone.stderr and refused.stderr.startswith("error: ")
    ledger = Ledger(str(folder / "ledger.db"))
    assert ledger.size() == size
    ledger.close()
    # What a command says on its standard error comes through too.
    note = run(folder, env, "feedback", "submit", "--channel", "community-voices", "--text", "A sealed word.",
               "--key", "keys/secretariat.key")
    assert note.returncode == 0 and "receipt code: " in note.stdout
    assert "keep the receipt code" in note.stderr
    verified = local(folder, env, "verify")
    assert verified.returncode == 0 and "OK" in verified.stdout, verified.stdout + verified.stderr


def test_it_sees_what_other_processes_write(keeper) -> None:  # type: ignore[no-untyped-def]
    folder, env = keeper
    start(folder, env)
    assert "MT-6" not in run(folder, env, "meeting", "list").stdout
    assert local(folder, env, "meeting", "schedule", "--committee", "K-1", "--at", "2035-05-02T18:00:00Z",
                 "--key", "keys/secretariat.key").returncode == 0
    assert "MT-6" in run(folder, env, "meeting", "list").stdout
    again = run(folder, env, "meeting", "schedule", "--committee", "K-1", "--at", "2035-05-03T18:00:00Z",
                "--key", "keys/secretariat.key")
    assert again.stdout == "scheduled MT-7\n", again.stderr


def test_what_it_cannot_run_runs_here(keeper) -> None:  # type: ignore[no-untyped-def]
    folder, env = keeper
    start(folder, env)
    before = served(folder, env)
    # Bundles, verification, sealed content, another log key, no key: all run here.
    out = run(folder, env, "dispute", "list", "--json")
    assert out.returncode == 0
    assert served(folder, env) == before + 1
    for args, extra in ((("export", "--bundle", "bundle.jsonl"), {}), (("verify",), {}),
                        (("meeting", "schedule", "--committee", "K-1", "--at", "2035-05-04T18:00:00Z",
                          "--key", "keys/secretariat.key"), {"LEDGER_LOG_KEY": str(folder / "keys" / "log.key")})):
        done = run(folder, {**env, **extra}, *args)
        assert done.returncode == 0, (args, done.stderr)
    assert local(folder, env, "feedback", "submit", "--channel", "community-voices", "--text", "Sealed.",
                 "--key", "keys/secretariat.key").returncode == 0
    opened = run(folder, env, "feedback", "read", "FB-1", "--identity", "keys/ombudsperson.age")
    assert opened.returncode == 0 and "Sealed." in opened.stdout, opened.stderr
    assert served(folder, env) == before + 1  # none of them went to the resident
    assert (folder / "bundle.jsonl").exists()
    no_key = run(folder, env, "motion", "second", "M-1")
    assert no_key.returncode == 2 and "--key" in no_key.stderr


def test_a_resident_that_died_leaves_commands_working(keeper) -> None:  # type: ignore[no-untyped-def]
    folder, env = keeper
    start(folder, env)
    status = json.loads(run(folder, env, "resident", "status", "--json").stdout)
    os.kill(status["pid"], signal.SIGKILL)
    time.sleep(0.2)
    assert Path(status["socket"]).exists()  # a stale socket, as a crash leaves it
    want = local(folder, env, "motion", "list")
    got = run(folder, env, "motion", "list")
    assert (got.returncode, got.stdout, got.stderr) == (0, want.stdout, "")
    wrote = run(folder, env, "meeting", "schedule", "--committee", "K-1", "--at", "2035-05-05T18:00:00Z",
                "--key", "keys/secretariat.key")
    assert wrote.stdout == "scheduled MT-6\n", wrote.stderr
    assert run(folder, env, "resident", "status").stdout == "no resident serves ledger.db\n"
    start(folder, env)  # and a new one starts in its place
    assert served(folder, env) == 0


def test_it_stops_when_unused_when_told_and_when_its_ledger_is_replaced(keeper) -> None:  # type: ignore[no-untyped-def]
    folder, env = keeper
    start(folder, env, "--idle", "0.05")  # three seconds
    assert run(folder, env, "resident", "start").stdout.startswith("a resident already serves ledger.db")
    deadline = time.monotonic() + 30
    while run(folder, env, "resident", "status").stdout != "no resident serves ledger.db\n":
        assert time.monotonic() < deadline, "the resident did not stop when unused"
        time.sleep(0.5)
    start(folder, env)
    stopped = run(folder, env, "resident", "stop")
    assert stopped.stdout == "resident of ledger.db stopped\n"
    assert run(folder, env, "resident", "stop").stdout == "no resident serves ledger.db\n"
    assert not list((Path(env["XDG_RUNTIME_DIR"]) / "covenant-ledger").glob("*.sock"))
    start(folder, env)
    (folder / "ledger.db").rename(folder / "moved.db")
    shutil.copy(folder / "moved.db", folder / "ledger.db")  # another file at the same path
    deadline = time.monotonic() + 30
    while run(folder, env, "resident", "status").stdout != "no resident serves ledger.db\n":
        assert time.monotonic() < deadline, "the resident kept serving a ledger no longer at its path"
        time.sleep(0.3)


def test_refuses_a_folder_others_can_enter(keeper, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    folder, env = keeper
    shared = Path(env["XDG_RUNTIME_DIR"]) / "shared"
    (shared / "covenant-ledger").mkdir(parents=True)
    os.chmod(shared / "covenant-ledger", 0o755)
    env = {**env, "XDG_RUNTIME_DIR": str(shared)}
    refused = run(folder, env, "resident", "start")
    assert refused.returncode == 1
    assert refused.stderr == (f"error: {shared}/covenant-ledger is not a private directory of yours (mode 700): "
                              "remove it or set XDG_RUNTIME_DIR\n")
    assert run(folder, env, "motion", "list").returncode == 0  # commands run here
    missing = run(folder, env, "--db", "nowhere.db", "resident", "start")
    assert (missing.returncode, missing.stderr) == (
        1, "error: nowhere.db holds no ledger: create one first ('ledger init' or 'ledger demo')\n")
    assert not (folder / "nowhere.db").exists()



@pytest.mark.postgres
def test_a_resident_serves_a_postgres_ledger(pg_server: str, tmp_path: Path) -> None:
    from tests.conftest import reset_pg

    reset_pg(pg_server)
    url = pg_server.replace("postgresql+psycopg", "postgresql")
    runtime = Path(tempfile.mkdtemp(prefix="lr-", dir="/tmp"))
    env = {**{k: v for k, v in os.environ.items() if k not in ("LEDGER_LOG_KEY", "LEDGER_KEY")},
           "XDG_RUNTIME_DIR": str(runtime), "LEDGER_DB": url, "LEDGER_NO_RESIDENT": ""}
    try:
        for step in (["keys", "new", "secretariat"], ["keys", "new", "amara"],
                     ["init", "--origin", "ledger.example.org/pg", "--name", "PG partnership", "--key",
                      "secretariat.key"]):
            assert run(tmp_path, env, *step).returncode == 0, step
        start(tmp_path, env)
        before = served(tmp_path, env)
        registered = run(tmp_path, env, "keys", "register", "amara.pub", "--holder", "Amara Okafor (Clean Air Now)",
                         "--role", "member", "--key", "secretariat.key")
        assert registered.returncode == 0, registered.stderr
        want = local(tmp_path, env, "keys", "list")
        got = run(tmp_path, env, "keys", "list")
        assert (got.returncode, got.stdout) == (0, want.stdout) and "Amara Okafor" in got.stdout
        assert served(tmp_path, env) - before >= 3
        assert local(tmp_path, env, "verify").returncode == 0
        assert run(tmp_path, env, "resident", "stop").returncode == 0
    finally:
        info = next((runtime / "covenant-ledger").glob("*.json"), None) if (runtime / "covenant-ledger").exists() \
            else None
        if info is not None:
            with contextlib.suppress(OSError, ValueError, KeyError):
                os.kill(json.loads(info.read_text())["pid"], signal.SIGKILL)
        shutil.rmtree(runtime, ignore_errors=True)
