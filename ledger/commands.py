"""The governance commands: the Python API that the CLI calls.

Each function runs one command (one transaction, all or nothing) signed by
``signer``, and returns something useful: usually the readable ref of what
it created (``M-12``).  Members are named by key id, unique key-id prefix or
holder name.  Rules are not checked here but by the aggregates' events.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ledger import record as rec
from ledger.application import Ledger
from ledger.domain.base import Context
from ledger.domain.committee import Committee, Meeting
from ledger.domain.covenant import Covenant
from ledger.domain.dispute import Dispute
from ledger.domain.funding import Fund
from ledger.domain.milestone import Milestone
from ledger.domain.motion import Motion
from ledger.domain.organisation import Organisation
from ledger.errors import InvalidInputError, NotFoundError
from ledger.keys import Signer
from ledger.types import REF_PREFIX


def _key(ctx: Context, who: str) -> str:
    return ctx.keys.resolve_person(who)


# --- covenant ---------------------------------------------------------------

def draft_covenant(ledger: Ledger, signer: Signer, title: str, terms: dict[str, Any]) -> str:
    def action(ctx: Context) -> tuple[str, list[Any]]:
        resolved = dict(terms)
        resolved["parties"] = [dict(p, representatives=[_key(ctx, r) for r in p.get("representatives", [])])
                               for p in terms.get("parties", [])]
        procedure = dict(terms.get("dispute_procedure") or {})
        for who in ("ombudspersons", "mediators"):
            procedure[who] = [_key(ctx, r) for r in procedure.get(who, [])]
        resolved["dispute_procedure"] = procedure
        if isinstance(terms.get("erasers"), list):
            resolved["erasers"] = [_key(ctx, who) for who in terms["erasers"]]
        if isinstance(terms.get("channels"), dict):
            resolved["channels"] = {
                name: dict(ch, **{who: [_key(ctx, r) for r in ch.get(who, [])] for who in ("recipients", "intake")})
                if isinstance(ch, dict) else ch for name, ch in terms["channels"].items()}
        covenant = Covenant.draft(ctx, title, resolved)
        return covenant.ref, [covenant]
    return ledger.run(signer, action)


def accede(ledger: Ledger, signer: Signer, covenant: str, party: str) -> str:
    def action(ctx: Context) -> tuple[str, list[Any]]:
        found = ctx.find(Covenant, covenant)
        found.accede(party)
        return found.status, [found]
    return ledger.run(signer, action)


def admit_party(ledger: Ledger, signer: Signer, covenant: str, party: dict[str, Any], decision: str) -> None:
    """Admit a new party under a passed ``admit`` decision; its representative then accedes."""
    def action(ctx: Context) -> tuple[None, list[Any]]:
        found = ctx.find(Covenant, covenant)
        resolved = dict(party, representatives=[_key(ctx, r) for r in party.get("representatives", [])])
        found.admit(resolved, decision)
        return None, [found]
    ledger.run(signer, action)


def withdraw_party(ledger: Ledger, signer: Signer, covenant: str, party: str, reason: str) -> None:
    def action(ctx: Context) -> tuple[None, list[Any]]:
        found = ctx.find(Covenant, covenant)
        found.withdraw(party, reason)
        return None, [found]
    ledger.run(signer, action)


def expel_party(ledger: Ledger, signer: Signer, covenant: str, party: str, decision: str, reason: str) -> None:
    def action(ctx: Context) -> tuple[None, list[Any]]:
        found = ctx.find(Covenant, covenant)
        found.expel(party, decision, reason)
        return None, [found]
    ledger.run(signer, action)


def change_representatives(ledger: Ledger, signer: Signer, covenant: str, party: str, representatives: list[str],
                           decision: str | None = None) -> None:
    def action(ctx: Context) -> tuple[None, list[Any]]:
        found = ctx.find(Covenant, covenant)
        found.change_representatives(party, [_key(ctx, r) for r in representatives], decision)
        return None, [found]
    ledger.run(signer, action)


def review_covenant(ledger: Ledger, signer: Signer, covenant: str, review_date: str, notes: str) -> None:
    def action(ctx: Context) -> tuple[None, list[Any]]:
        found = ctx.find(Covenant, covenant)
        found.review(review_date, notes)
        return None, [found]
    ledger.run(signer, action)


def amend_covenant(ledger: Ledger, signer: Signer, covenant: str, decision: str) -> int:
    """Apply the changes adopted by a passed amendment motion; return the new version."""
    def action(ctx: Context) -> tuple[int, list[Any]]:
        found = ctx.find(Covenant, covenant)
        found.amend(decision, ctx.find(Motion, decision).changes or [])
        return found.clause_version, [found]
    return ledger.run(signer, action)


def renew_covenant(ledger: Ledger, signer: Signer, covenant: str, new_end: str, decision: str) -> None:
    def action(ctx: Context) -> tuple[None, list[Any]]:
        found = ctx.find(Covenant, covenant)
        found.renew(new_end, decision)
        return None, [found]
    ledger.run(signer, action)


def terminate_covenant(ledger: Ledger, signer: Signer, covenant: str, decision: str, reason: str) -> None:
    def action(ctx: Context) -> tuple[None, list[Any]]:
        found = ctx.find(Covenant, covenant)
        found.terminate(decision, reason)
        return None, [found]
    ledger.run(signer, action)


# --- committees and meetings -------------------------------------------------

def establish_committee(ledger: Ledger, signer: Signer, covenant: str, name: str, seats: dict[str, str],
                        rotation_order: list[str], rotation_every: int) -> str:
    def action(ctx: Context) -> tuple[str, list[Any]]:
        resolved = {_key(ctx, member): party for member, party in seats.items()}
        committee = Committee.establish(ctx, covenant, name, resolved,
                                        {"order": rotation_order, "every": rotation_every})
        return committee.ref, [committee]
    return ledger.run(signer, action)


def assign_seat(ledger: Ledger, signer: Signer, committee: str, member: str, party: str) -> None:
    def action(ctx: Context) -> tuple[None, list[Any]]:
        found = ctx.find(Committee, committee)
        found.assign_seat(_key(ctx, member), party)
        return None, [found]
    ledger.run(signer, action)


def vacate_seat(ledger: Ledger, signer: Signer, committee: str, member: str, reason: str) -> None:
    def action(ctx: Context) -> tuple[None, list[Any]]:
        found = ctx.find(Committee, committee)
        found.vacate_seat(_key(ctx, member), reason)
        return None, [found]
    ledger.run(signer, action)


def schedule_meeting(ledger: Ledger, signer: Signer, committee: str, starts_at: datetime,
                     urgent: bool = False) -> str:
    def action(ctx: Context) -> tuple[str, list[Any]]:
        found = ctx.find(Committee, committee)
        meeting = Meeting.schedule(ctx, found, starts_at, urgent)
        return meeting.ref, [found, meeting]
    return ledger.run(signer, action)


def on_meeting(ledger: Ledger, signer: Signer, meeting: str, call: Any) -> None:
    """Run ``call(ctx, meeting)`` as one command (postpone, cancel, close...)."""
    _on_meeting(ledger, signer, meeting, call)


def _on_meeting(ledger: Ledger, signer: Signer, meeting: str, call: Any) -> None:
    def action(ctx: Context) -> tuple[None, list[Any]]:
        found = ctx.find(Meeting, meeting)
        call(ctx, found)
        return None, [found]
    ledger.run(signer, action)


def publish_agenda(ledger: Ledger, signer: Signer, meeting: str, items: list[dict[str, Any]]) -> None:
    _on_meeting(ledger, signer, meeting, lambda ctx, m: m.publish_agenda(items))


def record_attendance(ledger: Ledger, signer: Signer, meeting: str, present: list[str]) -> int:
    """Record arrivals; return how many are present now."""
    return _attendance(ledger, signer, meeting, present, Meeting.record_attendance)


def record_departure(ledger: Ledger, signer: Signer, meeting: str, members: list[str]) -> int:
    """Record departures; return how many are still present."""
    return _attendance(ledger, signer, meeting, members, Meeting.record_departure)


def _attendance(ledger: Ledger, signer: Signer, meeting: str, members: list[str], change: Any) -> int:
    def action(ctx: Context) -> tuple[int, list[Any]]:
        found = ctx.find(Meeting, meeting)
        change(found, [_key(ctx, m) for m in members])
        return len(found.present), [found]
    return ledger.run(signer, action)


def declare_conflict(ledger: Ledger, signer: Signer, meeting: str, member: str, items: list[int],
                     reason: str) -> None:
    _on_meeting(ledger, signer, meeting, lambda ctx, m: m.declare_conflict(_key(ctx, member), items, reason))


def delegate_chair(ledger: Ledger, signer: Signer, meeting: str, to_member: str, reason: str) -> None:
    _on_meeting(ledger, signer, meeting, lambda ctx, m: m.delegate_chair(_key(ctx, to_member), reason))


def adopt_minutes(ledger: Ledger, signer: Signer, meeting: str, decision: str, minutes_digest: str) -> None:
    _on_meeting(ledger, signer, meeting, lambda ctx, m: m.adopt_minutes(decision, minutes_digest))


# --- motions and votes -------------------------------------------------------

def propose_motion(ledger: Ledger, signer: Signer, meeting: str, item: int, decision_class: str, text: str,
                   amends: str | None = None, amount: dict[str, str] | None = None,
                   changes: list[dict[str, Any]] | None = None, minutes_of: str | None = None,
                   act: dict[str, Any] | None = None) -> str:
    def action(ctx: Context) -> tuple[str, list[Any]]:
        found = ctx.find(Meeting, meeting)
        parent = ctx.find(Motion, amends) if amends else None
        named = None if changes is None else [
            dict(ch, people=[_key(ctx, who) for who in ch.get("people", [])])
            if isinstance(ch, dict) and ch.get("op") == "set_neutrals" else ch for ch in changes]
        motion = Motion.propose(ctx, found, item, decision_class, text, amends, amount, named, minutes_of, act)
        if parent is None:
            return motion.ref, [motion]
        parent.table_amendment(motion.ref)
        return motion.ref, [motion, parent]
    return ledger.run(signer, action)


def _on_motion(ledger: Ledger, signer: Signer, motion: str, call: Any) -> Any:
    def action(ctx: Context) -> tuple[Any, list[Any]]:
        found = ctx.find(Motion, motion)
        result = call(ctx, found)
        extra = [ctx.find(Motion, found.amends)] if found.amends and found.status == "closed" else []
        if extra and found.result == "pass":
            # A passed amendment changes its parent's text in the same command.
            extra[0].adopt_amendment(found)
        return result, [found, *extra] if extra and found.result == "pass" else [found]
    return ledger.run(signer, action)


def second_motion(ledger: Ledger, signer: Signer, motion: str) -> None:
    _on_motion(ledger, signer, motion, lambda ctx, m: m.second(ctx.actor.person))


def withdraw_motion(ledger: Ledger, signer: Signer, motion: str, reason: str = "") -> None:
    _on_motion(ledger, signer, motion, lambda ctx, m: m.withdraw(reason))


def open_vote(ledger: Ledger, signer: Signer, motion: str) -> None:
    _on_motion(ledger, signer, motion, lambda ctx, m: m.open_vote(ctx))


def cast_vote(ledger: Ledger, signer: Signer, motion: str, choice: str, member: str | None = None,
              proxy_for: str | None = None) -> None:
    """Cast the signer's own vote, record one on a member's behalf (``member``, the secretariat),
    or cast the vote of a member whose proxy the signer holds (``proxy_for``)."""
    def call(ctx: Context, m: Motion) -> None:
        if proxy_for:
            m.cast_vote(_key(ctx, proxy_for), choice, on_behalf=False, proxy=ctx.actor.person)
            return
        voter = _key(ctx, member) if member else ctx.actor.person
        m.cast_vote(voter, choice, on_behalf=voter != ctx.actor.person)
    _on_motion(ledger, signer, motion, call)


def give_proxy(ledger: Ledger, signer: Signer, meeting: str, holder: str, motion: str | None = None) -> None:
    """Give the signer's vote at a meeting (or on one motion) to another seated member."""
    _on_meeting(ledger, signer, meeting, lambda ctx, m: m.give_proxy(ctx.actor.person, _key(ctx, holder), motion))


def revoke_proxy(ledger: Ledger, signer: Signer, meeting: str) -> None:
    _on_meeting(ledger, signer, meeting, lambda ctx, m: m.revoke_proxy(ctx.actor.person))


def file_minority_report(ledger: Ledger, signer: Signer, motion: str, text: str, members: list[str]) -> None:
    """File a joint minority report on a decision; each other member named joins it with their own key."""
    _on_motion(ledger, signer, motion,
               lambda ctx, m: m.file_minority_report(ctx, text, [_key(ctx, who) for who in members]))


def join_minority_report(ledger: Ledger, signer: Signer, motion: str) -> None:
    _on_motion(ledger, signer, motion, lambda ctx, m: m.join_minority_report(ctx.actor.person))


def close_motion(ledger: Ledger, signer: Signer, motion: str) -> tuple[str, str]:
    """Close the vote; return (result, explanation) as the ledger computed them."""
    result: tuple[str, str] = _on_motion(ledger, signer, motion, lambda ctx, m: m.close(ctx))
    return result


def attach_dissent(ledger: Ledger, signer: Signer, motion: str, statement: str, member: str | None = None) -> None:
    _on_motion(ledger, signer, motion,
               lambda ctx, m: m.attach_dissent(_key(ctx, member) if member else ctx.actor.person, statement))


# --- funding --------------------------------------------------------------------

def establish_fund(ledger: Ledger, signer: Signer, covenant: str, name: str, currency: str,
                   matching: list[dict[str, Any]]) -> str:
    def action(ctx: Context) -> tuple[str, list[Any]]:
        fund = Fund.establish(ctx, covenant, name, currency, matching)
        return fund.ref, [fund]
    return ledger.run(signer, action)


def _on_fund(ledger: Ledger, signer: Signer, fund: str, call: Any) -> Any:
    def action(ctx: Context) -> tuple[Any, list[Any]]:
        found = ctx.find(Fund, fund)
        return call(ctx, found), [found]
    return ledger.run(signer, action)


def pledge(ledger: Ledger, signer: Signer, fund: str, party: str, amount: str) -> None:
    _on_fund(ledger, signer, fund, lambda ctx, f: f.pledge(party, amount))


def receive(ledger: Ledger, signer: Signer, fund: str, party: str, amount: str, evidence: str) -> None:
    _on_fund(ledger, signer, fund, lambda ctx, f: f.receive(ctx, party, amount, evidence))


def allocate(ledger: Ledger, signer: Signer, fund: str, project: str, amount: str, decision: str,
             recipient: str) -> str:
    """Allocate money to ``recipient`` (a party's id or a registered organisation's) for a project."""
    allocation: str = _on_fund(ledger, signer, fund, lambda ctx, f: f.allocate(project, amount, decision, recipient))
    return allocation


def register_organisation(ledger: Ledger, signer: Signer, ref: str, name: str, identifier: str | None,
                          kind: str) -> str:
    """Register an outside organisation (a recipient of money that is not a party)."""
    def action(ctx: Context) -> tuple[str, list[Any]]:
        found = Organisation.register(ref, name, identifier, kind)
        return found.ref, [found]
    return ledger.run(signer, action)


def disburse(ledger: Ledger, signer: Signer, fund: str, allocation: str, amount: str, evidence: str) -> None:
    _on_fund(ledger, signer, fund, lambda ctx, f: f.disburse(allocation, amount, evidence))


def return_funds(ledger: Ledger, signer: Signer, fund: str, allocation: str, amount: str, reason: str) -> None:
    _on_fund(ledger, signer, fund, lambda ctx, f: f.return_funds(allocation, amount, reason))


# --- milestones -------------------------------------------------------------------

def define_milestone(ledger: Ledger, signer: Signer, covenant: str, title: str, metric: str, unit: str,
                     baseline: str, target: str, deadline: str, owner: str) -> str:
    def action(ctx: Context) -> tuple[str, list[Any]]:
        milestone = Milestone.define(ctx, covenant, title, metric, unit, baseline, target, deadline, owner)
        return milestone.ref, [milestone]
    return ledger.run(signer, action)


def _on_milestone(ledger: Ledger, signer: Signer, ref: str, call: Any) -> None:
    def action(ctx: Context) -> tuple[None, list[Any]]:
        found = ctx.find(Milestone, ref)
        call(ctx, found)
        return None, [found]
    ledger.run(signer, action)


def report_progress(ledger: Ledger, signer: Signer, milestone: str, value: str, report_date: str,
                    evidence: str, narrative: str) -> None:
    _on_milestone(ledger, signer, milestone, lambda ctx, m: m.report(value, report_date, evidence, narrative))


def evaluate_milestone(ledger: Ledger, signer: Signer, milestone: str, assessment: str) -> None:
    _on_milestone(ledger, signer, milestone, lambda ctx, m: m.evaluate(ctx.actor.person, assessment))


# --- disputes ------------------------------------------------------------------------

def file_confidential_dispute(ledger: Ledger, signer: Signer, covenant: str, complainant: dict[str, str],
                              respondents: list[str], contested: list[str], grounds: str) -> str:
    """File a grievance whose complainant and grounds are sealed to the covenant's neutrals;
    signed by the intake (the secretariat), so the complainant's key appears nowhere."""
    import json

    from ledger import sealed
    from ledger.domain.dispute import neutral_recipients

    contested = [cited_hash(ledger, citation) for citation in contested]
    secret = json.dumps({"complainant": complainant, "grounds": grounds}, ensure_ascii=False).encode("utf-8")

    def action(ctx: Context) -> tuple[str, list[Any]]:
        found = ctx.find(Covenant, covenant)
        recipients = neutral_recipients(ctx, found)
        if not recipients:
            raise InvalidInputError("none of the covenant's neutrals has registered an age recipient (ledger keys "
                                    "recipient): nobody could read a confidential grievance")
        box = sealed.seal(secret, recipients)
        ledger.stage_sealed(box)
        dispute = Dispute.file_confidential(ctx, covenant, respondents, contested, box.payload())
        return dispute.ref, [dispute]

    return ledger.run(signer, action)


def file_dispute(ledger: Ledger, signer: Signer, covenant: str, complainant: dict[str, str],
                 respondents: list[str], contested: list[str], grounds: str) -> str:
    """File a grievance citing the records it contests, each by event hash or as STREAM:SEQ.

    The grievance record always holds event hashes: they name the exact bytes
    contested, whatever is written later.
    """
    contested = [cited_hash(ledger, citation) for citation in contested]

    def action(ctx: Context) -> tuple[str, list[Any]]:
        dispute = Dispute.file(ctx, covenant, complainant, respondents, contested, grounds)
        return dispute.ref, [dispute]
    return ledger.run(signer, action)


CITATION_FORMS = ("a log position (42)", "STREAM:SEQ", "a ref such as M-12 (its latest record) or M-12#3 (its third)",
                  "a 64-digit event hash")


def cited_hash(ledger: Ledger, citation: str) -> str:
    """The event hash a citation names: an event hash itself, a log position,
    STREAM:SEQ, or a readable ref (M-12: the latest record of that object)."""
    import re

    from ledger.domain.base import stream_id

    text = citation.strip()
    if re.fullmatch(r"[0-9a-fA-F]{64}", text):
        return text.lower()  # the rule checks it names an earlier record
    if text.isascii() and text.isdigit():
        return ledger.record_at(int(text)).event_hash
    stream, colon, seq = text.rpartition(":")
    if colon:
        if not seq.isdigit() or int(seq) < 1:
            raise InvalidInputError(f"{citation!r} is not STREAM:SEQ (seq counts from 1)")
        return ledger.hash_at(stream, int(seq))
    named, hash_mark, seq = text.upper().partition("#")
    prefix, dash, number = named.partition("-")
    kinds = {prefix: kind for kind, prefix in REF_PREFIX.items()}
    if dash and number.isdigit() and prefix in kinds and (not hash_mark or (seq.isdigit() and int(seq) >= 1)):
        ref = f"{prefix}-{int(number)}"
        object_stream = stream_id(ledger.origin, kinds[prefix], ref)
        if hash_mark:  # M-12#3: the object's third record
            return ledger.hash_at(str(object_stream), int(seq))
        found = ledger.recorder.select_events(object_stream, desc=True, limit=1)
        if not found:
            raise NotFoundError(f"{ref} does not exist")
        return rec.event_hash(found[0].state)
    raise InvalidInputError(f"{citation!r} names no record: cite {', '.join(CITATION_FORMS)}")



def on_dispute(ledger: Ledger, signer: Signer, dispute: str, call: Any) -> None:
    """Run ``call(ctx, dispute)`` as one command (acknowledge, assign, find...)."""
    def action(ctx: Context) -> tuple[None, list[Any]]:
        found = ctx.find(Dispute, dispute)
        call(ctx, found)
        return None, [found]
    ledger.run(signer, action)


def on_dispute_sealed(ledger: Ledger, signer: Signer, dispute: str, text: str, call: Any) -> None:
    """Like on_dispute, with ``text`` sealed to the covenant's neutrals: ``call(ctx, dispute,
    payload)`` records the payload in place of the text (a sealed finding or remedy)."""
    from ledger import sealed
    from ledger.domain.dispute import neutral_recipients

    def action(ctx: Context) -> tuple[None, list[Any]]:
        found = ctx.find(Dispute, dispute)
        recipients = neutral_recipients(ctx, ctx.find(Covenant, found.covenant))
        if not recipients:
            raise InvalidInputError("none of the covenant's neutrals has registered an age recipient")
        box = sealed.seal(text.encode("utf-8"), recipients)
        ledger.stage_sealed(box)
        call(ctx, found, box.payload())
        return None, [found]

    ledger.run(signer, action)


def assign_dispute(ledger: Ledger, signer: Signer, dispute: str, assignee: str, capacity: str,
                   decision: str | None = None) -> None:
    """Assign a dispute; for an appeal, a neutral the covenant does not name needs ``decision``."""
    on_dispute(ledger, signer, dispute, lambda ctx, d: d.assign(_key(ctx, assignee), capacity, decision))


# --- confidential feedback ------------------------------------------------------

def submit_feedback(ledger: Ledger, signer: Signer, covenant: str, channel: str, text: str,
                    follow_up: str | None = None) -> tuple[str, str]:
    """Seal ``text`` to the channel's recipients and record it, signed by the intake key.
    Returns (ref, receipt code): the code is shown once and stored nowhere."""
    from ledger import receipts, sealed
    from ledger.domain.feedback import Feedback, channel_of, channel_recipients

    code = follow_up or receipts.new_code()

    def action(ctx: Context) -> tuple[str, list[Any]]:
        found = ctx.find(Covenant, covenant)
        spec = channel_of(found, channel)
        recipients = channel_recipients(ctx, spec)
        if not recipients:
            raise InvalidInputError(f"no recipient of channel {channel} has registered an age recipient "
                                    "(ledger keys recipient)")
        lookup = receipts.lookup(code, ledger.origin, channel)
        first = None
        if follow_up is not None:
            first = _thread_of(ledger, ctx, found.ref, channel, lookup)
        box = sealed.seal(text.encode("utf-8"), recipients)
        ledger.stage_sealed(box)
        reply_to = str(receipts.reply_identity(code, ledger.origin, channel).to_public())
        item = Feedback.submit(ctx, found.ref, channel, box.payload(), lookup, reply_to, first)
        return item.ref, [item]

    return ledger.run(signer, action), code


def _thread_of(ledger: Ledger, ctx: Context, covenant: str, channel: str, lookup: str) -> str:
    from ledger.domain.feedback import Feedback

    for ref in feedback_refs(ledger):
        item = ctx.find(Feedback, ref)
        if item.channel == channel and item.covenant == covenant and item.follow_up_of is None \
                and item.receipt_lookup == lookup:
            return ref
    raise NotFoundError("no submission to this channel has that receipt code")


def feedback_refs(ledger: Ledger) -> list[str]:
    from ledger.domain.feedback import Feedback
    from projections.describe import refs

    return refs(ledger, Feedback)


def on_feedback(ledger: Ledger, signer: Signer, ref: str, call: Any, sealed_items: list[Any] | None = None) -> None:
    from ledger.domain.feedback import Feedback

    def action(ctx: Context) -> tuple[None, list[Any]]:
        found = ctx.find(Feedback, ref)
        call(ctx, found)
        return None, [found]

    ledger.stage_sealed(*(sealed_items or []))
    ledger.run(signer, action)


def reply_to_feedback(ledger: Ledger, signer: Signer, ref: str, text: str) -> None:
    """A sealed reply, readable by the channel's recipients and by the receipt code's holder."""
    from ledger import sealed
    from ledger.domain.feedback import Feedback, channel_of, channel_recipients

    def make(ctx: Context, item: Feedback) -> None:
        recipients = channel_recipients(ctx, channel_of(ctx.find(Covenant, item.covenant), item.channel))
        box = sealed.seal(text.encode("utf-8"), [*recipients, item.reply_to])
        ledger.stage_sealed(box)
        item.reply(box.payload())

    on_feedback(ledger, signer, ref, make)


def close_feedback_sealed(ledger: Ledger, signer: Signer, ref: str, text: str) -> None:
    """Close a submission with an outcome sealed to the recipients and the receipt's holder."""
    from ledger import sealed
    from ledger.domain.feedback import Feedback, channel_of, channel_recipients

    def make(ctx: Context, item: Feedback) -> None:
        recipients = channel_recipients(ctx, channel_of(ctx.find(Covenant, item.covenant), item.channel))
        box = sealed.seal(text.encode("utf-8"), [*recipients, item.reply_to])
        ledger.stage_sealed(box)
        item.close("sealed", box.payload())

    on_feedback(ledger, signer, ref, make)


def purge_sealed(ledger: Ledger, signer: Signer, now: datetime) -> list[str]:
    """Erase every kept sealed file of a channel submission older than the channel's
    ``retention_days`` (each erasure its own signed record); return the digests erased."""
    from ledger import sealed
    from ledger.domain.feedback import Feedback
    from ledger.errors import NotFoundError
    from projections.describe import load

    erased = []
    for ref in feedback_refs(ledger):
        item = load(ledger, Feedback, ref)
        spec = (load(ledger, Covenant, item.covenant).terms.get("channels") or {}).get(item.channel) or {}
        days = spec.get("retention_days")
        if not isinstance(days, int) or (now - item.submitted_at()).days < days:
            continue
        payloads = [item.content, *(r["content"] for r in item.replies)]
        for payload in payloads:
            digest = payload["sealed"]["sha256"]
            try:
                sealed.get(ledger, digest)
            except NotFoundError:
                continue  # erased already, or never kept here
            ledger.erase_sealed(signer, digest, f"retention period of channel {item.channel} ({days} days) over",
                                item.covenant)
            erased.append(digest)
    return erased


# --- consultations and adjustment requests ----------------------------------------

def open_consultation(ledger: Ledger, signer: Signer, committee: str, title: str, sections: list[dict[str, str]],
                      participation: str, opens_at: datetime, closes_at: datetime,
                      document: str | None = None) -> str:
    from ledger.domain.consultation import Consultation

    def action(ctx: Context) -> tuple[str, list[Any]]:
        found = Consultation.open(ctx, committee, title, sections, participation, rec.format_time(opens_at),
                                  rec.format_time(closes_at), document)
        return found.ref, [found]
    return ledger.run(signer, action)


def on_consultation(ledger: Ledger, signer: Signer, consultation: str, call: Any) -> Any:
    """Run ``call(ctx, consultation)`` as one command; return what it returns."""
    from ledger.domain.consultation import Consultation

    def action(ctx: Context) -> tuple[Any, list[Any]]:
        found = ctx.find(Consultation, consultation)
        return call(ctx, found), [found]
    return ledger.run(signer, action)


def request_adjustment(ledger: Ledger, signer: Signer, committee: str, subject: str, text: str) -> str:
    from ledger.domain.committee import Committee
    from ledger.domain.consultation import Adjustment, answer_due

    def action(ctx: Context) -> tuple[str, list[Any]]:
        covenant = ctx.find(Covenant, ctx.find(Committee, committee).covenant)
        party = covenant.party_of(ctx.actor.person)
        if party is None:
            raise InvalidInputError("only a party's representative may request an adjustment")
        found = Adjustment.request(ctx, committee, subject, party, text, answer_due(covenant, ctx))
        return found.ref, [found]
    return ledger.run(signer, action)


def answer_adjustment(ledger: Ledger, signer: Signer, ref: str, decision: str, text: str) -> None:
    from ledger.domain.consultation import Adjustment

    def action(ctx: Context) -> tuple[None, list[Any]]:
        found = ctx.find(Adjustment, ref)
        found.respond(decision, text)
        return None, [found]
    ledger.run(signer, action)


def comment_confidentially(ledger: Ledger, signer: Signer, consultation: str, section: str, text: str,
                           channel: str, public: bool = False) -> int:
    """A comment whose text is sealed (age) to the recipients of a covenant channel: the record
    commits to it and counts it; only the recipients can read it."""
    from ledger import sealed
    from ledger.domain.committee import Committee
    from ledger.domain.consultation import Consultation
    from ledger.domain.feedback import channel_of, channel_recipients

    def action(ctx: Context) -> tuple[int, list[Any]]:
        found = ctx.find(Consultation, consultation)
        covenant = ctx.find(Covenant, ctx.find(Committee, found.committee).covenant)
        recipients = channel_recipients(ctx, channel_of(covenant, channel))
        if not recipients:
            raise InvalidInputError(f"no recipient of channel {channel} has registered an age recipient")
        box = sealed.seal(text.encode("utf-8"), recipients)
        ledger.stage_sealed(box)
        return found.comment(ctx, section, "", None, public, channel, box.payload()), [found]
    return ledger.run(signer, action)


def submit_sealed_feedback(ledger: Ledger, signer: Signer, covenant: str, channel: str, age_file: bytes,
                           recipients: list[str], lookup: str, reply_to: str) -> str:
    """Record a submission sealed elsewhere (on the submitter's device): the age file, the
    recipients it was sealed to, and the receipt code's lookup value and reply recipient, all
    derived there (ledger/receipts.py); the ledger never sees the text or the code."""
    import hashlib
    import re

    from ledger import sealed
    from ledger.domain.feedback import Feedback

    if not age_file.startswith(b"age-encryption.org/v1\n"):
        raise InvalidInputError("the sealed file is not an age v1 file")
    if len(age_file) > sealed.MAX_SEALED + 64 * 1024:
        raise InvalidInputError(f"sealed content is limited to {sealed.MAX_SEALED // 1024} KiB")
    if not re.fullmatch(r"[0-9a-f]{64}", lookup):
        raise InvalidInputError("the receipt lookup is 64 lowercase hex digits")
    sealed.check_recipient(reply_to)
    keys = sorted({sealed.check_recipient(r) for r in recipients})
    box = sealed.Sealed(hashlib.sha256(age_file).hexdigest(), len(age_file), tuple(keys), age_file)

    def action(ctx: Context) -> tuple[str, list[Any]]:
        found = ctx.find(Covenant, covenant)
        ledger.stage_sealed(box)
        item = Feedback.submit(ctx, found.ref, channel, box.payload(), lookup, reply_to, None)
        return item.ref, [item]
    return ledger.run(signer, action)
