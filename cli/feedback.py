"""``ledger feedback ...``: a confidential channel, from submission (with a receipt code) to outcome."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from cli.common import (
    as_of_option,
    as_of_point,
    emit_json,
    json_option,
    key_option,
    open_ledger,
    signer_and_ledger,
    table,
)


@click.group()
def feedback() -> None:
    """Confidential feedback: sealed submissions, receipt codes, replies, deadlines."""


def _text(text: str | None, text_file: str | None) -> str:
    from pathlib import Path

    from ledger.errors import InvalidInputError

    if (text is None) == (text_file is None):
        raise click.UsageError("give the feedback with --text or --text-file (one of them)")
    if text_file is not None:
        try:
            return Path(text_file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise InvalidInputError(f"cannot read {text_file}: {getattr(exc, 'strerror', None) or exc}") from None
    return str(text)


@feedback.command("submit")
@click.option("--covenant", default="C-1", show_default=True, help="The covenant naming the channel.")
@click.option("--channel", required=True, help="The channel (as the covenant names it).")
@click.option("--text", default=None, help="What is said (sealed at once; never stored in clear).")
@click.option("--text-file", default=None, type=click.Path(dir_okay=False), help="...or a UTF-8 file holding it.")
@click.option("--follow-up", "follow_up", default=None, metavar="CODE",
              help="Add to the thread of an earlier submission: its receipt code.")
@click.option("--sealed-file", "sealed_file", default=None, type=click.Path(exists=True, dir_okay=False),
              help="Already sealed on the submitter's device: the age file (with --recipient, --lookup and "
                   "--reply-to; the members' page sends these).")
@click.option("--recipient", "recipients", multiple=True, metavar="AGE1...",
              help="With --sealed-file: an age recipient it is sealed to (repeatable).")
@click.option("--lookup", default=None, metavar="HEX", help="With --sealed-file: the receipt code's lookup value.")
@click.option("--reply-to", "reply_to", default=None, metavar="AGE1...",
              help="With --sealed-file: the receipt code's reply recipient.")
@key_option
def submit(covenant: str, channel: str, text: str | None, text_file: str | None, follow_up: str | None,
           sealed_file: str | None, recipients: tuple[str, ...], lookup: str | None, reply_to: str | None,
           key_path: str | None) -> None:
    """Seal feedback to the channel's recipients and record it (signed by the intake key).

    Prints a receipt code, once: with it alone the submitter follows up and reads
    the replies ('feedback status --receipt CODE').  Keep it; it is stored nowhere.

    Example: ledger feedback submit --channel community-voices --text "The bus lane blocks our ramp."
    --key keys/secretariat.key
    """
    from ledger import commands

    if sealed_file is not None:
        if text or text_file or follow_up or not (recipients and lookup and reply_to):
            raise click.UsageError("--sealed-file goes with --recipient, --lookup and --reply-to, and no text")
        signer, ledger = signer_and_ledger(key_path)
        ref = commands.submit_sealed_feedback(ledger, signer, covenant.upper(), channel,
                                              Path(sealed_file).read_bytes(), list(recipients), lookup, reply_to)
        click.echo(f"recorded {ref}, sealed to the channel's recipients")
        return
    content = _text(text, text_file)
    signer, ledger = signer_and_ledger(key_path)
    ref, code = commands.submit_feedback(ledger, signer, covenant.upper(), channel, content, follow_up)
    click.echo(f"recorded {ref}, sealed to the channel's recipients")
    click.echo(f"receipt code: {code}")
    click.echo("keep the receipt code: it is the only way to follow up and read replies", err=True)


@feedback.command("channels")
@click.option("--covenant", default="C-1", show_default=True, help="The covenant naming the channels.")
@json_option
def channels(covenant: str, as_json: bool) -> None:
    """The covenant's confidential channels: their recipients' age keys, and who may submit."""
    from ledger.domain.covenant import Covenant
    from projections.describe import load

    ledger = open_ledger()
    found = load(ledger, Covenant, covenant)
    registry = ledger.registry()
    rows = []
    for name, spec in sorted((found.terms.get("channels") or {}).items()):
        rows.append({"channel": name, "covenant": found.ref,
                     "recipients": sorted({r for person in spec.get("recipients", [])
                                           for r in registry.recipients_of(person)}),
                     "members_submit": bool(spec.get("members_submit")),
                     "acknowledge_days": spec.get("acknowledge_days", 7),
                     "feedback_days": spec.get("feedback_days", 90)})
    if as_json:
        emit_json({"channels": rows, "origin": ledger.origin})
        return
    click.echo(table([[r["channel"], str(len(r["recipients"])), "yes" if r["members_submit"] else "no",
                       str(r["acknowledge_days"]), str(r["feedback_days"])] for r in rows],
                     ["CHANNEL", "RECIPIENT KEYS", "MEMBERS SUBMIT", "ACKNOWLEDGE DAYS", "FEEDBACK DAYS"]))


@feedback.command("list")
@click.option("--channel", default=None, help="Only this channel.")
@as_of_option
@json_option
def list_feedback(channel: str | None, as_of: str | None, as_json: bool) -> None:
    """Submissions (no content): channel, when, acknowledged, replies, outcome, and what is overdue."""
    from ledger.domain.covenant import Covenant
    from ledger.domain.feedback import Feedback
    from projections.describe import load, refs

    ledger = open_ledger()
    position, moment = as_of_point(ledger, as_of)
    rows: list[dict[str, Any]] = []
    for ref in refs(ledger, Feedback, position):
        item = load(ledger, Feedback, ref, position)
        if channel and item.channel != channel:
            continue
        covenant = load(ledger, Covenant, item.covenant, position)
        rows.append({"ref": item.ref, "channel": item.channel, "submitted_at": item.submitted_at().isoformat(),
                     "follow_up_of": item.follow_up_of, "acknowledged_at": item.acknowledged_at,
                     "replies": len(item.replies), "outcome": item.outcome, **item.deadlines(covenant),
                     "overdue": item.overdue(covenant, moment)})
    if as_json:
        emit_json({"feedback": rows})
        return
    click.echo(table([[r["ref"], r["channel"], r["submitted_at"][:16], "yes" if r["acknowledged_at"] else "no",
                       str(r["replies"]), r["outcome"] or "-", ", ".join(r["overdue"]) or "-"] for r in rows],
                     ["REF", "CHANNEL", "SUBMITTED", "ACKNOWLEDGED", "REPLIES", "OUTCOME", "OVERDUE"]))


@feedback.command("read")
@click.argument("ref")
@click.option("--identity", required=True, type=click.Path(dir_okay=False), help="Your age identity (NAME.age).")
def read(ref: str, identity: str) -> None:
    """Decrypt submission REF and its replies with your age identity (a channel recipient's)."""
    from ledger.domain.feedback import Feedback
    from projections.describe import load

    ledger = open_ledger()
    item = load(ledger, Feedback, ref)
    click.echo(f"{item.ref} ({item.channel}, {item.submitted_at().isoformat()[:16]}):")
    click.echo(_opened(ledger, item.content, identity))
    for reply in item.replies:
        click.echo(f"reply ({reply['at'][:16]}):")
        click.echo(_opened(ledger, reply["content"], identity))


def _opened(ledger: Any, payload: dict[str, Any], identity: Any) -> str:
    from ledger import sealed
    from ledger.errors import NotFoundError

    digest = payload["sealed"]["sha256"]
    try:
        return "  " + sealed.open_sealed(sealed.get(ledger, digest), identity).decode("utf-8").replace("\n", "\n  ")
    except NotFoundError as exc:
        return f"  [sealed {digest[:12]}…: {exc}]"


@feedback.command("acknowledge")
@click.argument("ref")
@key_option
def acknowledge(ref: str, key_path: str | None) -> None:
    """Acknowledge submission REF (a channel recipient; within the channel's days)."""
    from ledger import commands

    signer, ledger = signer_and_ledger(key_path)
    commands.on_feedback(ledger, signer, ref.upper(), lambda ctx, f: f.acknowledge())
    click.echo(f"acknowledged {ref.upper()}")


@feedback.command("reply")
@click.argument("ref")
@click.option("--text", required=True, help="The reply (sealed to the recipients and the receipt's holder).")
@key_option
def reply(ref: str, text: str, key_path: str | None) -> None:
    """Reply to submission REF, sealed: the channel's recipients and the receipt code's holder can read it."""
    from ledger import commands

    signer, ledger = signer_and_ledger(key_path)
    commands.reply_to_feedback(ledger, signer, ref.upper(), text)
    click.echo(f"replied to {ref.upper()}")


@feedback.command("close")
@click.argument("ref")
@click.option("--outcome", default=None,
              help="taken_into_policy, referred_to_committee, answered, not_actionable or withdrawn (public).")
@click.option("--sealed-text", "sealed_text", default=None,
              help="...or an outcome told only to the recipients and the submitter (sealed).")
@key_option
def close(ref: str, outcome: str | None, sealed_text: str | None, key_path: str | None) -> None:
    """Close submission REF with a public outcome category, or a sealed outcome."""
    from ledger import commands

    if (outcome is None) == (sealed_text is None):
        raise click.UsageError("give --outcome (public) or --sealed-text (sealed), one of them")
    signer, ledger = signer_and_ledger(key_path)
    if sealed_text is not None:
        commands.close_feedback_sealed(ledger, signer, ref.upper(), sealed_text)
        click.echo(f"closed {ref.upper()} with a sealed outcome")
        return
    commands.on_feedback(ledger, signer, ref.upper(), lambda ctx, f: f.close(str(outcome), None))
    click.echo(f"closed {ref.upper()}: {outcome}")


@feedback.command("status")
@click.option("--receipt", "code", required=True, help="The receipt code given at submission.")
@click.option("--channel", required=True, help="The channel it was given to.")
@json_option
def status(code: str, channel: str, as_json: bool) -> None:
    """Follow up with the receipt code alone: acknowledgement, replies (decrypted), outcome."""
    import pyrage

    from ledger import commands, receipts, sealed
    from ledger.domain.feedback import Feedback
    from ledger.errors import NotFoundError
    from projections.describe import load

    ledger = open_ledger()
    lookup = receipts.lookup(code, ledger.origin, channel)
    items = [item for item in (load(ledger, Feedback, ref) for ref in commands.feedback_refs(ledger))
             if item.channel == channel and item.receipt_lookup == lookup]
    if not items:
        raise NotFoundError("no submission to this channel has that receipt code")
    identity = receipts.reply_identity(code, ledger.origin, channel)
    replies = []
    for item in items:
        for entry in item.replies:
            try:
                text = pyrage.decrypt(sealed.get(ledger, entry["content"]["sealed"]["sha256"]), [identity]).decode()
            except NotFoundError as exc:
                text = f"[{exc}]"
            replies.append({"at": entry["at"], "text": text})
    first = items[0]
    outcome = first.outcome
    if first.sealed_outcome is not None:
        try:
            outcome = pyrage.decrypt(sealed.get(ledger, first.sealed_outcome["sealed"]["sha256"]), [identity]).decode()
        except NotFoundError as exc:
            outcome = f"[sealed: {exc}]"
    body = {"ref": first.ref, "submissions": len(items), "acknowledged_at": first.acknowledged_at,
            "replies": replies, "outcome": outcome}
    if as_json:
        emit_json(body)
        return
    click.echo(f"{first.ref}: {len(items)} submission(s); acknowledged: {first.acknowledged_at or 'not yet'}")
    for entry in replies:
        click.echo(f"reply ({entry['at'][:16]}): {entry['text']}")
    click.echo(f"outcome: {outcome or 'open'}")
