"""Transparency-log commands: checkpoint, prove, verify-proof."""

from __future__ import annotations

import json
from pathlib import Path

import click

from cli.common import emit_json, open_ledger


def _trust(value: str) -> tuple[str, bytes]:
    """A C2SP verifier key string, or a file holding one."""
    from ledger.keys import parse_verifier_key

    text = Path(value).read_text().strip() if Path(value).is_file() else value
    name, _kid, public = parse_verifier_key(text)
    return name, public


@click.command("checkpoint")
@click.option("--log-key", "log_key_path", envvar="LEDGER_LOG_KEY", metavar="FILE",
              help="The ledger's log key (or LEDGER_LOG_KEY), to sign a new checkpoint.")
@click.option("--show", is_flag=True, help="Only print the latest checkpoint, as a signed note.")
def checkpoint(log_key_path: str | None, show: bool) -> None:
    """Sign a checkpoint (C2SP signed tree head) of the whole log, and print it.

    Writing commands sign one automatically when LEDGER_LOG_KEY is set.
    """
    from ledger import load_signer
    from ledger.tlog import TransparencyLog

    ledger = open_ledger()
    if show:
        click.echo(TransparencyLog(ledger).checkpoint().note, nl=False)
        return
    if not log_key_path:
        raise click.UsageError("give the log key with --log-key FILE (or LEDGER_LOG_KEY), or use --show")
    ledger.log_key = load_signer(log_key_path)
    click.echo(ledger.checkpoint(), nl=False)


@click.group()
def prove() -> None:
    """Merkle proofs (RFC 9162) against a stored checkpoint, as JSON."""


@prove.command("inclusion")
@click.argument("ref")
@click.option("--size", type=click.IntRange(min=1), default=None,
              help="Prove against the checkpoint of this size (default: the latest).")
def inclusion(ref: str, size: int | None) -> None:
    """Prove that the record at POSITION (or with EVENT_HASH) REF is in the log.

    Prints {"type", "index", "size", "event_hash", "leaf_hash", "hashes", "checkpoint"}.
    """
    from ledger.tlog import TransparencyLog

    log = TransparencyLog(open_ledger())
    emit_json(log.inclusion(log.leaf_index(ref), size))


@prove.command("consistency")
@click.argument("old_size", type=click.IntRange(min=1))
@click.argument("new_size", type=click.IntRange(min=1), required=False)
def consistency(old_size: int, new_size: int | None) -> None:
    """Prove that the log at NEW_SIZE (default: latest checkpoint) extends OLD_SIZE.

    Prints {"type", "size1", "size2", "hashes", "checkpoint1", "checkpoint"}.
    """
    from ledger.tlog import TransparencyLog

    emit_json(TransparencyLog(open_ledger()).consistency(old_size, new_size))


@click.command("verify-proof")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--trust", required=True, metavar="VKEY",
              help="The log key's C2SP verifier key string (from 'ledger init'), or a file holding it.")
def verify_proof(file: str, trust: str) -> None:
    """Check a proof from 'ledger prove', offline, against a trusted log key."""
    from ledger.errors import InvalidInputError
    from ledger.tlog import verify_proof as check

    try:
        proof = json.loads(Path(file).read_text())
    except json.JSONDecodeError as exc:
        raise InvalidInputError(f"{file} is not JSON: {exc.msg}") from None
    name, public = _trust(trust)
    click.echo(f"OK: {check(proof, name, public)}")
