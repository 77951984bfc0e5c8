"""Writing: every refusal is one clear line and leaves the database unchanged.

Runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ledger import ConflictError, Ledger, LedgerError, Signer, StoreError, UnauthorisedError
from ledger.domain.base import RuleError
from ledger.errors import InvalidInputError, NotFoundError, RefusedError
from ledger.verify import verify_ledger
from tests.conftest import People
from tests.helpers import snapshot


def refused(ledger: Ledger, error: type[LedgerError], match: str, command: Callable[[], object]) -> None:
    """Assert the command is refused with a one-line message and writes nothing."""
    before = snapshot(ledger)
    with pytest.raises(error, match=match) as caught:
        command()
    assert "\n" not in str(caught.value)
    assert snapshot(ledger) == before


def test_genesis_and_registrations_verify(db_url: str, make_ledger: Callable[[str], Ledger]) -> None:
    ledger = make_ledger(db_url)
    assert ledger.size() == 3
    genesis = ledger.record_at(0)
    assert genesis.type == "ledger.genesis"
    assert genesis.data["origin"] == ledger.origin
    assert genesis.data["log_key"].startswith(ledger.origin + "+")
    assert [k["holder"] for k in genesis.data["keys"]] == ["Founder"]
    report = verify_ledger(ledger)
    assert report.ok, [f.line() for f in report.findings]
    assert (report.records, report.streams, report.keys) == (3, 1, 3)


def test_records_chain_within_their_stream(db_url: str, make_ledger: Callable[[str], Ledger]) -> None:
    ledger = make_ledger(db_url)
    records = [r for _, r in ledger.read(0, 10)]
    assert [r.seq for r in records] == [1, 2, 3]
    assert records[0].prev is None
    assert records[1].prev == records[0].event_hash
    assert records[2].prev == records[1].event_hash
    assert ledger.position_of(records[2].event_hash) == 2


def test_a_member_may_not_register_keys(db_url: str, make_ledger: Callable[[str], Ledger], people: People) -> None:
    ledger = make_ledger(db_url)
    refused(ledger, RuleError, "only the secretariat registers keys for others",
            lambda: ledger.register_key(people.member, Signer.generate().public_b64, "X", ["member"]))


def test_an_unknown_key_is_refused(db_url: str, make_ledger: Callable[[str], Ledger]) -> None:
    ledger = make_ledger(db_url)
    stranger = Signer.generate()
    refused(ledger, UnauthorisedError, "is not registered in this ledger",
            lambda: ledger.register_key(stranger, Signer.generate().public_b64, "X", ["member"]))


def test_a_retired_key_can_no_longer_sign(db_url: str, make_ledger: Callable[[str], Ledger], people: People) -> None:
    ledger = make_ledger(db_url)
    ledger.retire_key(people.founder, people.clerk.key_id, "left the secretariat")
    refused(ledger, UnauthorisedError, "is retired and can no longer sign",
            lambda: ledger.register_key(people.clerk, Signer.generate().public_b64, "X", ["member"]))


def test_a_revoked_key_can_no_longer_sign(db_url: str, make_ledger: Callable[[str], Ledger], people: People) -> None:
    ledger = make_ledger(db_url)
    ledger.revoke_key(people.founder, people.clerk.key_id[:10], datetime(2026, 1, 1, tzinfo=UTC), "lost")
    refused(ledger, UnauthorisedError, "is revoked",
            lambda: ledger.register_key(people.clerk, Signer.generate().public_b64, "X", ["member"]))


@pytest.mark.parametrize(
    ("args", "error", "match"),
    [
        (("not base64!", "X", ["member"]), InvalidInputError, "not standard base64"),
        (("AAAA", "X", ["member"]), InvalidInputError, "32 bytes"),
        ((None, "", ["member"]), InvalidInputError, "holder must be 1 to 200"),
        ((None, "X" * 201, ["member"]), InvalidInputError, "holder must be 1 to 200"),
        ((None, "X", []), InvalidInputError, "at least one role"),
        ((None, "X", ["king"]), InvalidInputError, "unknown role 'king'"),
    ],
)
def test_bad_registration_input_is_refused(
    db_url: str, make_ledger: Callable[[str], Ledger], people: People,
    args: tuple[str | None, str, list[str]], error: type[LedgerError], match: str,
) -> None:
    ledger = make_ledger(db_url)
    public = args[0] if args[0] is not None else Signer.generate().public_b64
    refused(ledger, error, match, lambda: ledger.register_key(people.founder, public, args[1], args[2]))


def test_registering_a_key_twice_is_refused(db_url: str, make_ledger: Callable[[str], Ledger], people: People) -> None:
    ledger = make_ledger(db_url)
    refused(ledger, RefusedError, "already registered",
            lambda: ledger.register_key(people.founder, people.member.public_b64, "Again", ["member"]))


def test_the_last_secretariat_key_cannot_be_retired(
    db_url: str, make_ledger: Callable[[str], Ledger], people: People
) -> None:
    ledger = make_ledger(db_url)
    ledger.retire_key(people.founder, people.clerk.key_id)
    refused(ledger, RefusedError, "no active secretariat key",
            lambda: ledger.retire_key(people.founder, people.founder.key_id))


def test_unknown_and_ambiguous_key_ids(db_url: str, make_ledger: Callable[[str], Ledger], people: People) -> None:
    ledger = make_ledger(db_url)
    refused(ledger, NotFoundError, "not known", lambda: ledger.retire_key(people.founder, "00000000"))
    refused(ledger, InvalidInputError, "too short", lambda: ledger.retire_key(people.founder, "abc"))


def test_retiring_a_holder_retires_all_their_keys_in_one_command(
    db_url: str, make_ledger: Callable[[str], Ledger], people: People
) -> None:
    ledger = make_ledger(db_url)
    second = Signer.generate()
    ledger.register_key(people.founder, second.public_b64, "Member One", ["member"])
    size = ledger.size()
    retired = ledger.retire_holder(people.founder, "Member One", "left the partnership")
    assert {k.key_id for k in retired} == {people.member.key_id, second.key_id}
    assert ledger.size() == size + 2
    assert verify_ledger(ledger).ok


def test_a_command_that_fails_midway_writes_none_of_its_events(
    db_url: str, make_ledger: Callable[[str], Ledger], people: People
) -> None:
    # The member's registration is checked only when each event is signed:
    # the second of two events fails, so the first must not be kept either.
    ledger = make_ledger(db_url)
    a, b = Signer.generate(), Signer.generate()

    def action(ctx):  # type: ignore[no-untyped-def]
        registry = ctx.keys
        registry.register_key(a.public_b64, "A", ["member"])
        registry.register_key(b.public_b64, "B", ["member"])
        registry.trigger_event(registry.KeyRegistered, key_id="0" * 64, public_key=b.public_b64,
                               holder="float", roles=[1.5])
        return None, [registry]

    refused(ledger, InvalidInputError, "floats are not allowed", lambda: ledger.run(people.founder, action))


def test_init_twice_is_refused(db_url: str, make_ledger: Callable[[str], Ledger], people: People) -> None:
    ledger = make_ledger(db_url)
    refused(ledger, LedgerError, "already holds a ledger",
            lambda: ledger.init(origin="x.example/y", name="Y", founder=people.founder, holder="F",
                                roles=["secretariat"], log_public=people.log.public_bytes))


def test_opening_a_missing_sqlite_file_is_refused(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(StoreError, match="no ledger at"):
        Ledger(str(tmp_path / "missing.db"))
    assert not (tmp_path / "missing.db").exists()


def test_conflict_error_is_retryable_by_type() -> None:
    assert issubclass(ConflictError, LedgerError)


def test_a_ledger_whose_tree_table_is_missing_gets_it_back_on_the_next_command(
    sqlite_path: Path, make_ledger: Callable[[str], Ledger], people: People, open_ledgers: list[Ledger]
) -> None:
    # As a ledger written by a version that stored its Merkle nodes in
    # ledger_tree: the next writing command rebuilds ledger_merkle from the
    # records, in its own transaction, and proofs work again.
    import sqlite3

    from ledger import merkle
    from ledger.tlog import TransparencyLog

    ledger = make_ledger(str(sqlite_path))
    ledger.close()
    with sqlite3.connect(sqlite_path) as conn:
        conn.execute("DROP TABLE ledger_merkle")
    reopened = Ledger(str(sqlite_path))
    open_ledgers.append(reopened)
    reopened.register_key(people.founder, Signer.generate().public_b64, "Newcomer", ["member"])
    size = reopened.size()
    raws = [record.raw for _, record in reopened.read(0, size)]
    assert TransparencyLog(reopened).tree().root(size) == merkle.root_of_data(raws)
    assert verify_ledger(reopened).ok


def test_the_next_ref_is_found_by_lookups_not_by_counting(tmp_path: Path) -> None:
    from sqlalchemy import func, select

    from ledger.application import _count_refs
    from ledger.demo import build_demo
    from ledger.types import CREATED_TYPE

    ledger, _ = build_demo(tmp_path / "demo", echo=lambda _t: None)
    try:
        table = ledger.recorder.events_record_cls.__table__
        with ledger.recorder.transaction(commit=False) as session:
            for kind in ("committee", "meeting", "covenant", "dispute", "fund", "milestone", "motion"):
                counted = session.execute(select(func.count()).select_from(table)
                                          .where(table.c.topic == CREATED_TYPE[kind])).scalar()
                assert _count_refs(session, ledger.origin, kind) == counted, kind
    finally:
        ledger.close()
