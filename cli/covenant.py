"""``ledger covenant ...``: draft, accede, membership, review, amend, renew, terminate, list, show, diff."""

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


@click.group()
def covenant() -> None:
    """The partnership agreement: parties, clauses, rules, versions."""


@covenant.command("draft")
@click.argument("terms_file", type=click.Path(exists=True, dir_okay=False))
@click.option("--title", required=True, help="The covenant's title.")
@key_option
def draft(terms_file: str, title: str, key_path: str | None) -> None:
    """Draft a covenant from TERMS_FILE (JSON or TOML; see docs/cli.md for the shape).

    Example: ledger covenant draft covenant-terms.json --title "Riverside Schools Covenant"
    --key keys/secretariat.key
    """
    from ledger import commands

    signer, ledger = signer_and_ledger(key_path)
    ref = commands.draft_covenant(ledger, signer, title, read_data_file(terms_file))
    click.echo(f"drafted {ref}")


@covenant.command("accede")
@click.argument("ref")
@click.option("--party", required=True, help="The party acceding (its id); sign with its representative's key.")
@key_option
def accede(ref: str, party: str, key_path: str | None) -> None:
    """Sign a party's accession to covenant REF (e.g. C-1)."""
    from ledger import commands

    signer, ledger = signer_and_ledger(key_path)
    status = commands.accede(ledger, signer, ref.upper(), party)
    click.echo(f"{party} acceded to {ref.upper()}; the covenant is {status.replace('_', ' ')}")


@covenant.command("admit")
@click.argument("ref")
@click.option("--party", "party_id", required=True, help="The new party's id (lowercase letters, digits, dashes).")
@click.option("--name", required=True, help="The party's name.")
@click.option("--kind", required=True, help="political_party, civil_society, government_body, research_institute "
                                            "or other.")
@click.option("--representative", "representatives", multiple=True, required=True,
              help="Its representative (a registered person: name or key id); repeat for several.")
@click.option("--identifier", default=None, help="Its org-id.guide identifier, e.g. GB-CHC-1234567.")
@click.option("--decision", required=True, help="The passed motion deciding to admit it (motion propose --admit).")
@key_option
def admit(ref: str, party_id: str, name: str, kind: str, representatives: tuple[str, ...], identifier: str | None,
          decision: str, key_path: str | None) -> None:
    """Admit a new party to covenant REF by a passed decision; its representative then
    signs 'covenant accede'.

    Example: ledger covenant admit C-1 --party youth-forum --name "Riverside Youth Forum" --kind civil_society
    --representative "Kofi Mensah" --decision M-7 --key keys/secretariat.key
    """
    from ledger import commands

    party = {"id": party_id, "name": name, "kind": kind, "representatives": list(representatives)}
    if identifier:
        party["identifier"] = identifier
    signer, ledger = signer_and_ledger(key_path)
    commands.admit_party(ledger, signer, ref.upper(), party, decision.upper())
    click.echo(f"admitted {party_id} to {ref.upper()}; its representative now signs 'covenant accede'")


@covenant.command("withdraw")
@click.argument("ref")
@click.option("--party", required=True, help="The leaving party (sign with its representative's key).")
@click.option("--reason", required=True, help="Why.")
@key_option
def withdraw(ref: str, party: str, reason: str, key_path: str | None) -> None:
    """Record a party's withdrawal from covenant REF, signed by its own representative."""
    from ledger import commands

    signer, ledger = signer_and_ledger(key_path)
    commands.withdraw_party(ledger, signer, ref.upper(), party, reason)
    click.echo(f"{party} withdrew from {ref.upper()}")


@covenant.command("expel")
@click.argument("ref")
@click.option("--party", required=True, help="The party to expel.")
@click.option("--decision", required=True, help="The passed motion deciding it (motion propose --expel).")
@click.option("--reason", required=True, help="Why.")
@key_option
def expel(ref: str, party: str, decision: str, reason: str, key_path: str | None) -> None:
    """Expel a party from covenant REF by a passed decision."""
    from ledger import commands

    signer, ledger = signer_and_ledger(key_path)
    commands.expel_party(ledger, signer, ref.upper(), party, decision.upper(), reason)
    click.echo(f"expelled {party} from {ref.upper()}")


@covenant.command("representatives")
@click.argument("ref")
@click.option("--party", required=True, help="The party.")
@click.option("--representative", "representatives", multiple=True, required=True,
              help="A representative from now on (name or key id); repeat for several.")
@click.option("--decision", default=None,
              help="Only when none of its representatives can sign: the passed motion letting the secretariat "
                   "name them (motion propose --representatives-of).")
@key_option
def representatives(ref: str, party: str, representatives: tuple[str, ...], decision: str | None,
                    key_path: str | None) -> None:
    """Name or replace a party's representatives (signed by a current representative).

    Example: ledger covenant representatives C-1 --party clean-air-now --representative "Amara Okafor"
    --key keys/cso-air.key
    """
    from ledger import commands

    signer, ledger = signer_and_ledger(key_path)
    commands.change_representatives(ledger, signer, ref.upper(), party, list(representatives),
                                    decision.upper() if decision else None)
    click.echo(f"{party}'s representatives on {ref.upper()}: {', '.join(representatives)}")


@covenant.command("review")
@click.argument("ref")
@click.option("--date", "review_date", required=True, help="Date of the review, e.g. 2026-06-30.")
@click.option("--notes", required=True, help="What the review found.")
@key_option
def review(ref: str, review_date: str, notes: str, key_path: str | None) -> None:
    """Record a scheduled review of covenant REF."""
    from ledger import commands

    signer, ledger = signer_and_ledger(key_path)
    commands.review_covenant(ledger, signer, ref.upper(), review_date, notes)
    click.echo(f"recorded the {review_date} review of {ref.upper()}")


@covenant.command("amend")
@click.argument("ref")
@click.option("--decision", required=True, help="The passed amendment-class motion whose changes to apply.")
@key_option
def amend(ref: str, decision: str, key_path: str | None) -> None:
    """Apply the changes adopted by a passed amendment motion to covenant REF."""
    from ledger import commands

    signer, ledger = signer_and_ledger(key_path)
    version = commands.amend_covenant(ledger, signer, ref.upper(), decision.upper())
    click.echo(f"amended {ref.upper()} by {decision.upper()}: now at version {version}")


@covenant.command("renew")
@click.argument("ref")
@click.option("--until", "new_end", required=True, help="The new end of the term, e.g. 2031-12-31.")
@click.option("--decision", required=True, help="The passed amendment-class motion authorising it.")
@key_option
def renew(ref: str, new_end: str, decision: str, key_path: str | None) -> None:
    """Renew covenant REF until a new date."""
    from ledger import commands

    signer, ledger = signer_and_ledger(key_path)
    commands.renew_covenant(ledger, signer, ref.upper(), new_end, decision.upper())
    click.echo(f"renewed {ref.upper()} until {new_end}")


@covenant.command("terminate")
@click.argument("ref")
@click.option("--decision", required=True, help="The passed amendment-class motion authorising it.")
@click.option("--reason", required=True, help="Why.")
@key_option
def terminate(ref: str, decision: str, reason: str, key_path: str | None) -> None:
    """Terminate covenant REF."""
    from ledger import commands

    signer, ledger = signer_and_ledger(key_path)
    commands.terminate_covenant(ledger, signer, ref.upper(), decision.upper(), reason)
    click.echo(f"terminated {ref.upper()}")


@covenant.command("list")
@as_of_option
@json_option
def list_covenants(as_of: str | None, as_json: bool) -> None:
    """Every covenant: title, status, parties, term, clause version."""
    from ledger.domain.covenant import Covenant
    from projections.describe import load, refs

    ledger = open_ledger()
    position, moment = as_of_point(ledger, as_of)
    rows = []
    for ref in refs(ledger, Covenant, position):
        found = load(ledger, Covenant, ref, position)
        status = "expired" if found.expired_since(moment.date()) else found.status
        rows.append({"ref": found.ref, "title": found.title, "status": status, "end": found.end,
                     "clause_version": found.clause_version,
                     "parties": {p: found.standing.get(p, "founding") for p in found.parties}})
    if as_json:
        emit_json({"covenants": rows})
        return
    click.echo(table([[r["ref"], r["title"], r["status"].replace("_", " "), r["end"], str(r["clause_version"]),
                       str(sum(1 for s in r["parties"].values() if s in ("founding", "member", "admitted")))]
                      for r in rows], ["COVENANT", "TITLE", "STATUS", "ENDS", "VERSION", "PARTIES"]))


@covenant.command("show")
@click.argument("ref", default="C-1")
@click.option("--version", "version", type=click.IntRange(min=1), help="Show the clauses of this version.")
@as_of_option
@json_option
def show_covenant(ref: str, version: int | None, as_of: str | None, as_json: bool) -> None:
    """Show covenant REF (default C-1) as it stands: parties, status, clauses, rules."""
    from ledger.domain.covenant import Covenant
    from projections.describe import describe, load

    ledger = open_ledger()
    found = load(ledger, Covenant, ref, as_of_point(ledger, as_of)[0])
    body = describe(found)
    body.pop("versions", None)
    number = version or found.clause_version
    if number > found.clause_version:
        raise click.BadParameter(f"{found.ref} has versions 1 to {found.clause_version}", param_hint="--version")
    body["clause_version"] = number
    body["clauses"] = found.versions[number - 1]
    body["decision_rules"] = body.pop("rules")
    moment = as_of_point(ledger, as_of)[1]
    today = moment.date().isoformat()
    expired = found.expired_since(moment.date())
    body["expired_since"] = expired
    if expired:
        body["status"] = "expired"
    # Each review held settles the earliest review point still outstanding
    # (reviews are often held a little late).
    pending = sorted(found.terms.get("reviews", []))[len(found.reviews_done):]
    body["next_review"] = min((d for d in pending if d >= today), default=None)
    body["overdue_reviews"] = sorted(d for d in pending if d < today)
    show(body, as_json, people_names(ledger, as_of_point(ledger, as_of)[0]))


@covenant.command("diff")
@click.argument("ref")
@click.argument("old", type=click.IntRange(min=1))
@click.argument("new", type=click.IntRange(min=1))
@as_of_option
@json_option
def diff(ref: str, old: int, new: int, as_of: str | None, as_json: bool) -> None:
    """Clause-by-clause differences between versions OLD and NEW of covenant REF."""
    from ledger.domain.covenant import Covenant
    from projections.describe import load

    ledger = open_ledger()
    changes = load(ledger, Covenant, ref, as_of_point(ledger, as_of)[0]).diff(old, new)
    if as_json:
        emit_json({"covenant": ref.upper(), "from": old, "to": new, "changes": changes})
        return
    if not changes:
        click.echo("no differences")
    click.echo(table([[c["clause"], c["change"], c.get("text", c.get("was", ""))[:80]] for c in changes],
                     ["CLAUSE", "CHANGE", "TEXT"]) if changes else "")
