"""Confidential feedback channels: voices heard without fear of reprisal.

A covenant names its channels (``terms.channels``): who receives what is said
(``recipients``, people with registered age recipients), who may take it in
(``intake``: the intake officer's key signs the submission, so the submitter's
own key never appears; with ``members_submit`` a member may also submit with
their own key, sealing on their own device), and the deadlines (acknowledge within
``acknowledge_days``, default 7; feedback within ``feedback_days`` of the
acknowledgement, default 90, as the EU Whistleblowing Directive asks).

A submission's content is sealed (ledger/sealed.py) to the channel's
recipients; the record holds the sealed payload, the receipt code's lookup
value and the recipient replies are also sealed to (ledger/receipts.py), never
the code or the text.  Recipients acknowledge, reply (sealed) and close with
a public outcome category, or a sealed one.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from ledger.domain.base import Context, LedgerAggregate, RuleError, require
from ledger.domain.covenant import Covenant
from ledger.errors import InvalidInputError
from ledger.record import format_time, parse_time
from ledger.types import register_aggregate

OUTCOMES = ("taken_into_policy", "referred_to_committee", "answered", "not_actionable", "withdrawn", "sealed")


def channel_of(covenant: Covenant, name: str) -> dict[str, Any]:
    channels = covenant.terms.get("channels") or {}
    if name not in channels:
        raise RuleError(f"covenant {covenant.ref} has no channel {name!r}"
                        + (f" (channels: {', '.join(sorted(channels))})" if channels else ""))
    return dict(channels[name])


def channel_recipients(ctx: Context, channel: dict[str, Any]) -> list[str]:
    """The age recipients of a channel's recipients, as registered now."""
    return sorted({r for person in channel.get("recipients", []) for r in ctx.keys.recipients_of(person)})


def _check_sealed_to_channel(ctx: Context, sealed: dict[str, Any], channel: dict[str, Any],
                             extra: set[str] = frozenset()) -> None:  # type: ignore[assignment]
    from ledger.sealed import check_payload

    try:
        check_payload(sealed)
    except InvalidInputError as exc:
        raise RuleError(str(exc)) from None
    allowed = set(channel_recipients(ctx, channel))
    named = set(sealed["sealed"]["recipients"])
    require(bool(named & allowed), "sealed content must be sealed to at least one of the channel's recipients")
    require(named <= allowed | extra, "sealed content may be sealed only to the channel's recipients")


@register_aggregate
class Feedback(LedgerAggregate):
    KIND = "feedback"
    PREFIX = "FB"

    class Submitted(LedgerAggregate.Created):
        TYPE = "feedback.submitted"
        ref: str
        covenant: str
        channel: str
        content: dict[str, Any]  # a sealed payload
        receipt_lookup: str  # hex: scrypt of the receipt code (ledger/receipts.py)
        reply_to: str  # the age recipient the receipt code holds
        follow_up_of: str | None = None

        def check(self, aggregate: Any, ctx: Context) -> None:
            covenant = ctx.find(Covenant, self.covenant)
            channel = channel_of(covenant, self.channel)
            # The intake signs what it takes in; a channel open to members (members_submit) also
            # takes a member's own submission, sealed on their device (the members' page).
            member = bool(channel.get("members_submit")) and bool({"member", "chair"} & set(ctx.actor.roles))
            require(ctx.actor.person in channel.get("intake", []) or member,
                    f"only the intake of channel {self.channel} signs submissions to it")
            _check_sealed_to_channel(ctx, self.content, channel)
            require(len(self.receipt_lookup) == 64, "receipt_lookup is 32 bytes in hex")
            if self.follow_up_of is not None:
                first = ctx.find(Feedback, self.follow_up_of)
                require(first.channel == self.channel and first.follow_up_of is None,
                        f"{self.follow_up_of} is not a first submission to channel {self.channel}")
                require(first.receipt_lookup == self.receipt_lookup, "a follow-up carries its thread's receipt")

    def __init__(self, ref: str, covenant: str, channel: str, content: dict[str, Any], receipt_lookup: str,
                 reply_to: str, follow_up_of: str | None = None) -> None:
        self.ref = ref
        self.covenant = covenant
        self.channel = channel
        self.content = content
        self.receipt_lookup = receipt_lookup
        self.reply_to = reply_to
        self.follow_up_of = follow_up_of
        self.acknowledged_at: str | None = None
        self.replies: list[dict[str, Any]] = []
        self.outcome: str | None = None
        self.sealed_outcome: dict[str, Any] | None = None
        self.closed_at: str | None = None

    @classmethod
    def submit(cls, ctx: Context, covenant: str, channel: str, content: dict[str, Any], receipt_lookup: str,
               reply_to: str, follow_up_of: str | None) -> Feedback:
        ref = cls.next_ref(ctx)
        return cls._create(cls.Submitted, id=cls.new_id(ctx, ref), ref=ref, covenant=covenant, channel=channel,
                           content=content, receipt_lookup=receipt_lookup, reply_to=reply_to,
                           follow_up_of=follow_up_of)

    def submitted_at(self) -> datetime:
        return self.created_on

    def _require_recipient(self, ctx: Context) -> dict[str, Any]:
        channel = channel_of(ctx.find(Covenant, self.covenant), self.channel)
        require(ctx.actor.person in channel.get("recipients", []),
                f"only a recipient of channel {self.channel} may do this")
        return channel

    class Acknowledged(LedgerAggregate.Event):
        TYPE = "feedback.acknowledged"

        def check(self, feedback: Feedback, ctx: Context) -> None:
            feedback._require_recipient(ctx)
            require(feedback.acknowledged_at is None, f"{feedback.ref} is already acknowledged")
            require(feedback.closed_at is None, f"{feedback.ref} is closed")

        def apply(self, feedback: Feedback) -> None:
            feedback.acknowledged_at = format_time(self.timestamp)

    def acknowledge(self) -> None:
        self.trigger_event(self.Acknowledged)

    class Replied(LedgerAggregate.Event):
        TYPE = "feedback.replied"
        content: dict[str, Any]  # sealed to the channel's recipients and the receipt's recipient

        def check(self, feedback: Feedback, ctx: Context) -> None:
            channel = feedback._require_recipient(ctx)
            require(feedback.acknowledged_at is not None, f"acknowledge {feedback.ref} first")
            require(feedback.closed_at is None, f"{feedback.ref} is closed")
            _check_sealed_to_channel(ctx, self.content, channel, {feedback.reply_to})
            require(feedback.reply_to in self.content["sealed"]["recipients"],
                    "a reply is sealed to the submitter's receipt too, so they can read it")

        def apply(self, feedback: Feedback) -> None:
            feedback.replies.append({"at": format_time(self.timestamp), "content": self.content})

    def reply(self, content: dict[str, Any]) -> None:
        self.trigger_event(self.Replied, content=content)

    class Closed(LedgerAggregate.Event):
        TYPE = "feedback.closed"
        outcome: str  # a public category (OUTCOMES), "sealed" when told only in sealed_outcome
        sealed_outcome: dict[str, Any] | None = None

        def check(self, feedback: Feedback, ctx: Context) -> None:
            channel = feedback._require_recipient(ctx)
            require(feedback.closed_at is None, f"{feedback.ref} is already closed")
            require(self.outcome in OUTCOMES, f"the outcome is one of {', '.join(OUTCOMES)}")
            require((self.outcome == "sealed") == (self.sealed_outcome is not None),
                    "a sealed outcome comes with its sealed text, and only then")
            if self.sealed_outcome is not None:
                _check_sealed_to_channel(ctx, self.sealed_outcome, channel, {feedback.reply_to})

        def apply(self, feedback: Feedback) -> None:
            feedback.outcome = self.outcome
            feedback.sealed_outcome = self.sealed_outcome
            feedback.closed_at = format_time(self.timestamp)

    def close(self, outcome: str, sealed_outcome: dict[str, Any] | None) -> None:
        if outcome not in OUTCOMES:
            raise InvalidInputError(f"the outcome is one of {', '.join(OUTCOMES)}")
        self.trigger_event(self.Closed, outcome=outcome, sealed_outcome=sealed_outcome)

    # --- deadlines ---------------------------------------------------------

    def deadlines(self, covenant: Covenant) -> dict[str, str | None]:
        channel = channel_of(covenant, self.channel)
        ack_by = self.submitted_at() + timedelta(days=int(channel.get("acknowledge_days", 7)))
        feedback_by = None
        if self.acknowledged_at is not None:
            feedback_by = format_time(parse_time(self.acknowledged_at)
                                      + timedelta(days=int(channel.get("feedback_days", 90))))
        return {"acknowledge_by": format_time(ack_by), "feedback_by": feedback_by}

    def overdue(self, covenant: Covenant, now: datetime) -> list[str]:
        """What is late as of ``now``: the acknowledgement, or the feedback after it."""
        if self.closed_at is not None:
            return []
        due = self.deadlines(covenant)
        late = []
        if self.acknowledged_at is None and now > parse_time(str(due["acknowledge_by"])):
            late.append("acknowledgement")
        if due["feedback_by"] is not None and not self.replies and now > parse_time(due["feedback_by"]):
            late.append("feedback")
        return late
