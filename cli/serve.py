"""``ledger serve``: the ledger over HTTP (see docs/server.md)."""

from __future__ import annotations

import click

from cli.common import read_signer, settings


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (put a TLS reverse proxy in front for anything but the loopback).")
@click.option("--port", default=8600, show_default=True, type=click.IntRange(1, 65535))
@click.option("--log-key", "log_key_path", envvar="LEDGER_LOG_KEY", metavar="FILE", default=None,
              help="The keeper's log key: sign a checkpoint after every write (or LEDGER_LOG_KEY).")
@click.option("--write-rate", default=120, show_default=True, type=click.IntRange(0),
              help="Writes per minute allowed from one client address (0: no limit).")
@click.option("--witness", "witness_urls", multiple=True, metavar="URL",
              help="A tlog-witness to send each new checkpoint to (repeatable; with --witness-key).")
@click.option("--witness-key", "witness_vkeys", multiple=True, metavar="VKEY",
              help="The vkey of each --witness, in the same order.")
def serve(host: str, port: int, log_key_path: str | None, write_rate: int, witness_urls: tuple[str, ...],
          witness_vkeys: tuple[str, ...]) -> None:
    """Serve this ledger over HTTP: queries, acts signed by their holders, the tiled log.

    \b
    Example:
      ledger --db postgresql://ledger@db/partnership serve --log-key log.key --port 8600
    Then from a member's own machine:
      ledger --server http://127.0.0.1:8600 motion vote M-3 yes --key me.key
    """
    import logging
    import os

    import uvicorn

    from ledger.errors import InvalidInputError
    from server.app import create_app
    from server.service import LedgerService

    os.environ.pop("LEDGER_KEY", None)  # the server never signs for anyone
    if len(witness_urls) != len(witness_vkeys):
        raise InvalidInputError("give one --witness-key VKEY for each --witness URL")
    log_key = read_signer(log_key_path) if log_key_path else None
    db = settings().db or "ledger.db"
    from server.witness import WitnessClient

    witnesses = [WitnessClient(url, vkey) for url, vkey in zip(witness_urls, witness_vkeys, strict=True)]
    service = LedgerService(db, log_key=log_key, witnesses=witnesses)
    if not service.ledger.holds_ledger():
        raise InvalidInputError(f"{db} holds no ledger: create one first ('ledger init' or 'ledger demo')")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    click.echo(f"serving {service.ledger.origin} on http://{host}:{port} (Ctrl-C to stop)", err=True)
    uvicorn.run(create_app(service, write_rate=write_rate), host=host, port=port, log_level="warning",
                timeout_keep_alive=5, limit_concurrency=200, server_header=False)
