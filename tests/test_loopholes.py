"""Governance without loopholes (issue 11): each rule is refused on write, with one
line and nothing written, and found by `ledger verify` when forged with valid keys."""

from __future__ import annotations

from ledger import commands as c
from ledger.domain.motion import Motion
from tests.test_domain_rules import Partnership, found, p, refused

__all__ = ["p"]  # the fixture: the demo plus M-7 being voted on (yes: Clean Air; no: Tenants, Party)


# --- a member's own vote is theirs -------------------------------------------------------

def test_the_secretariat_cannot_overwrite_a_members_own_vote(p: Partnership) -> None:
    refused(p, "voted with their own key; only they can change their vote",
            lambda: c.cast_vote(p.ledger, p.keys["secretariat"], "M-7", "no", member=p.holder["cso-air"]))
    c.cast_vote(p.ledger, p.keys["cso-air"], "M-7", "abstain")  # the member themself may
    c.cast_vote(p.ledger, p.keys["secretariat"], "M-7", "yes", member=p.holder["cso-cycle"])  # not voted yet
    assert p.verify().ok


def test_verify_finds_an_overwritten_own_vote(p: Partnership) -> None:
    air = p.keys["cso-air"].key_id
    position = p.forge_next("secretariat", "motion", "M-7", "motion.vote_cast",
                            {"member": air, "choice": "no", "on_behalf": True})
    report = p.verify()
    found(report, position, f"{p.holder['cso-air']} voted with their own key; only they can change their vote")
    assert [f.position for f in report.findings] == [position]


# --- a conflict declared after the vote opened recuses ---------------------------------------

def test_a_late_conflict_excludes_the_vote_and_says_why(p: Partnership) -> None:
    tenants = p.person("cso-tenants")
    c.declare_conflict(p.ledger, p.keys["cso-tenants"], "MT-4", p.holder["cso-tenants"], [1], "Works for the operator")
    refused(p, "declared a conflict on item 1 and is recused",
            lambda: c.cast_vote(p.ledger, p.keys["cso-tenants"], "M-7", "yes"))
    result, why = c.close_motion(p.ledger, p.keys["secretariat"], "M-7")
    # Clean Air yes; Party no; the Tenants' no is excluded.
    assert (result, why) == ("fail", "1 yes of 2 cast: more than 1/2 was not reached (1 vote excluded: conflict "
                                     "declared)")
    from projections.describe import load

    motion = load(p.ledger, Motion, "M-7")
    assert motion.excluded == [tenants] and motion.tally["no"] == 1
    assert p.verify().ok


def test_verify_finds_a_close_that_counts_a_recused_vote(p: Partnership) -> None:
    c.declare_conflict(p.ledger, p.keys["cso-tenants"], "MT-4", p.holder["cso-tenants"], [1], "Works for the operator")
    tally = {"seated": 5, "present": 5, "yes": 1, "no": 2, "abstain": 0}
    position = p.forge_next("secretariat", "motion", "M-7", "motion.closed",
                            {"tally": tally, "result": "fail", "explanation": "1 yes of 3 cast", "excluded": []})
    found(p.verify(), position, "the votes excluded for conflicts (0) are not those of members who declared a "
                                "conflict on item 1 (1)")


def test_the_site_shows_an_excluded_vote_with_its_reason(p: Partnership, tmp_path: object) -> None:
    from pathlib import Path

    from projections.site import publish

    c.declare_conflict(p.ledger, p.keys["cso-tenants"], "MT-4", p.holder["cso-tenants"], [1], "Works for the operator")
    c.close_motion(p.ledger, p.keys["secretariat"], "M-7")
    from ledger import load_signer

    p.ledger.log_key = load_signer(p.path.parent / "keys" / "log.key")
    site = Path(str(tmp_path)) / "site"
    publish(p.ledger, site)
    page = (site / "motions" / "M-7.html").read_text(encoding="utf-8")
    assert "no <em>(excluded: conflict declared (Works for the operator))</em>" in page


# --- minutes: one held meeting, adopted once ---------------------------------------------------

def _propose_minutes(p: Partnership, minutes_of: str | None) -> object:
    return lambda: c.propose_motion(p.ledger, p.keys["cso-air"], "MT-4", 2, "minutes", "Adopt the minutes.",
                                    minutes_of=minutes_of)


def test_a_minutes_motion_names_one_held_meeting_not_yet_adopted(p: Partnership) -> None:
    refused(p, "a minutes motion must name the one meeting whose minutes it adopts", _propose_minutes(p, None))
    refused(p, "the minutes of MT-1 are already adopted", _propose_minutes(p, "MT-1"))
    refused(p, "the minutes of MT-4 cannot be adopted at MT-4 itself", _propose_minutes(p, "MT-4"))
    from datetime import UTC, datetime, timedelta

    c.schedule_meeting(p.ledger, p.keys["secretariat"], "K-1", datetime.now(UTC) + timedelta(days=120))
    refused(p, "MT-5 was not held: its attendance was never recorded", _propose_minutes(p, "MT-5"))
    assert _propose_minutes(p, "MT-2")() == "M-8"


def test_a_minutes_decision_adopts_only_the_meeting_it_names(p: Partnership) -> None:
    refused(p, "M-5 adopts the minutes of MT-1, not of MT-2",
            lambda: c.adopt_minutes(p.ledger, p.keys["secretariat"], "MT-2", "M-5", "a" * 64))


def test_verify_finds_minutes_adopted_by_another_meetings_decision(p: Partnership) -> None:
    position = p.forge_next("secretariat", "meeting", "MT-2", "meeting.minutes_adopted",
                            {"decision": "M-5", "minutes_digest": "b" * 64})
    found(p.verify(), position, "M-5 adopts the minutes of MT-1, not of MT-2")


def test_verify_finds_a_minutes_motion_that_names_no_meeting(p: Partnership) -> None:
    from ledger.domain.base import stream_id

    position = p.forge_next("cso-air", "motion", "M-8", "motion.proposed", {
        "ref": "M-8", "meeting": "MT-4", "item": 2, "decision_class": "minutes", "text": "Adopt all minutes.",
        "proposer": p.keys["cso-air"].key_id, "amends": None, "amount": None, "changes": None})
    assert str(stream_id(p.ledger.origin, "motion", "M-8"))
    found(p.verify(), position, "a minutes motion must name the one meeting whose minutes it adopts")


# --- dates of what happened are not in the future ------------------------------------------

def _tomorrow() -> str:
    from datetime import UTC, datetime, timedelta

    return (datetime.now(UTC) + timedelta(days=1)).date().isoformat()


def test_a_review_or_report_dated_in_the_future_is_refused(p: Partnership) -> None:
    later = _tomorrow()
    refused(p, f"the review date {later} is later than this record's time",
            lambda: c.review_covenant(p.ledger, p.keys["secretariat"], "C-1", later, "All reviewed."))
    refused(p, f"the report date {later} is later than this record's time",
            lambda: c.report_progress(p.ledger, p.keys["institute"], "MS-1", "15.0", later, "c" * 64, "Early."))


def test_verify_finds_a_review_dated_after_its_record(p: Partnership) -> None:
    position = p.forge_next("secretariat", "covenant", "C-1", "covenant.reviewed",
                            {"review_date": "2030-01-01", "notes": "Reviewed in advance."})
    found(p.verify(), position, "the review date 2030-01-01 is later than this record's time")


def test_verify_finds_a_progress_report_dated_after_its_record(p: Partnership) -> None:
    position = p.forge_next("institute", "milestone", "MS-1", "milestone.progress_reported",
                            {"value": "12.0", "report_date": "2030-08-01", "evidence": "d" * 64, "narrative": "x"})
    found(p.verify(), position, "the report date 2030-08-01 is later than this record's time")


# --- an upheld grievance is remedied before it closes --------------------------------------------

def _upheld_dispute(p: Partnership) -> str:
    contested = p.ledger.record_at(40).event_hash
    ref = c.file_dispute(p.ledger, p.keys["cso-air"], "C-1",
                         {"kind": "party", "name": "Clean Air Now", "party": "clean-air-now"}, ["cycle-forward"],
                         [contested], "A second grievance.")
    c.on_dispute(p.ledger, p.keys["secretariat"], ref, lambda ctx, d: d.acknowledge("Received."))
    c.assign_dispute(p.ledger, p.keys["secretariat"], ref, p.holder["ombudsperson"], "ombudsperson")
    c.on_dispute(p.ledger, p.keys["ombudsperson"], ref, lambda ctx, d: d.record_finding(True, "Upheld."))
    return ref


def test_an_upheld_grievance_cannot_close_without_a_remedy(p: Partnership) -> None:
    ref = _upheld_dispute(p)
    refused(p, f"{ref}'s finding upholds the grievance: order a remedy before closing it",
            lambda: c.on_dispute(p.ledger, p.keys["ombudsperson"], ref, lambda ctx, d: d.close("Done.")))


def test_verify_finds_an_upheld_grievance_closed_without_a_remedy(p: Partnership) -> None:
    ref = _upheld_dispute(p)
    position = p.forge_next("ombudsperson", "dispute", ref, "dispute.closed", {"outcome": "Closed anyway."})
    found(p.verify(), position, f"{ref}'s finding upholds the grievance: order a remedy before closing it")


# --- renewal and termination need their own decision --------------------------------------------

def _decide(p: Partnership, act: dict[str, str]) -> str:
    ref = c.propose_motion(p.ledger, p.keys["cso-air"], "MT-4", 2, "amendment", f"We {act['kind']} the covenant.",
                           act=act)
    c.second_motion(p.ledger, p.keys["cso-cycle"], ref)
    c.open_vote(p.ledger, p.keys["secretariat"], ref)
    for stem in ("cso-air", "cso-tenants", "cso-cycle", "party", "institute"):
        c.cast_vote(p.ledger, p.keys[stem], ref, "yes")
    assert c.close_motion(p.ledger, p.keys["secretariat"], ref)[0] == "pass"
    return ref


def _amendment_decision(p: Partnership) -> str:
    from ledger.domain.covenant import Covenant
    from projections.describe import load

    return str(load(p.ledger, Covenant, "C-1").amendments[0])


def test_renewal_needs_a_decision_that_states_it_used_once(p: Partnership) -> None:
    amendment = _amendment_decision(p)
    # The decision that amended the clauses was used for that act.
    refused(p, f"{amendment} has already been used for another act",
            lambda: c.renew_covenant(p.ledger, p.keys["secretariat"], "C-1", "2041-12-31", amendment))
    decision = _decide(p, {"kind": "renew", "date": "2041-12-31"})
    refused(p, f"{decision} did not decide to renew C-1 until 2045-12-31",
            lambda: c.renew_covenant(p.ledger, p.keys["secretariat"], "C-1", "2045-12-31", decision))
    c.renew_covenant(p.ledger, p.keys["secretariat"], "C-1", "2041-12-31", decision)
    refused(p, f"{decision} has already been used for another act",
            lambda: c.terminate_covenant(p.ledger, p.keys["secretariat"], "C-1", decision, "Done."))
    other = _decide(p, {"kind": "renew", "date": "2043-12-31"})
    refused(p, f"{other} did not decide to terminate C-1",
            lambda: c.terminate_covenant(p.ledger, p.keys["secretariat"], "C-1", other, "Done."))
    assert p.verify().ok


def test_verify_finds_a_renewal_citing_a_clause_amendment(p: Partnership) -> None:
    amendment = _amendment_decision(p)
    position = p.forge_next("secretariat", "covenant", "C-1", "covenant.renewed",
                            {"new_end": "2041-12-31", "decision": amendment})
    found(p.verify(), position, f"{amendment} has already been used for another act")


def test_verify_finds_a_decision_used_for_two_renewals(p: Partnership) -> None:
    decision = _decide(p, {"kind": "renew", "date": "2041-12-31"})
    c.renew_covenant(p.ledger, p.keys["secretariat"], "C-1", "2041-12-31", decision)
    position = p.forge_next("secretariat", "covenant", "C-1", "covenant.renewed",
                            {"new_end": "2045-12-31", "decision": decision})
    found(p.verify(), position, f"{decision} has already been used for another act")


# --- key records live in the registry stream ---------------------------------------------------

def test_verify_finds_a_key_record_outside_the_registry_stream(p: Partnership) -> None:
    from ledger import Signer

    newcomer = Signer.generate()
    position = p.forge_next("secretariat", "motion", "M-99", "key.registered",
                            {"key_id": newcomer.key_id, "public_key": newcomer.public_b64, "holder": "Mallory",
                             "roles": ["secretariat"]})
    found(p.verify(), position, "key records belong in the ledger's registry stream")


# --- a covenant whose term has ended is expired ----------------------------------------------

def _expired_covenant(p: Partnership) -> str:
    from datetime import UTC, datetime, timedelta

    from ledger.demo import CURRENT_TERMS, REPRESENTS

    ended = (datetime.now(UTC) - timedelta(days=2)).date().isoformat()
    terms = dict(CURRENT_TERMS, term={"start": "2025-01-01", "end": ended}, reviews=[])
    ref = c.draft_covenant(p.ledger, p.keys["secretariat"], "An old covenant", terms)
    for stem, party in REPRESENTS.items():
        c.accede(p.ledger, p.keys[stem], ref, party)
    return ref


def test_an_expired_covenant_refuses_new_acts_and_says_so(p: Partnership) -> None:
    import json

    from click.testing import CliRunner

    from cli.main import cli

    ref = _expired_covenant(p)
    refused(p, f"covenant {ref} expired on",
            lambda: c.establish_fund(p.ledger, p.keys["secretariat"], ref, "Late fund", "EUR", []))
    shown = CliRunner().invoke(cli, ["--db", str(p.path), "covenant", "show", ref, "--json"])
    body = json.loads(shown.stdout)
    assert body["status"] == "expired" and body["expired_since"]


def test_verify_finds_a_fund_established_under_an_expired_covenant(p: Partnership) -> None:
    ref = _expired_covenant(p)
    position = p.forge_next("secretariat", "fund", "F-9", "fund.established",
                            {"ref": "F-9", "covenant": ref, "name": "Late fund", "currency": "EUR", "matching": []})
    found(p.verify(), position, f"covenant {ref} expired on")


# --- an appeal is heard by another neutral ----------------------------------------------------

def _appealed(p: Partnership) -> None:
    c.on_dispute(p.ledger, p.keys["cso-cycle"], "D-1", lambda ctx, d: d.appeal("cycle-forward", "Not heard fairly."))


def test_an_appeal_goes_to_another_neutral_appointed_by_decision(p: Partnership) -> None:
    from ledger import Signer

    _appealed(p)
    refused(p, "made a finding on D-1; another neutral hears the appeal",
            lambda: c.assign_dispute(p.ledger, p.keys["secretariat"], "D-1", p.holder["ombudsperson"], "ombudsperson"))
    judge = Signer.generate()
    p.ledger.register_key(p.keys["secretariat"], judge.public_b64, "Judge Ana Lima (Appeals)", ["ombudsperson"])
    refused(p, "is not named as ombudsperson in the covenant",
            lambda: c.assign_dispute(p.ledger, p.keys["secretariat"], "D-1", "Judge Ana Lima", "ombudsperson"))
    decision = c.propose_motion(p.ledger, p.keys["cso-air"], "MT-4", 2, "ordinary", "Judge Lima hears the appeal.")
    c.second_motion(p.ledger, p.keys["cso-cycle"], decision)
    c.open_vote(p.ledger, p.keys["secretariat"], decision)
    for stem in ("cso-air", "cso-tenants", "cso-cycle"):
        c.cast_vote(p.ledger, p.keys[stem], decision, "yes")
    c.close_motion(p.ledger, p.keys["secretariat"], decision)
    c.assign_dispute(p.ledger, p.keys["secretariat"], "D-1", "Judge Ana Lima", "ombudsperson", decision)
    assert p.verify().ok


def test_verify_finds_an_appeal_assigned_to_the_neutral_who_found(p: Partnership) -> None:
    _appealed(p)
    ombudsperson = p.keys["ombudsperson"].key_id
    position = p.forge_next("secretariat", "dispute", "D-1", "dispute.assigned",
                            {"assignee": ombudsperson, "capacity": "ombudsperson"})
    found(p.verify(), position, f"{p.holder['ombudsperson']} made a finding on D-1; another neutral hears the appeal")


# --- time runs forwards ------------------------------------------------------------------------

def test_a_clock_behind_the_ledger_does_not_make_time_run_backwards(p: Partnership) -> None:
    from datetime import UTC, datetime

    last = p.ledger.record_at(p.ledger.size() - 1)
    p.ledger.clock = lambda: datetime(2020, 1, 1, tzinfo=UTC)
    c.cast_vote(p.ledger, p.keys["cso-cycle"], "M-7", "yes")
    newest = p.ledger.record_at(p.ledger.size() - 1)
    assert newest.at == last.at  # not 2020: never before the latest record
    assert p.verify().ok


def test_verify_finds_a_record_dated_before_its_streams_previous_one(p: Partnership) -> None:
    from ledger import record as rec
    from ledger.domain.base import stream_id
    from tests.helpers import append_raw, forge

    stream, version, head = p.head("motion", "M-7")
    raw = forge(p.keys["cso-cycle"], ledger=p.ledger.origin, stream=stream, seq=version + 1,
                type="motion.vote_cast", prev=head, at="2020-01-01T00:00:00.000000Z",
                data={"member": p.keys["cso-cycle"].key_id, "choice": "yes", "on_behalf": False})
    append_raw(p.path, raw)
    position = p.ledger.size() - 1
    assert str(stream_id(p.ledger.origin, "motion", "M-7")) == stream and rec.parse(raw).seq == version + 1
    found(p.verify(), position, "at 2020-01-01T00:00:00.000000Z is earlier than the stream's previous record")


# --- meetings happen in time -------------------------------------------------------------------

def _future_meeting(p: Partnership) -> str:
    from datetime import UTC, datetime

    ref = c.schedule_meeting(p.ledger, p.keys["secretariat"], "K-1", datetime(2035, 3, 1, 18, tzinfo=UTC))
    c.publish_agenda(p.ledger, p.keys["secretariat"], ref, [{"title": "Review of the pilot"}])
    return ref


def test_a_meetings_acts_wait_for_its_start(p: Partnership) -> None:
    ref = _future_meeting(p)
    refused(p, f"{ref} starts at 2035-03-01T18:00:00.000000Z; its acts are recorded from then on",
            lambda: c.record_attendance(p.ledger, p.keys["secretariat"], ref, [p.holder["cso-air"]]))


def test_verify_finds_attendance_before_the_start(p: Partnership) -> None:
    ref = _future_meeting(p)
    position = p.forge_next("secretariat", "meeting", ref, "meeting.attendance_recorded",
                            {"present": [p.keys["cso-air"].key_id]})
    found(p.verify(), position, f"{ref} starts at 2035-03-01T18:00:00.000000Z")


def test_postponing_before_the_start_and_cancelling(p: Partnership) -> None:
    from datetime import UTC, datetime

    ref = _future_meeting(p)
    later = datetime(2035, 3, 8, 18, tzinfo=UTC)
    refused(p, "MT-4 has started", lambda: c.on_meeting(p.ledger, p.keys["secretariat"], "MT-4",
                                                        lambda ctx, m: m.postpone(later, "Busy.")))
    c.on_meeting(p.ledger, p.keys["secretariat"], ref, lambda ctx, m: m.postpone(later, "The hall is booked."))
    refused(p, "MT-4 was held", lambda: c.on_meeting(p.ledger, p.keys["secretariat"], "MT-4",
                                                     lambda ctx, m: m.cancel("No.")))
    c.on_meeting(p.ledger, p.keys["secretariat"], "MT-5", lambda ctx, m: m.cancel("Not needed."))
    refused(p, "MT-5 was cancelled",
            lambda: c.record_attendance(p.ledger, p.keys["secretariat"], "MT-5", [p.holder["cso-air"]]))
    assert p.verify().ok


def test_a_closed_meeting_takes_no_more_votes(p: Partnership) -> None:
    c.on_meeting(p.ledger, p.keys["secretariat"], "MT-4", lambda ctx, m: m.close_meeting(""))
    refused(p, "MT-4 is closed", lambda: c.cast_vote(p.ledger, p.keys["cso-cycle"], "M-7", "yes"))


def test_verify_finds_a_vote_after_the_meeting_closed(p: Partnership) -> None:
    c.on_meeting(p.ledger, p.keys["secretariat"], "MT-4", lambda ctx, m: m.close_meeting(""))
    cycle = p.keys["cso-cycle"].key_id
    position = p.forge_next("cso-cycle", "motion", "M-7", "motion.vote_cast",
                            {"member": cycle, "choice": "yes", "on_behalf": False})
    found(p.verify(), position, "MT-4 is closed")


def test_meeting_list_shows_states(p: Partnership) -> None:
    import json

    from click.testing import CliRunner

    from cli.main import cli

    c.on_meeting(p.ledger, p.keys["secretariat"], "MT-5", lambda ctx, m: m.cancel("Not needed."))
    shown = CliRunner().invoke(cli, ["--db", str(p.path), "meeting", "list", "--json"])
    meetings = {m["ref"]: m for m in json.loads(shown.stdout)["meetings"]}
    assert [meetings[r]["state"] for r in ("MT-1", "MT-4", "MT-5")] == ["scheduled", "scheduled", "cancelled"]
    assert "Amara Okafor (Clean Air Now)" in meetings["MT-4"]["present"]


# --- a remedy has a deadline -------------------------------------------------------------------

def test_a_remedy_needs_a_deadline(p: Partnership) -> None:
    ref = _upheld_dispute(p)
    refused(p, r"a remedy needs a deadline \(due date\)",
            lambda: c.on_dispute(p.ledger, p.keys["ombudsperson"], ref,
                                 lambda ctx, d: d.order_remedy("apology", "Apologise.")))
    refused(p, "the remedy's due date 2020-01-01 has passed",
            lambda: c.on_dispute(p.ledger, p.keys["ombudsperson"], ref,
                                 lambda ctx, d: d.order_remedy("apology", "Apologise.", "2020-01-01")))
    c.on_dispute(p.ledger, p.keys["ombudsperson"], ref, lambda ctx, d: d.order_remedy("apology", "Apologise.",
                                                                                       "2099-01-01"))
    assert p.verify().ok


def test_verify_finds_a_remedy_without_a_deadline(p: Partnership) -> None:
    ref = _upheld_dispute(p)
    position = p.forge_next("ombudsperson", "dispute", ref, "dispute.remedy_ordered",
                            {"kind": "apology", "details": "Apologise."})
    found(p.verify(), position, "a remedy needs a deadline (due date)")


# --- agendas come with the covenant's notice --------------------------------------------------

def test_an_agenda_published_late_is_refused_unless_the_meeting_is_urgent(p: Partnership) -> None:
    from datetime import UTC, datetime, timedelta

    soon = datetime.now(UTC) + timedelta(days=3)
    ref = c.schedule_meeting(p.ledger, p.keys["secretariat"], "K-1", soon)
    refused(p, "the covenant asks for the agenda 7 days ahead",
            lambda: c.publish_agenda(p.ledger, p.keys["secretariat"], ref, [{"title": "Late item"}]))
    urgent = c.schedule_meeting(p.ledger, p.keys["secretariat"], "K-1", soon, urgent=True)
    c.publish_agenda(p.ledger, p.keys["secretariat"], urgent, [{"title": "Flooding at the depot"}])
    assert p.verify().ok


def test_verify_finds_a_late_agenda(p: Partnership) -> None:
    from datetime import UTC, datetime, timedelta

    ref = c.schedule_meeting(p.ledger, p.keys["secretariat"], "K-1", datetime.now(UTC) + timedelta(days=2))
    position = p.forge_next("secretariat", "meeting", ref, "meeting.agenda_published",
                            {"items": [{"number": 1, "title": "Late item", "documents": []}]})
    found(p.verify(), position, "the covenant asks for the agenda 7 days ahead")


def test_an_urgent_meeting_needs_a_covenant_that_allows_it(p: Partnership) -> None:
    from datetime import UTC, datetime, timedelta

    from ledger.demo import CURRENT_TERMS, PEOPLE_BY_STEM, REPRESENTS, ROTATION

    terms = dict(CURRENT_TERMS, meetings={"agenda_notice_days": 7})
    ref = c.draft_covenant(p.ledger, p.keys["secretariat"], "A strict covenant", terms)
    for stem, party in REPRESENTS.items():
        c.accede(p.ledger, p.keys[stem], ref, party)
    committee = c.establish_committee(p.ledger, p.keys["secretariat"], ref, "Strict committee",
                                      {PEOPLE_BY_STEM[stem]: party for stem, party in REPRESENTS.items()},
                                      ROTATION, 1)
    refused(p, "the covenant does not allow urgent meetings",
            lambda: c.schedule_meeting(p.ledger, p.keys["secretariat"], committee,
                                       datetime.now(UTC) + timedelta(days=1), urgent=True))
    p.forge_next("secretariat", "committee", committee, "committee.meeting_scheduled", {"meeting": "MT-6"})
    position = p.forge_next("secretariat", "meeting", "MT-6", "meeting.scheduled",
                            {"ref": "MT-6", "committee": committee, "number": 1,
                             "starts_at": "2035-01-01T10:00:00.000000Z", "chair_party": "civic-renewal",
                             "urgent": True})
    found(p.verify(), position, "the covenant does not allow urgent meetings")


def test_an_appeal_has_its_own_deadline(p: Partnership) -> None:
    from datetime import UTC, datetime, timedelta

    from ledger.domain.covenant import Covenant
    from ledger.domain.dispute import Dispute
    from projections.describe import load

    _appealed(p)
    dispute = load(p.ledger, Dispute, "D-1")
    covenant = load(p.ledger, Covenant, "C-1")
    days = covenant.terms["dispute_procedure"]["resolve_days"]
    appealed = datetime.fromisoformat(dispute.appealed_at.replace("Z", "+00:00"))
    due = dispute.deadlines(covenant)["appeal_resolve_by"]
    assert due == (appealed + timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    assert dispute.overdue(covenant, datetime.now(UTC)) == []
    assert dispute.overdue(covenant, appealed + timedelta(days=days + 1)) == ["appeal"]


# --- attendance is arrivals and departures ----------------------------------------------------

def test_a_late_arrival_adds_to_those_present_and_departures_count_for_later_votes(p: Partnership) -> None:
    from ledger.domain.committee import Meeting
    from projections.describe import load

    # The fixture recorded five at MT-4 and opened M-7; Luis Moreno leaves, then comes back.
    assert c.record_departure(p.ledger, p.keys["secretariat"], "MT-4", [p.holder["cso-tenants"]]) == 4
    refused(p, "is not present at MT-4",
            lambda: c.record_departure(p.ledger, p.keys["secretariat"], "MT-4", [p.holder["cso-tenants"]]))
    decision = c.propose_motion(p.ledger, p.keys["cso-air"], "MT-4", 2, "ordinary", "Any other business.")
    c.second_motion(p.ledger, p.keys["cso-cycle"], decision)
    c.open_vote(p.ledger, p.keys["secretariat"], decision)
    assert len(load(p.ledger, Motion, decision).snapshot["present"]) == 4  # counted when the vote opened
    assert c.record_attendance(p.ledger, p.keys["secretariat"], "MT-4", [p.holder["cso-tenants"]]) == 5
    refused(p, "is already present at MT-4",
            lambda: c.record_attendance(p.ledger, p.keys["secretariat"], "MT-4", [p.holder["cso-air"]]))
    assert len(load(p.ledger, Meeting, "MT-4").present) == 5
    assert p.verify().ok


def test_verify_finds_an_arrival_of_someone_without_a_seat(p: Partnership) -> None:
    auditor = p.keys["auditor"].key_id
    position = p.forge_next("secretariat", "meeting", "MT-4", "meeting.arrived", {"members": [auditor]})
    found(p.verify(), position, f"{p.holder['auditor']} holds no seat on K-1")


def test_verify_finds_a_departure_of_someone_not_present(p: Partnership) -> None:
    c.record_departure(p.ledger, p.keys["secretariat"], "MT-4", [p.holder["cso-tenants"]])
    tenants = p.person("cso-tenants")
    position = p.forge_next("secretariat", "meeting", "MT-4", "meeting.departed", {"members": [tenants]})
    found(p.verify(), position, f"{p.holder['cso-tenants']} is not present at MT-4")


# --- the remaining rules' other half -------------------------------------------------------------

def _assigned_dispute(p: Partnership) -> str:
    contested = p.ledger.record_at(40).event_hash
    ref = c.file_dispute(p.ledger, p.keys["cso-air"], "C-1",
                         {"kind": "party", "name": "Clean Air Now", "party": "clean-air-now"}, ["cycle-forward"],
                         [contested], "A grievance to hear.")
    c.on_dispute(p.ledger, p.keys["secretariat"], ref, lambda ctx, d: d.acknowledge("Received."))
    c.assign_dispute(p.ledger, p.keys["secretariat"], ref, p.holder["ombudsperson"], "ombudsperson")
    return ref


def test_a_hearing_dated_in_the_future_is_refused_and_found(p: Partnership) -> None:
    ref = _assigned_dispute(p)
    later = _tomorrow()
    refused(p, f"the hearing date {later} is later than this record's time",
            lambda: c.on_dispute(p.ledger, p.keys["ombudsperson"], ref, lambda ctx, d: d.hold_hearing(later, "x")))
    position = p.forge_next("ombudsperson", "dispute", ref, "dispute.hearing_held",
                            {"held_on": "2030-01-01", "notes": "Heard in advance."})
    found(p.verify(), position, "the hearing date 2030-01-01 is later than this record's time")


def test_verify_finds_a_termination_citing_a_renewal_decision(p: Partnership) -> None:
    decision = _decide(p, {"kind": "renew", "date": "2041-12-31"})
    position = p.forge_next("secretariat", "covenant", "C-1", "covenant.terminated",
                            {"decision": decision, "reason": "Ended."})
    found(p.verify(), position, f"{decision} did not decide to terminate C-1")


def test_verify_finds_attendance_at_a_cancelled_meeting(p: Partnership) -> None:
    c.on_meeting(p.ledger, p.keys["secretariat"], "MT-5", lambda ctx, m: m.cancel("Not needed."))
    position = p.forge_next("secretariat", "meeting", "MT-5", "meeting.arrived",
                            {"members": [p.keys["cso-air"].key_id]})
    found(p.verify(), position, "MT-5 was cancelled")


def test_verify_finds_a_postponement_after_the_start(p: Partnership) -> None:
    position = p.forge_next("secretariat", "meeting", "MT-4", "meeting.postponed",
                            {"starts_at": "2035-01-01T10:00:00.000000Z", "reason": "Late."})
    found(p.verify(), position, "MT-4 has started")


def test_verify_finds_a_progress_report_with_an_exponent_value(p: Partnership) -> None:
    position = p.forge_next("institute", "milestone", "MS-1", "milestone.progress_reported",
                            {"value": "1e999999", "report_date": "2026-10-31", "evidence": "d" * 64,
                             "narrative": "Met, surely."})
    found(p.verify(), position, "value '1e999999' is not a plain decimal number")
