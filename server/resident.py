"""The resident process of ``ledger resident start`` (cli/resident.py): the ledger server on a
private Unix socket, stopping by itself when unused.

Run as ``LEDGER_DB=DB python -m server.resident --socket PATH --info PATH --idle SECONDS
[--log-key FILE]`` (the ledger in the environment: a PostgreSQL URL may carry a
password, and other users can read a process's arguments).  It writes
``--info`` (pid, ledger, log key, start time) once it listens, and removes it
and the socket when it stops: after ``--idle`` seconds without a request, on
SIGTERM, or when the SQLite file it serves is removed or replaced (a new ledger
at that path is not the one it holds open).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import logging
import os
import threading
import time
from typing import Any


class Activity:
    """ASGI middleware noting when the last request came and counting them; it answers
    ``GET /resident`` itself (what ``ledger resident status`` shows)."""

    def __init__(self, app: Any, about: dict[str, Any]) -> None:
        self.app = app
        self.about = about
        self.last = time.monotonic()
        self.served = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"] == "/resident" and scope["method"] == "GET":
            body = json.dumps({**self.about, "served": self.served}).encode("utf-8")
            await send({"type": "http.response.start", "status": 200,
                        "headers": [(b"content-type", b"application/json"),
                                    (b"content-length", str(len(body)).encode("ascii"))]})
            await send({"type": "http.response.body", "body": body})
            return
        self.last = time.monotonic()
        if scope["type"] == "http":
            self.served += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.last = time.monotonic()


def _server_class() -> Any:
    import contextlib
    import signal

    import uvicorn

    class Server(uvicorn.Server):
        """uvicorn's server, stopping on SIGTERM or SIGINT without raising the signal again
        afterwards (which would end the process before it removes its socket)."""

        @contextlib.contextmanager
        def capture_signals(self) -> Any:
            previous = {sig: signal.signal(sig, self.handle_exit) for sig in (signal.SIGTERM, signal.SIGINT)}
            try:
                yield
            finally:
                for sig, handler in previous.items():
                    signal.signal(sig, handler)

    return Server


def _file_id(db: str) -> tuple[int, int] | None:
    if "://" in db:
        return None
    try:
        found = os.stat(db)
    except OSError:
        return (-1, -1)
    return (found.st_dev, found.st_ino)


def _write_info(path: str, info: dict[str, Any]) -> None:
    temporary = f"{path}.{os.getpid()}.tmp"
    with open(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w", encoding="utf-8") as handle:
        json.dump(info, handle)
    os.replace(temporary, path)  # readers see the old file or the whole new one


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--socket", required=True)
    parser.add_argument("--info", required=True)
    parser.add_argument("--idle", type=float, required=True)
    parser.add_argument("--log-key", default=None)
    args = parser.parse_args()
    args.db = os.environ.get("LEDGER_DB", "")
    if not args.db:
        raise SystemExit("LEDGER_DB names no ledger")

    import uvicorn

    from cli.common import read_signer

    _Server = _server_class()
    from server.app import create_app
    from server.service import LedgerService

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    log_key = read_signer(args.log_key) if args.log_key else None
    service = LedgerService(args.db, log_key=log_key, own_user=True)
    if not service.ledger.holds_ledger():
        raise SystemExit(f"{args.db} holds no ledger")
    from cli.resident import shown

    about = {"pid": os.getpid(), "ledger": shown(args.db), "socket": args.socket, "idle": args.idle,
             "log_key": args.log_key, "ready": True,
             "started": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}
    app = Activity(create_app(service, write_rate=0), about)
    config = uvicorn.Config(app, uds=args.socket, log_level="warning", timeout_keep_alive=5, server_header=False,
                            lifespan="off")
    server = _Server(config)
    served = _file_id(args.db)

    def watch() -> None:
        # Stop when unused, or when the file served is no longer the ledger held open.
        while not server.should_exit:
            time.sleep(min(1.0, args.idle / 4) if server.started else 0.02)
            if not server.started:
                continue
            if not os.path.exists(args.info):
                _write_info(args.info, about)
            if time.monotonic() - app.last > args.idle or _file_id(args.db) != served:
                server.should_exit = True

    with contextlib.suppress(FileNotFoundError):
        os.remove(args.info)  # an earlier resident's, now stale
    threading.Thread(target=watch, daemon=True, name="resident-watch").start()
    try:
        server.run()
    finally:
        try:
            with open(args.info, encoding="utf-8") as handle:
                mine = json.load(handle).get("pid") == os.getpid()
        except (OSError, ValueError):
            mine = True  # never announced: the socket is still this process's own
        for path in (args.info, args.socket) if mine else ():
            with contextlib.suppress(FileNotFoundError):
                os.remove(path)


if __name__ == "__main__":
    main()
