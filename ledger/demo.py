"""The demo partnership: a realistic ledger built end to end through the API.

``ledger demo`` runs :func:`build_demo`.  It uses only the public commands,
so the demo doubles as a worked example of the Python API.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from ledger import commands as c
from ledger.application import Ledger
from ledger.errors import InvalidInputError
from ledger.keys import Signer, write_key_pair

ORIGIN = "ledger.example.org/riverside-partnership"
NAME = "Riverside Clean Air Partnership"

# (file stem, holder, roles)
PEOPLE = [
    ("secretariat", "Dana Reyes (Partnership Secretariat)", ["secretariat"]),
    ("party", "Sam Whitfield (Civic Renewal Party)", ["member"]),
    ("cso-air", "Amara Okafor (Clean Air Now)", ["member"]),
    ("cso-tenants", "Luis Moreno (Tenants' Union)", ["member"]),
    ("cso-cycle", "Mei Lin (Cycle Forward)", ["member"]),
    ("institute", "Dr Ines Haddad (Urban Health Institute)", ["member"]),
    # The institute's first representative, who left in May: Dr Haddad replaced him.
    ("institute-first", "Prof Kwame Asante (Urban Health Institute)", ["member"]),
    ("ombudsperson", "Judge Ruth Adeyemi (Independent Ombudsperson)", ["ombudsperson"]),
    ("auditor", "Tomas Berg (External Auditor)", ["auditor"]),
]


class DemoClock:
    """The demo's own time: the partnership's first year, in 2026.

    Each record is signed at the time its act happened (a meeting's votes at
    the meeting), through the same API: the ledger asks its clock for the
    time of each command.  ``at(moment)`` moves the clock on; each command
    then takes a minute.  The clock never goes back (the ledger would refuse).
    """

    def __init__(self, start: str) -> None:
        self.now = _moment(start)

    def at(self, moment: str | datetime) -> datetime:
        wanted = _moment(moment) if isinstance(moment, str) else moment
        self.now = max(self.now, wanted)
        return self.now

    def __call__(self) -> datetime:
        current = self.now
        self.now += timedelta(minutes=1)
        return current


def _moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def found_partnership(ledger: Ledger, signers: dict[str, Signer], log_key: Signer,
                      echo: Callable[[str], None] = print, terms: dict[str, Any] | None = None,
                      age_identities: dict[str, Any] | None = None) -> None:
    """Genesis, keys and the whole partnership, in any (empty) ledger, in 2026's time.
    The ombudsperson's age identity (she receives the confidential channel) is put in
    ``age_identities`` when given, for the caller to write."""
    sec = signers["secretariat"]
    ledger.clock = clock = DemoClock("2026-01-12T09:00:00Z")
    ledger.log_key = log_key  # a checkpoint after every command
    ledger.init(origin=ORIGIN, name=NAME, founder=sec, holder=PEOPLE[0][1], roles=["secretariat"],
                log_public=log_key.public_bytes)
    for stem, holder, roles in PEOPLE[1:]:
        ledger.register_key(sec, signers[stem].public_b64, holder, roles)
    import pyrage

    ombudsperson = pyrage.x25519.Identity.generate()
    ledger.register_recipient(signers["ombudsperson"], PEOPLE_BY_STEM["ombudsperson"], str(ombudsperson.to_public()))
    if age_identities is not None:
        age_identities["ombudsperson"] = ombudsperson
    record_partnership(ledger, signers, echo, terms or COVENANT_TERMS, clock)
    ledger.clock = lambda: datetime.now(UTC)  # what comes after the demo happens now


def build_demo(directory: Path, echo: Callable[[str], None] = print) -> tuple[Ledger, dict[str, str]]:
    """Create DIR/ledger.db and DIR/keys/, record the partnership, return the ledger."""
    keys_dir = directory / "keys"
    db = directory / "ledger.db"
    # Never over anything a user has: a ledger or keys there may be the only copy.
    if directory.exists() and not directory.is_dir():
        raise InvalidInputError(f"{directory} is a file, not a folder; choose another --dir")
    if directory.is_dir() and any(directory.iterdir()):
        raise InvalidInputError(f"{directory} is not empty; nothing was written (choose a new folder with --dir)")
    keys_dir.mkdir(parents=True)
    signers = {stem: Signer.generate() for stem, _holder, _roles in PEOPLE}
    log_key = Signer.generate()
    write_key_pair(log_key, keys_dir / "log")

    ledger = Ledger(str(db), create=True)
    identities: dict[str, Any] = {}
    found_partnership(ledger, signers, log_key, echo, age_identities=identities)
    from ledger.sealed import write_identity

    write_identity(keys_dir / "ombudsperson.age", identities["ombudsperson"])
    # Written once the year is recorded: Luis Moreno's key was rotated in September, so
    # keys/cso-tenants.key is his current key and cso-tenants-2026.key the retired one.
    for stem, signer in signers.items():
        write_key_pair(signer, keys_dir / stem)
    (directory / "next-meeting.ledger").write_text(NEXT_MEETING, encoding="utf-8")
    # The covenant's terms, as a starting point for 'ledger covenant draft'.
    (directory / "covenant-terms.json").write_text(json.dumps(CURRENT_TERMS, indent=2) + "\n", encoding="utf-8")
    echo(f"demo ledger {ORIGIN}: {ledger.size()} records in {db}, keys under {keys_dir}/")
    return ledger, {"db": str(db), "keys": str(keys_dir)}


def digest(text: str) -> str:
    """Stand-in evidence: the SHA-256 of a described document."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def record_partnership(ledger: Ledger, s: dict[str, Signer], echo: Callable[[str], None],
                       terms: dict[str, Any], clock: DemoClock) -> None:
    """The partnership's first year, through the public commands, each act at its time."""
    sec = s["secretariat"]
    clock.at("2026-01-19T10:00:00Z")
    covenant = c.draft_covenant(ledger, sec, "Riverside Clean Air Covenant", terms)
    for stem, party in FOUNDING_REPRESENTS.items():
        c.accede(ledger, s[stem], covenant, party)
    echo(f"{covenant} drafted and acceded to by all five parties: in force")

    clock.at("2026-01-26T10:00:00Z")
    fund = c.establish_fund(ledger, sec, covenant, "Clean Air Pilot Fund", "EUR", [
        {"matcher": "civic-renewal", "from_kinds": ["civil_society"], "ratio": "1/1", "cap": "25000.00"}])
    c.pledge(ledger, s["party"], fund, "civic-renewal", "50000.00")
    c.pledge(ledger, s["cso-air"], fund, "clean-air-now", "10000.00")
    c.pledge(ledger, sec, fund, "tenants-union", "5000.00")
    clock.at("2026-02-03T11:00:00Z")
    c.receive(ledger, sec, fund, "clean-air-now", "10000.00", digest("bank statement 2026-02-03"))
    clock.at("2026-02-10T11:00:00Z")
    c.receive(ledger, sec, fund, "tenants-union", "5000.00", digest("bank statement 2026-02-10"))
    clock.at("2026-02-17T11:00:00Z")
    c.receive(ledger, sec, fund, "civic-renewal", "40000.00", digest("bank statement 2026-02-17"))
    clock.at("2026-02-20T10:00:00Z")

    committee = c.establish_committee(
        ledger, sec, covenant, "Clean Air Co-design Committee",
        {PEOPLE_BY_STEM[stem]: party for stem, party in FOUNDING_REPRESENTS.items()},
        ROTATION, 1)

    # The workplan is consulted on before the committee decides it: comments, a second
    # version, an answer to every comment ("you said, we did"), then adoption by M-1.
    clock.at("2026-02-20T12:00:00Z")
    cx = c.open_consultation(ledger, sec, committee, "Clean-air pilot workplan", WORKPLAN, "public",
                             _moment("2026-02-20T12:00:00Z"), _moment("2026-03-04T23:59:00Z"))

    # Meeting 1: chaired by the Civic Renewal Party (first in rotation).
    clock.at("2026-02-23T10:00:00Z")
    mt1 = c.schedule_meeting(ledger, sec, committee, _moment("2026-03-10T17:00:00Z"))
    c.publish_agenda(ledger, sec, mt1, [
        {"title": "Adopt the clean-air pilot workplan", "documents": [digest("workplan v3")]},
        {"title": "Fund the school sensors pilot", "documents": [digest("sensors budget")]}])
    clock.at("2026-02-25T18:00:00Z")
    c.on_consultation(ledger, s["cso-tenants"], cx, lambda ctx, x: x.comment(
        ctx, "2", "Start with the schools beside the estates.", WORKPLAN_V2[1]["text"], False))
    clock.at("2026-02-26T09:30:00Z")  # from the public, taken in by the secretariat
    c.on_consultation(ledger, sec, cx, lambda ctx, x: x.comment(
        ctx, "3", "Publish the readings every day, not every month.", None, True))
    clock.at("2026-02-27T20:15:00Z")
    c.on_consultation(ledger, s["cso-cycle"], cx, lambda ctx, x: x.comment(
        ctx, "1", "Close the school streets to all motor traffic.", None, False))
    clock.at("2026-03-05T10:00:00Z")
    c.on_consultation(ledger, sec, cx, lambda ctx, x: x.publish_version(
        WORKPLAN_V2, "Estates' schools first; weekly readings."))
    c.on_consultation(ledger, sec, cx, lambda ctx, x: x.answer(1, "accepted", None, 2))
    c.on_consultation(ledger, sec, cx, lambda ctx, x: x.answer(
        2, "partly_accepted", "Weekly, not daily: the sensors are checked once a week.", 2))
    c.on_consultation(ledger, sec, cx, lambda ctx, x: x.answer(
        3, "not_accepted", "Residents' access and deliveries need the streets open at set hours.", None))
    c.on_consultation(ledger, sec, cx, lambda ctx, x: x.close())
    echo(f"{cx} consulted on the workplan: 3 comments answered, version 2")

    clock.at("2026-03-10T17:00:00Z")
    c.record_attendance(ledger, sec, mt1, [PEOPLE_BY_STEM[stem] for stem in FOUNDING_REPRESENTS])
    c.declare_conflict(ledger, s["institute-first"], mt1, PEOPLE_BY_STEM["institute-first"], [2],
                       "The institute would run the sensor network")
    m1 = c.propose_motion(ledger, s["cso-air"], mt1, 1, "ordinary", "The committee adopts the pilot workplan v3.",
                          act={"kind": "adopt", "consultation": cx, "version": 2})
    c.second_motion(ledger, s["cso-tenants"], m1)
    c.open_vote(ledger, s["party"], m1)
    for stem, choice in (("cso-air", "yes"), ("cso-tenants", "yes"), ("cso-cycle", "yes"),
                         ("institute-first", "yes"), ("party", "no")):
        c.cast_vote(ledger, s[stem], m1, choice)
    result, why = c.close_motion(ledger, s["party"], m1)
    c.attach_dissent(ledger, s["party"], m1, "The workplan underestimates enforcement costs.")
    c.on_consultation(ledger, sec, cx, lambda ctx, x: x.adopt(2, m1))
    echo(f"{m1} (ordinary): {result}, {why}")
    m2 = c.propose_motion(ledger, s["cso-cycle"], mt1, 2, "funding",
                          "Allocate EUR 40,000.00 from the pilot fund to the school sensors pilot.",
                          amount={"value": "40000.00", "currency": "EUR", "fund": fund})
    c.second_motion(ledger, s["cso-air"], m2)
    c.open_vote(ledger, sec, m2)
    for stem in ("cso-air", "cso-cycle", "party"):
        c.cast_vote(ledger, s[stem], m2, "yes")
    c.cast_vote(ledger, sec, m2, "yes", member=PEOPLE_BY_STEM["cso-tenants"])  # roll call by the secretariat
    result, why = c.close_motion(ledger, sec, m2)
    echo(f"{m2} (funding, institute recused): {result}, {why}")
    clock.at("2026-03-12T10:00:00Z")
    # The institute runs the sensor network (hence its declared conflict on item 2).
    allocation = c.allocate(ledger, sec, fund, "School sensors pilot", "40000.00", m2, "urban-health")
    clock.at("2026-03-20T10:00:00Z")
    c.disburse(ledger, sec, fund, allocation, "15000.00", digest("invoice sensors batch 1"))
    clock.at("2026-04-15T10:00:00Z")
    c.disburse(ledger, sec, fund, allocation, "10000.00", digest("invoice installation"))

    # Meeting 2: chaired by Clean Air Now.
    clock.at("2026-04-20T10:00:00Z")
    mt2 = c.schedule_meeting(ledger, sec, committee, _moment("2026-05-05T17:00:00Z"))
    c.publish_agenda(ledger, sec, mt2, [
        {"title": "Extend the pilot to night buses"}, {"title": "Amend the covenant"},
        {"title": "Minutes of the first meeting", "documents": [digest("minutes MT-1")]}])
    clock.at("2026-05-05T17:00:00Z")
    c.record_attendance(ledger, sec, mt2, [PEOPLE_BY_STEM[k] for k in ("party", "cso-air", "cso-tenants",
                                                                        "cso-cycle")])
    m3 = c.propose_motion(ledger, s["cso-tenants"], mt2, 1, "ordinary", "Extend the pilot to night buses.")
    c.second_motion(ledger, s["cso-air"], m3)
    c.open_vote(ledger, s["cso-air"], m3)
    c.cast_vote(ledger, s["cso-air"], m3, "yes")
    c.cast_vote(ledger, s["cso-tenants"], m3, "yes")
    c.cast_vote(ledger, s["party"], m3, "no")
    c.cast_vote(ledger, sec, m3, "no", member=PEOPLE_BY_STEM["cso-cycle"])  # later disputed
    result, why = c.close_motion(ledger, s["cso-air"], m3)
    echo(f"{m3} (ordinary, tie): {result}, {why}")
    m4 = c.propose_motion(ledger, s["cso-tenants"], mt2, 2, "amendment",
                          "Strengthen the tenants' consultation clause and add an open-data clause.",
                          changes=AMENDMENT)
    c.second_motion(ledger, s["cso-cycle"], m4)
    c.open_vote(ledger, s["cso-air"], m4)
    for stem in ("party", "cso-air", "cso-tenants", "cso-cycle"):
        c.cast_vote(ledger, s[stem], m4, "yes")
    result, why = c.close_motion(ledger, s["cso-air"], m4)
    version = c.amend_covenant(ledger, sec, covenant, m4)
    echo(f"{m4} (amendment): {result}, {why}; covenant now at version {version}")
    m5 = c.propose_motion(ledger, s["cso-cycle"], mt2, 3, "minutes", "Adopt the minutes of the first meeting.",
                          minutes_of=mt1)
    c.open_vote(ledger, s["cso-air"], m5)
    for stem in ("party", "cso-air", "cso-tenants", "cso-cycle"):
        c.cast_vote(ledger, s[stem], m5, "yes")
    c.close_motion(ledger, s["cso-air"], m5)
    c.adopt_minutes(ledger, sec, mt1, m5, digest("minutes MT-1"))

    # The institute's representative changes: Prof Asante names Dr Haddad in his place,
    # she takes the institute's seat, and his key is retired.
    clock.at("2026-05-20T10:00:00Z")
    c.change_representatives(ledger, s["institute-first"], covenant, "urban-health", [PEOPLE_BY_STEM["institute"]])
    c.vacate_seat(ledger, sec, committee, PEOPLE_BY_STEM["institute-first"], "Left the Urban Health Institute")
    c.assign_seat(ledger, sec, committee, PEOPLE_BY_STEM["institute"], "urban-health")
    ledger.retire_key(sec, s["institute-first"].key_id, "Prof Asante left the Urban Health Institute")
    echo("urban-health replaced its representative: Dr Ines Haddad for Prof Kwame Asante")

    # Meeting 3: the Tenants' Union's turn; its representative delegates the chair.
    clock.at("2026-06-01T10:00:00Z")
    mt3 = c.schedule_meeting(ledger, sec, committee, _moment("2026-06-16T17:00:00Z"))
    c.delegate_chair(ledger, s["cso-tenants"], mt3, PEOPLE_BY_STEM["cso-cycle"], "Luis Moreno is travelling")
    c.publish_agenda(ledger, sec, mt3, [{"title": "Commission a night-time noise study"}])
    clock.at("2026-06-16T17:00:00Z")
    c.record_attendance(ledger, sec, mt3, [PEOPLE_BY_STEM["cso-cycle"], PEOPLE_BY_STEM["institute"]])
    m6 = c.propose_motion(ledger, s["institute"], mt3, 1, "ordinary", "Commission a night-time noise study.")
    c.second_motion(ledger, s["cso-cycle"], m6)
    c.open_vote(ledger, s["cso-cycle"], m6)
    c.cast_vote(ledger, s["institute"], m6, "yes")
    c.cast_vote(ledger, s["cso-cycle"], m6, "yes")
    result, why = c.close_motion(ledger, s["cso-cycle"], m6)
    echo(f"{m6} (ordinary, two present): {result}, {why}")

    # Milestones.
    clock.at("2026-06-20T10:00:00Z")
    ms1 = c.define_milestone(ledger, sec, covenant, "Cleaner air at school gates", "mean PM2.5 at 12 schools",
                             "ug/m3", "18.0", "12.0", "2027-06-30", "urban-health")
    c.report_progress(ledger, s["institute"], ms1, "17.1", "2026-03-31", digest("Q1 air report"),
                      "First sensors online; winter readings high.")
    clock.at("2026-10-02T10:00:00Z")
    c.report_progress(ledger, s["institute"], ms1, "15.9", "2026-09-30", digest("Q3 air report"),
                      "School streets closures are working.")
    c.evaluate_milestone(ledger, s["auditor"], ms1, "Readings independently sampled at 3 schools; consistent.")
    ms2 = c.define_milestone(ledger, sec, covenant, "Sensors installed", "sensors installed and reporting",
                             "sensors", "0", "40", "2026-12-31", "clean-air-now")
    c.report_progress(ledger, s["cso-air"], ms2, "12", "2026-03-31", digest("install log Q1"), "Batch 1 done.")
    c.report_progress(ledger, s["cso-air"], ms2, "31", "2026-09-30", digest("install log Q3"), "Batch 2 done.")

    # A dispute about the roll-call vote recorded for Cycle Forward on M-3.
    clock.at("2026-10-05T09:00:00Z")
    contested = [r for _, r in ledger.read(0, ledger.size())
                 if r.type == "motion.vote_cast" and r.data.get("on_behalf") and r.data.get("choice") == "no"]
    # Filed confidentially: who complains, and why, are sealed to the ombudsperson; the
    # secretariat's intake key signs, so Clean Air Now's own key appears nowhere.
    d1 = c.file_confidential_dispute(ledger, sec, covenant,
                                     {"kind": "party", "name": "Clean Air Now", "party": "clean-air-now"},
                                     ["cycle-forward"], [contested[-1].event_hash],
                                     "The roll-call vote recorded for Cycle Forward on M-3 was not the vote Mei Lin "
                                     "gave.")
    c.on_dispute(ledger, sec, d1, lambda ctx, d: d.acknowledge("Received; the ombudsperson will be asked."))
    c.assign_dispute(ledger, sec, d1, PEOPLE_BY_STEM["ombudsperson"], "ombudsperson")
    c.on_dispute(ledger, sec, d1, lambda ctx, d: d.submit("Mei Lin", "I said 'no objection', meaning yes."))
    clock.at("2026-10-20T15:00:00Z")
    c.on_dispute(ledger, s["ombudsperson"], d1,
                 lambda ctx, d: d.hold_hearing("2026-10-20", "Heard the secretariat and Mei Lin."))
    c.on_dispute(ledger, s["ombudsperson"], d1, lambda ctx, d: d.record_finding(
        True, "The roll call was misrecorded: the member's intention was yes."))
    c.on_dispute(ledger, s["ombudsperson"], d1, lambda ctx, d: d.order_remedy(
        "record_correction", "Cycle Forward attaches a statement to M-3 recording its intended vote.",
        "2026-11-20"))
    c.attach_dissent(ledger, s["cso-cycle"], m3, "Cycle Forward's intended vote on M-3 was yes (see D-1).")
    correction = ledger.record_at(ledger.size() - 1)
    c.on_dispute(ledger, sec, d1, lambda ctx, d: d.record_compliance(
        True, "Statement attached to M-3.", [correction.event_hash]))
    c.on_dispute(ledger, s["ombudsperson"], d1, lambda ctx, d: d.close("Upheld; record corrected."))

    # Luis Moreno has a new laptop: his key is rotated, signed by the old one.  His seat,
    # votes and representation are his, not the key's, so nothing else changes.
    clock.at("2026-10-21T09:00:00Z")
    s["cso-tenants-2026"] = s["cso-tenants"]
    s["cso-tenants"] = Signer.generate()
    ledger.rotate_key(s["cso-tenants-2026"], s["cso-tenants-2026"].key_id, s["cso-tenants"].public_b64, "New laptop")
    echo("Luis Moreno's key rotated (new laptop); his seat and votes carry over")

    # The next two meetings, scheduled with their agendas in good time and not yet
    # recorded: the README's tour records MT-4, and next-meeting.ledger MT-5.
    clock.at("2026-10-26T10:00:00Z")
    mt4 = c.schedule_meeting(ledger, sec, committee, _moment("2026-11-10T17:00:00Z"))
    c.publish_agenda(ledger, sec, mt4, [{"title": "Bus lane enforcement"}, {"title": "Any other business"}])
    mt5 = c.schedule_meeting(ledger, sec, committee, _moment("2026-11-24T17:00:00Z"))
    c.publish_agenda(ledger, sec, mt5, [{"title": "School streets: extend to four more schools"}])
    echo(f"{d1}: filed confidentially, heard, upheld, remedied and closed")


REPRESENTS = {
    "party": "civic-renewal", "cso-air": "clean-air-now", "cso-tenants": "tenants-union",
    "cso-cycle": "cycle-forward", "institute": "urban-health",
}
# Who represented each party when the covenant was signed.
FOUNDING_REPRESENTS = {**REPRESENTS, "institute-first": "urban-health"}
del FOUNDING_REPRESENTS["institute"]
ROTATION = ["civic-renewal", "clean-air-now", "tenants-union", "cycle-forward", "urban-health"]
PEOPLE_BY_STEM = {stem: holder for stem, holder, _ in PEOPLE}

COVENANT_TERMS = {
    "parties": [
        {"id": "civic-renewal", "name": "Civic Renewal Party", "kind": "political_party",
         "representatives": [PEOPLE_BY_STEM["party"]]},
        {"id": "clean-air-now", "name": "Clean Air Now", "kind": "civil_society",
         "representatives": [PEOPLE_BY_STEM["cso-air"]], "identifier": "GB-CHC-1234567"},
        {"id": "tenants-union", "name": "Riverside Tenants' Union", "kind": "civil_society",
         "representatives": [PEOPLE_BY_STEM["cso-tenants"]], "identifier": "GB-COH-01234567",
         "constituencies": ["social-housing-tenants"]},
        {"id": "cycle-forward", "name": "Cycle Forward", "kind": "civil_society",
         "representatives": [PEOPLE_BY_STEM["cso-cycle"]]},
        {"id": "urban-health", "name": "Urban Health Institute", "kind": "research_institute",
         "representatives": [PEOPLE_BY_STEM["institute-first"]], "identifier": "GB-COH-07654321"},
    ],
    "objectives": ["Cut PM2.5 at school gates by a third by mid-2027",
                   "Co-design clean-air measures with the people they affect"],
    "clauses": [
        {"number": "1", "text": "The parties co-produce the Riverside clean-air programme as equals."},
        {"number": "2", "text": "Decisions are taken in the Co-design Committee under the rules below."},
        {"number": "3", "text": "Tenants are consulted before any measure affecting housing estates."},
        {"number": "4", "text": "Funds are pooled in the Clean Air Pilot Fund and spent only by decision."},
        {"number": "5", "text": "Disputes go to the independent ombudsperson."},
    ],
    "term": {"start": "2026-01-01", "end": "2040-12-31"},
    "reviews": ["2026-06-30", "2027-06-30", "2028-06-30"],
    "renewal": "Renewable for three years by an amendment-class decision.",
    "decision_rules": {
        "ordinary": {"quorum": "1/2", "threshold": "1/2", "base": "cast", "strict": True, "seconded": True},
        "funding": {"quorum": "2/3", "threshold": "2/3", "base": "cast", "strict": False, "seconded": True},
        "amendment": {"quorum": "2/3", "threshold": "2/3", "base": "present", "strict": False, "seconded": True},
        "minutes": {"quorum": "1/2", "threshold": "1/2", "base": "cast", "strict": True, "seconded": False},
        # Policy the partners co-produce needs a majority of civil society and of the political parties.
        "policy": {"quorum": "1/2", "threshold": "1/2", "base": "cast", "strict": True, "seconded": True,
                   "majority_within": ["civil_society", "political_party"]},
    },
    "dispute_procedure": {"ombudspersons": [PEOPLE_BY_STEM["ombudsperson"]], "mediators": [],
                          "acknowledge_days": 7, "resolve_days": 60},
    # A seat is reserved for the people of the estates, whoever else sits.
    "composition": {"min_civil_society_seats": 3, "max_share": "1/3", "max_vacancy_days": 90,
                    "reserved": [{"constituency": "social-housing-tenants", "seats": 1}]},
    "meetings": {"agenda_notice_days": 7, "urgent_allowed": True},
    # A confidential channel: residents' voices, taken in by the secretariat, sealed to the ombudsperson.
    "channels": {"community-voices": {"recipients": [PEOPLE_BY_STEM["ombudsperson"]],
                                      "intake": [PEOPLE_BY_STEM["secretariat"]],
                                      "acknowledge_days": 7, "feedback_days": 90, "members_submit": True}},
    "funding": {"currency": "EUR"},
    # A member who cannot attend may give their vote to one other member; represented members count
    # toward the quorum.  A quarter of the votes against may attach a joint minority report.
    "proxies": {"allowed": True, "max_per_holder": 1, "quorum": "counts"},
    "minority_report": {"min_share": "1/4"},
    "adjustments": {"answer_days": 30},
    # Demo identifiers are made up; a real partnership uses its 360Giving prefix and registered numbers.
    "open_data": {"prefix": "360G-riverside"},
}

# The same terms with today's representatives (Dr Haddad for the institute): a starting
# point for another covenant between the same parties (covenant-terms.json).
CURRENT_TERMS = dict(COVENANT_TERMS, parties=[
    dict(party, representatives=[PEOPLE_BY_STEM[stem] for stem, represented in REPRESENTS.items()
                                 if represented == party["id"]])
    for party in COVENANT_TERMS["parties"]])  # type: ignore[attr-defined]

WORKPLAN = [
    {"number": "1", "text": "School streets close to through traffic at the start and end of the school day."},
    {"number": "2", "text": "Air sensors are installed at the six schools with the worst readings."},
    {"number": "3", "text": "Readings are published every month."},
]
WORKPLAN_V2 = [
    WORKPLAN[0],
    {"number": "2", "text": "Air sensors are installed first at the schools beside the housing estates, then at "
                            "the others with the worst readings."},
    {"number": "3", "text": "Readings are published every week."},
]

AMENDMENT = [
    {"op": "replace", "number": "3",
     "text": "Tenants are consulted, with at least 28 days' notice, before any measure affecting housing estates."},
    {"op": "insert", "number": "6", "text": "All sensor data is published as open data within a week."},
]

# An example for `ledger apply`: the committee's next meeting, recorded from
# one file (paths are relative to the demo directory).
NEXT_MEETING = f"""\
# Meeting MT-5 of the Clean Air Co-design Committee (scheduled, agenda published),
# recorded in one go once it has been held:
#   ledger --db ledger.db apply next-meeting.ledger --key keys/secretariat.key
# Every line is a ledger command; @motion is the latest motion created.
meeting attend MT-5 --member "{PEOPLE_BY_STEM['party']}" --member "{PEOPLE_BY_STEM['cso-air']}" \
--member "{PEOPLE_BY_STEM['cso-tenants']}" --member "{PEOPLE_BY_STEM['cso-cycle']}"
motion propose --meeting MT-5 --item 1 --text "Extend school streets to four more schools." \
--key keys/cso-tenants.key
motion second @motion --key keys/cso-air.key
motion open @motion
motion vote @motion yes --member "{PEOPLE_BY_STEM['cso-air']}"
motion vote @motion yes --member "{PEOPLE_BY_STEM['cso-tenants']}"
motion vote @motion yes --member "{PEOPLE_BY_STEM['cso-cycle']}"
motion vote @motion no --member "{PEOPLE_BY_STEM['party']}"
motion close @motion
meeting close MT-5
"""
