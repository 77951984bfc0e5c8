"""The audit trail answers from the indexed view plus the records the view has not
caught up with, and gives exactly what a full scan of the records gives."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.main import cli
from ledger import Ledger, load_signer
from ledger import commands as c
from projections.audit import Filters, every_row, latest


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("audit") / "demo"
    assert CliRunner().invoke(cli, ["demo", "--dir", str(directory)], catch_exceptions=False).exit_code == 0
    return directory


def scan(ledger: Ledger, filters: Filters, end: int, limit: int) -> list[dict[str, object]]:
    return [row for row in every_row(ledger, end) if filters.keep(row)][-limit:]


CASES = [Filters(), Filters(record_type="motion."), Filters(record_type="motion.vote_cast"),
         Filters(holder="okafor"), Filters(role="secretariat"), Filters(ref="M-3"),
         Filters(since="2026-05-01T00:00:00.000000Z", until="2026-07-01T00:00:00.000000Z"),
         Filters(record_type="key.", role="secretariat")]


def check_all(ledger: Ledger) -> None:
    end = ledger.size() - 1
    for filters in CASES:
        for limit in (1, 7, 1000):
            for upto in (end, end - 30, 40):
                assert latest(ledger, filters, upto, limit) == scan(ledger, filters, upto, limit), (filters, limit)


def test_the_audit_trail_is_the_same_from_records_from_views_and_from_both(demo_dir: Path, tmp_path: Path) -> None:
    shutil.copytree(demo_dir, tmp_path / "demo")
    db = tmp_path / "demo" / "ledger.db"
    ledger = Ledger(str(db))
    try:
        check_all(ledger)  # no views yet: computed from the records
    finally:
        ledger.close()
    assert CliRunner().invoke(cli, ["--db", str(db), "projections", "rebuild"]).exit_code == 0
    ledger = Ledger(str(db))
    try:
        check_all(ledger)  # all from the view
        # Records written without the CLI's hooks: the view falls behind, and the tail is computed.
        secretariat = load_signer(tmp_path / "demo" / "keys" / "secretariat.key")
        c.schedule_meeting(ledger, secretariat, "K-1", datetime(2035, 3, 1, 18, tzinfo=UTC))
        c.publish_agenda(ledger, secretariat, "MT-6", [{"title": "Review of the pilot"}])
        check_all(ledger)
    finally:
        ledger.close()


def test_audit_on_the_command_line_uses_the_same_rows(demo_dir: Path, tmp_path: Path) -> None:
    import json

    shutil.copytree(demo_dir, tmp_path / "demo")
    db = str(tmp_path / "demo" / "ledger.db")
    before = json.loads(CliRunner().invoke(cli, ["--db", db, "audit", "--ref", "M-3", "--json"]).stdout)["records"]
    assert CliRunner().invoke(cli, ["--db", db, "projections", "rebuild"]).exit_code == 0
    after = json.loads(CliRunner().invoke(cli, ["--db", db, "audit", "--ref", "M-3", "--json"]).stdout)["records"]
    assert before == after and {r["ref"] for r in after} == {"M-3"}
    party = json.loads(CliRunner().invoke(cli, ["--db", db, "audit", "--organisation", "tenants-union", "--json"])
                       .stdout)["records"]
    # Every key Luis Moreno has held counts for his organisation (his key was rotated).
    assert party and {r["holder"] for r in party} == {"Luis Moreno (Tenants' Union)"}
    from cli.projections import _representatives

    ledger = Ledger(db)
    try:
        assert len(_representatives(ledger, "tenants-union")) == 2
    finally:
        ledger.close()


def test_an_edited_audit_view_is_caught_and_the_records_answer(demo_dir: Path, tmp_path: Path) -> None:
    import json
    import sqlite3

    shutil.copytree(demo_dir, tmp_path / "demo")
    db = str(tmp_path / "demo" / "ledger.db")
    assert CliRunner().invoke(cli, ["--db", db, "projections", "rebuild"]).exit_code == 0
    honest = CliRunner().invoke(cli, ["--db", db, "audit", "--json", "--limit", "5"])
    with sqlite3.connect(db) as conn:  # a keeper rewrites who signed the newest record...
        conn.execute("UPDATE view_audit SET actor = ?, holder = 'Nobody' WHERE position = "
                     "(SELECT max(position) FROM view_audit)", ("0" * 64,))
    edited = CliRunner().invoke(cli, ["--db", db, "audit", "--json", "--limit", "5"])
    assert json.loads(edited.stdout) == json.loads(honest.stdout)
    assert edited.stderr == ("note: the audit view's row 127 does not match its record: answered from the "
                             "records (run 'ledger projections rebuild')\n")
    with sqlite3.connect(db) as conn:  # ...or removes a row
        conn.execute("DELETE FROM view_audit WHERE position = 40")
    ledger = Ledger(db)
    try:
        notes: list[str] = []
        assert latest(ledger, Filters(), 115, 3, notes) == scan(ledger, Filters(), 115, 3)
        assert notes == ["rows are missing from the audit view: answered from the records (run 'ledger "
                         "projections rebuild')"]
    finally:
        ledger.close()
