"""``ledger covenant ...``: draft, accede, review, amend, renew, terminate, show, diff."""

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
