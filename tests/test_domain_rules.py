"""The governance rules, enforced twice: commands are refused, and verify finds
history that breaks them even when every signature is valid.

Starts from the demo partnership (ledger.demo), then opens a fourth meeting
with a live vote.  Forged records are signed with real, registered keys whose
roles allow the record type, so only the rule can catch them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from ledger import Ledger, LedgerError, Signer, load_signer
from ledger import commands as c
from ledger import record as rec
from ledger.domain.base import RuleError, stream_id
from ledger.domain.committee import Meeting
from ledger.domain.motion import Motion
from ledger.errors import InvalidInputError
from ledger.verify import Report, verify_ledger
from tests.helpers import append_raw, forge, snapshot

ORIGIN = "ledger.example.org/riverside-partnership"


class Partnership:
    def __init__(self, directory: Path) -> None:
        from ledger.demo import PEOPLE, build_demo

        self.ledger, paths = build_demo(directory, echo=lambda _text: None)
        self.path = Path(paths["db"])
        self.keys = {stem: load_signer(Path(paths["keys"]) / f"{stem}.key") for stem, _, _ in PEOPLE}
        self.holder = {stem: holder for stem, holder, _ in PEOPLE}

    def person(self, stem: str) -> str:
        """The person id of someone in the demo (their first key's id: Luis Moreno's key was rotated)."""
        return str(self.ledger.registry().keys[self.keys[stem].key_id].person)

    def head(self, kind: str, ref: str) -> tuple[str, int, str | None]:
        from eventsourcing.application import AggregateNotFoundError

        sid = stream_id(ORIGIN, kind, ref)
        try:
            aggregate = self.ledger.repository.get(sid)
        except AggregateNotFoundError:
            return str(sid), 0, None
        return str(sid), aggregate.version, aggregate.head_hash

    def forge_next(self, signer: str, kind: str, ref: str, rtype: str, data: dict[str, Any]) -> int:
        """Append a validly signed, correctly chained record; return its position."""
        stream, version, head = self.head(kind, ref)
        raw = forge(self.keys[signer], ledger=ORIGIN, stream=stream, seq=version + 1, type=rtype, prev=head,
                    data=data, at=rec.format_time(datetime.now(UTC)))
        append_raw(self.path, raw)
        return self.ledger.size() - 1

    def verify(self) -> Report:
        fresh = Ledger(str(self.path))
        try:
            return verify_ledger(fresh)
        finally:
            fresh.close()


@pytest.fixture
def p(tmp_path: Path) -> Partnership:
    """The demo, with its pending meeting MT-4 held and motion M-7 being voted on."""
    partnership = Partnership(tmp_path / "demo")
    led, k, h = partnership.ledger, partnership.keys, partnership.holder
    mt4 = "MT-4"  # scheduled by the demo, agenda "Bus lane enforcement", "Any other business"
    c.record_attendance(led, k["secretariat"], mt4, [h[s] for s in ("party", "cso-air", "cso-tenants", "cso-cycle",
                                                                     "institute")])
    c.declare_conflict(led, k["institute"], mt4, h["institute"], [1], "Advises the bus operator")
    m7 = c.propose_motion(led, k["cso-air"], mt4, 1, "ordinary", "Ask the council to enforce bus lanes.")
    c.second_motion(led, k["cso-tenants"], m7)
    c.open_vote(led, k["secretariat"], m7)
    c.cast_vote(led, k["cso-air"], m7, "yes")
    c.cast_vote(led, k["cso-tenants"], m7, "no")
    c.cast_vote(led, k["party"], m7, "no")
    assert (mt4, m7) == ("MT-4", "M-7")
    assert partnership.verify().ok
    return partnership


def refused(p: Partnership, match: str, command: Callable[[], object], error: type[LedgerError] = RuleError) -> None:
    before = snapshot(p.ledger)
    with pytest.raises(error, match=match) as caught:
        command()
    assert "\n" not in str(caught.value)
    assert snapshot(p.ledger) == before


def found(report: Report, position: int, needle: str) -> None:
    assert any(f.position == position and needle in f.reason for f in report.findings), \
        [f.line() for f in report.findings]


# --- a decision that the votes do not support ----------------------------------

def test_a_command_cannot_record_a_result_the_votes_do_not_support(p: Partnership) -> None:
    def action(ctx: Any) -> tuple[None, list[Any]]:
        motion = ctx.find(Motion, "M-7")
        tally, _, _ = motion.computed_decision()
        motion.trigger_event(Motion.Closed, tally=tally, result="pass", explanation="the chair says so")
        return None, [motion]

    refused(p, "the recorded result pass contradicts the votes", lambda: p.ledger.run(p.keys["secretariat"], action))


def test_verify_finds_a_validly_signed_decision_the_votes_do_not_support(p: Partnership) -> None:
    tally = {"seated": 5, "present": 5, "yes": 1, "no": 2, "abstain": 0}
    position = p.forge_next("secretariat", "motion", "M-7", "motion.closed",
                            {"tally": tally, "result": "pass", "explanation": "carried"})
    report = p.verify()
    found(report, position, "the recorded result pass contradicts the votes and rule (fail:")
    assert [f.position for f in report.findings] == [position]


# --- a vote by a recused member -----------------------------------------------------

def test_a_recused_member_cannot_vote(p: Partnership) -> None:
    refused(p, "declared a conflict on item 1 and is recused",
            lambda: c.cast_vote(p.ledger, p.keys["institute"], "M-7", "yes"))


def test_verify_finds_a_vote_by_a_recused_member(p: Partnership) -> None:
    member = p.keys["institute"].key_id
    position = p.forge_next("institute", "motion", "M-7", "motion.vote_cast",
                            {"member": member, "choice": "yes", "on_behalf": False})
    found(p.verify(), position, f"{p.holder['institute']} declared a conflict on item 1 and is recused")


def test_members_vote_with_their_own_key_unless_the_secretariat_records_it(p: Partnership) -> None:
    refused(p, "only the secretariat records votes on a member's behalf",
            lambda: c.cast_vote(p.ledger, p.keys["cso-air"], "M-7", "yes", member=p.holder["cso-cycle"]))
    c.cast_vote(p.ledger, p.keys["secretariat"], "M-7", "abstain", member=p.holder["cso-cycle"])
    last = p.ledger.record_at(p.ledger.size() - 1)
    assert last.data == {"member": p.keys["cso-cycle"].key_id, "choice": "abstain", "on_behalf": True}
    assert last.actor == p.keys["secretariat"].key_id


def test_the_last_vote_counts_and_every_vote_stays_on_record(p: Partnership) -> None:
    c.cast_vote(p.ledger, p.keys["party"], "M-7", "yes")  # changes no -> yes
    c.cast_vote(p.ledger, p.keys["cso-cycle"], "M-7", "yes")
    result, why = c.close_motion(p.ledger, p.keys["secretariat"], "M-7")
    assert (result, why) == ("pass", "3 yes of 4 cast: more than 1/2 was reached")
    votes = [r for _, r in p.ledger.read(0, p.ledger.size()) if r.type == "motion.vote_cast"
             and r.stream == str(stream_id(ORIGIN, "motion", "M-7"))]
    assert len(votes) == 5
    assert p.verify().ok


# --- an allocation beyond its authorising decision ----------------------------------

def test_an_allocation_beyond_its_decision_is_refused(p: Partnership) -> None:
    refused(p, "M-2 authorised 40000.00 EUR; 40000.00 is already allocated, so 100.00 would exceed it",
            lambda: c.allocate(p.ledger, p.keys["secretariat"], "F-1", "More sensors", "100.00", "M-2", "urban-health"))


def test_an_allocation_needs_a_passed_funding_decision(p: Partnership) -> None:
    refused(p, "M-3 has not passed",
            lambda: c.allocate(p.ledger, p.keys["secretariat"], "F-1", "Night buses", "100.00", "M-3", "urban-health"))
    refused(p, "M-1 is not a funding decision",
            lambda: c.allocate(p.ledger, p.keys["secretariat"], "F-1", "Workplan", "100.00", "M-1", "urban-health"))


def test_verify_finds_an_allocation_beyond_its_decision(p: Partnership) -> None:
    position = p.forge_next("secretariat", "fund", "F-1", "fund.allocated",
                            {"allocation": "F-1/A-2", "project": "More sensors", "amount": "5000.00",
                             "decision": "M-2"})
    found(p.verify(), position, "M-2 authorised 40000.00 EUR; 40000.00 is already allocated")


# --- a disbursement beyond its allocation --------------------------------------------

def test_a_disbursement_beyond_its_allocation_is_refused(p: Partnership) -> None:
    refused(p, "allocation F-1/A-1 has 40000.00 EUR allocated and 25000.00 disbursed; 15000.01 more",
            lambda: c.disburse(p.ledger, p.keys["secretariat"], "F-1", "F-1/A-1", "15000.01", "ab" * 32))
    c.disburse(p.ledger, p.keys["secretariat"], "F-1", "F-1/A-1", "15000.00", "ab" * 32)  # exactly to the limit


def test_verify_finds_a_disbursement_beyond_its_allocation(p: Partnership) -> None:
    position = p.forge_next("secretariat", "fund", "F-1", "fund.disbursed",
                            {"allocation": "F-1/A-1", "amount": "20000.00", "evidence": "cd" * 32})
    found(p.verify(), position, "20000.00 more would exceed it")


@pytest.mark.parametrize(
    ("amount", "message"),
    [("12.345", "has 3 decimal places; EUR allows 2"), ("12,5", "not a decimal string"),
     ("-5.00", "not a decimal string"), ("1e3", "not a decimal string")],
)
def test_bad_amounts_are_refused(p: Partnership, amount: str, message: str) -> None:
    refused(p, message, lambda: c.pledge(p.ledger, p.keys["secretariat"], "F-1", "cycle-forward", amount),
            InvalidInputError)


def test_a_float_amount_is_refused(p: Partnership) -> None:
    refused(p, "is a float", lambda: c.pledge(p.ledger, p.keys["secretariat"], "F-1", "cycle-forward",
                                              12.5),  # type: ignore[arg-type]
            InvalidInputError)


def test_matching_obligations_follow_the_rule_and_cap(p: Partnership) -> None:
    fund = p.ledger.repository.get(stream_id(ORIGIN, "fund", "F-1"))
    assert {k: str(v) for k, v in fund.matching_owed.items()} == {"civic-renewal": "15000.00"}
    c.receive(p.ledger, p.keys["secretariat"], "F-1", "cycle-forward", "20000.00", "ef" * 32)
    fund = p.ledger.repository.get(stream_id(ORIGIN, "fund", "F-1"))
    assert {k: str(v) for k, v in fund.matching_owed.items()} == {"civic-renewal": "25000.00"}  # capped


# --- a chair out of rotation ------------------------------------------------------------

def test_a_meeting_with_a_chair_out_of_rotation_is_refused(p: Partnership) -> None:
    def action(ctx: Any) -> tuple[None, list[Any]]:
        from ledger.domain.committee import Committee

        committee = ctx.find(Committee, "K-1")
        number = committee.note_meeting("MT-6")
        meeting = Meeting._create(Meeting.Scheduled, id=Meeting.new_id(ctx, "MT-6"), ref="MT-6", committee="K-1",
                                  number=number, starts_at="2027-01-01T10:00:00.000000Z", chair_party="clean-air-now")
        return None, [committee, meeting]

    refused(p, "the chair of meeting 6 rotates to civic-renewal, not clean-air-now",
            lambda: p.ledger.run(p.keys["secretariat"], action))


def test_verify_finds_a_chair_out_of_rotation(p: Partnership) -> None:
    p.forge_next("secretariat", "committee", "K-1", "committee.meeting_scheduled", {"meeting": "MT-6"})
    position = p.forge_next("secretariat", "meeting", "MT-6", "meeting.scheduled",
                            {"ref": "MT-6", "committee": "K-1", "number": 6,
                             "starts_at": "2027-01-01T10:00:00.000000Z", "chair_party": "clean-air-now"})
    report = p.verify()
    found(report, position, "the chair of meeting 6 rotates to civic-renewal, not clean-air-now")
    assert [f.position for f in report.findings] == [position]


def test_only_the_chair_or_secretariat_closes_a_vote(p: Partnership) -> None:
    refused(p, "only the chair of MT-4", lambda: c.close_motion(p.ledger, p.keys["cso-air"], "M-7"))
    assert c.close_motion(p.ledger, p.keys["cso-cycle"], "M-7")[0] == "fail"  # Cycle Forward chairs MT-4


# --- more rules --------------------------------------------------------------------

def test_seconding_and_proposing_rules(p: Partnership) -> None:
    refused(p, "holds no seat", lambda: c.propose_motion(p.ledger, p.keys["auditor"], "MT-4", 2, "ordinary", "x"),
            LedgerError)
    m8 = c.propose_motion(p.ledger, p.keys["cso-cycle"], "MT-4", 2, "ordinary", "Publish the sensor map.")
    refused(p, "cannot second their own motion", lambda: c.second_motion(p.ledger, p.keys["cso-cycle"], m8))
    refused(p, "needs a seconder", lambda: c.open_vote(p.ledger, p.keys["secretariat"], m8))
    refused(p, "no decision class 'urgent'",
            lambda: c.propose_motion(p.ledger, p.keys["cso-cycle"], "MT-4", 2, "urgent", "x"))
    refused(p, "item 9 is not on the agenda",
            lambda: c.propose_motion(p.ledger, p.keys["cso-cycle"], "MT-4", 9, "ordinary", "x"))


def test_amendments_to_motions_go_two_deep_and_no_deeper(p: Partnership) -> None:
    led, k = p.ledger, p.keys
    base = c.propose_motion(led, k["cso-cycle"], "MT-4", 2, "ordinary", "Publish the sensor map monthly.")
    first = c.propose_motion(led, k["cso-air"], "MT-4", 2, "ordinary", "Publish the sensor map weekly.", amends=base)
    second = c.propose_motion(led, k["party"], "MT-4", 2, "ordinary", "Publish it daily.", amends=first)
    refused(p, "already has an amendment",
            lambda: c.propose_motion(led, k["cso-tenants"], "MT-4", 2, "ordinary", "Hourly.", amends=first))
    refused(p, "cannot itself be amended",
            lambda: c.propose_motion(led, k["cso-tenants"], "MT-4", 2, "ordinary", "Hourly.", amends=second))
    c.second_motion(led, k["cso-tenants"], base)
    refused(p, "decide the amendment", lambda: c.open_vote(led, k["secretariat"], base))
    c.withdraw_motion(led, k["party"], second, "Too often")
    c.second_motion(led, k["cso-tenants"], first)
    c.open_vote(led, k["secretariat"], first)
    for stem in ("cso-air", "cso-tenants", "cso-cycle"):
        c.cast_vote(led, k[stem], first, "yes")
    assert c.close_motion(led, k["secretariat"], first)[0] == "pass"
    parent = led.repository.get(stream_id(ORIGIN, "motion", base))
    assert parent.text == "Publish the sensor map weekly."
    assert p.verify().ok


def test_the_amendment_changed_the_covenant_and_both_versions_are_kept(p: Partnership) -> None:
    covenant = p.ledger.repository.get(stream_id(ORIGIN, "covenant", "C-1"))
    assert covenant.clause_version == 2
    assert [d["clause"] for d in covenant.diff(1, 2)] == ["3", "6"]
    assert covenant.diff(1, 2)[1] == {"clause": "6", "change": "inserted",
                                      "text": "All sensor data is published as open data within a week."}
    refused(p, "M-4 has already been applied", lambda: c.amend_covenant(p.ledger, p.keys["secretariat"], "C-1", "M-4"))
    refused(p, "M-1 was decided as ordinary",
            lambda: c.amend_covenant(p.ledger, p.keys["secretariat"], "C-1", "M-1"))


def test_a_new_committee_must_meet_the_composition_rules(p: Partnership) -> None:
    seats = {p.holder[s]: party for s, party in (("party", "civic-renewal"), ("cso-air", "clean-air-now"),
                                                  ("cso-tenants", "tenants-union"), ("institute", "urban-health"))}
    refused(p, "civil society holds 2 seats; the covenant requires at least 3",
            lambda: c.establish_committee(p.ledger, p.keys["secretariat"], "C-1", "Small", seats,
                                          ["civic-renewal"], 1))


def test_the_evaluator_must_be_independent_of_the_owner(p: Partnership) -> None:
    refused(p, "not independent", lambda: c.evaluate_milestone(p.ledger, p.keys["institute"], "MS-1", "Looks fine."))


def test_the_assignee_must_belong_to_no_organisation_involved(p: Partnership) -> None:
    d2 = c.file_dispute(p.ledger, p.keys["cso-tenants"], "C-1",
                        {"kind": "member", "name": "Luis Moreno", "party": "tenants-union"}, ["civic-renewal"],
                        [p.ledger.record_at(30).event_hash], "Pledge not honoured.")
    c.on_dispute(p.ledger, p.keys["secretariat"], d2, lambda ctx, d: d.acknowledge("ok"))
    refused(p, "is not named as ombudsperson in the covenant",
            lambda: c.assign_dispute(p.ledger, p.keys["secretariat"], d2, p.holder["cso-air"], "ombudsperson"),
            LedgerError)
    c.assign_dispute(p.ledger, p.keys["secretariat"], d2, p.holder["ombudsperson"], "ombudsperson")
    refused(p, "only the person assigned to D-2",
            lambda: c.on_dispute(p.ledger, p.keys["secretariat"], d2, lambda ctx, d: d.record_finding(True, "x")),
            LedgerError)


def test_a_grievance_must_cite_records_that_exist(p: Partnership) -> None:
    refused(p, "no record with event hash",
            lambda: c.file_dispute(p.ledger, p.keys["cso-air"], "C-1", {"kind": "public", "name": "A resident"},
                                   [], ["0" * 64], "Something happened."))


def test_the_demo_dispute_ran_its_course(p: Partnership) -> None:
    dispute = p.ledger.repository.get(stream_id(ORIGIN, "dispute", "D-1"))
    assert dispute.stage == "closed"
    assert dispute.findings[0]["upheld"] is True
    assert dispute.remedy["kind"] == "record_correction"


def test_a_key_of_another_partnership_member_cannot_accede_for_a_party(tmp_path: Path) -> None:
    partnership = Partnership(tmp_path / "demo")
    led, k = partnership.ledger, partnership.keys
    terms = dict(__import__("ledger.demo", fromlist=["COVENANT_TERMS"]).COVENANT_TERMS)
    c2 = c.draft_covenant(led, k["secretariat"], "Second covenant", terms)
    before = snapshot(led)
    with pytest.raises(RuleError, match="only a representative of clean-air-now may sign its accession"):
        c.accede(led, k["party"], c2, "clean-air-now")
    assert snapshot(led) == before
    assert isinstance(Signer.generate(), Signer)


# --- what only the Merkle log reveals -------------------------------------------------

def test_deleting_the_newest_records_is_caught_by_the_checkpoints(p: Partnership) -> None:
    import sqlite3

    from tests.helpers import drop_guards

    size = p.ledger.size()
    p.ledger.close()
    drop_guards(p.path)
    with sqlite3.connect(p.path) as conn:
        conn.execute("DELETE FROM ledger_events WHERE id > (SELECT MAX(id) - 3 FROM ledger_events)")
        conn.execute("DELETE FROM ledger_log WHERE position >= ?", (size - 3,))
    report = p.verify()
    found(report, size - 3, f"a checkpoint of size {size} was signed, but the log has {size - 3} records: "
                            f"records {size - 3} to {size - 1} are missing")


def test_a_checkpoint_of_another_history_is_caught(p: Partnership) -> None:
    import sqlite3

    from ledger import merkle, note
    from tests.helpers import drop_guards

    size = p.ledger.size()
    p.ledger.close()
    drop_guards(p.path)
    log_key = load_signer(p.path.parent / "keys" / "log.key")
    forged = note.sign_checkpoint(note.Checkpoint(ORIGIN, size, merkle.leaf_hash(b"another history")), log_key)
    with sqlite3.connect(p.path) as conn:
        conn.execute("UPDATE ledger_checkpoints SET root = ?, note = ? WHERE size = ?",
                     (merkle.leaf_hash(b"another history"), forged.render(), size))
    found(p.verify(), size - 1, f"the checkpoint of size {size} has a different root")
