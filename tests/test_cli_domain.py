"""The governance CLI groups and ``ledger apply``, on the demo partnership."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from cli.main import cli
from ledger.demo import build_demo
from tests.helpers import contents

SEC = "Dana Reyes (Partnership Secretariat)"
SAM, AMARA, MEI = "Sam Whitfield (Civic Renewal Party)", "Amara Okafor (Clean Air Now)", "Mei Lin (Cycle Forward)"


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("demo")
    build_demo(directory, echo=lambda _t: None)[0].close()
    return directory


@pytest.fixture
def demo(demo_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private copy of the demo ledger and keys, as the working directory."""
    import shutil

    shutil.copytree(demo_dir, tmp_path / "d")
    monkeypatch.chdir(tmp_path / "d")
    monkeypatch.delenv("LEDGER_KEY", raising=False)
    return tmp_path / "d"


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, ["--db", "ledger.db", *args], catch_exceptions=False)


def test_motion_list_json_shape(demo: Path) -> None:
    body = json.loads(run("motion", "list", "--json").stdout)
    assert [(m["ref"], m["class"], m["result"]) for m in body["motions"]] == [
        ("M-1", "ordinary", "pass"), ("M-2", "funding", "pass"), ("M-3", "ordinary", "fail"),
        ("M-4", "amendment", "pass"), ("M-5", "minutes", "pass"), ("M-6", "ordinary", "fail")]
    assert set(body["motions"][0]) == {"ref", "meeting", "committee", "item", "class", "status", "result",
                                       "decided_at", "text"}
    passed = json.loads(run("motion", "list", "--result", "pass", "--class", "ordinary", "--json").stdout)
    assert [m["ref"] for m in passed["motions"]] == ["M-1"]
    assert len(json.loads(run("motion", "list", "--committee", "K-1", "--since", "2000-01-01",
                              "--json").stdout)["motions"]) == 6
    assert json.loads(run("motion", "list", "--until", "2000-01-01", "--json").stdout)["motions"] == []


def test_covenant_show_versions_and_diff(demo: Path) -> None:
    now = json.loads(run("covenant", "show", "C-1", "--json").stdout)
    first = json.loads(run("covenant", "show", "C-1", "--version", "1", "--json").stdout)
    assert (now["status"], now["clause_version"], first["clause_version"]) == ("in_force", 2, 1)
    assert "6" in now["clauses"] and "6" not in first["clauses"]
    diff = json.loads(run("covenant", "diff", "C-1", "1", "2", "--json").stdout)
    assert [(c["clause"], c["change"]) for c in diff["changes"]] == [("3", "replaced"), ("6", "inserted")]
    bad = run("covenant", "show", "C-1", "--version", "3")
    assert bad.exit_code == 2
    assert "C-1 has versions 1 to 2" in bad.stderr


def test_a_full_vote_through_the_cli(demo: Path) -> None:
    # MT-4: scheduled by the demo with its agenda, and started.
    assert run("meeting", "attend", "MT-4", "--member", SAM, "--member", AMARA, "--member", MEI,
               "--key", "keys/secretariat.key").stdout == "recorded 3 present at MT-4\n"
    assert run("motion", "propose", "--meeting", "MT-4", "--item", "1", "--text", "Enforce bus lanes.",
               "--key", "keys/cso-air.key").stdout == "proposed M-7\n"
    assert run("motion", "second", "M-7", "--key", "keys/cso-cycle.key").stdout == "seconded M-7\n"
    assert run("motion", "open", "m-7", "--key", "keys/secretariat.key").stdout == "M-7 is open for votes\n"
    assert run("motion", "vote", "M-7", "yes", "--key", "keys/cso-air.key").stdout == "voted yes on M-7\n"
    assert run("motion", "vote", "M-7", "no", "--member", SAM, "--key", "keys/secretariat.key").exit_code == 0
    closed = run("motion", "close", "M-7", "--key", "keys/secretariat.key")
    assert closed.stdout == "M-7: fail (1 yes of 2 cast: more than 1/2 was not reached)\n"
    shown = json.loads(run("motion", "show", "M-7", "--json").stdout)
    assert shown["tally"] == {"seated": 5, "present": 3, "yes": 1, "no": 1, "abstain": 0}
    assert run("verify").exit_code == 0


def test_a_refused_domain_command_is_one_line_and_writes_nothing(demo: Path) -> None:
    before = contents(demo / "ledger.db")
    result = run("fund", "disburse", "F-1", "--allocation", "F-1/A-1", "--amount", "99999.00",
                 "--evidence", "ab" * 32, "--key", "keys/secretariat.key")
    assert result.exit_code == 1
    assert result.stderr == ("error: allocation F-1/A-1 has 40000.00 EUR allocated and 25000.00 disbursed; "
                             "99999.00 more would exceed it\n")
    assert contents(demo / "ledger.db") == before


def test_money_as_a_float_in_a_terms_file_is_refused(demo: Path) -> None:
    (demo / "terms.json").write_text(json.dumps({"parties": [], "funding": {"cap": 12.5}}))
    result = run("covenant", "draft", "terms.json", "--title", "X", "--key", "keys/secretariat.key")
    assert result.exit_code == 1
    assert result.stderr == "error: 12.5 is a float; write amounts and fractions as strings\n"


def test_lists_have_json(demo: Path) -> None:
    milestones = json.loads(run("milestone", "list", "--json").stdout)["milestones"]
    assert [m["ref"] for m in milestones] == ["MS-1", "MS-2"]
    assert all(m["status"] in ("met", "on track", "at risk", "missed") for m in milestones)
    disputes = json.loads(run("dispute", "list", "--json").stdout)["disputes"]
    assert [(d["ref"], d["stage"]) for d in disputes] == [("D-1", "closed")]
    fund = json.loads(run("fund", "show", "F-1", "--json").stdout)
    assert (fund["balance"], fund["currency"]) == ("15000.00", "EUR")


MEETING = """\
# The fourth meeting (scheduled by the demo, agenda published, started)
meeting attend MT-4 --member "{sam}" --member "{amara}" --member "{mei}"
motion propose --meeting MT-4 --item 1 --text "Enforce bus lanes." --key keys/cso-air.key
motion second @motion --key keys/cso-cycle.key
motion open @motion
motion vote @motion yes --member "{amara}"
motion vote @motion yes --member "{mei}"
motion vote @motion {sam_vote} --member "{sam}"
motion close @motion
"""


def test_apply_records_a_whole_meeting_in_one_transaction(demo: Path) -> None:
    (demo / "m.ledger").write_text(MEETING.format(sam=SAM, amara=AMARA, mei=MEI, sam_vote="no"))
    result = run("apply", "m.ledger", "--key", "keys/secretariat.key")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "applied 8 entries from m.ledger in one transaction\n"
    assert json.loads(run("motion", "show", "M-7", "--json").stdout)["result"] == "pass"
    assert run("verify").exit_code == 0


@pytest.mark.parametrize(
    ("mutate", "line", "message"),
    [
        (lambda text: text.replace("{sam_vote}", "maybe"), 8, "'maybe' is not one of 'yes', 'no', 'abstain'"),
        (lambda text: text.replace('--member "{mei}"\n', '--member "Tomas Berg (External Auditor)"\n', 1), 2,
         "holds no seat on K-1"),
        (lambda text: text.replace("motion second @motion --key keys/cso-cycle.key\n", ""), 4,
         "the ordinary class needs a seconder"),
        (lambda text: text + "verify\n", 10, "only writing commands may be applied"),
    ],
)
def test_apply_is_all_or_nothing_and_names_the_refused_line(demo: Path, mutate, line: int, message: str) -> None:  # type: ignore[no-untyped-def]
    text = mutate(MEETING).format(sam=SAM, amara=AMARA, mei=MEI, sam_vote="no")
    (demo / "m.ledger").write_text(text)
    before = contents(demo / "ledger.db")
    result = run("apply", "m.ledger", "--key", "keys/secretariat.key")
    assert result.exit_code == 1
    assert re.fullmatch(rf"error: m\.ledger, line {line}: .*{re.escape(message)}.*\n", result.stderr), result.stderr
    assert contents(demo / "ledger.db") == before


def test_apply_dry_run_writes_nothing(demo: Path) -> None:
    (demo / "m.ledger").write_text(MEETING.format(sam=SAM, amara=AMARA, mei=MEI, sam_vote="abstain"))
    before = contents(demo / "ledger.db")
    result = run("apply", "m.ledger", "--key", "keys/secretariat.key", "--dry-run")
    assert result.stdout == "checked 8 entries from m.ledger; nothing written (--dry-run)\n"
    assert contents(demo / "ledger.db") == before


def test_audit_filters_by_organisation_and_stream(demo: Path) -> None:
    mine = json.loads(run("audit", "--organisation", "cycle-forward", "--limit", "500", "--json").stdout)["records"]
    assert mine and {r["holder"] for r in mine} == {MEI}
    one = mine[0]["stream"]
    assert {r["stream"] for r in json.loads(run("audit", "--stream", one, "--json").stdout)["records"]} == {one}
    missing = run("audit", "--organisation", "nobody")
    assert missing.exit_code == 1
    assert missing.stderr == "error: no covenant names a party 'nobody'\n"


def test_covenant_reviews_and_committee_composition(demo: Path) -> None:
    from datetime import UTC, datetime

    today = datetime.now(UTC).date().isoformat()
    scheduled = ["2026-06-30", "2027-06-30", "2028-06-30"]  # the demo records none of them as held
    covenant = json.loads(run("covenant", "show", "C-1", "--json").stdout)
    assert covenant["overdue_reviews"] == [d for d in scheduled if d < today]
    assert covenant["next_review"] == min((d for d in scheduled if d >= today), default=None)
    # A review held late settles the earliest outstanding point.
    assert run("covenant", "review", "C-1", "--date", "2026-07-02", "--notes", "First review, held late.",
               "--key", "keys/secretariat.key").exit_code == 0
    after = json.loads(run("covenant", "show", "C-1", "--json").stdout)
    assert after["overdue_reviews"] == [d for d in scheduled[1:] if d < today]
    committee = json.loads(run("committee", "show", "K-1", "--json").stdout)
    assert committee["composition"] == "meets the covenant's composition rules"
    assert committee["current_chair"] == "urban-health"  # MT-5, the latest scheduled, is the fifth in rotation


def test_a_grievance_cites_records_by_stream_and_seq_or_by_hash(demo: Path) -> None:
    from ledger import Ledger

    ledger = Ledger("ledger.db")
    record = ledger.record_at(30)
    other = ledger.record_at(40)
    ledger.close()
    result = run("dispute", "file", "--covenant", "C-1", "--complainant", "A resident", "--complainant-kind", "public",
                 "--contests", f"{record.stream}:{record.seq}", "--contests", other.event_hash,
                 "--grounds", "Not what was agreed.", "--key", "keys/secretariat.key")
    assert (result.exit_code, result.stdout, result.stderr) == (0, "filed D-2\n", "")
    shown = json.loads(run("dispute", "show", "D-2", "--json").stdout)
    assert shown["contested"] == [record.event_hash, other.event_hash]  # recorded as hashes either way


@pytest.mark.parametrize("citation, message", [
    ("9cb11e1a-0305-575f-a34b-c74c6834a5d1:99", "error: stream 9cb11e1a-0305-575f-a34b-c74c6834a5d1 has no record "
                                                "with seq 99\n"),
    ("not-a-stream:3", "error: 'not-a-stream' is not a stream id (a UUID)\n"),
    ("9cb11e1a-0305-575f-a34b-c74c6834a5d1:0", "error: '9cb11e1a-0305-575f-a34b-c74c6834a5d1:0' is not STREAM:SEQ "
                                               "(seq counts from 1)\n"),
])
def test_a_citation_that_names_no_record_is_refused_and_writes_nothing(demo: Path, citation: str,
                                                                       message: str) -> None:
    before = contents(demo / "ledger.db")
    result = run("dispute", "file", "--covenant", "C-1", "--complainant", "A resident", "--complainant-kind", "public",
                 "--contests", citation, "--grounds", "Not what was agreed.", "--key", "keys/secretariat.key")
    assert (result.exit_code, result.stdout, result.stderr) == (1, "", message)
    assert contents(demo / "ledger.db") == before
