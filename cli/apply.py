"""``ledger apply FILE``: record a whole meeting from one human-editable file.

Each non-blank line that does not start with ``#`` is one ledger command,
written exactly as on the command line without the leading ``ledger`` (and
without ``--db``).  ``@meeting`` and ``@motion`` stand for the meeting and
motion most recently created by earlier lines.  Lines without ``--key`` are
signed with ``apply``'s own ``--key``.  Everything runs in one transaction:
if any line is refused, nothing from the file is written, and the error
names the line.
"""

from __future__ import annotations

import io
import re
import shlex
from contextlib import redirect_stdout
from pathlib import Path

import click

from cli.common import key_option, open_ledger, plural, settings

WRITING_GROUPS = {"covenant", "committee", "meeting", "motion", "fund", "milestone", "dispute", "keys"}
CREATED = re.compile(r"^(?:scheduled|proposed) ((?:MT|M)-\d+)$", re.M)


@click.command("apply")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@key_option
@click.option("--dry-run", is_flag=True, help="Check every line, then write nothing.")
def apply(file: str, key_path: str | None, dry_run: bool) -> None:
    """Apply every command in FILE as one transaction (all or nothing).

    \b
    Example file (meeting.ledger), for the demo ledger's meeting MT-4:
      meeting attend MT-4 --member "Amara Okafor" --member "Mei Lin" --member "Sam Whitfield"
      motion propose --meeting MT-4 --item 1 --text "Enforce bus lanes" --key keys/cso-air.key
      motion second @motion --key keys/cso-cycle.key
      motion open @motion
      motion vote @motion yes --member "Amara Okafor"
      motion vote @motion yes --member "Mei Lin"
      motion close @motion
      meeting close MT-4
    """
    from cli.main import cli as root
    from ledger.errors import InvalidInputError

    try:
        lines = Path(file).read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError:
        raise InvalidInputError(f"{file} is not a text file (UTF-8): give a .ledger file of commands") from None
    current = settings()
    ledger = open_ledger()
    current.ledger, current.default_key = ledger, key_path
    def attempt() -> int:
        # Everything from the start again after a clash: refs (@meeting) too.
        latest = {"@meeting": "", "@motion": ""}
        count = 0
        with ledger.batch():
            for number, line in enumerate(lines, start=1):
                if not line.strip() or line.lstrip().startswith("#"):
                    continue
                output = _run_line(root, file, number, line, latest)
                for ref in CREATED.findall(output):
                    latest["@meeting" if ref.startswith("MT-") else "@motion"] = ref
                count += 1
            if dry_run:
                raise _DryRun(count)
        return count

    try:
        # Losing the write lock to another writer is retried like any single
        # command, then refused with the same retryable message.
        count = ledger.retrying(attempt)
    except _DryRun as done:
        click.echo(f"checked {plural(done.count, 'entry')} from {file}; nothing written (--dry-run)")
        return
    finally:
        current.ledger, current.default_key = None, None
    click.echo(f"applied {plural(count, 'entry')} from {file} in one transaction")


class _DryRun(Exception):
    """Raised to roll the batch back after a successful check."""

    def __init__(self, count: int) -> None:
        super().__init__(count)
        self.count = count


def _run_line(root: click.Group, file: str, number: int, line: str, latest: dict[str, str]) -> str:
    from ledger.errors import InvalidInputError, LedgerError, RefusedError

    where = f"{file}, line {number}"
    try:
        args = shlex.split(line)
    except ValueError as exc:
        raise InvalidInputError(f"{where}: {exc}") from None
    for i, arg in enumerate(args):
        for name, ref in latest.items():
            if name in arg:
                if not ref:
                    raise InvalidInputError(f"{where}: {name} is used before any line creates one")
                args[i] = arg.replace(name, ref)
    if not args or args[0] not in WRITING_GROUPS:
        raise InvalidInputError(f"{where}: only writing commands may be applied "
                                f"({', '.join(sorted(WRITING_GROUPS))}), not {args[0] if args else 'nothing'!r}")
    buffer = io.StringIO()
    try:
        with redirect_stdout(buffer):
            ctx = root.make_context("ledger", list(args), parent=click.get_current_context().find_root())
            with ctx:
                root.invoke(ctx)
    except click.ClickException as exc:  # a usage error, or a refusal the group turned into one line
        raise RefusedError(f"{where}: {exc.format_message()}") from None
    except LedgerError as exc:
        raise type(exc)(f"{where}: {exc}") from None
    return buffer.getvalue()
