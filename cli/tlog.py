"""Transparency-log commands: checkpoint, prove, verify-proof."""

from __future__ import annotations

import json
from pathlib import Path

import click

from cli.common import ask_passphrase, emit_json, open_ledger, read_signer


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
@click.option("--vkey", is_flag=True, help="Only print the log key's verifier key string (for --trust).")
def checkpoint(log_key_path: str | None, show: bool, vkey: bool) -> None:
    """Sign a checkpoint (C2SP signed tree head) of the whole log, and print it.

    Writing commands sign one automatically when LEDGER_LOG_KEY is set.

    Example: ledger checkpoint --log-key keys/log.key
    """
    from ledger.tlog import TransparencyLog

    ledger = open_ledger()
    if vkey:
        click.echo(ledger.registry().log_key)
        return
    if show:
        click.echo(TransparencyLog(ledger).checkpoint().note, nl=False)
        return
    if not log_key_path:
        raise click.UsageError("give the log key with --log-key FILE (or LEDGER_LOG_KEY), or use --show")
    ledger.log_key = read_signer(log_key_path)
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

    Example: ledger prove inclusion 42 > proof.json
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

    Example: ledger prove consistency 100 > proof.json
    """
    from ledger.tlog import TransparencyLog

    emit_json(TransparencyLog(open_ledger()).consistency(old_size, new_size))


@click.command("verify-proof")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--trust", required=True, metavar="VKEY",
              help="The log key's C2SP verifier key string (from 'ledger init'), or a file holding it.")
def verify_proof(file: str, trust: str) -> None:
    """Check a proof from 'ledger prove', offline, against a trusted log key.

    Example: ledger verify-proof proof.json --trust log.vkey
    """
    from ledger.errors import InvalidInputError
    from ledger.tlog import verify_proof as check

    try:
        proof = json.loads(Path(file).read_text())
    except json.JSONDecodeError as exc:
        raise InvalidInputError(f"{file} is not JSON: {exc.msg}") from None
    name, public = _trust(trust)
    click.echo(f"OK: {check(proof, name, public)}")


@click.group()
def witness() -> None:
    """Witnesses: cosign checkpoints only if the log stayed append-only."""


@witness.command("cosign")
@click.argument("checkpoint_file", type=click.Path(exists=True, dir_okay=False))
@click.option("--key", "key_path", required=True, metavar="FILE", help="The witness's private key.")
@click.option("--name", required=True, help="The witness's key name, e.g. witness.clean-air-now.example.")
@click.option("--state", "state_dir", required=True, type=click.Path(file_okay=False),
              help="The witness's own state directory (trusted log key, last cosigned checkpoint).")
@click.option("--proof", "proof_file", type=click.Path(exists=True, dir_okay=False), default=None,
              help="Consistency proof from the last cosigned checkpoint ('ledger prove consistency OLD NEW').")
@click.option("--trust", default=None, metavar="VKEY", help="The log's verifier key (first use only).")
def cosign(checkpoint_file: str, key_path: str, name: str, state_dir: str, proof_file: str | None,
           trust: str | None) -> None:
    """Cosign a checkpoint; refuse loudly, keeping both as evidence, on a fork.

    Prints the cosigned checkpoint (give it back to the keeper: 'ledger witness add').
    """
    from ledger.witness import WitnessState, cosign_checkpoint, load_proof

    trust_text = Path(trust).read_text().strip() if trust and Path(trust).is_file() else trust
    cosigned = cosign_checkpoint(
        Path(checkpoint_file).read_text(encoding="utf-8"), load_proof(Path(proof_file) if proof_file else None),
        name, read_signer(key_path), WitnessState(Path(state_dir)), trust_text,
    )
    click.echo(cosigned, nl=False)


@witness.command("add")
@click.argument("cosigned_file", type=click.Path(exists=True, dir_okay=False))
def add(cosigned_file: str) -> None:
    """Store the witness cosignatures of a cosigned checkpoint in the ledger."""
    from ledger.tlog import TransparencyLog

    added = TransparencyLog(open_ledger()).add_cosignatures(Path(cosigned_file).read_text(encoding="utf-8"))
    click.echo(f"added cosignatures by {', '.join(added)}" if added else "no new cosignatures")


@witness.command("key")
@click.argument("key_file", type=click.Path(exists=True, dir_okay=False))
@click.option("--name", required=True, help="The witness's key name.")
def witness_key(key_file: str, name: str) -> None:
    """Print a witness's verifier key string (for the covenant's witness list)."""
    from ledger.keys import load_public
    from ledger.note import cosigner_vkey

    click.echo(cosigner_vkey(name, load_public(key_file, ask_passphrase)))


@witness.command("serve")
@click.option("--key", "key_path", required=True, metavar="FILE", help="The witness's private key.")
@click.option("--name", required=True, help="The witness's key name, e.g. witness.clean-air-now.example.")
@click.option("--state", "state_dir", required=True, type=click.Path(file_okay=False),
              help="The witness's own state directory (shared with 'witness cosign').")
@click.option("--trust", "trusted", required=True, multiple=True, metavar="VKEY",
              help="A log's verifier key (or a file holding it); repeatable, one per log witnessed.")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8700, show_default=True, type=click.IntRange(1, 65535))
def witness_serve(key_path: str, name: str, state_dir: str, trusted: tuple[str, ...], host: str, port: int) -> None:
    """Run a C2SP tlog-witness: POST /add-checkpoint cosigns consistent checkpoints.

    \b
    Example:
      ledger witness serve --key w.key --name witness.example --state w-state --trust "$(cat log.vkey)"
    """
    import uvicorn

    from server.witness import WitnessService, create_witness_app

    vkeys = [Path(t).read_text().strip() if Path(t).is_file() else t for t in trusted]
    service = WitnessService(name, read_signer(key_path), Path(state_dir), vkeys)
    click.echo(f"witness {name} on http://{host}:{port}/add-checkpoint (Ctrl-C to stop)", err=True)
    uvicorn.run(create_witness_app(service), host=host, port=port, log_level="warning", server_header=False)


@witness.command("request")
@click.argument("url")
@click.option("--vkey", required=True, metavar="VKEY", help="The witness's verifier key (or a file holding it).")
def witness_request(url: str, vkey: str) -> None:
    """Ask a network witness (tlog-witness) to cosign the latest checkpoint; store its cosignature."""
    from server.witness import WitnessClient

    text = Path(vkey).read_text().strip() if Path(vkey).is_file() else vkey
    client = WitnessClient(url, text)
    cosigned = client.request(open_ledger())
    size = cosigned.split("\n")[1]
    click.echo(f"witness {client.name} cosigned the checkpoint of size {size}")
