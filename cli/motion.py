"""``ledger motion ...``: propose, second, amend, withdraw, vote, close, dissent."""

from __future__ import annotations

import click

from cli.common import (
    as_of_option,
    as_of_point,
    emit_json,
    json_option,
    key_option,
    open_ledger,
    people_names,
    read_data_file,
    show,
    signer_and_ledger,
    table,
)

MEMBER_HELP = "Record it on behalf of this member (secretariat only): holder name or key id."


@click.group()
def motion() -> None:
    """Motions, votes and decisions."""


@motion.command("propose")
@click.option("--meeting", required=True, help="The meeting (e.g. MT-1).")
@click.option("--item", type=click.IntRange(min=1), required=True, help="The agenda item number.")
@click.option("--class", "decision_class", default="ordinary", show_default=True, help="The decision class.")
@click.option("--text", required=True, help="The motion's text.")
@click.option("--amends", default=None, help="The motion this one amends (e.g. M-3).")
@click.option("--amount", default=None, help="Funding motions: the amount, a decimal string such as 40000.00.")
@click.option("--currency", default=None, help="Funding motions: ISO 4217 currency (e.g. EUR).")
@click.option("--fund", default=None, help="Funding motions: the fund (e.g. F-1).")
@click.option("--changes", "changes_file", default=None, type=click.Path(exists=True, dir_okay=False),
              help="Amendment-class motions: JSON or TOML file listing the covenant changes.")
@click.option("--minutes-of", "minutes_of", default=None, metavar="MEETING",
              help="Minutes-class motions: the one meeting whose minutes it adopts (e.g. MT-1).")
@click.option("--renew-until", "renew_until", default=None, metavar="DATE",
              help="The motion decides to renew the covenant until DATE.")
@click.option("--terminate-on", "terminate_on", default=None, metavar="DATE",
              help="The motion decides to terminate the covenant on DATE.")
@click.option("--admit", default=None, metavar="PARTY", help="The motion decides to admit PARTY (a new party's id).")
@click.option("--expel", default=None, metavar="PARTY", help="The motion decides to expel PARTY.")
@click.option("--representatives-of", "representatives_of", default=None, metavar="PARTY",
              help="The motion lets the secretariat name PARTY's representatives (when none of them can sign).")
@click.option("--adopt", default=None, metavar="CONSULTATION@VERSION",
              help="The motion decides to adopt a version of a consulted draft (e.g. CX-1@2).")
@key_option
def propose(meeting: str, item: int, decision_class: str, text: str, amends: str | None, amount: str | None,
            currency: str | None, fund: str | None, changes_file: str | None, minutes_of: str | None,
            renew_until: str | None, terminate_on: str | None, admit: str | None, expel: str | None,
            representatives_of: str | None, adopt: str | None, key_path: str | None) -> None:
    """Propose a motion (sign with the proposing member's own key).

    Example: ledger motion propose --meeting MT-4 --item 1 --class funding --text "Fund the pilot"
    --amount 40000.00 --currency EUR --fund F-1 --key keys/cso-air.key
    """
    from ledger import commands

    money = None
    if amount or currency or fund:
        if not (amount and currency and fund):
            raise click.UsageError("a funding amount needs --amount, --currency and --fund together")
        money = {"value": amount, "currency": currency.upper(), "fund": fund.upper()}
    changes = None
    if changes_file:
        loaded = read_data_file(changes_file)
        changes = loaded.get("changes") if isinstance(loaded, dict) else loaded
    acts = [{"kind": "renew", "date": renew_until} if renew_until else None,
            {"kind": "terminate", "date": terminate_on} if terminate_on else None,
            {"kind": "admit", "party": admit} if admit else None,
            {"kind": "expel", "party": expel} if expel else None,
            {"kind": "representatives", "party": representatives_of} if representatives_of else None,
            _adopt_act(adopt) if adopt else None]
    stated = [a for a in acts if a is not None]
    if len(stated) > 1:
        raise click.UsageError("a motion decides one covenant act: give only one of --renew-until, "
                               "--terminate-on, --admit, --expel, --representatives-of, --adopt")
    act = stated[0] if stated else None
    signer, ledger = signer_and_ledger(key_path)
    ref = commands.propose_motion(ledger, signer, meeting.upper(), item, decision_class, text,
                                  amends.upper() if amends else None, money, changes,
                                  minutes_of.upper() if minutes_of else None, act)
    click.echo(f"proposed {ref}")


def _adopt_act(text: str) -> dict[str, object]:
    consultation, _, version = text.partition("@")
    if not version.isdigit():
        raise click.UsageError(f"--adopt takes CONSULTATION@VERSION, e.g. CX-1@2, not {text!r}")
    return {"kind": "adopt", "consultation": consultation.upper(), "version": int(version)}


def _simple(name: str, help_text: str, call: str, done: str) -> click.Command:
    @click.command(name, help=help_text)
    @click.argument("ref")
    @key_option
    def command(ref: str, key_path: str | None) -> None:
        from ledger import commands

        signer, ledger = signer_and_ledger(key_path)
        getattr(commands, call)(ledger, signer, ref.upper())
        click.echo(done.format(ref=ref.upper()))

    return command


motion.add_command(_simple("second", "Second motion REF (with your own key).", "second_motion", "seconded {ref}"))
motion.add_command(_simple("open", "Put motion REF to the vote (chair or secretariat).", "open_vote",
                           "{ref} is open for votes"))


@motion.command("withdraw")
@click.argument("ref")
@click.option("--reason", default="", help="Why.")
@key_option
def withdraw(ref: str, reason: str, key_path: str | None) -> None:
    """Withdraw motion REF (its proposer only)."""
    from ledger import commands

    signer, ledger = signer_and_ledger(key_path)
    commands.withdraw_motion(ledger, signer, ref.upper(), reason)
    click.echo(f"withdrew {ref.upper()}")


@motion.command("vote")
@click.argument("ref")
@click.argument("choice", type=click.Choice(["yes", "no", "abstain"]))
@click.option("--member", default=None, help=MEMBER_HELP)
@click.option("--proxy-for", "proxy_for", default=None, metavar="MEMBER",
              help="Cast the vote of MEMBER, whose proxy you hold (with your own key).")
@key_option
def vote(ref: str, choice: str, member: str | None, proxy_for: str | None, key_path: str | None) -> None:
    """Cast a vote on motion REF: yes, no or abstain.

    Without --member you vote with your own key; with --member the secretariat
    records a roll-call vote on that member's behalf; with --proxy-for you cast
    the vote of a member who gave you their proxy ('ledger meeting proxy').

    Example: ledger motion vote M-7 no --member "Sam Whitfield (Civic Renewal Party)" --key keys/secretariat.key
    """
    from ledger import commands

    if member and proxy_for:
        raise click.UsageError("give --member (the secretariat's roll call) or --proxy-for (a proxy), not both")
    signer, ledger = signer_and_ledger(key_path)
    commands.cast_vote(ledger, signer, ref.upper(), choice, member, proxy_for)
    who = member or proxy_for
    click.echo(f"voted {choice} on {ref.upper()}" + (f" for {who}" if who else "")
               + (" (by proxy)" if proxy_for else ""))


@motion.command("minority-report")
@click.argument("ref")
@click.option("--text", required=True, help="The report.")
@click.option("--with", "others", multiple=True, metavar="MEMBER",
              help="Another member who voted no and will sign it (repeatable); each joins with their own key.")
@key_option
def minority_report(ref: str, text: str, others: tuple[str, ...], key_path: str | None) -> None:
    """File a joint minority report on decided motion REF (you voted no; the covenant sets the share needed).

    Example: ledger motion minority-report M-3 --text "Night buses would cost more than the pilot can bear."
    --key keys/party.key
    """
    from ledger import commands

    signer, ledger = signer_and_ledger(key_path)
    commands.file_minority_report(ledger, signer, ref.upper(), text, list(others))
    click.echo(f"filed a minority report on {ref.upper()}" + (f"; awaiting {len(others)} more signature"
                                                              f"{'s' if len(others) != 1 else ''}" if others else ""))


@motion.command("join-report")
@click.argument("ref")
@key_option
def join_report(ref: str, key_path: str | None) -> None:
    """Sign the minority report on motion REF that names you (with your own key)."""
    from ledger import commands

    signer, ledger = signer_and_ledger(key_path)
    commands.join_minority_report(ledger, signer, ref.upper())
    click.echo(f"signed the minority report on {ref.upper()}")


@motion.command("close")
@click.argument("ref")
@key_option
def close(ref: str, key_path: str | None) -> None:
    """Close the vote on motion REF; the ledger computes and records the decision.

    Example: ledger motion close M-7 --key keys/secretariat.key
    """
    from ledger import commands

    signer, ledger = signer_and_ledger(key_path)
    result, explanation = commands.close_motion(ledger, signer, ref.upper())
    click.echo(f"{ref.upper()}: {result} ({explanation})")


@motion.command("dissent")
@click.argument("ref")
@click.option("--statement", required=True, help="The minority or dissenting statement.")
@click.option("--member", default=None, help=MEMBER_HELP)
@key_option
def dissent(ref: str, statement: str, member: str | None, key_path: str | None) -> None:
    """Attach a minority or dissenting statement to decided motion REF."""
    from ledger import commands

    signer, ledger = signer_and_ledger(key_path)
    commands.attach_dissent(ledger, signer, ref.upper(), statement, member)
    click.echo(f"statement attached to {ref.upper()}")


@motion.command("show")
@click.argument("ref")
@as_of_option
@json_option
def show_motion(ref: str, as_of: str | None, as_json: bool) -> None:
    """Show motion REF with its votes, tally, result and statements."""
    from ledger.domain.motion import Motion
    from projections.describe import describe, load

    ledger = open_ledger()
    position = as_of_point(ledger, as_of)[0]
    show(describe(load(ledger, Motion, ref, position)), as_json, people_names(ledger, position))


@motion.command("list")
@click.option("--committee", default=None, help="Only motions of this committee (e.g. K-1).")
@click.option("--class", "decision_class", default=None, help="Only this decision class.")
@click.option("--result", type=click.Choice(["pass", "fail"]), default=None, help="Only decisions with this result.")
@click.option("--since", default=None, help="Only decisions taken at or after this time (RFC 3339 or date).")
@click.option("--until", default=None, help="Only decisions taken before this time.")
@as_of_option
@json_option
def list_motions(committee: str | None, decision_class: str | None, result: str | None, since: str | None,
                 until: str | None, as_of: str | None, as_json: bool) -> None:
    """The decisions register: every motion with its class, status and result (filterable).

    JSON: {"motions": [{"ref", "meeting", "committee", "item", "class", "status", "result",
    "decided_at", "text"}]}.
    """
    from ledger.domain.committee import Meeting
    from ledger.domain.motion import Motion
    from ledger.record import format_time
    from ledger.timeparse import parse_user_time
    from projections.describe import load, refs

    ledger = open_ledger()
    position, _ = as_of_point(ledger, as_of)
    low, high = (format_time(parse_user_time(t)) if t else None for t in (since, until))
    rows = []
    for ref in refs(ledger, Motion, position):
        found = load(ledger, Motion, ref, position)
        its_committee = found.committee or load(ledger, Meeting, found.meeting, position).committee
        row = {"ref": ref, "meeting": found.meeting, "committee": its_committee, "item": found.item,
               "class": found.decision_class, "status": found.status, "result": found.result,
               "decided_at": found.decided_at, "text": found.text}
        if committee and its_committee != committee.upper():
            continue
        if (decision_class and found.decision_class != decision_class) or (result and found.result != result):
            continue
        if (low or high) and (found.decided_at is None or (low and found.decided_at < low)
                              or (high and found.decided_at >= high)):
            continue
        rows.append(row)
    if as_json:
        emit_json({"motions": rows})
        return
    click.echo(table([[r["ref"], r["meeting"], r["class"], r["status"], r["result"] or "", r["text"][:50]]
                      for r in rows], ["MOTION", "MEETING", "CLASS", "STATUS", "RESULT", "TEXT"]))
