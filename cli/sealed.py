"""``ledger sealed ...``: the age files that records commit to (get, erase)."""

from __future__ import annotations

import click

from cli.common import key_option, new_file, open_ledger, signer_and_ledger


@click.group()
def sealed() -> None:
    """Sealed (age-encrypted) content kept beside the ledger."""


@sealed.command("get")
@click.argument("digest")
@click.option("--out", "out_file", required=True, type=click.Path(dir_okay=False), help="A new file to write.")
def get(digest: str, out_file: str) -> None:
    """Write the age file with SHA-256 DIGEST; decrypt it with `age -d -i NAME.age FILE`."""
    from ledger import sealed as store

    content = store.get(open_ledger(), digest)
    with new_file(out_file) as handle:
        handle.write(content)
    click.echo(f"wrote {len(content)} bytes to {out_file} (age -d -i YOUR.age {out_file})")


@sealed.command("erase")
@click.argument("digest")
@click.option("--reason", required=True, help="Why (kept in the signed record of the erasure).")
@click.option("--covenant", default=None,
              help="The covenant it is erased under: when it names erasers, only they may erase.")
@key_option
def erase(digest: str, reason: str, covenant: str | None, key_path: str | None) -> None:
    """Erase the sealed file DIGEST for good; a signed record keeps who, when and why.
    Every record still verifies: they commit to the file, they do not contain it."""
    signer, ledger = signer_and_ledger(key_path)
    ledger.erase_sealed(signer, digest, reason, covenant.upper() if covenant else None)
    click.echo(f"erased sealed content {digest[:12]}…")


@sealed.command("purge")
@key_option
def purge(key_path: str | None) -> None:
    """Erase what has passed its channel's retention period (retention_days), each
    erasure recorded.  Run it regularly (a daily timer)."""
    from datetime import UTC, datetime

    from ledger import commands

    signer, ledger = signer_and_ledger(key_path)
    erased = commands.purge_sealed(ledger, signer, datetime.now(UTC))
    click.echo(f"erased {len(erased)} sealed file(s) past their retention period")
