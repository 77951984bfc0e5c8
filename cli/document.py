"""``ledger document ...``: the files kept in the ledger's document store (get, list, digest)."""

from __future__ import annotations

import click

from cli.common import emit_json, json_option, new_file, open_ledger, table


@click.group()
def document() -> None:
    """Documents cited by digest and kept beside the ledger (see --keep-document)."""


@document.command("digest")
@click.argument("file", type=click.Path(dir_okay=False))
def digest(file: str) -> None:
    """Print the SHA-256 digest of FILE, as records cite it (nothing is written).

    Example: ledger document digest covenant-terms.json
    """
    from ledger.documents import read_document

    click.echo(read_document(file).digest)


@document.command("get")
@click.argument("digest_text", metavar="DIGEST")
@click.option("--out", "out_file", default=None, type=click.Path(dir_okay=False),
              help="Write it to this new file (default: standard output).")
def get(digest_text: str, out_file: str | None) -> None:
    """Write the kept document whose SHA-256 digest is DIGEST."""
    from ledger import documents

    found = documents.get(open_ledger(), digest_text)
    if out_file is None:
        click.echo(found.content, nl=False)  # bytes: written as they are
        return
    with new_file(out_file) as handle:
        handle.write(found.content)
    click.echo(f"wrote {found.name} ({found.size} bytes) to {out_file}", err=True)


@document.command("list")
@json_option
def list_documents(as_json: bool) -> None:
    """Every kept document: digest, file name, size and when it was kept."""
    from ledger import documents

    rows = documents.listing(open_ledger())
    if as_json:
        emit_json({"documents": rows})
        return
    click.echo(table([[r["digest"][:16], r["name"], str(r["size"]), r["kept_at"][:16]] for r in rows],
                     ["DIGEST", "NAME", "BYTES", "KEPT"]))
