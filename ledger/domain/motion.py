"""Motions, votes and decisions.

A member proposes a motion on an agenda item under a decision class; it is
seconded where the class requires it, may be amended (an amendment, and at
most one amendment to that amendment), withdrawn, put to the vote, and
closed.  Putting it to the vote freezes the rule in force and who is seated,
present and recused.  Votes are ``yes``, ``no`` or ``abstain``; a member may
change their vote until the motion closes (the last one counts, all stay on
record); a member casts their own vote with their own key, or the
secretariat records it on their behalf, and the record says which.  Closing
records the decision: the ledger computes the tally and result from the votes
and the frozen rule, and ``ledger verify`` recomputes them.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from ledger.domain.base import Context, LedgerAggregate, require
from ledger.domain.committee import Committee, Meeting
from ledger.domain.covenant import Covenant, check_date, check_text, validate_changes
from ledger.domain.decisions import CHOICES, count, decide, decide_parts, parse_rule
from ledger.errors import InvalidInputError
from ledger.money import check_currency, parse_amount
from ledger.record import format_time
from ledger.types import register_aggregate

OPEN = ("proposed", "seconded")


@register_aggregate
class Motion(LedgerAggregate):
    KIND = "motion"
    PREFIX = "M"

    class Proposed(LedgerAggregate.Created):
        TYPE = "motion.proposed"
        ref: str
        meeting: str
        item: int
        decision_class: str
        text: str
        proposer: str
        amends: str | None
        amount: dict[str, str] | None  # funding motions: {"value", "currency", "fund"}
        changes: list[dict[str, Any]] | None  # amendment-class motions: covenant changes
        minutes_of: str | None = None  # minutes-class motions: the one meeting whose minutes it adopts
        # A covenant act the motion decides: {"kind": "renew", "date": END}, {"kind": "terminate", "date": DAY},
        # or a membership act {"kind": "admit" | "expel" | "representatives", "party": ID}.
        act: dict[str, Any] | None = None

        def check(self, aggregate: Any, ctx: Context) -> None:
            meeting = ctx.find(Meeting, self.meeting)
            meeting.require_in_session(ctx)
            committee = ctx.find(Committee, meeting.committee)
            covenant = ctx.find(Covenant, committee.covenant)
            covenant.require_in_force(ctx)
            covenant.rule(self.decision_class)
            require(any(i["number"] == self.item for i in meeting.agenda),
                    f"item {self.item} is not on the agenda of {meeting.ref}")
            require(self.proposer in committee.seats, f"the proposer holds no seat on {committee.ref}")
            require(ctx.actor.person == self.proposer, "members propose motions with their own key")
            if self.decision_class == "funding":
                require(self.amount is not None, "a funding motion must state the amount")
            if self.decision_class == "minutes":
                _check_minutes_of(ctx, self.minutes_of, meeting, committee)
            else:
                require(self.minutes_of is None, "only a minutes-class motion names a meeting's minutes")
            if self.act is not None:
                require(act_shape_ok(self.act), ACT_SHAPES)
                require(self.decision_class == covenant.act_class(self.act["kind"]),
                        f"covenant {covenant.ref} decides to {self.act['kind']} by the "
                        f"{covenant.act_class(self.act['kind'])} class")
                require(not self.changes, "a motion decides clause changes or a covenant act, not both")
                if self.act["kind"] == "adopt":
                    from ledger.domain.consultation import Consultation

                    consultation = ctx.find(Consultation, str(self.act["consultation"]))
                    require(consultation.committee == committee.ref,
                            f"{consultation.ref} is a consultation of another committee")
                    require(1 <= int(self.act["version"]) <= len(consultation.versions),
                            f"{consultation.ref} has no version {self.act['version']}")
            elif self.decision_class == "amendment" and self.amends is None:
                require(bool(self.changes), "an amendment-class motion must state the covenant changes")
            if self.amends is not None:
                parent = ctx.find(Motion, self.amends)
                require(parent.status in OPEN, f"{parent.ref} is {parent.status}; it can no longer be amended")
                require(parent.meeting == self.meeting, f"{parent.ref} belongs to another meeting")
                if parent.amends is not None:
                    grandparent = ctx.find(Motion, parent.amends)
                    require(grandparent.amends is None, "an amendment to an amendment cannot itself be amended")
                    require(not parent.amendments, f"{parent.ref} already has an amendment")

    def __init__(self, ref: str, meeting: str, item: int, decision_class: str, text: str, proposer: str,
                 amends: str | None, amount: dict[str, str] | None, changes: list[dict[str, Any]] | None,
                 minutes_of: str | None = None, act: dict[str, Any] | None = None) -> None:
        self.ref = ref
        self.meeting = meeting
        self.item = item
        self.decision_class = decision_class
        self.text = text
        self.proposer = proposer
        self.amends = amends
        self.amount = amount
        self.changes = changes
        self.minutes_of = minutes_of
        self.act = act
        self.seconder: str | None = None
        self.status = "proposed"
        self.amendments: list[str] = []
        self.snapshot: dict[str, Any] = {}
        self.votes: dict[str, str] = {}
        self.own_votes: set[str] = set()  # members who voted with their own key: only they change it
        self.excluded: list[str] = []  # voters recused by a conflict declared after the vote opened
        self.result: str | None = None
        self.tally: dict[str, int] = {}
        self.dissents: list[dict[str, str]] = []
        self.covenant = ""
        self.committee = ""
        self.decided_at: str | None = None
        self.proxy_votes: dict[str, str] = {}  # member -> the proxy holder who cast their vote
        self.minority_report: dict[str, Any] | None = None

    @classmethod
    def propose(cls, ctx: Context, meeting: Meeting, item: int, decision_class: str, text: str,
                amends: str | None = None, amount: dict[str, str] | None = None,
                changes: list[dict[str, Any]] | None = None, minutes_of: str | None = None,
                act: dict[str, Any] | None = None) -> Motion:
        if amount is not None:
            check_currency(amount.get("currency", ""))
            parse_amount(amount.get("value"), amount["currency"])
            if not amount.get("fund"):
                raise InvalidInputError("a funding amount must name the fund")
            amount = {"value": amount["value"], "currency": amount["currency"], "fund": amount["fund"]}
        if changes is not None:
            changes = validate_changes(changes)
        if act is not None:
            act = normal_act(act)
        ref = cls.next_ref(ctx)
        motion = cls._create(cls.Proposed, id=cls.new_id(ctx, ref), ref=ref, meeting=meeting.ref, item=item,
                             decision_class=decision_class, text=check_text(text, "motion text"),
                             proposer=ctx.actor.person, amends=amends, amount=amount, changes=changes,
                             minutes_of=minutes_of, act=act)
        return motion

    def place(self, ctx: Context) -> tuple[Meeting, Committee, Covenant]:
        meeting = ctx.find(Meeting, self.meeting)
        committee = ctx.find(Committee, meeting.committee)
        return meeting, committee, ctx.find(Covenant, committee.covenant)

    # --- amendment bookkeeping on the parent -------------------------------

    class AmendmentTabled(LedgerAggregate.Event):
        TYPE = "motion.amendment_tabled"
        amendment: str

        def check(self, motion: Motion, ctx: Context) -> None:
            child = ctx.find(Motion, self.amendment)
            require(child.amends == motion.ref, f"{self.amendment} does not amend {motion.ref}")

        def apply(self, motion: Motion) -> None:
            motion.amendments.append(self.amendment)

    def table_amendment(self, amendment: str) -> None:
        self.trigger_event(self.AmendmentTabled, amendment=amendment)

    class TextAmended(LedgerAggregate.Event):
        TYPE = "motion.text_amended"
        amendment: str
        text: str

        def check(self, motion: Motion, ctx: Context) -> None:
            child = ctx.find(Motion, self.amendment)
            require(child.amends == motion.ref, f"{self.amendment} does not amend {motion.ref}")
            require(child.status == "closed" and child.result == "pass", f"{self.amendment} has not passed")
            require(self.text == child.text, "the amended text must be the text the amendment adopted")
            require(motion.status in OPEN, f"{motion.ref} is {motion.status}")

        def apply(self, motion: Motion) -> None:
            motion.text = self.text

    def adopt_amendment(self, amendment: Motion) -> None:
        self.trigger_event(self.TextAmended, amendment=amendment.ref, text=amendment.text)

    # --- seconding, withdrawal --------------------------------------------

    class Seconded(LedgerAggregate.Event):
        TYPE = "motion.seconded"
        seconder: str

        def check(self, motion: Motion, ctx: Context) -> None:
            meeting, committee, _ = motion.place(ctx)
            meeting.require_in_session(ctx)
            require(motion.status == "proposed", f"{motion.ref} is {motion.status}, not awaiting a seconder")
            require(self.seconder != motion.proposer, "the proposer cannot second their own motion")
            require(self.seconder in committee.seats, f"the seconder holds no seat on {committee.ref}")
            require(ctx.actor.person == self.seconder, "members second motions with their own key")

        def apply(self, motion: Motion) -> None:
            motion.seconder = self.seconder
            motion.status = "seconded"

    def second(self, seconder: str) -> None:
        self.trigger_event(self.Seconded, seconder=seconder)

    class Withdrawn(LedgerAggregate.Event):
        TYPE = "motion.withdrawn"
        reason: str

        def check(self, motion: Motion, ctx: Context) -> None:
            require(motion.status in OPEN, f"{motion.ref} is {motion.status}; it can no longer be withdrawn")
            require(ctx.actor.person == motion.proposer, "only the proposer may withdraw a motion")

        def apply(self, motion: Motion) -> None:
            motion.status = "withdrawn"

    def withdraw(self, reason: str) -> None:
        self.trigger_event(self.Withdrawn, reason=reason)

    # --- voting ----------------------------------------------------------

    class VoteOpened(LedgerAggregate.Event):
        TYPE = "motion.vote_opened"
        OPTIONAL = ("represented", "kinds")  # left out of the record while empty
        rule: dict[str, Any]
        seated: list[str]
        present: list[str]
        recused: list[str]
        covenant: str
        committee: str
        # The composition rule the committee was in breach of when the vote opened (None: none):
        # decisions taken in breach are marked so.
        breach: str | None = None
        # Members absent but represented by a present proxy holder, counted toward the quorum
        # when the covenant says so (terms.proxies.quorum = "counts"); empty otherwise.
        represented: list[str] = dataclasses.field(default_factory=list)
        # Each seated member's kind of party, when the rule counts majorities within kinds of party.
        kinds: dict[str, str] = dataclasses.field(default_factory=dict)

        def check(self, motion: Motion, ctx: Context) -> None:
            meeting, committee, covenant = motion.place(ctx)
            meeting.require_in_session(ctx)
            require(motion.status in OPEN, f"{motion.ref} is {motion.status}; it cannot be put to the vote")
            rule = covenant.rule(motion.decision_class)
            require(self.rule == rule, f"the rule recorded differs from the {motion.decision_class} rule in force")
            if parse_rule(rule).seconded:
                require(motion.status == "seconded", f"the {motion.decision_class} class needs a seconder")
            open_amendments = [a for a in motion.amendments if ctx.find(Motion, a).status not in
                               ("closed", "withdrawn")]
            require(not open_amendments, f"decide the amendment {', '.join(open_amendments)} first")
            require(bool(meeting.present), f"attendance of {meeting.ref} is not recorded")
            require(self.seated == sorted(committee.seats), "the seated members recorded are not those seated")
            require(self.present == sorted(meeting.present), "the members recorded present are not those present")
            require(self.recused == sorted(meeting.recused(motion.item)),
                    "the recused members recorded are not those with declared conflicts")
            require(self.covenant == covenant.ref and self.committee == committee.ref, "wrong covenant or committee")
            require(self.breach == committee.breach,
                    f"the composition recorded differs from the committee's ({committee.breach or 'not in breach'})")
            require(self.represented == represented_members(motion, meeting, committee, covenant),
                    "the members recorded as represented by proxy are not those the proxies and the covenant give")
            require(self.kinds == party_kinds(rule, committee, covenant),
                    "the kinds of party recorded for the seated members are not the covenant's")
            _require_chair_or_secretariat(ctx, meeting, committee)

        def apply(self, motion: Motion) -> None:
            motion.status = "voting"
            motion.snapshot = {"rule": self.rule, "seated": self.seated, "present": self.present,
                               "recused": self.recused}
            if self.represented:
                motion.snapshot["represented"] = list(self.represented)
            if self.kinds:
                motion.snapshot["kinds"] = dict(self.kinds)
            if self.breach is not None:
                motion.snapshot["in_breach_of_composition"] = self.breach
            motion.covenant = self.covenant
            motion.committee = self.committee

    def open_vote(self, ctx: Context) -> None:
        meeting, committee, covenant = self.place(ctx)
        rule = covenant.rule(self.decision_class)
        self.trigger_event(self.VoteOpened, rule=rule, seated=sorted(committee.seats),
                           present=sorted(meeting.present), recused=sorted(meeting.recused(self.item)),
                           covenant=covenant.ref, committee=committee.ref, breach=committee.breach,
                           represented=represented_members(self, meeting, committee, covenant),
                           kinds=party_kinds(rule, committee, covenant))

    class VoteCast(LedgerAggregate.Event):
        TYPE = "motion.vote_cast"
        OPTIONAL = ("proxy",)  # left out of the record unless cast by proxy
        member: str
        choice: str
        on_behalf: bool
        proxy: str | None = None  # cast by the holder of the member's proxy: the holder (the signer)

        def check(self, motion: Motion, ctx: Context) -> None:
            require(motion.status == "voting", f"{motion.ref} is {motion.status}, not open for votes")
            meeting = ctx.find(Meeting, motion.meeting)
            meeting.require_in_session(ctx)
            require(self.choice in CHOICES, f"a vote is one of {', '.join(CHOICES)}")
            snap = motion.snapshot
            require(self.member in snap["seated"], f"{ctx.name(self.member)} holds no seat on this committee")
            late = meeting.recused(motion.item)
            require(self.member not in snap["recused"] and self.member not in late,
                    f"{ctx.name(self.member)} declared a conflict on item {motion.item} and is recused")
            if self.proxy is not None:
                given = meeting.proxies().get(self.member)
                require(self.proxy == ctx.actor.person, "a proxy vote is signed by the proxy holder")
                require(given is not None and given["holder"] == ctx.actor.person
                        and given["motion"] in (None, motion.ref),
                        f"{ctx.name(ctx.actor.person)} holds no proxy from {ctx.name(self.member)} for {motion.ref}")
                require(ctx.actor.person in snap["present"], "a proxy holder votes only when present")
                require(not self.on_behalf, "a proxy vote is the holder's own act")
                require(self.member not in motion.own_votes,
                        f"{ctx.name(self.member)} voted in person; their own vote stands")
                return
            require(self.member in snap["present"], f"{ctx.name(self.member)} was not recorded present")
            if self.on_behalf:
                require("secretariat" in ctx.actor.roles, "only the secretariat records votes on a member's behalf")
                require(self.member not in motion.own_votes,
                        f"{ctx.name(self.member)} voted with their own key; only they can change their vote")
            else:
                require(ctx.actor.person == self.member, "a member casts their own vote with their own key")

        def apply(self, motion: Motion) -> None:
            motion.votes[self.member] = self.choice
            # In place (replay applies every vote): motions restored from older snapshots lack the map.
            by_proxy = motion.__dict__.setdefault("proxy_votes", {})
            if self.proxy is not None:
                by_proxy[self.member] = self.proxy
            else:
                by_proxy.pop(self.member, None)  # the member's own vote overrides the proxy's
                if not self.on_behalf:
                    motion.own_votes.add(self.member)

    def cast_vote(self, member: str, choice: str, on_behalf: bool, proxy: str | None = None) -> None:
        if choice not in CHOICES:
            raise InvalidInputError(f"a vote is one of {', '.join(CHOICES)}, not {choice!r}")
        self.trigger_event(self.VoteCast, member=member, choice=choice, on_behalf=on_behalf, proxy=proxy)

    def late_recusals(self, ctx: Context) -> list[str]:
        """Voters who declared a conflict on this item after the vote opened: their votes
        are excluded from the tally (a conflict declared any time before the close recuses)."""
        late = set(ctx.find(Meeting, self.meeting).recused(self.item)) - set(self.snapshot.get("recused", []))
        return sorted(member for member in late if member in self.votes)

    def computed_decision(self, excluded: list[str] | None = None) -> tuple[dict[str, int], str, str]:
        snap = self.snapshot
        counted = {m: choice for m, choice in self.votes.items() if m not in (excluded or [])}
        present = len(snap["present"]) + len(snap.get("represented", []))
        tally = count(counted, len(snap["seated"]), present)
        rule = parse_rule(snap["rule"])
        result, explanation = decide(rule, tally)
        parts_ok, parts = decide_parts(rule, counted, snap.get("kinds", {}))
        if parts:
            explanation += "; " + parts
            if result == "pass" and not parts_ok:
                result = "fail"
        return tally.to_json(), result, explanation

    class Closed(LedgerAggregate.Event):
        TYPE = "motion.closed"
        tally: dict[str, int]
        result: str
        explanation: str
        # Votes excluded for a conflict declared after the vote opened (records from before hold none).
        excluded: list[str] = dataclasses.field(default_factory=list)

        def check(self, motion: Motion, ctx: Context) -> None:
            require(motion.status == "voting", f"{motion.ref} is {motion.status}, not being voted on")
            ctx.find(Meeting, motion.meeting).require_in_session(ctx)
            excluded = motion.late_recusals(ctx)
            require(sorted(self.excluded) == excluded,
                    f"the votes excluded for conflicts ({len(self.excluded)}) are not those of members who declared "
                    f"a conflict on item {motion.item} ({len(excluded)})")
            tally, result, explanation = motion.computed_decision(excluded)
            require(self.tally == tally, f"the recorded tally {self.tally} is not the votes' tally {tally}")
            require(self.result == result,
                    f"the recorded result {self.result} contradicts the votes and rule ({result}: {explanation})")
            meeting, committee, _ = motion.place(ctx)
            _require_chair_or_secretariat(ctx, meeting, committee)

        def apply(self, motion: Motion) -> None:
            motion.status = "closed"
            motion.excluded = list(self.excluded)
            motion.tally = self.tally
            motion.result = self.result
            motion.decided_at = format_time(self.timestamp)

    def close(self, ctx: Context) -> tuple[str, str]:
        require(self.status == "voting", f"{self.ref} is {self.status}, not being voted on")
        excluded = self.late_recusals(ctx)
        tally, result, explanation = self.computed_decision(excluded)
        if excluded:
            explanation += f" ({len(excluded)} vote{'' if len(excluded) == 1 else 's'} excluded: conflict declared)"
        self.trigger_event(self.Closed, tally=tally, result=result, explanation=explanation, excluded=excluded)
        return result, explanation

    class DissentAttached(LedgerAggregate.Event):
        TYPE = "motion.dissent_attached"
        member: str
        statement: str

        def check(self, motion: Motion, ctx: Context) -> None:
            require(motion.status == "closed", f"{motion.ref} is not decided yet")
            require(self.member in motion.snapshot.get("seated", []), f"{ctx.name(self.member)} had no seat")
            require(ctx.actor.person == self.member or "secretariat" in ctx.actor.roles,
                    "members attach their own statements (or the secretariat records them)")

        def apply(self, motion: Motion) -> None:
            motion.dissents.append({"member": self.member, "statement": self.statement})

    def attach_dissent(self, member: str, statement: str) -> None:
        self.trigger_event(self.DissentAttached, member=member, statement=check_text(statement, "statement"))


    # --- a joint minority report --------------------------------------------

    class MinorityReportFiled(LedgerAggregate.Event):
        TYPE = "motion.minority_report_filed"
        text: str
        members: list[str]  # the members who voted no and sign it; the filer first

        def check(self, motion: Motion, ctx: Context) -> None:
            from ledger.money import parse_fraction

            require(motion.status == "closed", f"{motion.ref} is not decided yet")
            require(getattr(motion, "minority_report", None) is None, f"{motion.ref} already has a minority report")
            terms = ctx.find(Covenant, motion.covenant).terms
            rules = terms.get("minority_report") if isinstance(terms, dict) else None
            require(isinstance(rules, dict), f"covenant {motion.covenant} does not provide for minority reports")
            assert isinstance(rules, dict)
            require(bool(self.members) and len(set(self.members)) == len(self.members),
                    "a minority report names its signatories once each")
            require(ctx.actor.person == self.members[0], "the first signatory files the report with their own key")
            counted = {m: c for m, c in motion.votes.items() if m not in getattr(motion, "excluded", [])}
            for member in self.members:
                require(counted.get(member) == "no", f"{ctx.name(member)} did not vote no on {motion.ref}")
            no = sum(1 for choice in counted.values() if choice == "no")
            share = parse_fraction(rules.get("min_share"), "minority_report min_share")
            require(bool(counted) and no >= share * len(counted),
                    f"{no} of {len(counted)} voting members voted no; a minority report needs at least "
                    f"{share.numerator}/{share.denominator}")

        def apply(self, motion: Motion) -> None:
            motion.minority_report = {"text": self.text, "members": list(self.members),
                                      "signed": [self.members[0]]}

    def file_minority_report(self, ctx: Context, text: str, others: list[str]) -> None:
        members = [ctx.actor.person, *[m for m in others if m != ctx.actor.person]]
        self.trigger_event(self.MinorityReportFiled, text=check_text(text, "minority report"), members=members)

    class MinorityReportJoined(LedgerAggregate.Event):
        TYPE = "motion.minority_report_joined"
        member: str

        def check(self, motion: Motion, ctx: Context) -> None:
            report = getattr(motion, "minority_report", None)
            require(report is not None, f"{motion.ref} has no minority report")
            assert report is not None
            require(self.member in report["members"], f"{ctx.name(self.member)} is not named in the report")
            require(self.member not in report["signed"], f"{ctx.name(self.member)} has already signed it")
            require(ctx.actor.person == self.member, "each signatory signs with their own key")

        def apply(self, motion: Motion) -> None:
            report = dict(motion.minority_report or {})
            report["signed"] = [*report["signed"], self.member]
            motion.minority_report = report

    def join_minority_report(self, member: str) -> None:
        self.trigger_event(self.MinorityReportJoined, member=member)


def _require_chair_or_secretariat(ctx: Context, meeting: Meeting, committee: Committee) -> None:
    require(ctx.actor.person in meeting.chair_keys(committee) or "secretariat" in ctx.actor.roles,
            f"only the chair of {meeting.ref} ({(meeting.chair_delegate and 'delegate') or meeting.chair_party}) "
            "or the secretariat may do this")


def _check_minutes_of(ctx: Context, minutes_of: str | None, meeting: Meeting, committee: Committee) -> None:
    """A minutes motion names exactly one earlier meeting of the committee that was held
    (its attendance is recorded) and whose minutes are not adopted yet."""
    require(minutes_of is not None, "a minutes motion must name the one meeting whose minutes it adopts")
    held = ctx.find(Meeting, str(minutes_of))
    require(held.committee == committee.ref, f"{held.ref} is a meeting of another committee")
    require(held.ref != meeting.ref, f"the minutes of {held.ref} cannot be adopted at {held.ref} itself")
    require(bool(held.present), f"{held.ref} was not held: its attendance was never recorded")
    require(held.minutes is None, f"the minutes of {held.ref} are already adopted")



DATED_ACTS = ("renew", "terminate")
PARTY_ACTS = ("admit", "expel", "representatives")
ACT_SHAPES = ('a covenant act is {"kind": "renew" or "terminate", "date": DATE}, '
              '{"kind": "admit", "expel" or "representatives", "party": PARTY} or '
              '{"kind": "adopt", "consultation": REF, "version": N}')


def act_shape_ok(act: Any) -> bool:
    if not isinstance(act, dict):
        return False
    if act.get("kind") in DATED_ACTS:
        return set(act) == {"kind", "date"}
    if act.get("kind") == "adopt":
        return (set(act) == {"kind", "consultation", "version"} and isinstance(act["consultation"], str)
                and isinstance(act["version"], int) and not isinstance(act["version"], bool))
    return act.get("kind") in PARTY_ACTS and set(act) == {"kind", "party"} and isinstance(act["party"], str)


def normal_act(act: dict[str, Any]) -> dict[str, Any]:
    """A covenant act as a motion states it; InvalidInputError if malformed."""
    kind = str(act.get("kind"))
    if kind == "adopt" and isinstance(act.get("consultation"), str) and isinstance(act.get("version"), int):
        return {"kind": "adopt", "consultation": act["consultation"], "version": act["version"]}
    if kind in DATED_ACTS:
        return {"kind": kind, "date": check_date(act.get("date"), f"{kind} date")}
    if kind in PARTY_ACTS and isinstance(act.get("party"), str) and act["party"]:
        return {"kind": kind, "party": act["party"]}
    raise InvalidInputError(ACT_SHAPES)


def represented_members(motion: Motion, meeting: Meeting, committee: Committee, covenant: Covenant) -> list[str]:
    """Absent seated members whose proxy holder is present, when the covenant counts them toward
    the quorum (terms.proxies.quorum = "counts"); else none."""
    from ledger.domain.committee import proxy_rules

    if proxy_rules(covenant)["quorum"] != "counts":
        return []
    return sorted(giver for giver, given in meeting.proxies().items()
                  if giver in committee.seats and giver not in meeting.present
                  and given["holder"] in meeting.present and given["motion"] in (None, motion.ref))


def party_kinds(rule: dict[str, Any], committee: Committee, covenant: Covenant) -> dict[str, str]:
    """Each seated member's kind of party, frozen when the vote opens, for rules that count
    majorities (or minimum yes votes) within kinds of party; empty for other rules."""
    if not (rule.get("majority_within") or rule.get("min_yes")):
        return {}
    return {member: covenant.kind_of(party) for member, party in sorted(committee.seats.items())
            if party in covenant.parties}
