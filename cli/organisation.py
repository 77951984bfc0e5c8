"""``ledger organisation ...``: register and list outside organisations (recipients of money)."""

from __future__ import annotations

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
def organisation() -> None:
    """Outside organisations that receive money (parties are named in the covenant)."""


@organisation.command("register")
@click.argument("ref")
@click.option("--name", required=True, help="The organisation's name.")
@click.option("--identifier", default=None,
              help="Its org-id.guide identifier, e.g. GB-CHC-1234567 (see docs/cli.md when it has none).")
@click.option("--kind", default="other", show_default=True,
              help="charity, company, public_body, community_group, research_institute or other.")
@key_option
def register(ref: str, name: str, identifier: str | None, kind: str, key_path: str | None) -> None:
    """Register organisation REF (an id of lowercase letters, digits and dashes).

    Example: ledger organisation register riverside-schools-trust --name "Riverside Schools Trust"
    --identifier GB-CHC-1234567 --kind charity --key keys/secretariat.key
    """
    from ledger import commands

    signer, ledger = signer_and_ledger(key_path)
    commands.register_organisation(ledger, signer, ref, name, identifier, kind)
    click.echo(f"registered {name} as {ref}")


@organisation.command("list")
@as_of_option
@json_option
def list_organisations(as_of: str | None, as_json: bool) -> None:
    """Every registered outside organisation: id, name, identifier, kind."""
    from ledger.domain.organisation import Organisation
    from projections.describe import load, refs

    ledger = open_ledger()
    position = as_of_point(ledger, as_of)[0]
    rows = []
    for ref in refs(ledger, Organisation, position):
        found = load(ledger, Organisation, ref, position)
        rows.append({"ref": found.ref, "name": found.name, "identifier": found.identifier, "kind": found.kind})
    if as_json:
        emit_json({"organisations": rows})
        return
    click.echo(table([[r["ref"], r["name"], r["identifier"] or "-", r["kind"]] for r in rows],
                     ["ORGANISATION", "NAME", "IDENTIFIER", "KIND"]))
