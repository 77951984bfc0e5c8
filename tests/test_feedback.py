"""Confidential feedback: sealed on write, never in clear outside the sealed store,
opened by the channel's recipients (with Debian's age too), followed up with the
receipt code alone, erasable while history still verifies."""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.main import cli
from ledger import commands as c
from ledger.domain.base import RuleError
from ledger.domain.covenant import Covenant
from ledger.domain.feedback import Feedback
from ledger.sealed import write_identity
from projections.describe import load
from tests.test_domain_rules import Partnership, found, refused

MARKER = "MARKER-7f3c9a I fear reprisal from my landlord"
REPLY = "REPLY-41d2 Your landlord will not learn of this; the committee will hear it on 3 December."


@pytest.fixture
def p(tmp_path: Path) -> Partnership:
    """The demo, with a second covenant naming a channel whose recipient is the ombudsperson."""
    from ledger.demo import CURRENT_TERMS, REPRESENTS

    partnership = Partnership(tmp_path / "demo")
    led, k, h = partnership.ledger, partnership.keys, partnership.holder
    recipient = write_identity(tmp_path / "demo" / "ruth.age")
    led.register_recipient(k["ombudsperson"], h["ombudsperson"], recipient)
    terms = dict(CURRENT_TERMS, channels={"community-voices": {
        "recipients": [h["ombudsperson"]], "intake": [h["secretariat"]], "acknowledge_days": 7,
        "feedback_days": 90}})
    ref = c.draft_covenant(led, k["secretariat"], "Riverside Voices Covenant", terms)
    for stem, party in REPRESENTS.items():
        c.accede(led, k[stem], ref, party)
    assert ref == "C-2"
    return partnership


def run(p: Partnership, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["--db", str(p.path), *args], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def submit(p: Partnership, text: str = MARKER) -> tuple[str, str]:
    code, out, _ = run(p, "feedback", "submit", "--covenant", "C-2", "--channel", "community-voices",
                       "--text", text, "--key", str(p.path.parent / "keys" / "secretariat.key"))
    assert code == 0, out
    ref = out.split()[1].rstrip(",")
    receipt = out.split("receipt code: ")[1].strip()
    return ref, receipt


def every_byte_outside_the_sealed_store(p: Partnership, tmp_path: Path) -> list[tuple[str, bytes]]:
    keys = str(p.path.parent / "keys")
    assert run(p, "export", "--bundle", str(tmp_path / "b.jsonl"), "--log-key", f"{keys}/log.key")[0] == 0
    assert run(p, "publish", str(tmp_path / "site"), "--log-key", f"{keys}/log.key")[0] == 0
    out = [("bundle", (tmp_path / "b.jsonl").read_bytes())]
    out += [(str(f), f.read_bytes()) for f in (tmp_path / "site").rglob("*") if f.is_file()]
    for fmt in ("popolo", "360giving", "csv-motions", "csv-votes", "csv-allocations", "csv-funds", "csv-meetings",
                "csv-milestones", "csv-disputes", "audit-jsonl"):
        out.append((fmt, run(p, "export", "--format", fmt)[1].encode()))
    for args in (["log", "--limit", "1000", "--json"], ["audit", "--json", "--limit", "1000"],
                 ["feedback", "list", "--json"], ["show", str(p.ledger.size() - 1)]):
        out.append((" ".join(args), run(p, *args)[1].encode()))
    for db_file in p.path.parent.glob("ledger.db*"):  # the file, its WAL and shared memory
        out.append((str(db_file), db_file.read_bytes()))
    return out


def test_the_marker_never_appears_outside_the_sealed_store(p: Partnership, tmp_path: Path) -> None:
    ref, _receipt = submit(p)
    item = load(p.ledger, Feedback, ref)
    assert set(item.content) == {"sealed"}
    for name, data in every_byte_outside_the_sealed_store(p, tmp_path):
        assert MARKER.encode() not in data and b"MARKER-7f3c9a" not in data, name
    # The channel's recipient opens it.
    code, out, _ = run(p, "feedback", "read", ref, "--identity", str(p.path.parent / "ruth.age"))
    assert code == 0 and MARKER in out


def test_debian_age_decrypts_a_kept_sealed_file(p: Partnership, tmp_path: Path) -> None:
    if shutil.which("age") is None:
        import os

        if os.environ.get("CI"):
            pytest.fail("Debian's age is required in CI")
        pytest.skip("no age tool (apt-get install age)")
    ref, _ = submit(p)
    digest = load(p.ledger, Feedback, ref).content["sealed"]["sha256"]
    assert run(p, "sealed", "get", digest, "--out", str(tmp_path / "x.age"))[0] == 0
    done = subprocess.run(["age", "-d", "-i", str(p.path.parent / "ruth.age"), str(tmp_path / "x.age")],
                          capture_output=True, check=True)
    assert done.stdout.decode() == MARKER


def test_the_receipt_holder_follows_up_and_reads_the_reply(p: Partnership) -> None:
    ref, receipt = submit(p)
    keys = p.path.parent / "keys"
    assert run(p, "feedback", "acknowledge", ref, "--key", str(keys / "ombudsperson.key"))[0] == 0
    assert run(p, "feedback", "reply", ref, "--text", REPLY, "--key", str(keys / "ombudsperson.key"))[0] == 0
    code, out, _ = run(p, "feedback", "status", "--receipt", receipt, "--channel", "community-voices", "--json")
    assert code == 0
    body = json.loads(out)
    assert body["ref"] == ref and body["acknowledged_at"] and [r["text"] for r in body["replies"]] == [REPLY]
    # A follow-up joins the same thread, with the code alone.
    code, out, _ = run(p, "feedback", "submit", "--covenant", "C-2", "--channel", "community-voices",
                       "--text", "It happened again.", "--follow-up", receipt, "--key", str(keys / "secretariat.key"))
    assert code == 0
    assert load(p.ledger, Feedback, out.split()[1].rstrip(",")).follow_up_of == ref
    wrong = run(p, "feedback", "status", "--receipt", "00000 00000 00000 00000 00000", "--channel",
                "community-voices")
    assert (wrong[0], wrong[2]) == (1, "error: no submission to this channel has that receipt code\n")
    assert p.verify().ok


def test_deadlines_are_flagged(p: Partnership) -> None:
    ref, _ = submit(p)
    item = load(p.ledger, Feedback, ref)
    covenant = load(p.ledger, Covenant, "C-2")
    assert item.overdue(covenant, item.submitted_at() + timedelta(days=6)) == []
    assert item.overdue(covenant, item.submitted_at() + timedelta(days=8)) == ["acknowledgement"]


def test_only_the_intake_signs_a_submission(p: Partnership) -> None:
    refused(p, "only the intake of channel community-voices signs submissions to it",
            lambda: c.submit_feedback(p.ledger, p.keys["cso-air"], "C-2", "community-voices", "hello"))


def test_verify_finds_a_submission_signed_by_someone_else(p: Partnership) -> None:
    ref, _ = submit(p)
    item = load(p.ledger, Feedback, ref)
    position = p.forge_next("cso-air", "feedback", "FB-2", "feedback.submitted", {
        "ref": "FB-2", "covenant": "C-2", "channel": "community-voices", "content": item.content,
        "receipt_lookup": item.receipt_lookup, "reply_to": item.reply_to, "follow_up_of": None})
    found(p.verify(), position, "only the intake of channel community-voices signs submissions to it")


def test_a_reply_must_reach_the_receipt_holder(p: Partnership) -> None:
    from ledger import sealed

    ref, _ = submit(p)
    c.on_feedback(p.ledger, p.keys["ombudsperson"], ref, lambda ctx, f: f.acknowledge())
    recipients = p.ledger.registry().recipients_of(p.ledger.registry().resolve_person("Judge Ruth"))
    box = sealed.seal(b"only for us", recipients)
    refused(p, "a reply is sealed to the submitter's receipt too",
            lambda: c.on_feedback(p.ledger, p.keys["ombudsperson"], ref, lambda ctx, f: f.reply(box.payload()),
                                  [box]))
    position = p.forge_next("ombudsperson", "feedback", ref, "feedback.replied", {"content": box.payload()})
    found(p.verify(), position, "a reply is sealed to the submitter's receipt too")


def test_erasure_keeps_history_verifiable_and_says_who_erased(p: Partnership) -> None:
    ref, _ = submit(p)
    digest = load(p.ledger, Feedback, ref).content["sealed"]["sha256"]
    code, _, err = run(p, "sealed", "erase", digest, "--reason", "Retention period over",
                         "--key", str(p.path.parent / "keys" / "ombudsperson.key"))
    assert code == 0, err
    assert p.verify().ok
    code, _out, err = run(p, "sealed", "get", digest, "--out", str(p.path.parent / "gone.age"))
    assert code == 1
    assert err.startswith(f"error: sealed content {digest[:12]}… was erased on ")
    assert err.rstrip().endswith("by Judge Ruth Adeyemi (Independent Ombudsperson): Retention period over")
    assert "[sealed" in run(p, "feedback", "read", ref, "--identity", str(p.path.parent / "ruth.age"))[1]
    with pytest.raises(RuleError, match="already erased"):
        p.ledger.erase_sealed(p.keys["ombudsperson"], digest, "again")


def test_verify_finds_a_tampered_sealed_file(p: Partnership) -> None:
    import sqlite3

    ref, _ = submit(p)
    digest = load(p.ledger, Feedback, ref).content["sealed"]["sha256"]
    with sqlite3.connect(p.path) as conn:
        conn.execute("UPDATE ledger_sealed SET content = ? WHERE digest = ?", (b"age-encryption.org/v1 forged", digest))
    report = p.verify()
    assert [f.reason for f in report.findings] == [
        f"the sealed file {digest[:12]}… no longer matches its digest: it was altered"]


def test_the_site_counts_each_channel_and_shows_nothing_said(p: Partnership, tmp_path: Path) -> None:
    ref, _ = submit(p)
    submit(p, "A second voice.")
    keys = p.path.parent / "keys"
    assert run(p, "feedback", "acknowledge", ref, "--key", str(keys / "ombudsperson.key"))[0] == 0
    assert run(p, "feedback", "reply", ref, "--text", REPLY, "--key", str(keys / "ombudsperson.key"))[0] == 0
    assert run(p, "feedback", "close", ref, "--outcome", "referred_to_committee",
               "--key", str(keys / "ombudsperson.key"))[0] == 0
    assert run(p, "publish", str(tmp_path / "site"), "--log-key", str(keys / "log.key"))[0] == 0
    page = (tmp_path / "site" / "channels.html").read_text()
    voices = page.split("(C-2)")[1]
    for label, count in (("Received", 2), ("Acknowledged within 7 days", 1),
                         ("Answered within 90 days of acknowledgement", 1), ("Overdue now", 0),
                         ("Closed: referred to committee", 1)):
        assert f'<th scope="row">{label}</th><td class="num">{count}</td>' in voices, label
    assert "MARKER" not in page and "REPLY-41d2" not in page and "A second voice" not in page


def test_purge_erases_what_is_past_retention_and_records_it(p: Partnership, tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from ledger.demo import CURRENT_TERMS, REPRESENTS

    led, k, h = p.ledger, p.keys, p.holder
    terms = dict(CURRENT_TERMS, channels={"short-memory": {
        "recipients": [h["ombudsperson"]], "intake": [h["secretariat"]], "retention_days": 30}})
    c3 = c.draft_covenant(led, k["secretariat"], "Short Memory Covenant", terms)
    for stem, party in REPRESENTS.items():
        c.accede(led, k[stem], c3, party)
    old, _ = c.submit_feedback(led, k["secretariat"], c3, "short-memory", "Forget me in a month.")
    kept, _ = c.submit_feedback(led, k["secretariat"], "C-2", "community-voices", "Keep me.")
    later = datetime.now(UTC) + timedelta(days=31)
    erased = c.purge_sealed(led, k["secretariat"], later)
    assert erased == [load(led, Feedback, old).content["sealed"]["sha256"]]
    assert c.purge_sealed(led, k["secretariat"], later) == []  # nothing left to erase
    from ledger import sealed

    sealed.get(led, load(led, Feedback, kept).content["sealed"]["sha256"])  # the other channel keeps its own
    assert p.verify().ok


def test_a_fresh_ledger_process_verifies_feedback_records(p: Partnership) -> None:
    """Every record type is known to a process that imports only the package (a real `ledger verify`)."""
    import os
    import sys

    ref, _ = submit(p)
    keys = p.path.parent / "keys"
    assert run(p, "feedback", "acknowledge", ref, "--key", str(keys / "ombudsperson.key"))[0] == 0
    root = Path(__file__).resolve().parents[1]
    done = subprocess.run([sys.executable, "-m", "cli.main", "--db", str(p.path), "verify"], capture_output=True,
                          text=True, env=dict(os.environ, PYTHONPATH=str(root)), cwd=p.path.parent)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "OK" in done.stdout


def test_a_sealed_outcome_reaches_the_receipt_holder_only(p: Partnership, tmp_path: Path) -> None:
    ref, receipt = submit(p)
    keys = p.path.parent / "keys"
    assert run(p, "feedback", "acknowledge", ref, "--key", str(keys / "ombudsperson.key"))[0] == 0
    code, out, err = run(p, "feedback", "close", ref, "--sealed-text", "SEALED-OUTCOME-8 Your landlord was warned.",
                         "--key", str(keys / "ombudsperson.key"))
    assert (code, out) == (0, f"closed {ref} with a sealed outcome\n"), err
    body = json.loads(run(p, "feedback", "status", "--receipt", receipt, "--channel", "community-voices",
                          "--json")[1])
    assert body["outcome"] == "SEALED-OUTCOME-8 Your landlord was warned."
    assert run(p, "publish", str(tmp_path / "site"), "--log-key", str(keys / "log.key"))[0] == 0
    page = (tmp_path / "site" / "channels.html").read_text()
    assert "Closed: sealed" in page and "SEALED-OUTCOME" not in page


def test_the_covenant_names_who_may_erase(p: Partnership) -> None:
    from ledger.demo import CURRENT_TERMS, REPRESENTS

    led, k, h = p.ledger, p.keys, p.holder
    terms = dict(CURRENT_TERMS, erasers=[h["ombudsperson"]], channels={"strict": {
        "recipients": [h["ombudsperson"]], "intake": [h["secretariat"]],
        "statistics": ["received"]}})
    c3 = c.draft_covenant(led, k["secretariat"], "Strict Covenant", terms)
    for stem, party in REPRESENTS.items():
        c.accede(led, k[stem], c3, party)
    ref, _ = c.submit_feedback(led, k["secretariat"], c3, "strict", "Only Ruth may erase me.")
    digest = load(led, Feedback, ref).content["sealed"]["sha256"]
    refused(p, f"covenant {c3} names who may erase sealed content, and not this signer",
            lambda: led.erase_sealed(k["secretariat"], digest, "tidying up", c3))
    position = p.forge_next("secretariat", "sealed", digest, "sealed.erased", {
        "ref": digest, "erased_by": p.person("secretariat"), "reason": "tidying up", "covenant": c3})
    found(p.verify(), position, f"covenant {c3} names who may erase sealed content, and not this signer")


def test_the_covenant_chooses_the_statistics_published(p: Partnership, tmp_path: Path) -> None:
    from ledger.demo import CURRENT_TERMS, REPRESENTS

    led, k, h = p.ledger, p.keys, p.holder
    terms = dict(CURRENT_TERMS, channels={"counted": {
        "recipients": [h["ombudsperson"]], "intake": [h["secretariat"]], "statistics": ["received"]}})
    c3 = c.draft_covenant(led, k["secretariat"], "Counted Covenant", terms)
    for stem, party in REPRESENTS.items():
        c.accede(led, k[stem], c3, party)
    c.submit_feedback(led, k["secretariat"], c3, "counted", "Count me.")
    assert run(p, "publish", str(tmp_path / "site"), "--log-key", str(p.path.parent / "keys" / "log.key"))[0] == 0
    section = (tmp_path / "site" / "channels.html").read_text().split(f"({c3})")[1]
    assert '<th scope="row">Received</th><td class="num">1</td>' in section and "Overdue now" not in section


def test_only_a_channel_recipient_acknowledges(p: Partnership) -> None:
    ref, _ = submit(p)
    refused(p, "only a recipient of channel community-voices may do this",
            lambda: c.on_feedback(p.ledger, p.keys["secretariat"], ref, lambda ctx, f: f.acknowledge()))
    position = p.forge_next("secretariat", "feedback", ref, "feedback.acknowledged", {})
    found(p.verify(), position, "only a recipient of channel community-voices may do this")


def test_a_person_registers_their_own_age_recipient(p: Partnership) -> None:
    from ledger.domain.identity import registry_id
    from tests.test_people import _forge_registry

    recipient = write_identity(p.path.parent / "amara.age")
    refused(p, "a person registers their own age recipient, or the secretariat does",
            lambda: p.ledger.register_recipient(p.keys["party"], p.holder["cso-air"], recipient))
    p.ledger.register_recipient(p.keys["cso-air"], p.holder["cso-air"], recipient)  # her own: accepted
    other = write_identity(p.path.parent / "mallory.age")
    position = _forge_registry(p, "party", "key.recipient_registered",
                               {"person": p.person("cso-air"), "recipient": other}, registry_id(p.ledger.origin))
    found(p.verify(), position, "a person registers their own age recipient, or the secretariat does")
