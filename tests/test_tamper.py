"""Tampering with a real SQLite file: each finding must name the right record.

Each test edits the database with plain SQL after dropping the append-only
guards, as someone holding the file could, and then runs ``ledger verify``.
Damage that only a Merkle log reveals (deleting the newest records) belongs to
the transparency-log tests.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ledger import Ledger, Signer
from ledger.verify import Report, verify_ledger
from tests.conftest import ORIGIN, People
from tests.helpers import append_raw, drop_guards, forge, rows


@pytest.fixture
def tampered(sqlite_path: Path, make_ledger: Callable[[str], Ledger], people: People
             ) -> Callable[[], Report]:
    """Six records in the registry stream (positions 0..5); returns a verify function."""
    ledger = make_ledger(str(sqlite_path))  # positions 0, 1, 2
    ledger.register_key(people.clerk, Signer.generate().public_b64, "Xavier", ["member"])  # 3
    ledger.register_key(people.founder, Signer.generate().public_b64, "Yolanda", ["member"])  # 4
    ledger.register_key(people.founder, Signer.generate().public_b64, "Zeno", ["member"])  # 5
    assert verify_ledger(ledger).ok
    ledger.close()
    drop_guards(sqlite_path)

    def verify() -> Report:
        reopened = Ledger(str(sqlite_path))
        try:
            return verify_ledger(reopened)
        finally:
            reopened.close()

    return verify


def lines(report: Report) -> list[str]:
    assert not report.ok
    return [f.line() for f in sorted(report.findings, key=lambda f: f.position)]


def record_findings(report: Report) -> list[object]:
    """Findings about records (the guards these tests dropped, and derived rows, are findings too)."""
    from ledger.verify import DATABASE

    return [f for f in report.findings if f.type != DATABASE]


def named(report: Report, position: int, seq: int, needle: str) -> bool:
    return any(f.position == position and f.seq == seq and needle in f.reason for f in report.findings)


def _edit(path: Path, row_id: int, old: str, new: str) -> None:
    """Replace text inside one stored record's bytes (kept as a BLOB)."""
    _update(path, "UPDATE ledger_events SET state = CAST(replace(state, ?, ?) AS BLOB) WHERE id = ?", old, new, row_id)


def _update(path: Path, sql: str, *args: object) -> None:
    with sqlite3.connect(path) as conn:
        assert conn.execute(sql, args).rowcount >= 1


def test_editing_a_byte_of_data_is_named(sqlite_path: Path, tampered: Callable[[], Report]) -> None:
    _edit(sqlite_path, 5, "Yolanda", "Yolando")
    report = tampered()
    assert named(report, 4, 5, "signature does not verify"), lines(report)
    # The next record of the stream now points at a hash that no longer exists.
    assert named(report, 5, 6, "prev does not match the event hash of seq 5"), lines(report)


def test_signature_checks_on_worker_threads_find_the_same_records(
    sqlite_path: Path, tampered: Callable[[], Report]
) -> None:
    _edit(sqlite_path, 4, "Xavier", "Xavies")
    inline = tampered()
    reopened = Ledger(str(sqlite_path))
    try:
        threaded = verify_ledger(reopened, workers=2)
    finally:
        reopened.close()
    assert named(threaded, 3, 4, "signature does not verify"), lines(threaded)
    assert lines(threaded) == lines(inline)


def test_changing_the_type_is_named(sqlite_path: Path, tampered: Callable[[], Report]) -> None:
    _edit(sqlite_path, 4, "key.registered", "key.retired_")
    _update(sqlite_path, "UPDATE ledger_events SET topic = 'key.retired_' WHERE id = 4")
    report = tampered()
    assert named(report, 3, 4, "signature does not verify") or named(report, 3, 4, "may not write"), lines(report)
    record_findings = [f for f in report.findings if f.stream != "-"]  # "-": the stored tree disagrees too
    assert all(f.position in (3, 4) for f in record_findings), lines(report)


def test_swapping_two_records_of_one_stream_is_named(sqlite_path: Path, tampered: Callable[[], Report]) -> None:
    original = rows(sqlite_path)
    a, b = original[3], original[4]  # positions 3 and 4: seq 4 and seq 5
    with sqlite3.connect(sqlite_path) as conn:
        conn.execute("DROP INDEX ledger_events_aggregate_idx")
        conn.execute("UPDATE ledger_events SET originator_version = ?, topic = ?, state = ? WHERE id = ?",
                     (b[2], b[3], b[4], a[0]))
        conn.execute("UPDATE ledger_events SET originator_version = ?, topic = ?, state = ? WHERE id = ?",
                     (a[2], a[3], a[4], b[0]))
    report = tampered()
    assert named(report, 3, 5, "seq 5 follows seq 3: record 4 of this stream is missing"), lines(report)
    assert named(report, 4, 4, "seq 4 repeats or goes back"), lines(report)


def test_deleting_a_record_from_the_middle_of_a_stream_is_named(
    sqlite_path: Path, tampered: Callable[[], Report]
) -> None:
    _update(sqlite_path, "DELETE FROM ledger_events WHERE id = 4")  # seq 4, position 3
    report = tampered()
    # Positions count the records that are there: seq 5 now stands at position 3.
    assert named(report, 3, 5, "seq 5 follows seq 3: record 4 of this stream is missing"), lines(report)
    assert len(record_findings(report)) == 1, lines(report)


def test_an_inserted_forged_record_is_named(sqlite_path: Path, tampered: Callable[[], Report], people: People
                                            ) -> None:
    last = json.loads(rows(sqlite_path)[-1][4])
    impostor = Signer.generate()
    raw = forge(impostor, ledger=ORIGIN, stream=last["stream"], seq=7, type="key.registered",
                prev=_hash(rows(sqlite_path)[-1][4]),
                data={"key_id": impostor.key_id, "public_key": impostor.public_b64, "holder": "Mallory",
                      "roles": ["secretariat"]})
    append_raw(sqlite_path, raw)
    report = tampered()
    assert named(report, 6, 7, f"signed by key {impostor.key_id[:12]}, which is not registered"), lines(report)
    assert len(record_findings(report)) == 1, lines(report)


def test_a_forged_signature_claiming_a_real_key_is_named(
    sqlite_path: Path, tampered: Callable[[], Report], people: People
) -> None:
    last = rows(sqlite_path)[-1][4]
    impostor = Signer.generate()
    raw = forge(impostor, ledger=ORIGIN, stream=json.loads(last)["stream"], seq=7, type="key.registered",
                prev=_hash(last), data={"key_id": impostor.key_id, "public_key": impostor.public_b64,
                                        "holder": "Mallory", "roles": ["secretariat"]})
    # Claim the founder as signer: the signature cannot match the founder's key.
    obj = json.loads(raw)
    obj["actor"] = people.founder.key_id
    from tests.helpers import canonical

    append_raw(sqlite_path, canonical(obj))
    report = tampered()
    assert named(report, 6, 7, f"signature does not verify with key {people.founder.key_id[:12]}"), lines(report)


def test_a_record_re_signed_by_an_unauthorised_key_is_named(
    sqlite_path: Path, tampered: Callable[[], Report], people: People
) -> None:
    # Replace the record at position 4 with the same content, validly signed by
    # the member, who may register only keys of their own (a device), not someone else's.
    original = json.loads(rows(sqlite_path)[4][4])
    raw = forge(people.member, ledger=ORIGIN, stream=original["stream"], seq=original["seq"],
                type=original["type"], prev=original["prev"], data=original["data"], at=original["at"])
    _update(sqlite_path, "UPDATE ledger_events SET state = ? WHERE id = 5", raw)
    report = tampered()
    assert named(report, 4, 5, "only the secretariat registers keys for others"), lines(report)


def test_a_key_used_after_retirement_is_named(
    sqlite_path: Path, make_ledger: Callable[[str], Ledger], people: People
) -> None:
    ledger = make_ledger(str(sqlite_path))
    ledger.retire_key(people.founder, people.clerk.key_id, "left")  # position 3
    ledger.close()
    last = rows(sqlite_path)[-1][4]
    newcomer = Signer.generate()
    raw = forge(people.clerk, ledger=ORIGIN, stream=json.loads(last)["stream"], seq=5, type="key.registered",
                prev=_hash(last), data={"key_id": newcomer.key_id, "public_key": newcomer.public_b64,
                                        "holder": "Late", "roles": ["member"]})
    append_raw(sqlite_path, raw)
    reopened = Ledger(str(sqlite_path))
    report = verify_ledger(reopened)
    reopened.close()
    assert named(report, 4, 5, "after it was retired at position 3"), lines(report)


def test_a_revoked_key_invalidates_its_signatures_since_compromise_wherever_they_stand(
    sqlite_path: Path, make_ledger: Callable[[str], Ledger], people: People
) -> None:
    # No tampering at all: the clerk's key signs a registration, and is later
    # revoked as compromised since before that.  The earlier record fails.
    ledger = make_ledger(str(sqlite_path))
    ledger.register_key(people.clerk, Signer.generate().public_b64, "Suspicious", ["member"])  # position 3
    ledger.register_key(people.founder, Signer.generate().public_b64, "Fine", ["member"])  # position 4
    ledger.revoke_key(people.founder, people.clerk.key_id, datetime(2020, 1, 1, tzinfo=UTC), "stolen")
    report = verify_ledger(ledger)
    ledger.close()
    assert named(report, 3, 4, "revoked as compromised since 2020-01-01T00:00:00.000000Z"), lines(report)
    assert [f.position for f in report.findings] == [3], lines(report)


def test_a_record_from_another_ledger_is_named(sqlite_path: Path, tampered: Callable[[], Report],
                                               people: People) -> None:
    last = rows(sqlite_path)[-1][4]
    raw = forge(people.founder, ledger="other.example/ledger", stream=json.loads(last)["stream"], seq=7,
                type="key.retired", prev=_hash(last), data={"key_id": people.member.key_id, "reason": ""})
    append_raw(sqlite_path, raw)
    report = tampered()
    assert named(report, 6, 7, "is not this ledger's origin"), lines(report)


def test_non_canonical_bytes_are_named(sqlite_path: Path, tampered: Callable[[], Report]) -> None:
    _edit(sqlite_path, 3, '"seq":3', '"seq": 3')
    report = tampered()
    assert any(f.position == 2 and "canonical" in f.reason for f in report.findings), lines(report)


def test_a_record_stored_as_text_is_a_finding_not_a_crash(sqlite_path: Path, tampered: Callable[[], Report]
                                                          ) -> None:
    _update(sqlite_path, "UPDATE ledger_events SET state = CAST(state AS TEXT) WHERE id = 2")
    report = tampered()
    assert any(f.position == 1 and "not bytes" in f.reason for f in report.findings), lines(report)


def _hash(raw: bytes) -> str:
    import hashlib

    return hashlib.sha256(raw).hexdigest()


def test_only_revocation_records_count_as_revocations_in_the_pre_scan() -> None:
    # Revocation reaches back in time, so verification collects revocations
    # before its main pass; a record of another type carrying the same fields
    # must not invalidate anyone's signatures.
    from ledger.verify import revocations_from

    signer, victim = Signer.generate(), Signer.generate()
    fields = {"key_id": victim.key_id, "compromised_since": "2026-11-01T00:00:00.000000Z", "reason": "lost"}
    real = forge(signer, ledger=ORIGIN, stream="00000000-0000-4000-8000-000000000001", seq=1,
                 type="key.revoked", prev=None, data=fields)
    other = forge(signer, ledger=ORIGIN, stream="00000000-0000-4000-8000-000000000002", seq=1,
                  type="dispute.submission_made", prev=None,
                  data={**fields, "key_id": signer.key_id, "type": "key.revoked"})  # even naming the type
    found = revocations_from([other, real])
    assert found == {victim.key_id: datetime(2026, 11, 1, tzinfo=UTC)}
