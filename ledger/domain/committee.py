"""Co-design committees and their meetings.

A committee's seats are held by organisations' representatives; the
covenant's composition rules (civil society holds at least N seats; no
organisation more than a given share) are checked on every change: a new
committee or seat must meet them, while a departure that breaks them is
recorded and leaves the committee *in breach* until the seat is filled.  The
chair of each meeting follows the committee's rotation (the chair passes to
the next organisation in a fixed order every K meetings); anyone else needs
a recorded delegation.  Meetings publish an agenda before they start, record
attendance and declared conflicts (which recuse members from votes on the
named items), and have their minutes adopted later by decision.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from ledger.domain.base import Context, LedgerAggregate, RuleError, current_context, require
from ledger.domain.covenant import Covenant, check_text
from ledger.errors import InvalidInputError
from ledger.money import parse_fraction
from ledger.record import format_time, parse_time
from ledger.types import register_aggregate

DIGEST_RE = re.compile(r"^[0-9a-f]{64}$")


def composition_problem(covenant: Covenant, seats: dict[str, str]) -> str | None:
    """Why a seat allocation breaks the covenant's composition rules, or None."""
    rules = covenant.terms.get("composition") or {}
    for reserved in rules.get("reserved", []):
        # Seats reserved for a named constituency: held by parties that speak for it.
        group, wanted = reserved["constituency"], int(reserved["seats"])
        held = sum(1 for party in seats.values()
                   if group in (covenant.parties.get(party, {}).get("constituencies") or []))
        if held < wanted:
            return (f"the {group} constituency holds {held} seat{'' if held == 1 else 's'}; the covenant reserves "
                    f"{wanted}")
    minimum = int(rules.get("min_civil_society_seats", 0))
    civil = sum(1 for party in seats.values() if covenant.kind_of(party) == "civil_society")
    if civil < minimum:
        seats_word = "seat" if civil == 1 else "seats"
        return f"civil society holds {civil} {seats_word}; the covenant requires at least {minimum}"
    if "max_share" in rules and seats:
        share = parse_fraction(rules["max_share"])
        for party in set(seats.values()):
            held = sum(1 for p in seats.values() if p == party)
            if held > share * len(seats):
                return f"{party} holds {held} of {len(seats)} seats, more than {rules['max_share']}"
    return None


@register_aggregate
class Committee(LedgerAggregate):
    KIND = "committee"
    PREFIX = "K"

    class Established(LedgerAggregate.Created):
        TYPE = "committee.established"
        ref: str
        covenant: str
        name: str
        seats: dict[str, str]  # member key id -> party id
        rotation: dict[str, Any]  # {"order": [party ids], "every": K}

        def check(self, aggregate: Any, ctx: Context) -> None:
            covenant = ctx.find(Covenant, self.covenant)
            covenant.require_in_force(ctx)
            order, every = self.rotation.get("order"), self.rotation.get("every")
            require(isinstance(order, list) and bool(order) and all(p in covenant.parties for p in order),
                    "the chair rotation must list parties of the covenant")
            require(isinstance(every, int) and not isinstance(every, bool) and every >= 1,
                    "the chair rotation needs 'every': a whole number of meetings")
            for member, party in self.seats.items():
                require(covenant.party_of(member) == party,
                        f"{ctx.name(member)} is not a representative of {party}")
            problem = composition_problem(covenant, self.seats)
            require(problem is None, f"composition rule broken: {problem}")

    def __init__(self, ref: str, covenant: str, name: str, seats: dict[str, str], rotation: dict[str, Any]) -> None:
        self.ref = ref
        self.covenant = covenant
        self.name = name
        self.seats = dict(seats)
        self.rotation = rotation
        self.meetings = 0
        # Set while a departure leaves the committee in breach of its composition rules:
        # the rule broken and since when (a warning, not a refusal: people do leave).
        self.breach: str | None = None
        self.breach_since: str | None = None

    @classmethod
    def establish(cls, ctx: Context, covenant: str, name: str, seats: dict[str, str],
                  rotation: dict[str, Any]) -> Committee:
        ref = cls.next_ref(ctx)
        return cls._create(cls.Established, id=cls.new_id(ctx, ref), ref=ref, covenant=covenant,
                           name=check_text(name, "committee name", 200), seats=seats, rotation=rotation)

    def chair_party(self, number: int) -> str:
        """The party whose turn it is to chair meeting ``number`` (1-based)."""
        order, every = self.rotation["order"], self.rotation["every"]
        return str(order[((number - 1) // every) % len(order)])

    class SeatAssigned(LedgerAggregate.Event):
        TYPE = "committee.seat_assigned"
        member: str
        party: str
        # The composition rule still broken after this assignment (filling one of
        # several vacancies), or None.
        composition: str | None = None

        def check(self, committee: Committee, ctx: Context) -> None:
            covenant = ctx.find(Covenant, committee.covenant)
            require(self.member not in committee.seats, f"{ctx.name(self.member)} already holds a seat")
            require(covenant.party_of(self.member) == self.party,
                    f"{ctx.name(self.member)} is not a representative of {self.party}")
            problem = composition_problem(covenant, {**committee.seats, self.member: self.party})
            # An assignment may leave an existing breach unmended (one vacancy filled of
            # two), but never create one.
            require(problem is None or committee.breach is not None, f"composition rule broken: {problem}")
            require(self.composition == problem, f"the composition recorded differs from the committee's: {problem}")

        def apply(self, committee: Committee) -> None:
            committee.seats[self.member] = self.party
            committee.note_composition(self.composition, self.timestamp)

    def assign_seat(self, member: str, party: str) -> None:
        covenant = current_context().find(Covenant, self.covenant)
        problem = composition_problem(covenant, {**self.seats, member: party})
        self.trigger_event(self.SeatAssigned, member=member, party=party, composition=problem)

    class SeatVacated(LedgerAggregate.Event):
        """A member leaves the committee.  Always recorded, even when it breaks the
        composition rules: the committee is then in breach (``composition`` names
        the rule), which ``committee show``, the site and verify report."""

        TYPE = "committee.seat_vacated"
        member: str
        reason: str
        composition: str | None = None

        def check(self, committee: Committee, ctx: Context) -> None:
            require(self.member in committee.seats, f"{ctx.name(self.member)} holds no seat")
            remaining = {m: p for m, p in committee.seats.items() if m != self.member}
            problem = composition_problem(ctx.find(Covenant, committee.covenant), remaining)
            require(self.composition == problem, f"the composition recorded differs from the committee's: {problem}")

        def apply(self, committee: Committee) -> None:
            del committee.seats[self.member]
            committee.note_composition(self.composition, self.timestamp)

    def vacate_seat(self, member: str, reason: str) -> None:
        covenant = current_context().find(Covenant, self.covenant)
        problem = composition_problem(covenant, {m: p for m, p in self.seats.items() if m != member})
        self.trigger_event(self.SeatVacated, member=member, reason=reason, composition=problem)

    def note_composition(self, problem: str | None, when: datetime) -> None:
        if problem is None:
            self.breach = self.breach_since = None
        else:
            if self.breach is None:
                self.breach_since = format_time(when)
            self.breach = problem

    def vacancy_overdue(self, covenant: Covenant, now: datetime) -> bool:
        """In breach for longer than the covenant's ``composition.max_vacancy_days``."""
        days = (covenant.terms.get("composition") or {}).get("max_vacancy_days")
        if self.breach_since is None or not isinstance(days, int):
            return False
        return now - parse_time(self.breach_since) > timedelta(days=days)

    class MeetingScheduled(LedgerAggregate.Event):
        TYPE = "committee.meeting_scheduled"
        meeting: str

        def apply(self, committee: Committee) -> None:
            committee.meetings += 1

    def note_meeting(self, meeting: str) -> int:
        self.trigger_event(self.MeetingScheduled, meeting=meeting)
        return self.meetings


@register_aggregate
class Meeting(LedgerAggregate):
    KIND = "meeting"
    PREFIX = "MT"

    class Scheduled(LedgerAggregate.Created):
        TYPE = "meeting.scheduled"
        ref: str
        committee: str
        number: int
        starts_at: str
        chair_party: str
        urgent: bool = False  # the covenant's notice period for agendas is waived (if it allows urgent meetings)

        def check(self, aggregate: Any, ctx: Context) -> None:
            committee = ctx.find(Committee, self.committee)
            if self.urgent:
                rules = _meeting_rules(ctx, committee)
                require(bool(rules.get("urgent_allowed")), "the covenant does not allow urgent meetings")
            # The committee counts its meetings; this one must be the next.
            require(self.number == committee.meetings, f"meeting number {self.number} is out of sequence")
            require(self.chair_party == committee.chair_party(self.number),
                    f"the chair of meeting {self.number} rotates to {committee.chair_party(self.number)}, "
                    f"not {self.chair_party}")

    def __init__(self, ref: str, committee: str, number: int, starts_at: str, chair_party: str,
                 urgent: bool = False) -> None:
        self.ref = ref
        self.urgent = urgent
        self.committee = committee
        self.number = number
        self.starts_at = starts_at
        self.chair_party = chair_party
        self.chair_delegate: str | None = None
        self.agenda: list[dict[str, Any]] = []
        self.present: list[str] = []
        self.conflicts: dict[str, list[int]] = {}
        self.conflict_reasons: dict[str, str] = {}
        self.minutes: str | None = None
        self.state = "scheduled"  # scheduled | cancelled | closed
        self.proxy_map: dict[str, dict[str, Any]] = {}  # read through proxies(): older snapshots lack it

    @classmethod
    def schedule(cls, ctx: Context, committee: Committee, starts_at: datetime, urgent: bool = False) -> Meeting:
        ref = cls.next_ref(ctx)
        number = committee.note_meeting(ref)
        return cls._create(cls.Scheduled, id=cls.new_id(ctx, ref), ref=ref, committee=committee.ref,
                           number=number, starts_at=format_time(starts_at),
                           chair_party=committee.chair_party(number), urgent=urgent)

    def chair_keys(self, committee: Committee) -> list[str]:
        """Keys that may act as chair: the delegate, or the rotation party's seated members."""
        if self.chair_delegate:
            return [self.chair_delegate]
        return [m for m, p in committee.seats.items() if p == self.chair_party]

    def recused(self, item: int) -> list[str]:
        return [m for m, items in self.conflicts.items() if item in items]

    def require_in_session(self, ctx: Context) -> None:
        """The meeting's acts (attendance, motions, votes) happen from its start (by the
        record's time) until it is closed, and never once it is cancelled."""
        require(self.state != "cancelled", f"{self.ref} was cancelled")
        require(self.state != "closed", f"{self.ref} is closed")
        require(format_time(ctx.at) >= self.starts_at,
                f"{self.ref} starts at {self.starts_at}; its acts are recorded from then on")

    class Postponed(LedgerAggregate.Event):
        TYPE = "meeting.postponed"
        starts_at: str
        reason: str

        def check(self, meeting: Meeting, ctx: Context) -> None:
            require(meeting.state == "scheduled", f"{meeting.ref} is {meeting.state}")
            require(format_time(ctx.at) < meeting.starts_at,
                    f"{meeting.ref} has started ({meeting.starts_at}): it can no longer be postponed")
            require(self.starts_at > meeting.starts_at, "a postponement moves the start later")

        def apply(self, meeting: Meeting) -> None:
            meeting.starts_at = self.starts_at

    def postpone(self, starts_at: datetime, reason: str) -> None:
        self.trigger_event(self.Postponed, starts_at=format_time(starts_at), reason=check_text(reason, "reason"))

    class Cancelled(LedgerAggregate.Event):
        TYPE = "meeting.cancelled"
        reason: str

        def check(self, meeting: Meeting, ctx: Context) -> None:
            require(meeting.state == "scheduled", f"{meeting.ref} is {meeting.state}")
            require(not meeting.present, f"{meeting.ref} was held (attendance is recorded): close it instead")

        def apply(self, meeting: Meeting) -> None:
            meeting.state = "cancelled"

    def cancel(self, reason: str) -> None:
        self.trigger_event(self.Cancelled, reason=check_text(reason, "reason"))

    class MeetingClosed(LedgerAggregate.Event):
        TYPE = "meeting.closed"
        note: str

        def check(self, meeting: Meeting, ctx: Context) -> None:
            meeting.require_in_session(ctx)
            require(bool(meeting.present), f"{meeting.ref} has no attendance recorded: cancel it instead")
            committee = ctx.find(Committee, meeting.committee)
            require(ctx.actor.person in meeting.chair_keys(committee) or "secretariat" in ctx.actor.roles,
                    f"only the chair of {meeting.ref} or the secretariat closes it")

        def apply(self, meeting: Meeting) -> None:
            meeting.state = "closed"

    def close_meeting(self, note: str) -> None:
        self.trigger_event(self.MeetingClosed, note=check_text(note, "note") if note.strip() else "")

    # --- proxies ------------------------------------------------------------

    def proxies(self) -> dict[str, dict[str, Any]]:
        """Active proxies: giver -> {"holder", "motion" (None: the whole meeting)}."""
        return dict(getattr(self, "proxy_map", {}))  # meetings from before proxies have none

    def carried_by(self, holder: str) -> int:
        return sum(1 for given in self.proxies().values() if given["holder"] == holder)

    class ProxyGiven(LedgerAggregate.Event):
        TYPE = "meeting.proxy_given"
        giver: str
        holder: str
        motion: str | None  # one motion of this meeting, or None for every vote of the meeting

        def check(self, meeting: Meeting, ctx: Context) -> None:
            committee = ctx.find(Committee, meeting.committee)
            rules = proxy_rules(ctx.find(Covenant, committee.covenant))
            require(rules["allowed"], f"covenant {committee.covenant} does not allow proxies")
            require(meeting.state == "scheduled", f"{meeting.ref} is {meeting.state}")
            require(ctx.actor.person == self.giver, "a member gives their proxy with their own key")
            require(self.giver in committee.seats, f"{ctx.name(self.giver)} holds no seat on {committee.ref}")
            require(self.holder in committee.seats, f"{ctx.name(self.holder)} holds no seat on {committee.ref}")
            require(self.giver != self.holder, "a proxy goes to another member")
            require(self.giver not in meeting.proxies(),
                    f"{ctx.name(self.giver)} has already given a proxy for {meeting.ref}: revoke it first")
            require(self.holder not in meeting.proxies(), f"{ctx.name(self.holder)} has given their own vote away "
                                                          f"for {meeting.ref} and cannot carry another's")
            require(meeting.carried_by(self.holder) < rules["max_per_holder"],
                    f"{ctx.name(self.holder)} already carries {meeting.carried_by(self.holder)} "
                    f"prox{'y' if meeting.carried_by(self.holder) == 1 else 'ies'} at {meeting.ref} "
                    f"(the covenant allows {rules['max_per_holder']})")
            if self.motion is not None:
                from ledger.domain.motion import Motion

                motion = ctx.find(Motion, self.motion)
                require(motion.meeting == meeting.ref, f"{motion.ref} is not a motion of {meeting.ref}")
                require(motion.status != "closed", f"{motion.ref} is already decided")

        def apply(self, meeting: Meeting) -> None:
            given = dict(getattr(meeting, "proxy_map", {}))
            given[self.giver] = {"holder": self.holder, "motion": self.motion}
            meeting.proxy_map = given

    def give_proxy(self, giver: str, holder: str, motion: str | None) -> None:
        self.trigger_event(self.ProxyGiven, giver=giver, holder=holder, motion=motion)

    class ProxyRevoked(LedgerAggregate.Event):
        TYPE = "meeting.proxy_revoked"
        giver: str

        def check(self, meeting: Meeting, ctx: Context) -> None:
            require(ctx.actor.person == self.giver, "a member revokes their own proxy")
            require(self.giver in meeting.proxies(), f"{ctx.name(self.giver)} has no proxy to revoke at {meeting.ref}")
            require(meeting.state == "scheduled", f"{meeting.ref} is {meeting.state}")

        def apply(self, meeting: Meeting) -> None:
            given = dict(getattr(meeting, "proxy_map", {}))
            given.pop(self.giver, None)
            meeting.proxy_map = given

    def revoke_proxy(self, giver: str) -> None:
        self.trigger_event(self.ProxyRevoked, giver=giver)

    class ChairDelegated(LedgerAggregate.Event):
        TYPE = "meeting.chair_delegated"
        to_member: str
        reason: str

        def check(self, meeting: Meeting, ctx: Context) -> None:
            committee = ctx.find(Committee, meeting.committee)
            require(self.to_member in committee.seats, f"{ctx.name(self.to_member)} holds no seat on {committee.ref}")
            rotation_reps = [m for m, p in committee.seats.items() if p == meeting.chair_party]
            require(ctx.actor.person in rotation_reps or "secretariat" in ctx.actor.roles,
                    f"only {meeting.chair_party}'s seated members or the secretariat may delegate the chair")

        def apply(self, meeting: Meeting) -> None:
            meeting.chair_delegate = self.to_member

    def delegate_chair(self, to_member: str, reason: str) -> None:
        self.trigger_event(self.ChairDelegated, to_member=to_member, reason=check_text(reason, "reason"))

    class AgendaPublished(LedgerAggregate.Event):
        TYPE = "meeting.agenda_published"
        items: list[dict[str, Any]]

        def check(self, meeting: Meeting, ctx: Context) -> None:
            require(meeting.state == "scheduled", f"{meeting.ref} is {meeting.state}")
            require(format_time(ctx.at) < meeting.starts_at,
                    f"the agenda must be published before the meeting starts ({meeting.starts_at})")
            notice = _meeting_rules(ctx, ctx.find(Committee, meeting.committee)).get("agenda_notice_days")
            if notice and not meeting.urgent:
                latest = format_time(datetime.fromisoformat(meeting.starts_at.replace("Z", "+00:00"))
                                     - timedelta(days=int(notice)))
                require(format_time(ctx.at) <= latest,
                        f"the covenant asks for the agenda {notice} days ahead: by {latest[:16]}Z for "
                        f"{meeting.ref} (unless the meeting is scheduled as urgent)")
            require(not meeting.present, "attendance is already recorded")

        def apply(self, meeting: Meeting) -> None:
            meeting.agenda = self.items

    def publish_agenda(self, items: list[dict[str, Any]]) -> None:
        self.trigger_event(self.AgendaPublished, items=validate_agenda(items))

    class AttendanceRecorded(LedgerAggregate.Event):
        TYPE = "meeting.attendance_recorded"
        present: list[str]

        def check(self, meeting: Meeting, ctx: Context) -> None:
            committee = ctx.find(Committee, meeting.committee)
            require(bool(meeting.agenda), "publish the agenda before recording attendance")
            meeting.require_in_session(ctx)
            for member in self.present:
                require(member in committee.seats, f"{ctx.name(member)} holds no seat on {committee.ref}")
            require(len(set(self.present)) == len(self.present), "a member is listed twice")

        def apply(self, meeting: Meeting) -> None:
            meeting.present = list(self.present)

    def record_attendance(self, present: list[str]) -> None:
        """Record arrivals (``meeting.arrived``): attendance is arrivals and departures,
        so a late arrival adds to those present rather than replacing them.
        (``meeting.attendance_recorded``, which set the whole list, is kept for
        records written before.)"""
        self.trigger_event(self.Arrived, members=sorted(set(present)))

    class Arrived(LedgerAggregate.Event):
        TYPE = "meeting.arrived"
        members: list[str]

        def check(self, meeting: Meeting, ctx: Context) -> None:
            committee = ctx.find(Committee, meeting.committee)
            require(bool(meeting.agenda), "publish the agenda before recording attendance")
            meeting.require_in_session(ctx)
            require(bool(self.members), "name at least one member")
            require(len(set(self.members)) == len(self.members), "a member is listed twice")
            for member in self.members:
                require(member in committee.seats, f"{ctx.name(member)} holds no seat on {committee.ref}")
                require(member not in meeting.present, f"{ctx.name(member)} is already present at {meeting.ref}")

        def apply(self, meeting: Meeting) -> None:
            meeting.present = sorted(set(meeting.present) | set(self.members))

    class Departed(LedgerAggregate.Event):
        TYPE = "meeting.departed"
        members: list[str]

        def check(self, meeting: Meeting, ctx: Context) -> None:
            meeting.require_in_session(ctx)
            require(bool(self.members), "name at least one member")
            for member in self.members:
                require(member in meeting.present, f"{ctx.name(member)} is not present at {meeting.ref}")

        def apply(self, meeting: Meeting) -> None:
            meeting.present = sorted(set(meeting.present) - set(self.members))

    def record_departure(self, members: list[str]) -> None:
        self.trigger_event(self.Departed, members=sorted(set(members)))

    class ConflictDeclared(LedgerAggregate.Event):
        TYPE = "meeting.conflict_declared"
        member: str
        items: list[int]
        reason: str

        def check(self, meeting: Meeting, ctx: Context) -> None:
            committee = ctx.find(Committee, meeting.committee)
            require(self.member in committee.seats, f"{ctx.name(self.member)} holds no seat on {committee.ref}")
            require(ctx.actor.person == self.member or "secretariat" in ctx.actor.roles,
                    "members declare their own conflicts (or the secretariat records them)")
            numbers = {item["number"] for item in meeting.agenda}
            for item in self.items:
                require(item in numbers, f"item {item} is not on the agenda of {meeting.ref}")

        def apply(self, meeting: Meeting) -> None:
            meeting.conflicts[self.member] = sorted(set(meeting.conflicts.get(self.member, [])) | set(self.items))
            meeting.conflict_reasons[self.member] = self.reason

    def declare_conflict(self, member: str, items: list[int], reason: str) -> None:
        self.trigger_event(self.ConflictDeclared, member=member, items=sorted(items),
                           reason=check_text(reason, "reason"))

    class MinutesAdopted(LedgerAggregate.Event):
        TYPE = "meeting.minutes_adopted"
        decision: str
        minutes_digest: str

        def check(self, meeting: Meeting, ctx: Context) -> None:
            from ledger.domain.motion import Motion

            motion = ctx.find(Motion, self.decision)
            require(motion.status == "closed" and motion.result == "pass", f"{self.decision} has not passed")
            require(motion.decision_class == "minutes", f"{self.decision} is not a minutes decision")
            require(motion.minutes_of == meeting.ref,
                    f"{self.decision} adopts the minutes of {motion.minutes_of or 'no named meeting'}, "
                    f"not of {meeting.ref}")
            require(meeting.minutes is None, f"minutes of {meeting.ref} are already adopted")

        def apply(self, meeting: Meeting) -> None:
            meeting.minutes = self.minutes_digest

    def adopt_minutes(self, decision: str, minutes_digest: str) -> None:
        self.trigger_event(self.MinutesAdopted, decision=decision, minutes_digest=check_digest(minutes_digest))


def check_digest(text: str) -> str:
    text = text.strip().lower()
    if not DIGEST_RE.match(text):
        raise InvalidInputError(f"{text!r} is not a SHA-256 digest (64 hex digits); on the command line, "
                                "give the document's file instead")
    return text


def validate_agenda(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if not items:
        raise InvalidInputError("an agenda needs at least one item")
    out = []
    for number, item in enumerate(items, start=1):
        documents = [check_digest(d) for d in item.get("documents", [])]
        out.append({"number": number, "title": check_text(item.get("title"), f"item {number} title", 500),
                    "documents": documents})
    return out


__all__ = ["Committee", "Meeting", "RuleError", "composition_problem"]


def proxy_rules(covenant: Covenant) -> dict[str, Any]:
    """The covenant's proxy rules (``terms.proxies``): allowed (default no), how many one
    member may carry (default 1), and whether represented members count toward the quorum."""
    given = covenant.terms.get("proxies") if isinstance(covenant.terms, dict) else None
    given = given if isinstance(given, dict) else {}
    return {"allowed": given.get("allowed") is True, "max_per_holder": int(given.get("max_per_holder", 1)),
            "quorum": given.get("quorum", "does_not_count")}


def _meeting_rules(ctx: Context, committee: Committee) -> dict[str, Any]:
    """The covenant's rules for meetings (``terms.meetings``): agenda notice, urgent meetings."""
    from ledger.domain.covenant import Covenant

    rules = ctx.find(Covenant, committee.covenant).terms.get("meetings")
    return rules if isinstance(rules, dict) else {}

