"""Signature checks in worker processes that read the records themselves.

The verifier gives chunks of rows to workers, which read them from the
database on their own connection; these tests tamper with real databases
(SQLite files and the PostgreSQL server) and check that the workers' verdicts
name the exact record, on each backend, through the real ``ledger`` program,
and that a worker which read other bytes than the verifier is not believed.
"""

from __future__ import annotations

import base64
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from ledger import Ledger, Signer
from ledger.database import EVENTS_TABLE, database_url
from ledger.demo import PEOPLE, found_partnership
from ledger.sigcheck import SignatureWorkers, start_signature_workers
from ledger.verify import Report, verify_ledger
from tests.helpers import drop_guards

ROOT = Path(__file__).resolve().parents[1]


def _flip_signature(raw: bytes) -> bytes:
    """The same record with a different (still canonical base64) signature."""
    cut = raw.rindex(b',"sig":"') + len(b',"sig":"')
    signature = bytearray(base64.b64decode(raw[cut:cut + 88]))
    signature[0] ^= 1
    return raw[:cut] + base64.b64encode(bytes(signature)) + raw[cut + 88:]


def _tamper(url: str, row_id: int) -> None:
    """Replace one stored record's signature with plain SQL, as the database's owner could."""
    if "://" not in url:
        import sqlite3

        drop_guards(Path(url))
        with sqlite3.connect(url) as conn:
            (raw,) = conn.execute("SELECT state FROM ledger_events WHERE id = ?", (row_id,)).fetchone()
            conn.execute("UPDATE ledger_events SET state = ? WHERE id = ?", (_flip_signature(raw), row_id))
        return
    import psycopg

    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        conn.execute("ALTER TABLE ledger_events DISABLE TRIGGER ledger_events_append_only")
        (raw,) = conn.execute("SELECT state FROM ledger_events WHERE id = %s", (row_id,)).fetchone()
        conn.execute("UPDATE ledger_events SET state = %s WHERE id = %s", (_flip_signature(bytes(raw)), row_id))
        conn.execute("ALTER TABLE ledger_events ENABLE TRIGGER ledger_events_append_only")


def _partnership(url: str, open_ledgers: list[Ledger]) -> Ledger:
    ledger = Ledger(url, create=True)
    open_ledgers.append(ledger)
    found_partnership(ledger, {stem: Signer.generate() for stem, _, _ in PEOPLE}, Signer.generate(), lambda _: None)
    return ledger


def _row_id(ledger: Ledger, position: int) -> int:
    found = ledger.notification_id(position)
    assert found is not None
    return found


def _signature_findings(report: Report) -> list[tuple[int, str]]:
    return [(f.position, f.reason) for f in report.findings if "signature" in f.reason]


def test_workers_name_a_forged_signature_on_each_backend(db_url: str, open_ledgers: list[Ledger]) -> None:
    ledger = _partnership(db_url, open_ledgers)
    assert verify_ledger(ledger, workers=2).ok
    record = ledger.record_at(40)
    _tamper(db_url, _row_id(ledger, 40))
    workers = start_signature_workers(ledger.url, EVENTS_TABLE, 2)
    assert workers is not None  # two cores asked for: one worker, whatever the size
    with_workers = verify_ledger(ledger, signatures=workers)
    inline = verify_ledger(ledger, workers=1)
    assert _signature_findings(with_workers) == [(40, f"signature does not verify with key {record.actor[:12]}")]
    assert [f.line() for f in with_workers.findings] == [f.line() for f in inline.findings]


def test_a_worker_that_read_other_bytes_is_not_believed(tmp_path: Path, open_ledgers: list[Ledger]) -> None:
    # The workers read a good copy; the verifier reads a tampered one.  Their
    # digests differ, so the verifier checks those signatures itself.
    good, bad = tmp_path / "good.db", tmp_path / "bad.db"
    ledger = _partnership(str(good), open_ledgers)
    row_id = _row_id(ledger, 30)
    ledger.close()
    shutil.copy(good, bad)
    _tamper(str(bad), row_id)
    workers = SignatureWorkers.start(database_url(str(good)), EVENTS_TABLE, cores=2, minimum=0)
    assert workers is not None
    tampered = Ledger(str(bad))
    open_ledgers.append(tampered)
    report = verify_ledger(tampered, signatures=workers)
    assert [position for position, _ in _signature_findings(report)] == [30]


def _bench_ledger(path: Path, commands: int) -> list[Any]:
    from benchmarks.bench_write import ledger_commands

    signer = Signer.generate()
    ledger = Ledger(str(path), create=True)
    ledger.init(origin="bench.example/verify", name="Bench", founder=signer, holder="Bench",
                roles=["secretariat"], log_public=Signer.generate().public_bytes)
    ledger_commands(ledger, signer, commands, 10)
    chosen = ledger.record_at(4321), _row_id(ledger, 4321)  # the first record of a stream (10 per command)
    ledger.close()
    return list(chosen)


def test_the_ledger_program_names_a_forged_signature_found_by_its_workers(tmp_path: Path) -> None:
    # Big enough (> 5,000 records) for `ledger verify` to start its workers
    # before it opens the ledger; run as a real process.
    db = tmp_path / "big.db"
    record, row_id = _bench_ledger(db, 600)
    _tamper(str(db), row_id)
    program = "import benchmarks.bench_write; from cli.main import main; main()"  # knows the bench record types
    done = subprocess.run([sys.executable, "-c", program, "--db", str(db), "verify"], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 1, done.stderr
    # The changed bytes also change the record's hash: the next record of its
    # stream no longer links to it, and the derived tables disagree (the
    # dropped guards are findings too).
    about_records = [line for line in done.stdout.splitlines() if "(database)" not in line]
    assert about_records == [
        f"4321 {record.stream} 1 bench.opened: signature does not verify with key {record.actor[:12]}",
        f"4322 {record.stream} 2 bench.noted: prev does not match the event hash of seq 1",
    ]
    assert "4321 - - (database): ledger_log position 4321 holds an event hash that is not its record's: the log " \
           "table and the records disagree (one of them was changed outside the ledger)" in done.stdout
    assert done.stderr.strip().splitlines()[-1].endswith(" findings in 6001 records: FAILED")


def test_small_ledgers_are_checked_without_workers(tmp_path: Path, open_ledgers: list[Ledger]) -> None:
    ledger = _partnership(str(tmp_path / "small.db"), open_ledgers)
    assert start_signature_workers(ledger.url, EVENTS_TABLE) is None  # 128 records: not worth a process
    assert start_signature_workers(database_url(str(tmp_path / "missing.db")), EVENTS_TABLE, 2) is None
    assert not (tmp_path / "missing.db").exists()  # and looking did not create it




def test_a_worker_that_fails_leaves_its_chunks_to_the_verifier(tmp_path: Path, open_ledgers: list[Ledger]) -> None:
    # Workers pointed at a database that is not there fail every chunk; the
    # verifier checks those signatures itself and still names the forgery.
    ledger = _partnership(str(tmp_path / "ledger.db"), open_ledgers)
    _tamper(ledger.url[len("sqlite:///"):], _row_id(ledger, 40))
    workers = SignatureWorkers((database_url(str(tmp_path / "elsewhere.db")), EVENTS_TABLE, 10_000), 1)
    report = verify_ledger(ledger, signatures=workers)
    assert [position for position, _ in _signature_findings(report)] == [40]
    assert not (tmp_path / "elsewhere.db").exists()


def test_verify_with_most_state_spilled_to_disk_finds_the_same(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """With room for only a few objects in memory, the replay spills the rest to its
    temporary file and reads them back: the verdicts are the same."""
    from ledger import spill
    from ledger.demo import build_demo

    monkeypatch.setattr(spill, "SPILL_BATCH", 2)  # written to the file at once, read back from it
    from ledger.replay import RuleReplayer
    from ledger.verify import verify_ledger

    ledger, _paths = build_demo(tmp_path / "demo", echo=lambda _t: None)
    try:
        tight = RuleReplayer(capacity=3)
        report = verify_ledger(ledger, rules=tight)
        assert report.ok, [f.line() for f in report.findings]
        assert tight.aggregates.spilled > 50  # most objects went to disk and came back
        assert tight.aggregates._db is None  # the temporary file is gone
    finally:
        ledger.close()


def test_verify_with_chain_heads_and_digests_spilled_finds_the_same(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Chain heads and cited digests spilled to disk (room for one of each in memory):
    a record whose prev was changed by the keeper, in a stream whose head is on disk,
    is found exactly as with everything in memory, and grievances' citations of
    earlier records still resolve."""
    import sqlite3

    from ledger import spill
    from ledger import verify as verify_module
    from ledger.demo import build_demo
    from ledger.replay import RuleReplayer

    monkeypatch.setattr(spill, "SPILL_BATCH", 2)
    ledger, _paths = build_demo(tmp_path / "demo", echo=lambda _t: None)
    try:
        def both() -> tuple[dict[str, object], dict[str, object]]:
            roomy = verify_ledger(ledger, rules=RuleReplayer()).to_json()
            monkeypatch.setattr(verify_module, "STREAM_CAPACITY", 1)
            tight_rules = RuleReplayer(capacity=1, digest_capacity=1)
            tight = verify_ledger(ledger, rules=tight_rules).to_json()
            monkeypatch.setattr(verify_module, "STREAM_CAPACITY", 20_000)
            assert tight_rules.digests.spilled > 100
            return ({k: v for k, v in roomy.items() if k != "seconds"},
                    {k: v for k, v in tight.items() if k != "seconds"})

        roomy, tight = both()
        assert roomy["ok"] and roomy == tight
        # The keeper points a late record of an early stream at another predecessor.
        position = next(p for p in range(ledger.size() - 1, 0, -1) if ledger.record_at(p).seq > 1
                        and ledger.record_at(p).stream == ledger.record_at(3).stream)
        path = ledger.url[len("sqlite:///"):]
        drop_guards(Path(path))
        with sqlite3.connect(path) as conn:
            row = _row_id(ledger, position)
            (raw,) = conn.execute("SELECT state FROM ledger_events WHERE id = ?", (row,)).fetchone()
            cut = raw.index(b'"prev":"') + len(b'"prev":"')
            forged = raw[:cut] + (b"0" if raw[cut:cut + 1] != b"0" else b"1") + raw[cut + 1:]
            conn.execute("UPDATE ledger_events SET state = ? WHERE id = ?", (forged, row))
        roomy, tight = both()
        assert not roomy["ok"] and roomy == tight
        assert any(f["position"] == position and "prev does not match" in f["reason"]
                   for f in tight["findings"])  # type: ignore[attr-defined]
    finally:
        ledger.close()
