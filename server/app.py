"""The ASGI application (Starlette): routes, limits and the OpenAPI document.

Routes (docs/server.md has the details):

- ``GET /checkpoint``, ``GET /tile/...``: the log as a C2SP tlog-tiles log;
- ``GET /v1/<command words>/<arguments>?option=value``: a query, as ``--json``;
- ``POST /v1/query``: the same with ``{"argv": [...], "format": "json"|"text"}``;
- ``POST /v1/prepare`` and ``POST /v1/submit``: an act, signed by its holder;
- ``GET /v1/documents/<digest>``, ``GET /v1/bundle``: kept documents, the log as a bundle;
- ``GET /v1/sealed/<digest>``: a kept age file, as ciphertext;
- ``GET /openapi.json``.

Limits: request bodies of at most ``MAX_BODY`` bytes, strict JSON, a per-client
rate limit on writes, no CORS headers, one-line JSON errors.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import deque
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from server import strictjson
from server.errors import HTTPError, status_of
from server.service import LedgerService

MAX_BODY = 1024 * 1024
DRAIN = 8 * MAX_BODY  # a refused body read and dropped so that its sender gets the answer
WEBAPP = Path(__file__).with_name("webapp")
# The members' page runs only its own script and talks only to this server.
APP_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
                               "img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer", "Cache-Control": "no-cache",
}
APP_FILES = {"": ("index.html", "text/html; charset=utf-8"), "index.html": ("index.html", "text/html; charset=utf-8"),
             "app.js": ("app.js", "text/javascript; charset=utf-8"), "app.css": ("app.css", "text/css; charset=utf-8"),
             "age.js": ("age.js", "text/javascript; charset=utf-8")}
IMMUTABLE = "public, max-age=31536000, immutable"
log = logging.getLogger("ledger.server")


class RateLimit:
    """At most ``count`` writes per ``seconds`` from one client address (a sliding window)."""

    def __init__(self, count: int, seconds: float = 60.0) -> None:
        self.count, self.seconds = count, seconds
        self._seen: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def check(self, client: str) -> None:
        if self.count <= 0:
            return
        now = time.monotonic()
        with self._lock:
            window = self._seen.setdefault(client, deque())
            while window and now - window[0] > self.seconds:
                window.popleft()
            if len(window) >= self.count:
                raise HTTPError(429, "rate_limited", f"more than {self.count} writes in {int(self.seconds)} s "
                                                     "from this address; wait a little and try again")
            window.append(now)
            if len(self._seen) > 10_000:  # forget idle clients rather than grow without bound
                for address in [a for a, w in self._seen.items() if not w or now - w[-1] > self.seconds]:
                    del self._seen[address]


def error_response(exc: BaseException) -> JSONResponse:
    status, code, message = status_of(exc)
    if status >= 500 and code == "internal":
        log.exception("internal error", exc_info=exc)
    headers = {"Retry-After": "1"} if status in (409, 429, 503) else None
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status, headers=headers)


async def read_json(request: Request) -> Any:
    length = request.headers.get("content-length")
    if length is not None and (not length.isdigit() or int(length) > MAX_BODY):
        await _drain(request.stream(), 0)
        raise HTTPError(413, "too_large", f"request bodies are limited to {MAX_BODY} bytes")
    body = b""
    stream = request.stream()
    async for chunk in stream:
        body += chunk
        if len(body) > MAX_BODY:
            await _drain(stream, len(body))
            raise HTTPError(413, "too_large", f"request bodies are limited to {MAX_BODY} bytes")
    return strictjson.loads(body)


async def _drain(stream: AsyncIterator[bytes], read: int) -> None:
    """Read and discard the rest of a refused body, up to DRAIN bytes: a client still sending
    when the connection closes gets a broken pipe instead of the 413 (uvicorn does not linger)."""
    async for chunk in stream:
        read += len(chunk)
        if read > DRAIN:
            return


def create_app(service: LedgerService, write_rate: int = 120, origin_prefix: str = "") -> Starlette:
    """The application over one :class:`LedgerService`."""
    limiter = RateLimit(write_rate)

    def _noting(method: Any, *args: Any) -> tuple[Any, dict[str, str]]:
        """The method's answer, and what the command said on stderr as a Ledger-Notes header
        (JSON, ASCII: a header carries no other text)."""
        service.notes.text = ""
        value = method(*args)
        text = getattr(service.notes, "text", "")
        return value, ({"Ledger-Notes": json.dumps(text)} if text else {})

    def guarded(handler: Any) -> Any:
        async def endpoint(request: Request) -> Response:
            try:
                return await handler(request)  # type: ignore[no-any-return]
            except Exception as exc:  # every failure becomes one JSON line
                return error_response(exc)
        return endpoint

    async def checkpoint(request: Request) -> Response:
        note = await run_in_threadpool(service.checkpoint)
        return PlainTextResponse(note, media_type="text/plain; charset=utf-8",
                                 headers={"Cache-Control": "no-cache, max-age=2"})

    async def tile(request: Request) -> Response:
        data = await run_in_threadpool(service.tile, request.path_params["path"])
        return Response(data, media_type="application/octet-stream", headers={"Cache-Control": IMMUTABLE})

    async def query_get(request: Request) -> Response:
        argv = [part for part in request.path_params["path"].split("/") if part]
        fmt = "json"
        for name, value in request.query_params.multi_items():
            if name == "format":
                fmt = value
                continue
            option = "--" + name.replace("_", "-")
            argv += [option] if value in ("", "true") else [option, value]
        return await _query(argv, fmt)

    async def query_post(request: Request) -> Response:
        body = await read_json(request)
        if not isinstance(body, dict) or set(body) - {"argv", "format"}:
            raise HTTPError(400, "invalid", 'the body is {"argv": [...], "format": "json" or "text"}')
        return await _query(body.get("argv"), body.get("format", "json"))

    async def _query(argv: Any, fmt: Any) -> Response:
        if fmt not in ("json", "text"):
            raise HTTPError(400, "invalid", "format is json or text")
        value, notes = await run_in_threadpool(_noting, service.query, argv, fmt)
        headers = {"Cache-Control": "no-cache", **notes}
        if fmt == "text":
            return PlainTextResponse(value, headers=headers)
        return JSONResponse(value, headers=headers)

    async def prepare(request: Request) -> Response:
        limiter.check(_client(request))
        body = await read_json(request)
        return JSONResponse(await run_in_threadpool(service.prepare, body))

    async def submit(request: Request) -> Response:
        limiter.check(_client(request))
        body = await read_json(request)
        (status, value), notes = await run_in_threadpool(_noting, service.submit, body)
        return JSONResponse(value, status_code=status, headers=notes)

    async def document(request: Request) -> Response:
        name, content = await run_in_threadpool(service.document, request.path_params["digest"])
        safe = "".join(c for c in name if c.isalnum() or c in "._-")[:100] or "document"
        return Response(content, media_type="application/octet-stream",
                        headers={"Cache-Control": IMMUTABLE, "Content-Disposition": f'attachment; filename="{safe}"',
                                 "X-Content-Type-Options": "nosniff"})

    async def sealed_file(request: Request) -> Response:
        data = await run_in_threadpool(service.sealed_file, request.path_params["digest"])
        return Response(data, media_type="application/octet-stream",
                        headers={"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff",
                                 "Content-Disposition": 'attachment; filename="sealed.age"'})

    async def bundle(request: Request) -> Response:
        data = await run_in_threadpool(service.bundle)
        return Response(data, media_type="application/x-ndjson", headers={"Cache-Control": "no-cache"})

    async def webapp(request: Request) -> Response:
        found = APP_FILES.get(request.path_params.get("name", ""))
        if found is None:
            raise HTTPError(404, "not_found", "no such file of the members' page")
        name, media = found
        return Response((WEBAPP / name).read_bytes(), headers={**APP_HEADERS, "Content-Type": media})

    async def to_app(request: Request) -> Response:
        return Response(status_code=308, headers={"Location": "/app/"})

    async def openapi(request: Request) -> Response:
        from server.openapi import document as spec

        return JSONResponse(spec())

    async def not_found(request: Request, exc: Exception) -> Response:
        return error_response(HTTPError(404, "not_found", f"no such resource: {request.url.path[:100]}"))

    async def not_allowed(request: Request, exc: Exception) -> Response:
        return error_response(HTTPError(405, "method_not_allowed", f"{request.method} is not allowed here"))

    async def crashed(request: Request, exc: Exception) -> Response:
        return error_response(exc)

    routes = [
        Route(f"{origin_prefix}/checkpoint", guarded(checkpoint), methods=["GET"]),
        Route(f"{origin_prefix}/tile/{{path:path}}", guarded(tile), methods=["GET"]),
        Route("/openapi.json", guarded(openapi), methods=["GET"]),
        Route("/app", to_app, methods=["GET"]),
        Route("/app/", guarded(webapp), methods=["GET"]),
        Route("/app/{name}", guarded(webapp), methods=["GET"]),
        Route("/v1/query", guarded(query_post), methods=["POST"]),
        Route("/v1/prepare", guarded(prepare), methods=["POST"]),
        Route("/v1/submit", guarded(submit), methods=["POST"]),
        Route("/v1/documents/{digest}", guarded(document), methods=["GET"]),
        Route("/v1/bundle", guarded(bundle), methods=["GET"]),
        Route("/v1/sealed/{digest}", guarded(sealed_file), methods=["GET"]),
        Route("/v1/{path:path}", guarded(query_get), methods=["GET"]),
    ]
    return Starlette(routes=routes, exception_handlers={404: not_found, 405: not_allowed, 500: crashed,
                                                        Exception: crashed})


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"
