"""``ledger milestone ...``: define, report, evaluate, show, list."""

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


@click.group()
def milestone() -> None:
    """SMART milestones and progress (status is derived, never typed in)."""


@milestone.command("define")
@click.option("--covenant", required=True, help="The covenant (e.g. C-1).")
@click.option("--title", required=True, help="The milestone.")
@click.option("--metric", required=True, help="What is measured.")
@click.option("--unit", required=True, help="Unit of the metric.")
@click.option("--baseline", required=True, help="Starting value (decimal string).")
@click.option("--target", required=True, help="Target value (decimal string).")
@click.option("--deadline", required=True, help="Date, e.g. 2027-06-30.")
@click.option("--owner", required=True, help="The party responsible.")
@key_option
def define(covenant: str, title: str, metric: str, unit: str, baseline: str, target: str, deadline: str,
           owner: str, key_path: str | None) -> None:
    """Define a milestone."""
    from ledger import commands

    signer, ledger = signer_and_ledger(key_path)
    ref = commands.define_milestone(ledger, signer, covenant.upper(), title, metric, unit, baseline, target,
                                    deadline, owner)
    click.echo(f"defined {ref}")


@milestone.command("report")
@click.argument("ref")
@click.option("--value", required=True, help="The measured value (decimal string).")
@click.option("--date", "report_date", required=True, help="Date of the measurement.")
@click.option("--evidence", "--document", "evidence", required=True, metavar="DIGEST|FILE",
              help="The evidence: " + DOCUMENT_HELP + ".")
@click.option("--narrative", required=True, help="What happened.")
@keep_option
@key_option
def report(ref: str, value: str, report_date: str, evidence: str, narrative: str, keep: bool,
           key_path: str | None) -> None:
    """Report progress on milestone REF.

    Example: ledger milestone report MS-1 --value 38.5 --date 2026-10-31 --evidence
    2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae
    --narrative "Sensors at six schools." --key keys/secretariat.key
    """
    from ledger import commands

    docs = Documents()
    digest = docs.digest(evidence)
    signer, ledger = signer_and_ledger(key_path)
    with docs.kept_with(ledger, keep):
        commands.report_progress(ledger, signer, ref.upper(), value, report_date, digest, narrative)
    click.echo(f"reported {value} for {ref.upper()}")


@milestone.command("evaluate")
@click.argument("ref")
@click.option("--assessment", required=True, help="The evaluation.")
@key_option
def evaluate(ref: str, assessment: str, key_path: str | None) -> None:
    """Record an independent evaluation of milestone REF (signed by the evaluator)."""
    from ledger import commands

    signer, ledger = signer_and_ledger(key_path)
    commands.evaluate_milestone(ledger, signer, ref.upper(), assessment)
    click.echo(f"evaluated {ref.upper()}")


@milestone.command("show")
@click.argument("ref")
@as_of_option
@json_option
def show_milestone(ref: str, as_of: str | None, as_json: bool) -> None:
    """Show milestone REF with its reports, evaluations and derived status."""
    from ledger.domain.milestone import Milestone
    from projections.describe import describe_milestone, load

    ledger = open_ledger()
    position, moment = as_of_point(ledger, as_of)
    show(describe_milestone(ledger, load(ledger, Milestone, ref, position), moment.date()), as_json,
         people_names(ledger, position))


@milestone.command("list")
@as_of_option
@json_option
def list_milestones(as_of: str | None, as_json: bool) -> None:
    """Every milestone with its latest value and derived status."""
    from ledger.domain.milestone import Milestone
    from projections.describe import load, refs

    ledger = open_ledger()
    position, moment = as_of_point(ledger, as_of)
    today = moment.date()
    rows = []
    for ref in refs(ledger, Milestone, position):
        found = load(ledger, Milestone, ref, position)
        latest = found.latest_report["value"] if found.latest_report else None
        rows.append({"ref": ref, "title": found.title, "baseline": found.baseline, "target": found.target,
                     "latest": latest, "deadline": found.deadline, "status": found.status(today)})
    if as_json:
        emit_json({"milestones": rows})
        return
    click.echo(table([[r["ref"], r["title"][:40], r["baseline"], r["latest"] or "-", r["target"], r["deadline"],
                       r["status"]] for r in rows],
                     ["MILESTONE", "TITLE", "BASELINE", "LATEST", "TARGET", "DEADLINE", "STATUS"]))
