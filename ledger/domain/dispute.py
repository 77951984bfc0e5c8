"""Disputes: grievance, acknowledgement, assignment, hearing, finding, remedy.

A grievance is filed by a party, a member, or a member of the public (whom
the secretariat records), citing the records it contests by event hash (the
command also takes stream and seq, and records their hash).
It is acknowledged, assigned to an ombudsperson or mediator named in the
covenant's dispute procedure who belongs to none of the organisations
involved, heard, decided by a finding and a remedy whose compliance is
recorded, and closed; a party may appeal.  Deadlines (to acknowledge, to
resolve) come from the covenant and are derived, not typed in.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from ledger.domain.base import Context, LedgerAggregate, require, require_not_future
from ledger.domain.covenant import Covenant, check_date, check_text
from ledger.errors import InvalidInputError
from ledger.record import HEX64_RE, format_time
from ledger.types import register_aggregate

COMPLAINANT_KINDS = ("party", "member", "public")
REMEDY_KINDS = ("re_vote", "funding_correction", "record_correction", "apology", "other")
STAGES = ("filed", "acknowledged", "assigned", "found", "remedied", "closed", "appealed")


@register_aggregate
class Dispute(LedgerAggregate):
    KIND = "dispute"
    PREFIX = "D"

    class Filed(LedgerAggregate.Created):
        TYPE = "dispute.filed"
        ref: str
        covenant: str
        complainant: dict[str, str]  # {"kind": party|member|public, "name": ..., "party": optional}
        respondents: list[str]  # parties complained about
        contested: list[str]  # event hashes
        grounds: str
        # A confidential grievance: the complainant and the grounds, sealed to the covenant's
        # neutrals (complainant is then {"kind": "confidential"} and grounds empty).
        sealed: dict[str, Any] | None = None

        def check(self, aggregate: Any, ctx: Context) -> None:
            covenant = ctx.find(Covenant, self.covenant)
            if self.sealed is not None:
                _check_confidential(self, covenant, ctx)
            else:
                require(self.complainant.get("kind") in COMPLAINANT_KINDS, "unknown complainant kind")
            for party in self.respondents + ([self.complainant["party"]] if self.complainant.get("party") else []):
                require(party in covenant.parties, f"{party} is not a party to {covenant.ref}")
            require(bool(self.contested), "a grievance must cite the records it contests")
            for digest in self.contested:
                require(bool(HEX64_RE.match(digest)), f"{digest!r} is not an event hash")
                require(ctx.record_exists(digest), f"no record with event hash {digest[:16]}… precedes this grievance")

    def __init__(self, ref: str, covenant: str, complainant: dict[str, str], respondents: list[str],
                 contested: list[str], grounds: str, sealed: dict[str, Any] | None = None) -> None:
        self.ref = ref
        self.sealed = sealed
        self.covenant = covenant
        self.complainant = complainant
        self.respondents = respondents
        self.contested = contested
        self.grounds = grounds
        self.stage = "filed"
        self.acknowledged_at: str | None = None
        self.assignee: str | None = None
        self.findings: list[dict[str, Any]] = []
        self.remedy: dict[str, Any] | None = None
        self.compliance: list[dict[str, Any]] = []
        self.hearings: list[dict[str, Any]] = []
        self.submissions: list[dict[str, Any]] = []
        self.appeals: list[str] = []
        self.appointments: list[str] = []  # decisions that appointed a neutral for an appeal
        self.appealed_at: str | None = None  # the latest appeal's time: its own deadline runs from it

    @classmethod
    def file(cls, ctx: Context, covenant: str, complainant: dict[str, str], respondents: list[str],
             contested: list[str], grounds: str) -> Dispute:
        if complainant.get("kind") not in COMPLAINANT_KINDS:
            raise InvalidInputError(f"complainant kind must be one of {', '.join(COMPLAINANT_KINDS)}")
        check_text(complainant.get("name"), "complainant name", 200)
        ref = cls.next_ref(ctx)
        return cls._create(cls.Filed, id=cls.new_id(ctx, ref), ref=ref, covenant=covenant,
                           complainant=complainant, respondents=sorted(set(respondents)),
                           contested=[c.lower() for c in contested], grounds=check_text(grounds, "grounds"))

    @classmethod
    def file_confidential(cls, ctx: Context, covenant: str, respondents: list[str], contested: list[str],
                          sealed: dict[str, Any]) -> Dispute:
        ref = cls.next_ref(ctx)
        return cls._create(cls.Filed, id=cls.new_id(ctx, ref), ref=ref, covenant=covenant,
                           complainant={"kind": "confidential"}, respondents=sorted(set(respondents)),
                           contested=[c.lower() for c in contested], grounds="", sealed=sealed)

    def involved(self) -> set[str]:
        parties = set(self.respondents)
        if self.complainant.get("party"):
            parties.add(self.complainant["party"])
        return parties

    def deadlines(self, covenant: Covenant) -> dict[str, str]:
        procedure = covenant.terms["dispute_procedure"]
        filed = self.created_on
        out = {
            "acknowledge_by": format_time(filed + timedelta(days=procedure["acknowledge_days"])),
            "resolve_by": format_time(filed + timedelta(days=procedure["resolve_days"])),
        }
        if self.appealed_at is not None:
            # An appeal has its own deadline: the procedure's appeal_days (else resolve_days) from the appeal.
            days = procedure.get("appeal_days") or procedure["resolve_days"]
            appealed = datetime.fromisoformat(self.appealed_at.replace("Z", "+00:00"))
            out["appeal_resolve_by"] = format_time(appealed + timedelta(days=days))
        return out

    def overdue(self, covenant: Covenant, now: datetime) -> list[str]:
        late = []
        due = self.deadlines(covenant)
        stamp = format_time(now)
        if self.acknowledged_at is None and stamp > due["acknowledge_by"]:
            late.append("acknowledgement")
        if self.stage not in ("closed",) and stamp > due["resolve_by"] and self.appealed_at is None:
            late.append("resolution")
        if self.appealed_at is not None and self.stage != "closed" and stamp > due["appeal_resolve_by"]:
            late.append("appeal")
        remedy_due = (self.remedy or {}).get("due")
        if remedy_due and self.stage == "remedied" and not any(c["complied"] for c in self.compliance) \
                and stamp[:10] > remedy_due:
            late.append("remedy")
        return late

    def _require_assignee(self, ctx: Context) -> None:
        require(self.assignee is not None, f"{self.ref} has no ombudsperson or mediator assigned")
        require(ctx.actor.person == self.assignee, f"only the person assigned to {self.ref} may do this")

    class Acknowledged(LedgerAggregate.Event):
        TYPE = "dispute.acknowledged"
        note: str

        def check(self, dispute: Dispute, ctx: Context) -> None:
            require(dispute.stage == "filed", f"{dispute.ref} is already {dispute.stage}")

        def apply(self, dispute: Dispute) -> None:
            dispute.stage = "acknowledged"
            dispute.acknowledged_at = format_time(self.timestamp)

    def acknowledge(self, note: str) -> None:
        self.trigger_event(self.Acknowledged, note=note)

    class Assigned(LedgerAggregate.Event):
        TYPE = "dispute.assigned"
        assignee: str
        capacity: str  # ombudsperson | mediator
        # For an appeal: a passed decision appointing a neutral the covenant does not name (default none).
        decision: str | None = None

        def check(self, dispute: Dispute, ctx: Context) -> None:
            covenant = ctx.find(Covenant, dispute.covenant)
            require(dispute.stage in ("acknowledged", "appealed"), f"{dispute.ref} must be acknowledged first")
            require(self.capacity in ("ombudsperson", "mediator"), "capacity is ombudsperson or mediator")
            listed = covenant.neutrals.get(self.capacity + "s", [])
            if dispute.stage == "appealed":
                # The appeal is heard by a neutral other than whoever made a finding on it.
                found_by = {f["by"] for f in dispute.findings}
                require(self.assignee not in found_by,
                        f"{ctx.name(self.assignee)} made a finding on {dispute.ref}; another neutral hears the appeal")
            if self.decision is not None:
                require(dispute.stage == "appealed", "a decision appoints a neutral only for an appeal")
                _require_appointment(ctx, covenant, dispute, self.decision)
                require(self.capacity in ctx.keys.roles_of(self.assignee),
                        f"{ctx.name(self.assignee)} does not hold the {self.capacity} role")
            else:
                require(self.assignee in listed,
                        f"{ctx.name(self.assignee)} is not named as {self.capacity} in the covenant")
            party = covenant.party_of(self.assignee)
            require(party is None or party not in dispute.involved(),
                    f"the {self.capacity} represents {party}, which is involved in {dispute.ref}")
            require(self.assignee != dispute.assignee, "already assigned to that person")

        def apply(self, dispute: Dispute) -> None:
            dispute.assignee = self.assignee
            dispute.stage = "assigned"
            if self.decision is not None:
                dispute.appointments.append(self.decision)

    def assign(self, assignee: str, capacity: str, decision: str | None = None) -> None:
        self.trigger_event(self.Assigned, assignee=assignee, capacity=capacity, decision=decision)

    class SubmissionMade(LedgerAggregate.Event):
        TYPE = "dispute.submission_made"
        by: str
        text: str

        def check(self, dispute: Dispute, ctx: Context) -> None:
            require(dispute.stage in ("acknowledged", "assigned"), f"{dispute.ref} is not taking submissions")

        def apply(self, dispute: Dispute) -> None:
            dispute.submissions.append({"by": self.by, "text": self.text})

    def submit(self, by: str, text: str) -> None:
        self.trigger_event(self.SubmissionMade, by=check_text(by, "by", 200), text=check_text(text, "submission"))

    class HearingHeld(LedgerAggregate.Event):
        TYPE = "dispute.hearing_held"
        held_on: str
        notes: str

        def check(self, dispute: Dispute, ctx: Context) -> None:
            require(dispute.stage == "assigned", f"{dispute.ref} is {dispute.stage}; a hearing needs an assignee")
            dispute._require_assignee(ctx)
            check_date(self.held_on, "hearing date")
            require_not_future(self.held_on, ctx, "hearing date")

        def apply(self, dispute: Dispute) -> None:
            dispute.hearings.append({"held_on": self.held_on, "notes": self.notes})

    def hold_hearing(self, held_on: str, notes: str) -> None:
        self.trigger_event(self.HearingHeld, held_on=check_date(held_on, "hearing date"),
                           notes=check_text(notes, "notes"))

    class FindingRecorded(LedgerAggregate.Event):
        TYPE = "dispute.finding_recorded"
        upheld: bool
        finding: str
        # The neutral may seal the finding's text to the covenant's neutrals (``finding`` is then
        # empty); whether the grievance is upheld stays public.
        sealed: dict[str, Any] | None = None

        def check(self, dispute: Dispute, ctx: Context) -> None:
            require(dispute.stage == "assigned", f"{dispute.ref} is {dispute.stage}, not awaiting a finding")
            dispute._require_assignee(ctx)
            _check_sealed_text(self.sealed, self.finding, ctx, ctx.find(Covenant, dispute.covenant), "finding")

        def apply(self, dispute: Dispute) -> None:
            dispute.findings.append({"upheld": self.upheld, "finding": self.finding, "by": dispute.assignee,
                                     **({"sealed": self.sealed} if self.sealed is not None else {})})
            dispute.stage = "found"

    def record_finding(self, upheld: bool, finding: str, sealed: dict[str, Any] | None = None) -> None:
        text = "" if sealed is not None else check_text(finding, "finding")
        self.trigger_event(self.FindingRecorded, upheld=upheld, finding=text, sealed=sealed)

    class RemedyOrdered(LedgerAggregate.Event):
        TYPE = "dispute.remedy_ordered"
        kind: str
        details: str
        due: str | None = None  # the date by which it must be complied with (records before 0.2 have none)
        sealed: dict[str, Any] | None = None  # the details sealed to the neutrals (details then empty)

        def check(self, dispute: Dispute, ctx: Context) -> None:
            _check_sealed_text(self.sealed, self.details, ctx, ctx.find(Covenant, dispute.covenant), "remedy")
            require(dispute.stage == "found" and dispute.findings[-1]["upheld"],
                    f"{dispute.ref} needs a finding that upholds it before a remedy")
            require(self.kind in REMEDY_KINDS, f"remedy kind is one of {', '.join(REMEDY_KINDS)}")
            dispute._require_assignee(ctx)
            require(self.due is not None, "a remedy needs a deadline (due date)")
            check_date(self.due, "due date")
            require(str(self.due) >= ctx.at.date().isoformat(), f"the remedy's due date {self.due} has passed")

        def apply(self, dispute: Dispute) -> None:
            dispute.remedy = {"kind": self.kind, "details": self.details, "due": self.due,
                              **({"sealed": self.sealed} if self.sealed is not None else {})}
            dispute.stage = "remedied"

    def order_remedy(self, kind: str, details: str, due: str | None = None,
                     sealed: dict[str, Any] | None = None) -> None:
        if kind not in REMEDY_KINDS:
            raise InvalidInputError(f"remedy kind is one of {', '.join(REMEDY_KINDS)}")
        text = "" if sealed is not None else check_text(details, "details")
        self.trigger_event(self.RemedyOrdered, kind=kind, details=text, sealed=sealed,
                           due=check_date(due, "due date") if due is not None else None)

    class ComplianceRecorded(LedgerAggregate.Event):
        TYPE = "dispute.compliance_recorded"
        complied: bool
        notes: str
        evidence: list[str]  # event hashes of the records that carry out the remedy

        def check(self, dispute: Dispute, ctx: Context) -> None:
            require(dispute.stage == "remedied", f"{dispute.ref} has no remedy to comply with")
            for digest in self.evidence:
                require(ctx.record_exists(digest), f"no record with event hash {digest[:16]}…")

        def apply(self, dispute: Dispute) -> None:
            dispute.compliance.append({"complied": self.complied, "notes": self.notes, "evidence": self.evidence})

    def record_compliance(self, complied: bool, notes: str, evidence: list[str]) -> None:
        self.trigger_event(self.ComplianceRecorded, complied=complied, notes=check_text(notes, "notes"),
                           evidence=[e.lower() for e in evidence])

    class Closed(LedgerAggregate.Event):
        TYPE = "dispute.closed"
        outcome: str

        def check(self, dispute: Dispute, ctx: Context) -> None:
            require(dispute.stage in ("found", "remedied"), f"{dispute.ref} is {dispute.stage}; find first")
            if dispute.stage == "found":
                require(not dispute.findings[-1]["upheld"],
                        f"{dispute.ref}'s finding upholds the grievance: order a remedy before closing it")
            if dispute.stage == "remedied":
                require(any(c["complied"] for c in dispute.compliance), "the remedy has not been complied with")
            require(ctx.actor.person == dispute.assignee or "secretariat" in ctx.actor.roles,
                    "only the assignee or the secretariat closes a dispute")

        def apply(self, dispute: Dispute) -> None:
            dispute.stage = "closed"

    def close(self, outcome: str) -> None:
        self.trigger_event(self.Closed, outcome=check_text(outcome, "outcome"))

    class Appealed(LedgerAggregate.Event):
        TYPE = "dispute.appealed"
        party: str
        grounds: str

        def check(self, dispute: Dispute, ctx: Context) -> None:
            covenant = ctx.find(Covenant, dispute.covenant)
            require(dispute.stage in ("found", "remedied", "closed"), f"{dispute.ref} has no finding to appeal")
            require(self.party in dispute.involved(), f"{self.party} is not involved in {dispute.ref}")
            require(covenant.party_of(ctx.actor.person) == self.party, f"only {self.party}'s representative appeals")

        def apply(self, dispute: Dispute) -> None:
            dispute.appeals.append(self.grounds)
            dispute.stage = "appealed"
            dispute.appealed_at = format_time(self.timestamp)

    def appeal(self, party: str, grounds: str) -> None:
        self.trigger_event(self.Appealed, party=party, grounds=check_text(grounds, "grounds"))


def _require_appointment(ctx: Context, covenant: Covenant, dispute: Dispute, decision: str) -> None:
    """A passed decision of the class the covenant names for appointing an appeal's
    neutral (``dispute_procedure.appeal_class``, default ``ordinary``), used once."""
    from ledger.domain.motion import Motion

    wanted = str(covenant.terms["dispute_procedure"].get("appeal_class") or "ordinary")
    motion = ctx.find(Motion, decision)
    require(motion.status == "closed" and motion.result == "pass", f"{decision} has not passed")
    require(motion.decision_class == wanted,
            f"{decision} was decided as {motion.decision_class}, but appointing a neutral needs the {wanted} class")
    require(motion.covenant == covenant.ref, f"{decision} belongs to covenant {motion.covenant}, not {covenant.ref}")
    require(decision not in dispute.appointments, f"{decision} has already appointed a neutral for {dispute.ref}")



def neutral_recipients(ctx: Context, covenant: Covenant) -> list[str]:
    """The age recipients of the neutrals the covenant names (ombudspersons and mediators)."""
    people = [p for who in ("ombudspersons", "mediators") for p in covenant.neutrals.get(who, [])]
    return sorted({r for person in people for r in ctx.keys.recipients_of(person)})


def _check_confidential(filed: Any, covenant: Covenant, ctx: Context) -> None:
    from ledger.errors import InvalidInputError
    from ledger.sealed import check_payload

    require(filed.complainant == {"kind": "confidential"} and filed.grounds == "",
            "a confidential grievance keeps the complainant and the grounds in its sealed payload only")
    require("secretariat" in ctx.actor.roles,
            "a confidential grievance is signed by the intake (the secretariat), not by the complainant")
    try:
        check_payload(filed.sealed)
    except InvalidInputError as exc:
        require(False, str(exc))
    allowed = set(neutral_recipients(ctx, covenant))
    named = set(filed.sealed["sealed"]["recipients"])
    require(bool(named) and named <= allowed,
            "a confidential grievance is sealed to the covenant's neutrals, and only to them")


def _check_sealed_text(sealed: dict[str, Any] | None, text: str, ctx: Context, covenant: Covenant, what: str) -> None:
    """A finding or remedy is either in clear, or sealed to the covenant's neutrals with its text empty."""
    if sealed is None:
        return
    from ledger.errors import InvalidInputError
    from ledger.sealed import check_payload

    require(text == "", f"a sealed {what} keeps its text in the sealed payload only")
    try:
        check_payload(sealed)
    except InvalidInputError as exc:
        require(False, str(exc))
    named = set(sealed["sealed"]["recipients"])
    require(bool(named) and named <= set(neutral_recipients(ctx, covenant)),
            f"a sealed {what} is sealed to the covenant's neutrals, and only to them")
