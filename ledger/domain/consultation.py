"""Consultations on policy drafts: the policy itself, co-produced section by section.

A committee opens a consultation on a draft in numbered sections, saying who
may take part (the partners' ``members``, any ``registered`` person, or the
``public``, whose comments the secretariat records from its intake) and when
it opens and closes.  Comments target a section, optionally proposing
replacement text.  Every comment is answered (accepted, partly accepted, or
not accepted with a reason; an accepted change must show in a later version's
diff) before the consultation may close; a final version is adopted by a
passed decision that states the act ``{"kind": "adopt", "consultation": REF,
"version": N}``.  A comment from a member of a civil-society party and one
from the public are treated the same.

Adjustment requests (:class:`Adjustment`) let a partner formally ask for a
change to an adopted policy, a pilot or a milestone later; the committee must
answer within the covenant's deadline (``terms.adjustments.answer_days``,
default 30) and the request is listed, overdue, until it does.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from ledger.domain.base import Context, LedgerAggregate, require
from ledger.domain.covenant import CLAUSE_RE, Covenant, check_text, numbered_diff
from ledger.errors import InvalidInputError
from ledger.record import format_time, parse_time
from ledger.types import register_aggregate

PARTICIPATION = ("members", "registered", "public")
ANSWERS = ("accepted", "partly_accepted", "not_accepted")


def check_sections(sections: Any) -> list[dict[str, str]]:
    """``[{"number": "1", "text": ...}, ...]``: numbered like clauses, unique, non-empty."""
    if not isinstance(sections, list) or not sections:
        raise InvalidInputError("a draft needs numbered sections")
    seen: set[str] = set()
    out = []
    for section in sections:
        if not isinstance(section, dict) or set(section) != {"number", "text"}:
            raise InvalidInputError('each section is {"number": "2", "text": "..."}')
        number = str(section["number"])
        if not CLAUSE_RE.match(number) or number in seen:
            raise InvalidInputError(f"section number {number!r} must be unique and look like 4 or 4.2")
        seen.add(number)
        out.append({"number": number, "text": check_text(section["text"], f"section {number}")})
    return out


def check_moment(text: Any, what: str) -> str:
    try:
        return format_time(parse_time(str(text)))
    except Exception:
        raise InvalidInputError(f"{what} must be a time such as 2026-12-01T18:00:00.000000Z") from None


@register_aggregate
class Consultation(LedgerAggregate):
    KIND = "consultation"
    PREFIX = "CX"

    class Opened(LedgerAggregate.Created):
        TYPE = "consultation.opened"
        ref: str
        committee: str
        title: str
        sections: list[dict[str, str]]
        participation: str
        opens_at: str
        closes_at: str
        document: str | None = None  # the draft as a document (SHA-256), its sections listed above

        def check(self, aggregate: Any, ctx: Context) -> None:
            from ledger.domain.committee import Committee

            require(aggregate is None, f"consultation {self.ref} already exists")
            committee = ctx.find(Committee, self.committee)
            ctx.find(Covenant, committee.covenant).require_in_force(ctx)
            require(self.participation in PARTICIPATION,
                    f"participation is one of {', '.join(PARTICIPATION)}")
            try:
                check_sections(self.sections)
                opens, closes = check_moment(self.opens_at, "opens_at"), check_moment(self.closes_at, "closes_at")
            except InvalidInputError as exc:
                require(False, str(exc))
            require(opens < closes, "a consultation must close after it opens")

    def __init__(self, ref: str, committee: str, title: str, sections: list[dict[str, str]], participation: str,
                 opens_at: str, closes_at: str, document: str | None = None) -> None:
        self.ref = ref
        self.committee = committee
        self.title = title
        self.versions: list[list[dict[str, str]]] = [sections]
        self.participation = participation
        self.opens_at = opens_at
        self.closes_at = closes_at
        self.document = document
        self.comments: list[dict[str, Any]] = []
        self.status = "open"
        self.adopted: dict[str, Any] | None = None
        self.statistics: dict[str, int] = {}

    @classmethod
    def open(cls, ctx: Context, committee: str, title: str, sections: list[dict[str, str]], participation: str,
             opens_at: str, closes_at: str, document: str | None = None) -> Consultation:
        if participation not in PARTICIPATION:
            raise InvalidInputError(f"participation is one of {', '.join(PARTICIPATION)}, not {participation!r}")
        ref = cls.next_ref(ctx)
        return cls._create(cls.Opened, id=cls.new_id(ctx, ref), ref=ref, committee=committee,
                           title=check_text(title, "title", 300), sections=check_sections(sections),
                           participation=participation, opens_at=check_moment(opens_at, "opens_at"),
                           closes_at=check_moment(closes_at, "closes_at"), document=document)

    def section_text(self, version: int, number: str) -> str | None:
        for section in self.versions[version - 1]:
            if section["number"] == number:
                return section["text"]
        return None

    # --- versions -------------------------------------------------------------

    class VersionPublished(LedgerAggregate.Event):
        TYPE = "draft.version_published"
        version: int
        sections: list[dict[str, str]]
        note: str | None = None

        def check(self, consultation: Consultation, ctx: Context) -> None:
            require(consultation.adopted is None, f"{consultation.ref} is adopted; its text is final")
            require(self.version == len(consultation.versions) + 1,
                    f"the next version of {consultation.ref} is {len(consultation.versions) + 1}")
            try:
                check_sections(self.sections)
            except InvalidInputError as exc:
                require(False, str(exc))
            require(self.sections != consultation.versions[-1], "this version changes nothing")

        def apply(self, consultation: Consultation) -> None:
            consultation.versions.append(list(self.sections))

    def publish_version(self, sections: list[dict[str, str]], note: str | None) -> int:
        version = len(self.versions) + 1
        self.trigger_event(self.VersionPublished, version=version, sections=check_sections(sections),
                           note=check_text(note, "note") if note else None)
        return version

    def diff(self, old: int, new: int) -> list[dict[str, Any]]:
        """Section-level differences between two versions (1-based)."""
        for wanted in (old, new):
            if not 1 <= wanted <= len(self.versions):
                raise InvalidInputError(f"{self.ref} has versions 1 to {len(self.versions)}")
        return numbered_diff({s["number"]: s["text"] for s in self.versions[old - 1]},
                             {s["number"]: s["text"] for s in self.versions[new - 1]}, "section", "removed")

    # --- comments -------------------------------------------------------------

    class CommentSubmitted(LedgerAggregate.Event):
        TYPE = "comment.submitted"
        OPTIONAL = ("channel", "sealed")  # left out of the record for comments in the open
        number: int
        section: str
        text: str
        replacement: str | None
        author: str | None  # the person commenting; None for a comment from the public
        version: int  # the version commented on
        # A confidential comment: its text sealed (age) to the recipients of this covenant channel;
        # ``text`` is then empty, and the comment counts in the statistics without content.
        channel: str | None = None
        sealed: dict[str, Any] | None = None

        def check(self, consultation: Consultation, ctx: Context) -> None:
            at = format_time(ctx.at)
            require(consultation.status == "open", f"{consultation.ref} is {consultation.status}")
            require(consultation.opens_at <= at <= consultation.closes_at,
                    f"{consultation.ref} takes comments from {consultation.opens_at} to {consultation.closes_at}")
            require(self.number == len(consultation.comments) + 1, "comments are numbered 1, 2, 3... in order")
            require(self.version == len(consultation.versions), "a comment is on the current version")
            require(consultation.section_text(self.version, self.section) is not None,
                    f"version {self.version} of {consultation.ref} has no section {self.section}")
            if self.author is None:
                require(consultation.participation == "public", f"{consultation.ref} is not open to the public")
                require("secretariat" in ctx.actor.roles, "the secretariat records comments from the public")
            else:
                require(ctx.actor.person == self.author, "people comment with their own key")
                if consultation.participation == "members":
                    require(bool({"member", "chair"} & set(ctx.actor.roles)),
                            f"{consultation.ref} is open to the partners' members")
            if self.channel is not None or self.sealed is not None:
                from ledger.domain.committee import Committee
                from ledger.domain.feedback import _check_sealed_to_channel, channel_of

                require(self.channel is not None and self.sealed is not None,
                        "a confidential comment names its channel and carries its sealed text")
                require(self.text == "" and self.replacement is None,
                        "a confidential comment carries no text in the clear")
                covenant = ctx.find(Covenant, ctx.find(Committee, consultation.committee).covenant)
                assert self.sealed is not None and self.channel is not None
                _check_sealed_to_channel(ctx, self.sealed, channel_of(covenant, self.channel))

        def apply(self, consultation: Consultation) -> None:
            consultation.comments.append({"number": self.number, "section": self.section, "text": self.text,
                                          "replacement": self.replacement, "author": self.author,
                                          "version": self.version, "answer": None,
                                          "confidential": self.sealed is not None})

    def comment(self, ctx: Context, section: str, text: str, replacement: str | None, public: bool,
                channel: str | None = None, sealed: dict[str, Any] | None = None) -> int:
        number = len(self.comments) + 1
        self.trigger_event(self.CommentSubmitted, number=number, section=str(section),
                           text="" if sealed is not None else check_text(text, "comment"),
                           replacement=check_text(replacement, "replacement") if replacement else None,
                           author=None if public else ctx.actor.person, version=len(self.versions),
                           channel=channel, sealed=sealed)
        return number

    class CommentAnswered(LedgerAggregate.Event):
        TYPE = "comment.answered"
        comment: int
        answer: str
        reason: str | None
        version: int | None  # accepted or partly accepted: the version that shows the change

        def check(self, consultation: Consultation, ctx: Context) -> None:
            require(1 <= self.comment <= len(consultation.comments),
                    f"{consultation.ref} has no comment {self.comment}")
            found = consultation.comments[self.comment - 1]
            require(found["answer"] is None, f"comment {self.comment} is already answered")
            require(self.answer in ANSWERS, f"an answer is one of {', '.join(ANSWERS)}")
            if self.answer != "accepted":
                require(bool(self.reason), f"a comment {self.answer.replace('_', ' ')} needs a reason")
            if self.answer == "not_accepted":
                require(self.version is None, "a comment not accepted names no version")
                return
            require(self.version is not None and found["version"] < self.version <= len(consultation.versions),
                    f"name the later version that shows the change (versions {found['version'] + 1} to "
                    f"{len(consultation.versions)})")
            assert self.version is not None
            before = consultation.section_text(found["version"], found["section"])
            after = consultation.section_text(self.version, found["section"])
            require(before != after, f"section {found['section']} is the same in version {self.version}: "
                                     "the change does not show")
            if self.answer == "accepted" and found["replacement"]:
                require(after == found["replacement"],
                        f"section {found['section']} of version {self.version} is not the replacement proposed")

        def apply(self, consultation: Consultation) -> None:
            consultation.comments[self.comment - 1]["answer"] = {
                "answer": self.answer, "reason": self.reason, "version": self.version}

    def answer(self, comment: int, answer: str, reason: str | None, version: int | None) -> None:
        if answer not in ANSWERS:
            raise InvalidInputError(f"an answer is one of {', '.join(ANSWERS)}, not {answer!r}")
        self.trigger_event(self.CommentAnswered, comment=comment, answer=answer,
                           reason=check_text(reason, "reason") if reason else None, version=version)

    def computed_statistics(self) -> dict[str, int]:
        answers = [c["answer"]["answer"] for c in self.comments if c["answer"]]
        return {"comments": len(self.comments), "from_the_public": sum(c["author"] is None for c in self.comments),
                "confidential": sum(bool(c.get("confidential")) for c in self.comments),
                **{a: answers.count(a) for a in ANSWERS}}

    class Closed(LedgerAggregate.Event):
        TYPE = "consultation.closed"
        statistics: dict[str, int]

        def check(self, consultation: Consultation, ctx: Context) -> None:
            require(consultation.status == "open", f"{consultation.ref} is {consultation.status}")
            require(format_time(ctx.at) >= consultation.closes_at,
                    f"{consultation.ref} takes comments until {consultation.closes_at}")
            waiting = [str(c["number"]) for c in consultation.comments if c["answer"] is None]
            require(not waiting, f"every comment needs an answer first (unanswered: {', '.join(waiting)})")
            require(self.statistics == consultation.computed_statistics(),
                    "the statistics recorded are not the comments' and answers'")

        def apply(self, consultation: Consultation) -> None:
            consultation.status = "closed"
            consultation.statistics = dict(self.statistics)

    def close(self) -> None:
        self.trigger_event(self.Closed, statistics=self.computed_statistics())

    class Adopted(LedgerAggregate.Event):
        TYPE = "consultation.adopted"
        version: int
        decision: str

        def check(self, consultation: Consultation, ctx: Context) -> None:
            from ledger.domain.committee import Committee
            from ledger.domain.covenant import _require_passed

            require(consultation.status == "closed", f"{consultation.ref} must be closed before its text is adopted")
            require(consultation.adopted is None, f"{consultation.ref} is already adopted")
            require(1 <= self.version <= len(consultation.versions), f"{consultation.ref} has no version "
                                                                     f"{self.version}")
            covenant = ctx.find(Covenant, ctx.find(Committee, consultation.committee).covenant)
            motion = _require_passed(ctx, self.decision, covenant.act_class("adopt"), covenant.ref)
            act = {"kind": "adopt", "consultation": consultation.ref, "version": self.version}
            require(motion.act == act, f"{self.decision} did not decide to adopt version {self.version} of "
                                       f"{consultation.ref}")

        def apply(self, consultation: Consultation) -> None:
            consultation.status = "adopted"
            consultation.adopted = {"version": self.version, "decision": self.decision}

    def adopt(self, version: int, decision: str) -> None:
        self.trigger_event(self.Adopted, version=version, decision=decision)


@register_aggregate
class Adjustment(LedgerAggregate):
    """A partner's formal request to change an adopted policy, a pilot or a milestone."""

    KIND = "adjustment"
    PREFIX = "AR"

    class Requested(LedgerAggregate.Created):
        TYPE = "adjustment.requested"
        ref: str
        committee: str
        subject: str  # what to adjust: a consultation (CX-1), milestone (MS-2) or fund (F-1) ref
        party: str
        text: str
        due: str  # by when the committee must answer

        def check(self, aggregate: Any, ctx: Context) -> None:
            from ledger.domain.committee import Committee

            require(aggregate is None, f"adjustment request {self.ref} already exists")
            committee = ctx.find(Committee, self.committee)
            covenant = ctx.find(Covenant, committee.covenant)
            covenant.require_in_force(ctx)
            require(covenant.party_of(ctx.actor.person) == self.party,
                    "a party's representative requests an adjustment in the party's name")
            require(self.due == answer_due(covenant, ctx), "the answer's due date is the covenant's")

    def __init__(self, ref: str, committee: str, subject: str, party: str, text: str, due: str) -> None:
        self.ref, self.committee, self.subject, self.party, self.text, self.due = (
            ref, committee, subject, party, text, due)
        self.answer: dict[str, Any] | None = None

    @classmethod
    def request(cls, ctx: Context, committee: str, subject: str, party: str, text: str, due: str) -> Adjustment:
        ref = cls.next_ref(ctx)
        return cls._create(cls.Requested, id=cls.new_id(ctx, ref), ref=ref, committee=committee,
                           subject=check_text(subject, "subject", 40), party=party,
                           text=check_text(text, "request"), due=due)

    class Answered(LedgerAggregate.Event):
        TYPE = "adjustment.answered"
        decision: str  # "granted", "partly_granted" or "refused"
        text: str

        def check(self, adjustment: Adjustment, ctx: Context) -> None:
            require(adjustment.answer is None, f"{adjustment.ref} is already answered")
            require(self.decision in ("granted", "partly_granted", "refused"),
                    "an answer grants, partly grants or refuses the request")
            require(bool(self.text.strip()), "an answer says why")

        def apply(self, adjustment: Adjustment) -> None:
            adjustment.answer = {"decision": self.decision, "text": self.text,
                                 "at": format_time(self.timestamp)}

    def respond(self, decision: str, text: str) -> None:
        self.trigger_event(self.Answered, decision=decision, text=check_text(text, "answer"))


def answer_due(covenant: Covenant, ctx: Context) -> str:
    """When the committee must answer an adjustment request made now (terms.adjustments.answer_days)."""
    days = (covenant.terms.get("adjustments") or {}).get("answer_days", 30)
    if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= 365:
        days = 30
    return (ctx.at + timedelta(days=days)).date().isoformat()
