"""Real server processes on the loopback for the tests: `ledger serve` and `ledger witness serve`."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

LEDGER = str(Path(sys.executable).with_name("ledger"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Process:
    """A server process, stopped when the test ends."""

    def __init__(self, args: list[str], cwd: Path, port: int, ready_path: str = "/openapi.json",
                 env: dict[str, str] | None = None) -> None:
        self.args, self.cwd, self.port, self.ready_path = args, cwd, port, ready_path
        self.env = {**os.environ, **(env or {})}
        self.url = f"http://127.0.0.1:{port}"
        self.log = cwd / f"server-{port}.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.start()

    def start(self) -> None:
        with self.log.open("ab") as handle:  # the child keeps its own copy of the descriptor
            self.proc = subprocess.Popen(self.args, cwd=self.cwd, stdout=handle, stderr=handle, env=self.env)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.log.read_text()[-2000:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"server did not start: {self.log.read_text()[-2000:]}")

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()


def serve_ledger(db: str, cwd: Path, log_key: Path | None, *extra: str) -> Process:
    port = free_port()
    args = [LEDGER, "--db", db, "serve", "--port", str(port), *extra]
    if log_key is not None:
        args += ["--log-key", str(log_key)]
    return Process(args, cwd, port)


def http(method: str, url: str, body: bytes | None = None, headers: dict[str, str] | None = None,
         ) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, dict(answer.headers), answer.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def post_json(url: str, value: Any) -> tuple[int, Any]:
    status, _headers, body = http("POST", url, json.dumps(value).encode(), {"Content-Type": "application/json"})
    return status, json.loads(body)


def get_json(url: str) -> tuple[int, Any]:
    status, _headers, body = http("GET", url)
    return status, json.loads(body)


def ledger_cli(*args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 120,
               ) -> subprocess.CompletedProcess[str]:
    """A real `ledger` process."""
    return subprocess.run([LEDGER, *args], cwd=cwd, capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})
