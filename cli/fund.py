"""``ledger fund ...``: establish, pledge, receive, allocate, disburse, return, list, show."""

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
    show,
    signer_and_ledger,
    table,
)

EVIDENCE_HELP = "The evidence: " + DOCUMENT_HELP + "."


@click.group()
def fund() -> None:
    """Pooled and matched funds, allocations and disbursements."""


@fund.command("establish")
@click.option("--covenant", required=True, help="The covenant (e.g. C-1).")
@click.option("--name", required=True, help="The fund's name.")
@click.option("--currency", required=True, help="ISO 4217 currency code, e.g. EUR.")
@click.option("--match", "matches", multiple=True, metavar="MATCHER:KIND[,KIND]:RATIO:CAP",
              help="Matching rule, e.g. civic-renewal:civil_society:1/1:25000.00 (repeat).")
@key_option
def establish(covenant: str, name: str, currency: str, matches: tuple[str, ...], key_path: str | None) -> None:
    """Establish a fund in one currency, with optional matching rules."""
    from ledger import commands

    rules = []
    for spec in matches:
        parts = spec.split(":")
        if len(parts) != 4:
            raise click.BadParameter(f"{spec!r} is not MATCHER:KIND[,KIND]:RATIO:CAP", param_hint="--match")
        rules.append({"matcher": parts[0], "from_kinds": parts[1].split(","), "ratio": parts[2], "cap": parts[3]})
    signer, ledger = signer_and_ledger(key_path)
    ref = commands.establish_fund(ledger, signer, covenant.upper(), name, currency.upper(), rules)
    click.echo(f"established {ref}")


@fund.command("pledge")
@click.argument("ref")
@click.option("--party", required=True, help="The pledging party.")
@click.option("--amount", required=True, help="Decimal string, e.g. 10000.00.")
@key_option
def pledge(ref: str, party: str, amount: str, key_path: str | None) -> None:
    """Record a party's pledge to fund REF."""
    from ledger import commands

    signer, ledger = signer_and_ledger(key_path)
    commands.pledge(ledger, signer, ref.upper(), party, amount)
    click.echo(f"{party} pledged {amount} to {ref.upper()}")


@fund.command("receive")
@click.argument("ref")
@click.option("--party", required=True, help="The contributing party.")
@click.option("--amount", required=True, help="Decimal string, e.g. 10000.00.")
@click.option("--evidence", "--document", "evidence", required=True, metavar="DIGEST|FILE", help=EVIDENCE_HELP)
@keep_option
@key_option
def receive(ref: str, party: str, amount: str, evidence: str, keep: bool, key_path: str | None) -> None:
    """Record money received into fund REF (matching obligations follow)."""
    from ledger import commands

    docs = Documents()
    digest = docs.digest(evidence)
    signer, ledger = signer_and_ledger(key_path)
    with docs.kept_with(ledger, keep):
        commands.receive(ledger, signer, ref.upper(), party, amount, digest)
    click.echo(f"received {amount} from {party} into {ref.upper()}")


@fund.command("allocate")
@click.argument("ref")
@click.option("--project", required=True, help="The pilot or project.")
@click.option("--recipient", required=True,
              help="Who receives the money: a party's id, or a registered organisation's (ledger organisation list).")
@click.option("--amount", required=True, help="Decimal string, e.g. 40000.00.")
@click.option("--decision", required=True, help="The passed funding motion that authorises it.")
@key_option
def allocate(ref: str, project: str, recipient: str, amount: str, decision: str, key_path: str | None) -> None:
    """Allocate money from fund REF to a recipient for a project, citing its decision.

    Example: ledger fund allocate F-1 --project "School streets pilot" --recipient riverside-schools-trust
    --amount 12000.00 --decision M-7 --key keys/secretariat.key
    """
    from ledger import commands

    signer, ledger = signer_and_ledger(key_path)
    allocation = commands.allocate(ledger, signer, ref.upper(), project, amount, decision.upper(), recipient)
    click.echo(f"allocated {amount} to {recipient} for {project} as {allocation}")


@fund.command("disburse")
@click.argument("ref")
@click.option("--allocation", required=True, help="The allocation (e.g. F-1/A-1).")
@click.option("--amount", required=True, help="Decimal string.")
@click.option("--evidence", "--document", "evidence", required=True, metavar="DIGEST|FILE", help=EVIDENCE_HELP)
@keep_option
@key_option
def disburse(ref: str, allocation: str, amount: str, evidence: str, keep: bool, key_path: str | None) -> None:
    """Disburse money against an allocation of fund REF.

    Example: ledger fund disburse F-1 --allocation F-1/A-1 --amount 15000.00 --evidence
    9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
    --key keys/secretariat.key
    """
    from ledger import commands

    docs = Documents()
    digest = docs.digest(evidence)
    signer, ledger = signer_and_ledger(key_path)
    with docs.kept_with(ledger, keep):
        commands.disburse(ledger, signer, ref.upper(), allocation.upper(), amount, digest)
    click.echo(f"disbursed {amount} against {allocation.upper()}")


@fund.command("return")
@click.argument("ref")
@click.option("--allocation", required=True, help="The allocation (e.g. F-1/A-1).")
@click.option("--amount", required=True, help="Decimal string.")
@click.option("--reason", required=True, help="Why.")
@key_option
def return_funds(ref: str, allocation: str, amount: str, reason: str, key_path: str | None) -> None:
    """Return undisbursed money of an allocation to fund REF."""
    from ledger import commands

    signer, ledger = signer_and_ledger(key_path)
    commands.return_funds(ledger, signer, ref.upper(), allocation.upper(), amount, reason)
    click.echo(f"returned {amount} from {allocation.upper()}")


@fund.command("show")
@click.argument("ref", default="F-1")
@as_of_option
@json_option
def show_fund(ref: str, as_of: str | None, as_json: bool) -> None:
    """Show fund REF: pledges, receipts, matching, allocations, balance."""
    from ledger.domain.funding import Fund
    from projections.describe import describe, load

    ledger = open_ledger()
    position = as_of_point(ledger, as_of)[0]
    found = load(ledger, Fund, ref, position)
    body = describe(found)
    body["balance"] = found.fmt(found.balance())
    # What each matching party owes, has met and still owes (matching_owed is the total owed).
    body["matching_status"] = found.matching_status()
    show(body, as_json, people_names(ledger, position))


@fund.command("list")
@as_of_option
@json_option
def list_funds(as_of: str | None, as_json: bool) -> None:
    """Every fund: currency, received, allocated, balance, matching outstanding."""
    from decimal import Decimal

    from ledger.domain.funding import Fund
    from projections.describe import load, refs

    ledger = open_ledger()
    position = as_of_point(ledger, as_of)[0]
    rows = []
    for ref in refs(ledger, Fund, position):
        found = load(ledger, Fund, ref, position)
        outstanding = sum((Decimal(m["outstanding"]) for m in found.matching_status().values()), Decimal(0))
        rows.append({"ref": found.ref, "covenant": found.covenant, "name": found.name, "currency": found.currency,
                     "received": found.fmt(found.total(found.received)), "allocated": found.fmt(found.allocated()),
                     "balance": found.fmt(found.balance()), "matching_outstanding": found.fmt(outstanding)})
    if as_json:
        emit_json({"funds": rows})
        return
    click.echo(table([[r["ref"], r["name"], r["currency"], r["received"], r["allocated"], r["balance"],
                       r["matching_outstanding"]] for r in rows],
                     ["FUND", "NAME", "CURRENCY", "RECEIVED", "ALLOCATED", "BALANCE", "MATCHING OWED"]))
