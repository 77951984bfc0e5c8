"""Read models: incremental equals rebuilt, crashes leave them consistent, --as-of equals truncation."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.main import cli
from ledger import Ledger, Signer
from ledger import commands as c
from ledger.demo import PEOPLE, found_partnership
from projections import views
from tests.helpers import contents, drop_guards, snapshot


def test_incremental_views_equal_a_rebuild(db_url: str, open_ledgers: list[Ledger]) -> None:
    ledger = Ledger(db_url, create=True)
    open_ledgers.append(ledger)
    views.attach(ledger)  # kept current by every command, one transaction each
    signers = {stem: Signer.generate() for stem, _, _ in PEOPLE}
    found_partnership(ledger, signers, Signer.generate(), lambda _t: None)
    assert {k: v for k, v in views.status(ledger).items() if k != "views"} == {
            "position": ledger.size() - 1, "log_size": ledger.size()}
    incremental = views.digest(ledger)
    assert views.rebuild(ledger) == ledger.size()
    assert views.digest(ledger) == incremental


def test_the_views_say_what_the_records_say(tmp_path: Path) -> None:
    ledger = Ledger(str(tmp_path / "l.db"), create=True)
    views.attach(ledger)
    found_partnership(ledger, {stem: Signer.generate() for stem, _, _ in PEOPLE}, Signer.generate(),
                      lambda _t: None)
    from sqlalchemy import select

    with ledger.recorder.transaction(commit=False) as session:
        motion = session.execute(select(views.motions).where(views.motions.c.ref == "M-3")).mappings().one()
        fund = session.execute(select(views.funds).where(views.funds.c.ref == "F-1")).mappings().one()
        m3_votes = session.execute(select(views.votes).where(views.votes.c.motion == "M-3")).mappings().all()
        parties = {r["party"]: (r["pledged"], r["received"], r["matching_owed"]) for r in session.execute(
            select(views.fund_parties)).mappings()}
        allocation = session.execute(select(views.allocations)).mappings().one()
    assert (motion["result"], motion["yes"], motion["no"], motion["dissents"]) == ("fail", 2, 2, 1)
    assert [v["on_behalf"] for v in m3_votes].count(True) == 1
    assert (fund["received"], fund["allocated"], fund["disbursed"], fund["balance"], fund["matching_owed"]) == (
        "55000.00", "40000.00", "25000.00", "15000.00", "15000.00")
    assert parties["civic-renewal"] == ("50000.00", "40000.00", "15000.00")
    assert parties["tenants-union"] == ("5000.00", "5000.00", "0")
    assert (allocation["allocation"], allocation["decision"], allocation["amount"], allocation["disbursed"]) == (
        "F-1/A-1", "M-2", "40000.00", "25000.00")
    ledger.close()


def test_a_crash_between_view_and_tracking_writes_leaves_everything_consistent(tmp_path: Path) -> None:
    ledger = Ledger(str(tmp_path / "l.db"), create=True)
    views.attach(ledger)
    signers = {stem: Signer.generate() for stem, _, _ in PEOPLE}
    found_partnership(ledger, signers, Signer.generate(), lambda _t: None)
    before, digest = snapshot(ledger), views.digest(ledger)

    original = views.Updater.finish

    def crash(self: views.Updater, last: int) -> None:
        raise OSError("power cut after the view rows, before the tracking row")

    views.Updater.finish = crash  # type: ignore[method-assign]
    try:
        with pytest.raises(OSError, match="power cut"):
            c.attach_dissent(ledger, signers["party"], "M-1", "Lost in the crash.")
    finally:
        views.Updater.finish = original  # type: ignore[method-assign]
    assert snapshot(ledger) == before  # the records were rolled back with the views
    assert views.digest(ledger) == digest
    assert views.status(ledger)["position"] == ledger.size() - 1
    c.attach_dissent(ledger, signers["party"], "M-1", "After the restart.")
    assert views.status(ledger)["position"] == ledger.size() - 1
    ledger.close()


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("asof") / "demo"
    result = CliRunner().invoke(cli, ["demo", "--dir", str(directory)], catch_exceptions=False)
    assert result.exit_code == 0
    return directory


def audit_json(db: Path, *args: str) -> list[dict[str, object]]:
    result = CliRunner().invoke(cli, ["--db", str(db), "audit", "--limit", "1000", "--json", *args],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    records: list[dict[str, object]] = json.loads(result.stdout)["records"]
    return records


@pytest.mark.parametrize("position", [0, 7, 40, 77])
def test_as_of_equals_the_ledger_truncated_at_that_position(demo: Path, tmp_path: Path, position: int) -> None:
    truncated = tmp_path / "truncated.db"
    shutil.copy(demo / "ledger.db", truncated)
    drop_guards(truncated)
    with sqlite3.connect(truncated) as conn:
        nid = conn.execute("SELECT notification_id FROM ledger_log WHERE position = ?", (position,)).fetchone()[0]
        conn.execute("DELETE FROM ledger_events WHERE id > ?", (nid,))
        conn.execute("DELETE FROM ledger_log WHERE position > ?", (position,))
    as_of = audit_json(demo / "ledger.db", "--as-of", str(position))
    assert as_of == audit_json(truncated)
    assert as_of[-1]["position"] == position
    by_hash = audit_json(demo / "ledger.db", "--as-of", str(as_of[-1]["event_hash"]))
    assert by_hash == as_of


def test_as_of_a_time_and_filters(demo: Path) -> None:
    everything = audit_json(demo / "ledger.db")
    moment = str(everything[50]["at"])
    assert audit_json(demo / "ledger.db", "--as-of", moment)[-1]["at"] <= moment
    votes = audit_json(demo / "ledger.db", "--type", "motion.vote_cast", "--ref", "M-3")
    assert len(votes) == 4
    assert all("on M-3" in str(v["summary"]) for v in votes)
    bad = CliRunner().invoke(cli, ["--db", str(demo / "ledger.db"), "audit", "--as-of", "yesterday-ish"])
    assert bad.exit_code == 1
    assert bad.stderr == "error: --as-of 'yesterday-ish' is not a position, an event hash or a time\n"


def run_json(db: Path, *args: str) -> object:
    result = CliRunner().invoke(cli, ["--db", str(db), *args, "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.parametrize("position", [55, 70, 100])  # M-2 (the newest object queried) exists from ~45
@pytest.mark.parametrize("command", [["motion", "list"], ["motion", "show", "M-2"], ["fund", "show", "F-1"],
                                     ["covenant", "show", "C-1"], ["committee", "show", "K-1"]])
def test_every_query_as_of_equals_the_truncated_ledger(demo: Path, tmp_path: Path, position: int,
                                                      command: list[str]) -> None:
    truncated = tmp_path / "truncated.db"
    shutil.copy(demo / "ledger.db", truncated)
    drop_guards(truncated)
    with sqlite3.connect(truncated) as conn:
        nid = conn.execute("SELECT notification_id FROM ledger_log WHERE position = ?", (position,)).fetchone()[0]
        conn.execute("DELETE FROM ledger_events WHERE id > ?", (nid,))
        conn.execute("DELETE FROM ledger_log WHERE position > ?", (position,))
    expected = run_json(truncated, *command)
    # Deadlines are judged against "today": the record's time with --as-of, the
    # real clock on the truncated copy (the demo's records carry 2026's times).
    dated = ("next_review", "overdue_reviews", "expired_since")
    assert _without(run_json(demo / "ledger.db", *command, "--as-of", str(position)), dated) == \
        _without(expected, dated)


def _without(value: object, keys: tuple[str, ...]) -> object:
    return {k: v for k, v in value.items() if k not in keys} if isinstance(value, dict) else value


def test_read_only_commands_write_nothing(tmp_path: Path) -> None:
    from ledger.demo import build_demo

    ledger, _ = build_demo(tmp_path / "demo", echo=lambda _t: None)  # the library: no views
    ledger.close()
    db = tmp_path / "demo" / "ledger.db"
    before = contents(db)
    for args in (["verify"], ["show", "3"], ["motion", "list"], ["audit", "--limit", "3"], ["projections", "status"],
                 ["checkpoint", "--show"]):
        result = CliRunner().invoke(cli, ["--db", str(db), *args], catch_exceptions=False)
        assert result.exit_code == 0, (args, result.stderr)
    assert contents(db) == before
    with sqlite3.connect(db) as conn:
        assert not conn.execute("SELECT name FROM sqlite_master WHERE name LIKE 'view_%'").fetchall()
    digest = CliRunner().invoke(cli, ["--db", str(db), "projections", "digest"])
    assert digest.exit_code == 1
    assert digest.stderr == "error: this ledger has no views yet: run 'ledger projections rebuild'\n"
