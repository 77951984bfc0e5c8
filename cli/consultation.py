"""``ledger consultation ...`` and ``ledger adjustment ...``: co-producing the policy itself."""

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
    read_data_file,
    signer_and_ledger,
    table,
)

SECTION_HELP = 'A section as NUMBER=TEXT (repeatable), e.g. --section "2=Bus lanes are enforced from 7 to 10."'


def _sections(pairs: tuple[str, ...], sections_file: str | None) -> list[dict[str, str]]:
    if sections_file:
        loaded = read_data_file(sections_file)
        found = loaded.get("sections") if isinstance(loaded, dict) else loaded
        if not isinstance(found, list):
            raise click.UsageError(f"{sections_file} must hold a list of sections (or {{\"sections\": [...]}})")
        return [{"number": str(s.get("number")), "text": str(s.get("text"))} if isinstance(s, dict) else s
                for s in found]
    out = []
    for pair in pairs:
        number, sep, text = pair.partition("=")
        if not sep:
            raise click.UsageError(f"--section takes NUMBER=TEXT, not {pair!r}")
        out.append({"number": number.strip(), "text": text.strip()})
    if not out:
        raise click.UsageError("give the draft's sections: --section NUMBER=TEXT ... or --sections FILE")
    return out


@click.group()
def consultation() -> None:
    """Consultations on policy drafts: versions, comments and answers ("you said, we did")."""


@consultation.command("open")
@click.option("--committee", required=True, help="The committee consulting (e.g. K-1).")
@click.option("--title", required=True, help="The draft policy's title.")
@click.option("--section", "pairs", multiple=True, metavar="NUMBER=TEXT", help=SECTION_HELP)
@click.option("--sections", "sections_file", default=None, type=click.Path(exists=True, dir_okay=False),
              help="A JSON or TOML file listing the sections instead ([{number, text}, ...]).")
@click.option("--participation", type=click.Choice(["members", "registered", "public"]), default="members",
              show_default=True, help="Who may comment: the partners' members, any registered person, or the "
                                      "public (recorded by the secretariat from its intake).")
@click.option("--opens-at", "opens_at", required=True, help="When comments open (RFC 3339 or a date).")
@click.option("--closes-at", "closes_at", required=True, help="When comments close.")
@key_option
def open_(committee: str, title: str, pairs: tuple[str, ...], sections_file: str | None, participation: str,
          opens_at: str, closes_at: str, key_path: str | None) -> None:
    """Open a consultation on a draft (secretariat).

    Example: ledger consultation open --committee K-1 --title "Clean air plan" --section "1=Bus lanes are
    enforced." --section "2=Sensors at every school." --opens-at 2026-11-01 --closes-at 2035-12-01
    --key keys/secretariat.key
    """
    from ledger import commands
    from ledger.timeparse import parse_user_time

    sections = _sections(pairs, sections_file)
    signer, ledger = signer_and_ledger(key_path)
    ref = commands.open_consultation(ledger, signer, committee.upper(), title, sections, participation,
                                     parse_user_time(opens_at), parse_user_time(closes_at))
    click.echo(f"opened {ref}")


@consultation.command("publish")
@click.argument("ref")
@click.option("--section", "pairs", multiple=True, metavar="NUMBER=TEXT", help=SECTION_HELP)
@click.option("--sections", "sections_file", default=None, type=click.Path(exists=True, dir_okay=False),
              help="A JSON or TOML file listing every section of the new version.")
@click.option("--note", default=None, help="What changed, in words.")
@key_option
def publish(ref: str, pairs: tuple[str, ...], sections_file: str | None, note: str | None,
            key_path: str | None) -> None:
    """Publish a new version of the draft: every section, changed or not (secretariat).

    Sections given with --section replace those of the same number in the current version; the others
    stay as they are.
    """
    from ledger import commands

    given = _sections(pairs, sections_file)
    signer, ledger = signer_and_ledger(key_path)

    def call(ctx: Any, found: Any) -> int:
        if sections_file:
            return int(found.publish_version(given, note))
        current = [dict(s) for s in found.versions[-1]]
        numbers = {s["number"] for s in current}
        for section in given:
            if section["number"] in numbers:
                next(s for s in current if s["number"] == section["number"])["text"] = section["text"]
            else:
                current.append(section)
        return int(found.publish_version(current, note))

    version = commands.on_consultation(ledger, signer, ref.upper(), call)
    click.echo(f"published version {version} of {ref.upper()}")


@consultation.command("comment")
@click.argument("ref")
@click.option("--section", required=True, help="The section commented on (e.g. 2).")
@click.option("--text", required=True, help="The comment.")
@click.option("--replacement", default=None, help="Replacement text proposed for the section.")
@click.option("--public", is_flag=True, help="A comment from the public, recorded by the secretariat.")
@click.option("--confidential", "channel", default=None, metavar="CHANNEL",
              help="Seal the comment to the recipients of this covenant channel (e.g. community-voices): "
                   "it counts, but only they can read it.")
@key_option
def comment(ref: str, section: str, text: str, replacement: str | None, public: bool, channel: str | None,
            key_path: str | None) -> None:
    """Comment on a section of the current version (with your own key).

    Example: ledger consultation comment CX-2 --section 1 --text "Start at 6." --replacement "Bus lanes are
    enforced from 6 to 10." --key keys/cso-air.key
    """
    from ledger import commands

    signer, ledger = signer_and_ledger(key_path)
    if channel:
        if replacement:
            raise click.UsageError("a confidential comment proposes no replacement text in the clear")
        number = commands.comment_confidentially(ledger, signer, ref.upper(), section, text, channel, public)
        click.echo(f"comment {number} on {ref.upper()} recorded, sealed to the recipients of {channel}")
        return
    number = commands.on_consultation(ledger, signer, ref.upper(),
                                      lambda ctx, found: found.comment(ctx, section, text, replacement, public))
    click.echo(f"comment {number} on {ref.upper()} recorded")


@consultation.command("answer")
@click.argument("ref")
@click.option("--comment", "number", required=True, type=click.IntRange(min=1), help="The comment's number.")
@click.option("--accepted", "answer", flag_value="accepted", help="The change is made.")
@click.option("--partly", "answer", flag_value="partly_accepted", help="Part of it is made (say why).")
@click.option("--not-accepted", "answer", flag_value="not_accepted", help="Not made (say why).")
@click.option("--reason", default=None, help="Why (needed unless accepted).")
@click.option("--version", type=click.IntRange(min=2), default=None,
              help="The later version that shows the change (accepted or partly).")
@key_option
def answer(ref: str, number: int, answer: str | None, reason: str | None, version: int | None,
           key_path: str | None) -> None:
    """Answer a comment: accepted, partly accepted or not accepted (secretariat)."""
    from ledger import commands

    if answer is None:
        raise click.UsageError("say how the comment is answered: --accepted, --partly or --not-accepted")
    signer, ledger = signer_and_ledger(key_path)
    commands.on_consultation(ledger, signer, ref.upper(),
                             lambda ctx, found: found.answer(number, answer, reason, version))
    click.echo(f"answered comment {number} on {ref.upper()}: {answer.replace('_', ' ')}")


@consultation.command("close")
@click.argument("ref")
@key_option
def close(ref: str, key_path: str | None) -> None:
    """Close a consultation whose every comment is answered (secretariat)."""
    from ledger import commands

    signer, ledger = signer_and_ledger(key_path)
    commands.on_consultation(ledger, signer, ref.upper(), lambda ctx, found: found.close())
    click.echo(f"closed {ref.upper()}")


@consultation.command("adopt")
@click.argument("ref")
@click.option("--version", required=True, type=click.IntRange(min=1), help="The version adopted.")
@click.option("--decision", required=True, help="The passed motion that decided it (motion propose --adopt).")
@key_option
def adopt(ref: str, version: int, decision: str, key_path: str | None) -> None:
    """Record the adoption of a version under a passed decision (secretariat)."""
    from ledger import commands

    signer, ledger = signer_and_ledger(key_path)
    commands.on_consultation(ledger, signer, ref.upper(),
                             lambda ctx, found: found.adopt(version, decision.upper()))
    click.echo(f"adopted version {version} of {ref.upper()} under {decision.upper()}")


@consultation.command("show")
@click.argument("ref")
@as_of_option
@json_option
def show(ref: str, as_of: str | None, as_json: bool) -> None:
    """Show the draft, each version's changes, and per section the comments and answers."""
    from ledger.domain.consultation import Consultation
    from projections.consultations import consultation_view
    from projections.describe import load

    ledger = open_ledger()
    position, _moment = as_of_point(ledger, as_of)
    view = consultation_view(load(ledger, Consultation, ref, position))
    if as_json:
        emit_json(view)
        return
    names = people_names(ledger, position)
    click.echo(f"{view['ref']}: {view['title']} ({view['committee']}), {view['status']}; version "
               f"{view['current_version']}; comments from {view['opens_at'][:16]} to {view['closes_at'][:16]} "
               f"({view['participation']})")
    for version in view["versions"][1:]:
        click.echo(f"version {version['version']} changed: " + "; ".join(
            f"section {c['section']} {c['change']}" for c in version["changes"]))
    for section in view["sections"]:
        click.echo(f"\n{section['number']}. {section['text']}")
        for note in section["comments"]:
            who = names.get(note["author"], note["author"]) if note["author"] else "a member of the public"
            said_text = "[confidential: sealed to the channel's recipients]" if note.get("confidential") \
                else note["text"]
            click.echo(f"  comment {note['number']} by {who} (on version {note['version']}): {said_text}")
            if note["replacement"]:
                click.echo(f"    proposed: {note['replacement']}")
            said = note["answer"]
            if said is None:
                click.echo("    answer: awaited")
            else:
                where = f" (version {said['version']})" if said["version"] else ""
                reason = f": {said['reason']}" if said["reason"] else ""
                click.echo(f"    answer: {said['answer'].replace('_', ' ')}{where}{reason}")
    if view["adopted"]:
        click.echo(f"\nadopted: version {view['adopted']['version']} under {view['adopted']['decision']}")


@consultation.command("list")
@as_of_option
@json_option
def list_(as_of: str | None, as_json: bool) -> None:
    """Every consultation: status, versions, comments and how many are answered."""
    from ledger.domain.consultation import Consultation
    from projections.describe import load, refs

    ledger = open_ledger()
    position, _moment = as_of_point(ledger, as_of)
    rows = []
    for ref in refs(ledger, Consultation, position):
        found = load(ledger, Consultation, ref, position)
        rows.append({"ref": ref, "title": found.title, "committee": found.committee, "status": found.status,
                     "versions": len(found.versions), "comments": len(found.comments),
                     "answered": sum(c["answer"] is not None for c in found.comments), "closes_at": found.closes_at})
    if as_json:
        emit_json({"consultations": rows})
        return
    click.echo(table([[r["ref"], r["title"][:40], r["committee"], r["status"], str(r["versions"]),
                       f"{r['answered']}/{r['comments']}", r["closes_at"][:16]] for r in rows],
                     ["CONSULTATION", "TITLE", "COMMITTEE", "STATUS", "VERSIONS", "ANSWERED", "CLOSES"]))


@click.group()
def adjustment() -> None:
    """Requests to adjust an adopted policy, a pilot or a milestone, answered by a deadline."""


@adjustment.command("request")
@click.option("--committee", required=True, help="The committee asked (e.g. K-1).")
@click.option("--subject", required=True, help="What to adjust: CX-1, MS-2, F-1...")
@click.option("--text", required=True, help="The change requested and why.")
@key_option
def request(committee: str, subject: str, text: str, key_path: str | None) -> None:
    """Request an adjustment in your party's name (a representative's own key)."""
    from ledger import commands

    signer, ledger = signer_and_ledger(key_path)
    ref = commands.request_adjustment(ledger, signer, committee.upper(), subject.upper(), text)
    click.echo(f"requested {ref}")


@adjustment.command("answer")
@click.argument("ref")
@click.option("--decision", type=click.Choice(["granted", "partly_granted", "refused"]), required=True)
@click.option("--text", required=True, help="The committee's answer and why.")
@key_option
def answer_request(ref: str, decision: str, text: str, key_path: str | None) -> None:
    """Answer an adjustment request (secretariat)."""
    from ledger import commands

    signer, ledger = signer_and_ledger(key_path)
    commands.answer_adjustment(ledger, signer, ref.upper(), decision, text)
    click.echo(f"answered {ref.upper()}: {decision.replace('_', ' ')}")


@adjustment.command("list")
@as_of_option
@json_option
def list_adjustments(as_of: str | None, as_json: bool) -> None:
    """Every adjustment request; unanswered ones past their due date are overdue."""
    from ledger.domain.consultation import Adjustment
    from projections.consultations import adjustment_state
    from projections.describe import load, refs

    ledger = open_ledger()
    position, moment = as_of_point(ledger, as_of)
    rows = []
    for ref in refs(ledger, Adjustment, position):
        found = load(ledger, Adjustment, ref, position)
        state = adjustment_state(found, moment.date())
        rows.append({"ref": ref, "committee": found.committee, "subject": found.subject, "party": found.party,
                     "text": found.text, "due": found.due, "state": state, "answer": found.answer})
    if as_json:
        emit_json({"adjustments": rows})
        return
    click.echo(table([[r["ref"], r["subject"], r["party"], r["due"], r["state"], r["text"][:40]] for r in rows],
                     ["REQUEST", "SUBJECT", "PARTY", "DUE", "STATE", "TEXT"]))
