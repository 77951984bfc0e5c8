"""Crash and concurrency loose ends from the keeper attack trial.

* `ledger apply` that loses the write lock is retried like a single command,
  then refused with the same retryable message;
* LEDGER_LOCK_TIMEOUT is the total wait (0: do not wait), on both databases;
* signature workers exit when the verifier that started them is killed;
* a failed `projections rebuild` leaves the views as they were;
* a corrupted byte in a row's topic is a finding, not a crash.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from ledger import Ledger, Signer
from ledger.application import CONFLICT_MESSAGE
from ledger.demo import PEOPLE, found_partnership
from tests.test_readme_tour import ledger_program

ROOT = Path(__file__).resolve().parents[1]

MEETING = """meeting schedule --committee K-1 --at 2035-03-01T18:00:00Z
meeting agenda @meeting --item "Bus lanes"
"""


def _demo(url: str, keys: Path) -> None:
    from ledger import write_key_pair

    signers = {stem: Signer.generate() for stem, _, _ in PEOPLE}
    keys.mkdir(parents=True, exist_ok=True)
    write_key_pair(signers["secretariat"], keys / "secretariat")
    ledger = Ledger(url, create=True)
    found_partnership(ledger, signers, Signer.generate(), lambda _t: None)
    ledger.close()


@contextmanager
def write_lock_held(url: str, seconds: float) -> Iterator[None]:
    """Another writer holding the ledger's write lock for up to ``seconds`` (plain
    SQL); it lets go when the block ends."""
    ready, release = threading.Event(), threading.Event()

    def hold() -> None:
        if "://" not in url:
            conn = sqlite3.connect(url, isolation_level=None)
            conn.execute("BEGIN IMMEDIATE")
            ready.set()
            release.wait(seconds)
            conn.execute("ROLLBACK")
            conn.close()
            return
        import psycopg

        with psycopg.connect(url.replace("postgresql+psycopg", "postgresql")) as conn:
            conn.execute("LOCK TABLE ledger_events IN EXCLUSIVE MODE")
            ready.set()
            release.wait(seconds)
            conn.rollback()

    thread = threading.Thread(target=hold)
    thread.start()
    assert ready.wait(30)
    try:
        yield
    finally:
        release.set()
        thread.join()


def _apply(url: str, folder: Path, timeout: str) -> tuple[subprocess.CompletedProcess[str], float]:
    (folder / "m.ledger").write_text(MEETING, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "LEDGER_LOCK_TIMEOUT": timeout}
    started = time.monotonic()
    result = subprocess.run([*ledger_program(), "--db", url, "apply", "m.ledger", "--key",
                             str(folder / "keys" / "secretariat.key")], capture_output=True, text=True, cwd=folder,
                            env=env, timeout=120)
    return result, time.monotonic() - started


def test_apply_waits_for_another_writer_then_applies(db_url: str, tmp_path: Path) -> None:
    _demo(db_url, tmp_path / "keys")
    with write_lock_held(db_url, 1.5):
        result, _ = _apply(db_url, tmp_path, "30")
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout == "applied 2 entries from m.ledger in one transaction\n"


@pytest.mark.parametrize("timeout", ["0", "2"])
def test_apply_losing_the_lock_is_one_retryable_line_within_the_timeout(db_url: str, tmp_path: Path,
                                                                         timeout: str) -> None:
    _demo(db_url, tmp_path / "keys")
    held = 25.0
    with write_lock_held(db_url, held):
        result, took = _apply(db_url, tmp_path, timeout)
        assert took < held  # it gave up while the lock was still held: it did not wait forever
    assert (result.returncode, result.stderr) == (1, f"error: {CONFLICT_MESSAGE}\n")
    # The timeout is the total wait (five retries of a 2 s wait would be 10 s and more).
    assert took < float(timeout) + 6
    ledger = Ledger(db_url)
    try:
        assert ledger.size() == 128  # nothing was written
    finally:
        ledger.close()


def test_a_single_command_with_no_wait_refuses_at_once_on_postgres_too(db_url: str, tmp_path: Path) -> None:
    _demo(db_url, tmp_path / "keys")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "LEDGER_LOCK_TIMEOUT": "0"}
    with write_lock_held(db_url, 25.0):
        started = time.monotonic()
        result = subprocess.run([*ledger_program(), "--db", db_url, "meeting", "schedule", "--committee", "K-1",
                                 "--at", "2027-03-01T18:00:00Z", "--key", str(tmp_path / "keys" / "secretariat.key")],
                                capture_output=True, text=True, env=env, timeout=120)
        assert time.monotonic() - started < 20  # PostgreSQL's lock_timeout=0 would have waited for the lock
    assert (result.returncode, result.stderr) == (1, f"error: {CONFLICT_MESSAGE}\n")


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc").is_dir() or (os.cpu_count() or 1) < 2, reason="needs /proc and two cores")
def test_signature_workers_exit_when_the_verifier_is_killed(tmp_path: Path) -> None:
    from tests.test_verify_workers import _bench_ledger

    db = tmp_path / "big.db"
    _bench_ledger(db, 1200)  # 12,000 records: verify starts workers
    program = "import benchmarks.bench_write; from cli.main import main; main()"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "LEDGER_STATE_DIR": str(tmp_path / "state")}
    verifier = subprocess.Popen([sys.executable, "-c", program, "--db", str(db), "verify"], cwd=ROOT, env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    children: list[int] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(children) < 2:  # a worker and the resource tracker
        time.sleep(0.05)
        children = _children(verifier.pid)
        if verifier.poll() is not None:
            pytest.fail("verify finished before its workers could be seen; make the ledger bigger")
    assert children, "no worker process started"
    os.kill(verifier.pid, signal.SIGKILL)
    verifier.wait()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and any(_alive(pid) for pid in children):
        time.sleep(0.1)
    assert not [pid for pid in children if _alive(pid)], "workers outlived the killed verifier"


def test_a_failed_rebuild_leaves_the_views_as_they_were(db_url: str, tmp_path: Path) -> None:
    from projections import views

    _demo(db_url, tmp_path / "keys")
    ledger = Ledger(db_url)
    try:
        views.rebuild(ledger)
        before = views.status(ledger), views.digest(ledger)

        def interrupted(_count: int) -> None:
            raise KeyboardInterrupt  # as Ctrl-C (or a kill) in the middle of a rebuild

        with pytest.raises(KeyboardInterrupt):
            views.rebuild(ledger, progress=interrupted)
        assert (views.status(ledger), views.digest(ledger)) == before
    finally:
        ledger.close()


def test_a_corrupted_topic_byte_is_a_finding_naming_the_record(tmp_path: Path) -> None:
    db = tmp_path / "l.db"
    _demo(str(db), tmp_path / "keys")
    with sqlite3.connect(db) as conn:
        for op in ("update", "delete"):
            conn.execute(f"DROP TRIGGER ledger_events_no_{op}")
        conn.execute("UPDATE ledger_events SET topic = CAST(X'6B65792EFF72656769737465726564' AS TEXT) WHERE id = 3")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run([*ledger_program(), "--db", str(db), "verify"], capture_output=True, text=True, env=env,
                            timeout=120)
    assert result.returncode == 1
    assert "internal error" not in result.stderr
    assert any(line.startswith("2 ") and "stored row" in line and "does not match the record" in line
               for line in result.stdout.splitlines()), result.stdout
