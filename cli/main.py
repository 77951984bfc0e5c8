"""Entry point: the ``ledger`` group and its global options."""

from __future__ import annotations

import click

from cli import (
    apply,
    committee,
    consultation,
    covenant,
    dispute,
    document,
    feedback,
    fund,
    milestone,
    motion,
    organisation,
    projections,
    sealed,
    serve,
    tlog,
)
from cli import keys as keys_commands
from cli import records as record_commands
from cli.common import LedgerGroup, Settings


@click.group(cls=LedgerGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--db", envvar="LEDGER_DB", metavar="URL",
              help="SQLite file path or postgresql:// URL (or LEDGER_DB; default ./ledger.db).")
@click.option("--server", envvar="LEDGER_SERVER", metavar="URL",
              help="Run the command on a ledger server (or LEDGER_SERVER): queries over HTTP, acts prepared "
                   "there and signed here with your own key (docs/server.md).")
@click.option("--verbose", is_flag=True, help="Show tracebacks for unexpected errors.")
@click.version_option(package_name="covenant-ledger")
@click.pass_context
def cli(ctx: click.Context, db: str | None, server: str | None, verbose: bool) -> None:
    """A signed, append-only governance ledger.

    Every act is an Ed25519-signed, hash-chained record.  Start with
    'ledger demo', or 'ledger keys new' then 'ledger init'.
    """
    ctx.obj = Settings(db=db, verbose=verbose)


cli.add_command(keys_commands.keys)
for command in record_commands.COMMANDS:
    cli.add_command(command)
cli.add_command(apply.apply)
cli.add_command(serve.serve)
cli.add_command(tlog.checkpoint)
cli.add_command(tlog.prove)
cli.add_command(tlog.verify_proof)
cli.add_command(tlog.witness)
cli.add_command(projections.projections)
cli.add_command(projections.audit)
for group in (covenant.covenant, committee.committee, committee.meeting, motion.motion, fund.fund,
              milestone.milestone, dispute.dispute, organisation.organisation, document.document,
              feedback.feedback, sealed.sealed, consultation.consultation, consultation.adjustment):
    cli.add_command(group)


def main() -> None:
    import sys

    from cli import remote

    code = remote.run_main(sys.argv[1:])  # a command for a --server runs there (it signs here)
    if code is not None:
        sys.exit(code)
    cli(prog_name="ledger")


if __name__ == "__main__":
    main()
