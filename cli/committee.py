"""``ledger committee ...`` and ``ledger meeting ...``."""

from __future__ import annotations

import click

from cli.common import (
    DOCUMENT_HELP,
    Documents,
    as_of_option,
    as_of_point,
    emit_json,
    json_option,
    keep_option,
    key_option,
    open_ledger,
    people_names,
    plural,
    show,
    signer_and_ledger,
    table,
)

MEMBER_HELP = "A member: holder name, key id or key id prefix."


@click.group()
def committee() -> None:
    """Co-design committees: seats and chair rotation."""


@committee.command("establish")
@click.option("--covenant", required=True, help="The covenant (e.g. C-1).")
@click.option("--name", required=True, help="The committee's name.")
@click.option("--seat", "seats", multiple=True, required=True, metavar="MEMBER=PARTY",
              help="A seat: the member and the party they represent (repeat).")
@click.option("--rotation", required=True, metavar="PARTY,PARTY,...", help="Chair rotation order of parties.")
@click.option("--every", type=click.IntRange(min=1), default=1, show_default=True,
              help="The chair passes to the next party every K meetings.")
@key_option
def establish(covenant: str, name: str, seats: tuple[str, ...], rotation: str, every: int,
              key_path: str | None) -> None:
    """Establish a committee.

    Example: ledger committee establish --covenant C-1 --name "Schools Committee"
    --seat "Amara Okafor=clean-air-now" --seat "Luis Moreno=tenants-union" --seat "Mei Lin=cycle-forward"
    --seat "Sam Whitfield=civic-renewal" --rotation civic-renewal,clean-air-now --key keys/secretariat.key
    """
    from ledger import commands

    parsed = {}
    for seat in seats:
        member, sep, party = seat.rpartition("=")
        if not sep or not member or not party:
            raise click.BadParameter(f"{seat!r} is not MEMBER=PARTY", param_hint="--seat")
        parsed[member] = party
    signer, ledger = signer_and_ledger(key_path)
    ref = commands.establish_committee(ledger, signer, covenant.upper(), name, parsed,
                                       [p.strip() for p in rotation.split(",") if p.strip()], every)
    click.echo(f"established {ref}")


@committee.command("seat")
@click.argument("ref")
@click.option("--member", required=True, help=MEMBER_HELP)
@click.option("--party", required=True, help="The party the member represents.")
@key_option
def seat(ref: str, member: str, party: str, key_path: str | None) -> None:
    """Give MEMBER a seat on committee REF."""
    from ledger import commands

    signer, ledger = signer_and_ledger(key_path)
    commands.assign_seat(ledger, signer, ref.upper(), member, party)
    click.echo(f"seated {member} for {party} on {ref.upper()}")


@committee.command("vacate")
@click.argument("ref")
@click.option("--member", required=True, help=MEMBER_HELP)
@click.option("--reason", required=True, help="Why the seat is vacated.")
@key_option
def vacate(ref: str, member: str, reason: str, key_path: str | None) -> None:
    """Vacate MEMBER's seat on committee REF."""
    from ledger import commands

    signer, ledger = signer_and_ledger(key_path)
    commands.vacate_seat(ledger, signer, ref.upper(), member, reason)
    click.echo(f"vacated {member}'s seat on {ref.upper()}")


@committee.command("list")
@as_of_option
@json_option
def list_committees(as_of: str | None, as_json: bool) -> None:
    """Every committee: covenant, seats, meetings, composition."""
    from ledger.domain.committee import Committee
    from projections.describe import load, refs

    ledger = open_ledger()
    position = as_of_point(ledger, as_of)[0]
    rows = []
    for ref in refs(ledger, Committee, position):
        found = load(ledger, Committee, ref, position)
        rows.append({"ref": found.ref, "covenant": found.covenant, "name": found.name, "seats": found.seats,
                     "meetings": found.meetings, "breach": found.breach, "breach_since": found.breach_since})
    if as_json:
        emit_json({"committees": rows})
        return
    click.echo(table([[r["ref"], r["name"], r["covenant"], str(len(r["seats"])), str(r["meetings"]),
                       f"in breach since {r['breach_since'][:10]}" if r["breach"] else "meets the rules"]
                      for r in rows], ["COMMITTEE", "NAME", "COVENANT", "SEATS", "MEETINGS", "COMPOSITION"]))


@committee.command("show")
@click.argument("ref", default="K-1")
@as_of_option
@json_option
def show_committee(ref: str, as_of: str | None, as_json: bool) -> None:
    """Show committee REF: seats, rotation, meetings held."""
    from ledger.domain.committee import Committee, composition_problem
    from ledger.domain.covenant import Covenant
    from projections.describe import describe, load

    ledger = open_ledger()
    position = as_of_point(ledger, as_of)[0]
    found = load(ledger, Committee, ref, position)
    body = describe(found)
    covenant = load(ledger, Covenant, found.covenant, position)
    problem = composition_problem(covenant, found.seats)
    body["composition"] = "meets the covenant's composition rules"
    if problem:
        body["composition"] = f"in breach since {found.breach_since or '?'}: {problem}"
        if found.vacancy_overdue(covenant, as_of_point(ledger, as_of)[1]):
            days = covenant.terms["composition"]["max_vacancy_days"]
            body["composition"] += f" (longer than the {days} days the covenant allows)"
    body["current_chair"] = found.chair_party(found.meetings) if found.meetings else None
    show(body, as_json, people_names(ledger, position))


@click.group()
def meeting() -> None:
    """Meetings: schedule, agenda, attendance, conflicts, chair, minutes."""


@meeting.command("schedule")
@click.option("--committee", required=True, help="The committee (e.g. K-1).")
@click.option("--at", "starts_at", required=True, help="When it starts (RFC 3339, e.g. 2026-12-01T18:00:00Z).")
@click.option("--urgent", is_flag=True, help="Waive the covenant's agenda notice (if it allows urgent meetings).")
@key_option
def schedule(committee: str, starts_at: str, urgent: bool, key_path: str | None) -> None:
    """Schedule the committee's next meeting (its chair follows the rotation).

    Example: ledger meeting schedule --committee K-1 --at 2035-03-01T18:00:00Z --key keys/secretariat.key
    """
    from ledger import commands
    from ledger.timeparse import parse_user_time

    when = parse_user_time(starts_at)
    signer, ledger = signer_and_ledger(key_path)
    ref = commands.schedule_meeting(ledger, signer, committee.upper(), when, urgent)
    click.echo(f"scheduled {ref}")


@meeting.command("agenda")
@click.argument("ref")
@click.option("--item", "items", multiple=True, required=True, metavar="TITLE[@DOCUMENT,...]",
              help="An agenda item, optionally with its documents, each a SHA-256 digest or a file "
                   "(repeat, in order).")
@keep_option
@key_option
def agenda(ref: str, items: tuple[str, ...], keep: bool, key_path: str | None) -> None:
    """Publish the agenda of meeting REF (before it starts).

    Example: ledger meeting agenda MT-6 --item "Review of the pilot" --key keys/secretariat.key
    """
    from ledger import commands

    docs = Documents()
    parsed = []
    for item in items:
        title, _, documents = item.partition("@")
        parsed.append({"title": title.strip(),
                       "documents": [docs.digest(d) for d in documents.split(",") if d.strip()]})
    signer, ledger = signer_and_ledger(key_path)
    with docs.kept_with(ledger, keep):
        commands.publish_agenda(ledger, signer, ref.upper(), parsed)
    click.echo(f"published the agenda of {ref.upper()}: {plural(len(parsed), 'item')}")


@meeting.command("attend")
@click.argument("ref")
@click.option("--member", "members", multiple=True, required=True, help=MEMBER_HELP + " (repeat).")
@key_option
def attend(ref: str, members: tuple[str, ...], key_path: str | None) -> None:
    """Record members arriving at meeting REF (a late arrival adds to those present).

    Example: ledger meeting attend MT-4 --member "Amara Okafor (Clean Air Now)" --member "Mei Lin (Cycle Forward)"
    --key keys/secretariat.key
    """
    from ledger import commands

    signer, ledger = signer_and_ledger(key_path)
    present = commands.record_attendance(ledger, signer, ref.upper(), list(members))
    click.echo(f"recorded {present} present at {ref.upper()}")


@meeting.command("leave")
@click.argument("ref")
@click.option("--member", "members", multiple=True, required=True, help=MEMBER_HELP + " (repeat).")
@key_option
def leave(ref: str, members: tuple[str, ...], key_path: str | None) -> None:
    """Record members leaving meeting REF (they no longer count as present for later votes)."""
    from ledger import commands

    signer, ledger = signer_and_ledger(key_path)
    present = commands.record_departure(ledger, signer, ref.upper(), list(members))
    click.echo(f"recorded {len(members)} leaving {ref.upper()}; {present} present")


@meeting.command("conflict")
@click.argument("ref")
@click.option("--member", required=True, help=MEMBER_HELP)
@click.option("--item", "items", type=int, multiple=True, required=True, help="Agenda item number (repeat).")
@click.option("--reason", required=True, help="The interest declared.")
@key_option
def conflict(ref: str, member: str, items: tuple[int, ...], reason: str, key_path: str | None) -> None:
    """Declare MEMBER's conflict of interest (recuses them from votes on the items)."""
    from ledger import commands

    signer, ledger = signer_and_ledger(key_path)
    commands.declare_conflict(ledger, signer, ref.upper(), member, list(items), reason)
    click.echo(f"recorded {member}'s conflict on item(s) {', '.join(map(str, items))} of {ref.upper()}")


@meeting.command("delegate")
@click.argument("ref")
@click.option("--to", "to_member", required=True, help=MEMBER_HELP)
@click.option("--reason", required=True, help="Why the rotation chair delegates.")
@key_option
def delegate(ref: str, to_member: str, reason: str, key_path: str | None) -> None:
    """Delegate the chair of meeting REF to another seated member."""
    from ledger import commands

    signer, ledger = signer_and_ledger(key_path)
    commands.delegate_chair(ledger, signer, ref.upper(), to_member, reason)
    click.echo(f"{to_member} chairs {ref.upper()}")


@meeting.command("proxy")
@click.argument("ref")
@click.option("--to", "holder", required=True, help="The seated member who will vote for you.")
@click.option("--motion", default=None, help="Only for this motion (default: every vote of the meeting).")
@key_option
def proxy(ref: str, holder: str, motion: str | None, key_path: str | None) -> None:
    """Give your vote at meeting REF to another seated member (with your own key; if the covenant allows).

    Example: ledger meeting proxy MT-4 --to "Mei Lin" --key keys/cso-air.key
    """
    from ledger import commands

    signer, ledger = signer_and_ledger(key_path)
    commands.give_proxy(ledger, signer, ref.upper(), holder, motion.upper() if motion else None)
    click.echo(f"{holder} holds your proxy at {ref.upper()}" + (f" for {motion.upper()}" if motion else ""))


@meeting.command("revoke-proxy")
@click.argument("ref")
@key_option
def revoke_proxy(ref: str, key_path: str | None) -> None:
    """Take back the proxy you gave for meeting REF (before the vote; voting in person also overrides it)."""
    from ledger import commands

    signer, ledger = signer_and_ledger(key_path)
    commands.revoke_proxy(ledger, signer, ref.upper())
    click.echo(f"revoked your proxy at {ref.upper()}")


@meeting.command("minutes")
@click.argument("ref")
@click.option("--decision", required=True, help="The passed minutes-class motion.")
@click.option("--digest", "--document", "document", required=True, metavar="DIGEST|FILE",
              help="The minutes: " + DOCUMENT_HELP + ".")
@keep_option
@key_option
def minutes(ref: str, decision: str, document: str, keep: bool, key_path: str | None) -> None:
    """Record that the minutes of meeting REF were adopted."""
    from ledger import commands

    docs = Documents()
    digest = docs.digest(document)
    signer, ledger = signer_and_ledger(key_path)
    with docs.kept_with(ledger, keep):
        commands.adopt_minutes(ledger, signer, ref.upper(), decision.upper(), digest)
    click.echo(f"minutes of {ref.upper()} adopted by {decision.upper()}")


@meeting.command("show")
@click.argument("ref")
@as_of_option
@json_option
def show_meeting(ref: str, as_of: str | None, as_json: bool) -> None:
    """Show meeting REF: chair, agenda, attendance, conflicts, minutes."""
    from ledger.domain.committee import Meeting
    from projections.describe import describe, load

    ledger = open_ledger()
    position = as_of_point(ledger, as_of)[0]
    show(describe(load(ledger, Meeting, ref, position)), as_json, people_names(ledger, position))


@meeting.command("postpone")
@click.argument("ref")
@click.option("--to", "starts_at", required=True, help="The new start (RFC 3339), later than the old one.")
@click.option("--reason", required=True, help="Why.")
@key_option
def postpone(ref: str, starts_at: str, reason: str, key_path: str | None) -> None:
    """Postpone meeting REF before it starts."""
    from ledger import commands
    from ledger.timeparse import parse_user_time

    when = parse_user_time(starts_at)
    signer, ledger = signer_and_ledger(key_path)
    commands.on_meeting(ledger, signer, ref.upper(), lambda ctx, m: m.postpone(when, reason))
    click.echo(f"postponed {ref.upper()} to {starts_at}")


@meeting.command("cancel")
@click.argument("ref")
@click.option("--reason", required=True, help="Why.")
@key_option
def cancel(ref: str, reason: str, key_path: str | None) -> None:
    """Cancel meeting REF (one not held): its acts are refused from then on."""
    from ledger import commands

    signer, ledger = signer_and_ledger(key_path)
    commands.on_meeting(ledger, signer, ref.upper(), lambda ctx, m: m.cancel(reason))
    click.echo(f"cancelled {ref.upper()}")


@meeting.command("close")
@click.argument("ref")
@click.option("--note", default="", help="A closing note.")
@key_option
def close_meeting(ref: str, note: str, key_path: str | None) -> None:
    """Close meeting REF (chair or secretariat): no more attendance, motions or votes."""
    from ledger import commands

    signer, ledger = signer_and_ledger(key_path)
    commands.on_meeting(ledger, signer, ref.upper(), lambda ctx, m: m.close_meeting(note))
    click.echo(f"closed {ref.upper()}")


@meeting.command("list")
@click.option("--committee", default=None, help="Only this committee's meetings.")
@as_of_option
@json_option
def list_meetings(committee: str | None, as_of: str | None, as_json: bool) -> None:
    """Every meeting: committee, number, start, chair, state, attendance."""
    from ledger.domain.committee import Meeting
    from projections.describe import load, refs

    ledger = open_ledger()
    point = as_of_point(ledger, as_of)[0]
    holders = {k.key_id: k.holder for k in ledger.registry().keys.values()}
    rows = []
    for ref in refs(ledger, Meeting, point):
        found = load(ledger, Meeting, ref, point)
        if committee and found.committee != committee.upper():
            continue
        rows.append({"ref": found.ref, "committee": found.committee, "number": found.number,
                     "starts_at": found.starts_at, "chair_party": found.chair_party, "state": found.state,
                     "present": [holders.get(k, k[:12]) for k in found.present], "agenda_items": len(found.agenda)})
    if as_json:
        emit_json({"meetings": rows})
        return
    click.echo(table([[r["ref"], r["committee"], str(r["number"]), r["starts_at"][:16], r["chair_party"], r["state"],
                       str(len(r["present"]))] for r in rows],
                     ["MEETING", "COMMITTEE", "NO", "STARTS", "CHAIR", "STATE", "PRESENT"]))
