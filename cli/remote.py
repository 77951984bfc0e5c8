"""``ledger --server URL ...``: the same commands against a ledger server.

Queries go to ``POST /v1/query``.  Acts are prepared by the server (which
applies every rule and returns the exact bytes to sign), signed here with the
member's own key (which never leaves this machine), and submitted; when the
log moved on meanwhile (409) the command is prepared again, a bounded number
of times.  Files the command names are sent with it.  Only the standard
library is used for HTTP, and neither SQLAlchemy nor the domain is imported:
a remote command starts fast.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import re
import sys
import time
from typing import Any

import click

ATTEMPTS = 5
TIMEOUT = 60.0


class Unreachable(Exception):
    """The resident (``ledger resident``) did not answer the first request: run the command here."""


class ServerError(Exception):
    """An error answer from the server (or no answer)."""

    def __init__(self, status: int, code: str, message: str, sent: bool = True) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.sent = sent  # False: the request never reached anyone


def split_server(argv: list[str]) -> tuple[str | None, list[str]]:
    """The --server URL given before the command (or LEDGER_SERVER), and the rest."""
    server = os.environ.get("LEDGER_SERVER") or None
    rest: list[str] = []
    i = 0
    while i < len(argv):
        word = argv[i]
        if word == "--server" and i + 1 < len(argv):
            server = argv[i + 1]
            i += 2
            continue
        if word.startswith("--server="):
            server = word.split("=", 1)[1]
            i += 1
            continue
        if not word.startswith("-"):
            rest += argv[i:]
            break
        if word != "--verbose":
            rest.append(word)
        i += 1
    return server, rest


def handles(argv: list[str]) -> str | None:
    """"read" or "write" when the server runs this command; None to run it here."""
    if any(word in ("--help", "-h") for word in argv) or not argv or argv[0].startswith("-"):
        return None
    if argv[0] == "verify" and "--bundle" not in argv:
        return "verify"  # over the network: the server's bundle, verified here
    from cli.inprocess import classify

    try:
        return classify(argv)
    except click.UsageError:
        return None


def main(server: str, argv: list[str], kind: str, fallback: bool = False) -> int:
    """Run one command against the server; the exit code (0, 1 refused, 2 usage).

    With ``fallback`` (a resident), :class:`Unreachable` is raised when the first
    request finds nobody listening: nothing was sent, the caller runs the command itself."""
    try:
        if kind == "read":
            _read(server, argv, fallback)
        elif kind == "verify":
            return _verify(server, argv)
        else:
            _write(server, argv, fallback)
    except Unreachable:
        raise  # the caller runs the command itself
    except ServerError as exc:
        click.echo(f"error: {exc.message}", err=True)
        return 2 if exc.code in ("usage", "not_a_query", "not_an_act") else 1
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except Exception as exc:  # one line, as the local CLI does
        from ledger.errors import LedgerError

        message = str(exc) if isinstance(exc, LedgerError) else f"{type(exc).__name__}: {exc}"
        click.echo(f"error: {message}", err=True)
        return 1
    return 0


def _read(server: str, argv: list[str], fallback: bool = False) -> None:
    fmt = "json" if "--json" in argv else "text"
    answer = _first(call, server, "/v1/query", {"argv": argv, "format": fmt}, fallback=fallback)
    if fmt == "json":
        click.echo(json.dumps(answer, indent=2, ensure_ascii=False))
    else:
        click.echo(answer, nl=False)


def _verify(server: str, argv: list[str]) -> int:
    """Fetch the log up to the server's latest checkpoint as a bundle and verify it here:
    the server is not trusted, only the log key (--trust, or what this verifier remembers)."""
    import tempfile
    import urllib.error
    import urllib.request

    from cli.main import cli

    request = urllib.request.Request(server.rstrip("/") + "/v1/bundle", headers={"Accept": "application/x-ndjson"})
    with tempfile.TemporaryDirectory(prefix="ledger-verify-") as folder:
        path = os.path.join(folder, "bundle.jsonl")
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT) as answer, open(path, "wb") as out:
                while chunk := answer.read(1 << 20):
                    out.write(chunk)
        except urllib.error.HTTPError as exc:
            try:
                reason = str(json.loads(exc.read())["error"]["message"])
            except (ValueError, KeyError, TypeError):
                reason = f"it answered {exc.code}"
            # Failing closed: a log the server cannot even bundle is not verified.
            raise ServerError(exc.code, "http", f"the server gives no bundle to verify: {reason}") from None
        except (urllib.error.URLError, OSError) as exc:
            raise ServerError(0, "unreachable", f"cannot reach the server at {server}: "
                                                f"{getattr(exc, 'reason', exc)}") from None
        try:
            cli.main(args=[*argv, "--bundle", path], prog_name="ledger", standalone_mode=False)
        except click.exceptions.Exit as done:
            return int(done.exit_code)
        except click.ClickException as exc:
            exc.show()
            return exc.exit_code
    return 0


def _first(function: Any, *args: Any, fallback: bool) -> Any:
    """The first request of a command: with ``fallback``, no answer at all means Unreachable."""
    try:
        return function(*args)
    except ServerError as exc:
        if fallback and exc.status == 0 and exc.code == "unreachable" and not exc.sent:
            raise Unreachable(exc.message) from None
        raise


def _write(server: str, argv: list[str], fallback: bool = False) -> None:
    from cli.common import read_signer
    from ledger import record as rec
    from ledger.remote import sign_messages

    argv, key_path = take_key(argv)
    if not key_path:
        raise click.UsageError("this command writes: give your key with --key FILE (or LEDGER_KEY); it is "
                               "used here and never sent")
    signer = read_signer(key_path)
    argv, files = _files(argv)
    for attempt in range(1, ATTEMPTS + 1):
        body: dict[str, Any] = {"argv": argv, "key": signer.key_id, "files": files, "signatures": {}}
        try:
            prepared = _first(call, server, "/v1/prepare", body, fallback=fallback and attempt == 1)
            body["at"] = prepared["at"]
            # What the server sealed or drew goes back with the signatures (ledger/determinism.py).
            body["sealed"], body["codes"] = prepared.get("sealed", []), prepared.get("codes", [])
            # Records chained inside the command need the earlier ones' signatures first.
            while True:
                body["signatures"].update(sign_messages(signer, prepared["sign"]))
                if prepared["complete"]:
                    break
                prepared = call(server, "/v1/prepare", body)
            body["event_hashes"] = [
                rec.seal_record(item["record"], base64.b64decode(body["signatures"][item["message_sha256"]]))
                .event_hash for item in prepared["records"]]
            answer = _submit(server, body)
        except ServerError as exc:
            if exc.status == 409 and attempt < ATTEMPTS:
                time.sleep(0.05 * attempt)
                continue  # the log moved on: prepare again
            raise
        click.echo(answer.get("output", ""), nl=False)
        return


def _submit(server: str, body: dict[str, Any]) -> dict[str, Any]:
    # A lost answer is retried as is: the server acknowledges records it already has.
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return call(server, "/v1/submit", body)  # type: ignore[no-any-return]
        except ServerError as exc:
            if exc.status != 0 or attempt == ATTEMPTS:
                raise
            time.sleep(0.2 * attempt)
    raise AssertionError("unreachable")


def take_key(argv: list[str]) -> tuple[list[str], str | None]:
    key = os.environ.get("LEDGER_KEY") or None
    out: list[str] = []
    i = 0
    while i < len(argv):
        if argv[i] == "--key" and i + 1 < len(argv):
            key = argv[i + 1]
            i += 2
            continue
        if argv[i].startswith("--key="):
            key = argv[i].split("=", 1)[1]
        else:
            out.append(argv[i])
        i += 1
    return out, key


FILE_OPTIONS = {"--evidence", "--document"}  # options taking a document: a digest, or a file


def _files(argv: list[str]) -> tuple[list[str], dict[str, str]]:
    """Files the command takes (file arguments and options, documents given as files, an
    agenda item's documents) are sent with it under plain names; other words stay words,
    even when a file happens to have the same name."""
    wanted = _file_values(argv)
    files: dict[str, str] = {}
    names: dict[str, str] = {}

    def upload(path: str) -> str:
        if path not in names:
            name = f"f{len(files) + 1}-" + (re.sub(r"[^A-Za-z0-9._-]", "_", os.path.basename(path)) or "file")[:80]
            with open(path, "rb") as handle:
                files[name] = base64.b64encode(handle.read()).decode("ascii")
            names[path] = name
        return names[path]

    out = []
    for word in argv:
        if word in wanted:
            out.append(upload(word))
        elif "@" in word and any(part.strip() in wanted for part in word.partition("@")[2].split(",")):
            title, _, documents = word.partition("@")
            parts = [upload(d.strip()) if d.strip() in wanted else d for d in documents.split(",")]
            out.append(title + "@" + ",".join(parts))
        else:
            out.append(word)
    return out, files


def _file_values(argv: list[str]) -> set[str]:
    """The values of the command's file-taking parameters that name files here."""
    from cli.inprocess import command_path
    from cli.main import cli

    path = command_path(argv)
    command: Any = cli
    for word in path:
        command = command.get_command(click.Context(cli), word)
    try:
        ctx = command.make_context(path[-1] if path else "ledger", list(argv[len(path):]), resilient_parsing=True)
    except click.ClickException:
        return set()  # the server reports the usage error
    wanted: set[str] = set()
    for param in command.params:
        value = ctx.params.get(param.name)
        if value is None:
            continue
        values = [str(v) for v in (value if isinstance(value, (list, tuple)) else [value])]
        if isinstance(param.type, click.Path) or set(getattr(param, "opts", [])) & FILE_OPTIONS:
            wanted |= {v for v in values if os.path.isfile(v)}
        if path == ("meeting", "agenda") and param.name == "items":
            wanted |= {d.strip() for v in values for d in v.partition("@")[2].split(",") if os.path.isfile(d.strip())}
    return wanted


def call(server: str, path: str, body: Any) -> Any:
    """POST JSON, return the decoded answer; ServerError (status 0: no answer) otherwise.
    What the command said on its standard error (a note) comes as the Ledger-Notes header."""
    data = json.dumps(body).encode("utf-8")
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    try:
        status, answer_headers, raw = _post(server, path, data, headers)
    except OSError as exc:  # urllib's URLError is one, its reason the socket's error
        reason = getattr(exc, "reason", exc)
        sent = not isinstance(reason, (ConnectionRefusedError, FileNotFoundError))
        raise ServerError(0, "unreachable", f"cannot reach the server at {server}: {reason}", sent=sent) from None
    notes = answer_headers.get("Ledger-Notes")
    if notes:
        with contextlib.suppress(ValueError):
            click.echo(str(json.loads(notes)), nl=False, err=True)
    if status >= 400:
        try:
            error = json.loads(raw)["error"]
            raise ServerError(status, str(error["code"]), str(error["message"]))
        except (ValueError, KeyError, TypeError):
            raise ServerError(status, "http", f"the server answered {status}") from None
    if answer_headers.get("Content-Type", "").startswith("application/json"):
        return json.loads(raw)
    return raw.decode("utf-8")


def unix_connection(socket_path: str, timeout: float) -> Any:
    """An HTTP connection (http.client) over the Unix socket at ``socket_path``."""
    import http.client
    import socket

    class UnixConnection(http.client.HTTPConnection):
        def connect(self) -> None:
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.sock.settimeout(timeout)
            self.sock.connect(socket_path)

    return UnixConnection("localhost", timeout=timeout)


def _post(server: str, path: str, data: bytes, headers: dict[str, str]) -> tuple[int, Any, bytes]:
    """One POST: over HTTP(S), or to a resident's Unix socket (``unix:/path``)."""
    if server.startswith("unix:"):
        connection = unix_connection(server[len("unix:"):], TIMEOUT)
        try:
            connection.request("POST", path, body=data, headers=headers)
            response = connection.getresponse()
            return response.status, response.headers, response.read()
        finally:
            connection.close()
    import urllib.error
    import urllib.request

    request = urllib.request.Request(server.rstrip("/") + path, data=data, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as answer:  # the user's server
            return answer.status, answer.headers, answer.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers, exc.read()


def run_main(argv: list[str]) -> int | None:
    """The entry point's hook: the exit code when the command ran on a server, else None."""
    server, rest = split_server(argv)
    if not server:
        return None
    kind = handles(rest)
    if kind is None:
        return None
    return main(server, rest, kind)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(run_main(sys.argv[1:]) or 0)
