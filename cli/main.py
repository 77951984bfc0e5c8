"""Entry point: the ``ledger`` group and its global options."""

from __future__ import annotations

import importlib
from typing import Any

import click

from cli.common import LedgerGroup, Settings

# Every command, by the module that defines it: a command imports only its own
# module (and what that needs), so a query sent to a server or a resident starts fast.
COMMANDS = {
    "init": "cli.records:init", "verify": "cli.records:verify", "export": "cli.records:export",
    "import": "cli.records:import_", "sync": "cli.records:sync", "log": "cli.records:log",
    "show": "cli.records:show", "demo": "cli.records:demo", "publish": "cli.records:publish",
    "repair": "cli.records:repair", "keys": "cli.keys:keys", "apply": "cli.apply:apply",
    "serve": "cli.serve:serve", "resident": "cli.resident:resident", "checkpoint": "cli.tlog:checkpoint",
    "prove": "cli.tlog:prove", "verify-proof": "cli.tlog:verify_proof", "witness": "cli.tlog:witness",
    "projections": "cli.projections:projections", "audit": "cli.projections:audit",
    "covenant": "cli.covenant:covenant", "committee": "cli.committee:committee", "meeting": "cli.committee:meeting",
    "motion": "cli.motion:motion", "fund": "cli.fund:fund", "milestone": "cli.milestone:milestone",
    "dispute": "cli.dispute:dispute", "organisation": "cli.organisation:organisation",
    "document": "cli.document:document", "feedback": "cli.feedback:feedback", "sealed": "cli.sealed:sealed",
    "consultation": "cli.consultation:consultation", "adjustment": "cli.consultation:adjustment",
}


class LazyLedgerGroup(LedgerGroup):
    """The root group: its commands are imported when used (click's "lazily loading
    subcommands" pattern)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(COMMANDS) | set(self.commands))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            module, _, name = COMMANDS[cmd_name].partition(":")
            command: Any = getattr(importlib.import_module(module), name)
            self.commands[cmd_name] = command
        return self.commands.get(cmd_name)


@click.group(cls=LazyLedgerGroup, context_settings={"help_option_names": ["-h", "--help"]})
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


def main() -> None:
    import sys

    from cli import remote

    code = remote.run_main(sys.argv[1:])  # a command for a --server runs there (it signs here)
    if code is None:
        from cli import resident as resident_process

        code = resident_process.run_main(sys.argv[1:])  # a ledger kept open by `ledger resident start`
    if code is not None:
        sys.exit(code)
    cli(prog_name="ledger")


if __name__ == "__main__":
    main()
