"""``ledger dispute ...``: file, acknowledge, assign, submit, hearing, finding,
remedy, comply, close, appeal, show, list."""

from __future__ import annotations

from typing import Any

import click

from cli.common import (
    as_of_option,
    as_of_point,
    emit_json,
    json_option,
    key_option,
    open_ledger,
    people_names,
    show,
    signer_and_ledger,
    table,
)


@click.group()
def dispute() -> None:
    """Grievances and their resolution by an ombudsperson or mediator."""


@dispute.command("file")
@click.option("--covenant", required=True, help="The covenant (e.g. C-1).")
@click.option("--complainant", required=True, help="Who complains (a name).")
@click.option("--complainant-kind", type=click.Choice(["party", "member", "public"]), required=True,
              help="A party, a member, or a member of the public.")
@click.option("--party", default=None, help="The complainant's party, if any.")
@click.option("--respondent", "respondents", multiple=True, help="A party complained about (repeat).")
@click.option("--contests", "contested", multiple=True, required=True, metavar="RECORD",
              help="A contested record: a log position, STREAM:SEQ, a ref such as M-12 (its latest record), "
                   "or an event hash (repeat).")
@click.option("--grounds", required=True, help="The grievance.")
@click.option("--confidential", is_flag=True,
              help="Seal the complainant and the grounds to the covenant's neutrals; sign with the intake's key "
                   "(the secretariat), so the complainant's own key appears nowhere.")
@key_option
def file_dispute(covenant: str, complainant: str, complainant_kind: str, party: str | None,
                 respondents: tuple[str, ...], contested: tuple[str, ...], grounds: str, confidential: bool,
                 key_path: str | None) -> None:
    """File a grievance contesting records of the ledger.

    Example: ledger dispute file --covenant C-1 --complainant "Clean Air Now" --complainant-kind party
    --party clean-air-now --respondent cycle-forward --contests M-3
    --grounds "The tie was recorded before every vote was counted." --key keys/cso-air.key
    """
    from ledger import commands

    who = {"kind": complainant_kind, "name": complainant}
    if party:
        who["party"] = party
    signer, ledger = signer_and_ledger(key_path)
    file = commands.file_confidential_dispute if confidential else commands.file_dispute
    ref = file(ledger, signer, covenant.upper(), who, list(respondents), list(contested), grounds)
    click.echo(f"filed {ref}" + (", sealed to the covenant's neutrals" if confidential else ""))


def _step(name: str, help_text: str, options: list[Any], call: Any, done: str) -> click.Command:
    """A dispute step: REF plus options, run as one command on the dispute."""

    def command(ref: str, key_path: str | None, **values: Any) -> None:
        from ledger import commands

        signer, ledger = signer_and_ledger(key_path)
        commands.on_dispute(ledger, signer, ref.upper(), lambda ctx, d: call(ctx, d, **values))
        click.echo(done.format(ref=ref.upper(), **values))

    for option in reversed(options):
        command = option(command)
    return click.command(name, help=help_text)(click.argument("ref")(key_option(command)))


dispute.add_command(_step("acknowledge", "Acknowledge dispute REF.",
                          [click.option("--note", default="", help="A note to the complainant.")],
                          lambda ctx, d, note: d.acknowledge(note), "acknowledged {ref}"))
dispute.add_command(_step("submit", "Record a submission to dispute REF.",
                          [click.option("--by", required=True, help="Who makes it."),
                           click.option("--text", required=True, help="The submission.")],
                          lambda ctx, d, by, text: d.submit(by, text), "recorded a submission to {ref}"))
dispute.add_command(_step("hearing", "Record a hearing of dispute REF (the assignee).",
                          [click.option("--date", "held_on", required=True, help="Date of the hearing."),
                           click.option("--notes", required=True, help="What was heard.")],
                          lambda ctx, d, held_on, notes: d.hold_hearing(held_on, notes),
                          "recorded a hearing of {ref}"))
SEALED_HELP = "Seal the text to the covenant's neutrals (the record keeps it out of the public history)."


@dispute.command("finding")
@click.argument("ref")
@click.option("--upheld/--rejected", required=True, help="Is the grievance upheld? (always public)")
@click.option("--text", required=True, help="The finding.")
@click.option("--sealed", "seal", is_flag=True, help=SEALED_HELP)
@key_option
def finding(ref: str, upheld: bool, text: str, seal: bool, key_path: str | None) -> None:
    """Record the finding on dispute REF (the assignee)."""
    from ledger import commands

    signer, ledger = signer_and_ledger(key_path)
    if seal:
        commands.on_dispute_sealed(ledger, signer, ref.upper(), text,
                                   lambda ctx, d, payload: d.record_finding(upheld, "", payload))
    else:
        commands.on_dispute(ledger, signer, ref.upper(), lambda ctx, d: d.record_finding(upheld, text))
    click.echo(f"recorded the finding on {ref.upper()}" + (", sealed to the neutrals" if seal else ""))


@dispute.command("remedy")
@click.argument("ref")
@click.option("--kind", required=True, type=click.Choice(
    ["re_vote", "funding_correction", "record_correction", "apology", "other"]))
@click.option("--details", required=True, help="What must be done.")
@click.option("--due", required=True, help="The date by which it must be done.")
@click.option("--sealed", "seal", is_flag=True, help=SEALED_HELP)
@key_option
def remedy(ref: str, kind: str, details: str, due: str, seal: bool, key_path: str | None) -> None:
    """Order a remedy for dispute REF (the assignee)."""
    from ledger import commands

    signer, ledger = signer_and_ledger(key_path)
    if seal:
        commands.on_dispute_sealed(ledger, signer, ref.upper(), details,
                                   lambda ctx, d, payload: d.order_remedy(kind, "", due, payload))
    else:
        commands.on_dispute(ledger, signer, ref.upper(), lambda ctx, d: d.order_remedy(kind, details, due))
    click.echo(f"ordered a {kind} for {ref.upper()}, due {due}" + (", sealed to the neutrals" if seal else ""))
dispute.add_command(_step("comply", "Record compliance with the remedy of dispute REF.",
                          [click.option("--complied/--not-complied", required=True),
                           click.option("--notes", required=True, help="What was done."),
                           click.option("--evidence", multiple=True, help="Event hash of a record carrying it out.")],
                          lambda ctx, d, complied, notes, evidence: d.record_compliance(
                              complied, notes, list(evidence)),
                          "recorded compliance for {ref}"))
dispute.add_command(_step("close", "Close dispute REF.",
                          [click.option("--outcome", required=True, help="The outcome.")],
                          lambda ctx, d, outcome: d.close(outcome), "closed {ref}"))
dispute.add_command(_step("appeal", "Appeal the finding on dispute REF (an involved party).",
                          [click.option("--party", required=True, help="The appealing party."),
                           click.option("--grounds", required=True, help="Why.")],
                          lambda ctx, d, party, grounds: d.appeal(party, grounds), "{party} appealed {ref}"))


@dispute.command("assign")
@click.argument("ref")
@click.option("--to", "assignee", required=True, help="The ombudsperson or mediator (holder name or key id).")
@click.option("--as", "capacity", type=click.Choice(["ombudsperson", "mediator"]), required=True)
@click.option("--decision", default=None, metavar="MOTION",
              help="For an appeal: the passed decision appointing a neutral the covenant does not name.")
@key_option
def assign(ref: str, assignee: str, capacity: str, decision: str | None, key_path: str | None) -> None:
    """Assign dispute REF to an independent ombudsperson or mediator (for an appeal:
    not the one who made the finding)."""
    from ledger import commands

    signer, ledger = signer_and_ledger(key_path)
    commands.assign_dispute(ledger, signer, ref.upper(), assignee, capacity, decision.upper() if decision else None)
    click.echo(f"assigned {ref.upper()} to {assignee} as {capacity}")


@dispute.command("show")
@click.argument("ref")
@click.option("--identity", default=None, type=click.Path(dir_okay=False),
              help="A neutral's age identity (NAME.age): open a confidential grievance's complainant and grounds.")
@as_of_option
@json_option
def show_dispute(ref: str, identity: str | None, as_of: str | None, as_json: bool) -> None:
    """Show dispute REF: stage, parties, contested records, findings, deadlines."""

    from ledger.domain.covenant import Covenant
    from ledger.domain.dispute import Dispute
    from projections.describe import describe, load

    ledger = open_ledger()
    position, moment = as_of_point(ledger, as_of)
    found = load(ledger, Dispute, ref, position)
    covenant = load(ledger, Covenant, found.covenant, position)
    body = describe(found)
    body["deadlines"] = found.deadlines(covenant)
    body["overdue"] = found.overdue(covenant, moment)
    if found.sealed is not None:
        from projections.confidential import grievance

        body.update(grievance(ledger, found, identity))
    show(body, as_json, people_names(ledger, position))


@dispute.command("replay")
@click.argument("ref")
@click.option("--step", "interactive", is_flag=True, help="Step through the timeline one record at a time.")
@click.option("--identity", default=None, type=click.Path(dir_okay=False),
              help="A neutral's age identity: open a confidential grievance's grounds.")
@json_option
def replay(ref: str, interactive: bool, identity: str | None, as_json: bool) -> None:
    """Replay dispute REF: its records and every record it contests, with what the signer could see.

    JSON: {"dispute", "stage", "grounds", "contested", "steps": [{"position", "at", "type", "ref",
    "signed_by", "roles", "key_id", "event_hash", "summary", "part", "context", "changed"}]}.

    Example: ledger dispute replay D-1 --step
    """
    import sys

    from projections.replay import render, timeline

    body = timeline(open_ledger(), ref.upper(), identity)
    if as_json:
        emit_json(body)
        return
    click.echo(f"{body['dispute']} ({body['stage']}): {body['grounds']}")
    stepping = interactive and sys.stdin.isatty()
    for number, step in enumerate(body["steps"], start=1):
        click.echo(render(step, body["holders"]))
        if stepping and number < len(body["steps"]) and not click.confirm("next?", default=True):
            break


@dispute.command("report")
@click.argument("ref")
@click.option("--out", "out_file", required=True, type=click.Path(dir_okay=False), help="The HTML file to write.")
@click.option("--identity", default=None, type=click.Path(dir_okay=False),
              help="A neutral's age identity: include a confidential grievance's complainant and grounds (the "
                   "report is then confidential too).")
def report(ref: str, out_file: str, identity: str | None) -> None:
    """Write a printable HTML report of dispute REF for the ombudsperson.

    Example: ledger dispute report D-1 --out d-1.html
    """

    from cli.common import new_file
    from projections.report import dispute_report

    html = dispute_report(open_ledger(), ref.upper(), identity)
    with new_file(out_file) as handle:
        handle.write(html.encode("utf-8"))
    click.echo(f"wrote the report of {ref.upper()} to {out_file}")


@dispute.command("list")
@as_of_option
@json_option
def list_disputes(as_of: str | None, as_json: bool) -> None:
    """Every dispute with its stage, deadlines and what is overdue."""

    from ledger.domain.covenant import Covenant
    from ledger.domain.dispute import Dispute
    from projections.describe import load, refs

    ledger = open_ledger()
    position, moment = as_of_point(ledger, as_of)
    rows = []
    for ref in refs(ledger, Dispute, position):
        found = load(ledger, Dispute, ref, position)
        covenant = load(ledger, Covenant, found.covenant, position)
        rows.append({"ref": ref, "stage": found.stage, "complainant": found.complainant.get("name", "(confidential)"),
                     **found.deadlines(covenant), "overdue": found.overdue(covenant, moment)})
    if as_json:
        emit_json({"disputes": rows})
        return
    click.echo(table([[r["ref"], r["stage"], r["complainant"], r["acknowledge_by"][:10], r["resolve_by"][:10],
                       ",".join(r["overdue"]) or "-"] for r in rows],
                     ["DISPUTE", "STAGE", "COMPLAINANT", "ACK BY", "RESOLVE BY", "OVERDUE"]))
