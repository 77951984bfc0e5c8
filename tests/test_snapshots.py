"""Snapshots: a long stream starts from its latest snapshot, which must still fit
the records; a forged one misleads at most the write side, and verify (which
never reads snapshots) finds what it let through."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ledger import commands as c
from ledger import snapshots
from ledger.domain.base import stream_id
from ledger.domain.committee import Committee
from ledger.domain.funding import Fund
from tests.test_domain_rules import Partnership, found


@pytest.fixture
def p(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Partnership:
    monkeypatch.setattr(snapshots, "INTERVAL", 4)
    monkeypatch.setattr(snapshots, "MIN_VERSION", 4)
    partnership = Partnership(tmp_path / "demo")
    # A few more receipts: the fund's stream crosses a multiple of 4 and is snapshotted.
    for n in range(5):
        c.receive(partnership.ledger, partnership.keys["secretariat"], "F-1", "cycle-forward", "10.00",
                  f"{n:064x}")
    return partnership


def rows(p: Partnership) -> list[tuple[str, int]]:
    with sqlite3.connect(p.path) as conn:
        return conn.execute("SELECT stream, version FROM ledger_snapshots").fetchall()


def full_replay(p: Partnership, cls: type, ref: str) -> dict[str, object]:
    from eventsourcing.application import Repository

    plain = Repository(event_store=p.ledger.events)
    return vars(plain.get(stream_id(p.ledger.origin, cls.KIND, ref)))


def test_a_long_stream_is_snapshotted_and_loads_the_same(p: Partnership) -> None:
    fund_stream = str(stream_id(p.ledger.origin, Fund.KIND, "F-1"))
    assert fund_stream in {s for s, _ in rows(p)}
    loaded = p.ledger.repository.get(stream_id(p.ledger.origin, Fund.KIND, "F-1"))
    assert vars(loaded) == full_replay(p, Fund, "F-1")
    # Meetings scheduled on the committee: its snapshot and the records after it agree too.
    for day in (1, 2, 3, 4, 5):
        c.schedule_meeting(p.ledger, p.keys["secretariat"], "K-1", datetime.now(UTC) + timedelta(days=30 + day))
    committee = p.ledger.repository.get(stream_id(p.ledger.origin, Committee.KIND, "K-1"))
    assert vars(committee) == full_replay(p, Committee, "K-1")
    assert p.verify().ok


def test_a_snapshot_that_no_longer_fits_the_records_is_ignored(p: Partnership) -> None:
    with sqlite3.connect(p.path) as conn:
        conn.execute("UPDATE ledger_snapshots SET head_hash = ?", ("0" * 64,))
    loaded = p.ledger.repository.get(stream_id(p.ledger.origin, Fund.KIND, "F-1"))
    assert vars(loaded) == full_replay(p, Fund, "F-1")


def test_a_forged_snapshot_misleads_no_verifier(p: Partnership) -> None:
    import json

    # A keeper edits the fund's snapshot to show more money than was received...
    with sqlite3.connect(p.path) as conn:
        stream = str(stream_id(p.ledger.origin, Fund.KIND, "F-1"))
        (state,) = conn.execute("SELECT state FROM ledger_snapshots WHERE stream = ?", (stream,)).fetchone()
        body = json.loads(state)
        body["state"]["received"]["clean-air-now"] = {"$dec": "999999.00"}
        conn.execute("UPDATE ledger_snapshots SET state = ? WHERE stream = ?", (json.dumps(body).encode(), stream))
    p.ledger._forget_cached()
    # ...so the write side lets through an allocation the money does not cover; verify,
    # replaying the records themselves, finds it.
    m = _funding_decision(p, "500000.00")
    allocation = c.allocate(p.ledger, p.keys["secretariat"], "F-1", "Too much", "500000.00", m, "urban-health")
    report = p.verify()
    position = p.ledger.size() - 1
    found(report, position, "would take it below zero")
    assert allocation == "F-1/A-2"


def _funding_decision(p: Partnership, amount: str) -> str:
    from tests.test_membership import decide

    c.record_attendance(p.ledger, p.keys["secretariat"], "MT-4",
                        [p.holder[s] for s in ("party", "cso-air", "cso-tenants", "cso-cycle", "institute")])
    return decide(p, "Fund everything.", "funding", amount={"value": amount, "currency": "EUR", "fund": "F-1"})


def test_a_milestone_keeps_the_same_size_however_many_reports(p: Partnership) -> None:
    """A milestone reports for years: its object keeps its first and latest report (what
    the rules need), not every one; `milestone show` reads them from its stream."""
    import pickle

    from ledger.domain.milestone import Milestone
    from projections.describe import describe_milestone, load

    def report(n: int) -> None:
        c.report_progress(p.ledger, p.keys["secretariat"], "MS-1", str(40 + n), "2026-11-20", "ab" * 32,
                          f"Reading {n}.")

    report(0)
    small = len(pickle.dumps(load(p.ledger, Milestone, "MS-1")))
    for n in range(1, 40):
        report(n)
    milestone = load(p.ledger, Milestone, "MS-1")
    assert len(pickle.dumps(milestone)) <= small + 16  # the numbers' digits, not the reports
    shown = describe_milestone(p.ledger, milestone)
    assert [r["narrative"] for r in shown["reports"]][-3:] == ["Reading 37.", "Reading 38.", "Reading 39."]
    assert shown["reports"][-1]["value"] == "79" and milestone.latest_report["value"] == "79"
    assert vars(p.ledger.repository.get(milestone.id)) == full_replay(p, Milestone, "MS-1")  # from a snapshot
    assert p.verify().ok


def test_a_snapshot_of_an_earlier_shape_is_ignored(p: Partnership) -> None:
    import json

    with sqlite3.connect(p.path) as conn:
        taken = conn.execute("SELECT stream, state FROM ledger_snapshots").fetchall()
        assert taken
        for stream, state in taken:
            body = json.loads(state)
            body.pop("format")
            body["state"]["balance_was"] = "an attribute the objects no longer have"
            conn.execute("UPDATE ledger_snapshots SET state = ? WHERE stream = ?", (json.dumps(body), stream))
    loaded = p.ledger.repository.get(stream_id(p.ledger.origin, Fund.KIND, "F-1"))
    assert vars(loaded) == full_replay(p, Fund, "F-1")
