"""Encrypted keys: a person types the passphrase at a real terminal (never echoed);
scripts keep LEDGER_KEY_PASSPHRASE; `keys id` reads an encrypted key's .pub."""

from __future__ import annotations

import fcntl
import os
import select
import subprocess
import sys
import termios
import time
from pathlib import Path

from click.testing import CliRunner

from cli.main import cli

LEDGER = [sys.executable, "-m", "cli.main"]
ROOT = Path(__file__).resolve().parents[1]


def at_terminal(args: list[str], answers: list[str], cwd: Path) -> tuple[int, str]:
    """Run `ledger ARGS` on a real pseudo-terminal, typing each answer when asked."""
    controller, terminal = os.openpty()

    def make_it_the_controlling_terminal() -> None:
        os.setsid()
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    env = {k: v for k, v in os.environ.items() if k != "LEDGER_KEY_PASSPHRASE"}
    env["PYTHONPATH"] = str(ROOT)
    process = subprocess.Popen([*LEDGER, *args], stdin=terminal, stdout=terminal, stderr=terminal, cwd=cwd,
                               env=env, preexec_fn=make_it_the_controlling_terminal)
    os.close(terminal)
    seen = b""
    pending = list(answers)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        ready, _, _ = select.select([controller], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(controller, 4096)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
            if pending and seen.rstrip().endswith(b":"):
                os.write(controller, pending.pop(0).encode() + b"\n")
                seen += b"<typed>"
        elif process.poll() is not None:
            break
    process.wait(timeout=30)
    os.close(controller)
    return process.returncode, seen.decode("utf-8", "replace").replace("\r\n", "\n")


def test_a_passphrase_is_asked_at_a_terminal_and_never_echoed(tmp_path: Path) -> None:
    code, shown = at_terminal(["keys", "new", "alice", "--passphrase"], ["correct horse", "correct horse"], tmp_path)
    assert code == 0, shown
    assert "correct horse" not in shown
    assert b"ENCRYPTED PRIVATE KEY" in (tmp_path / "alice.key").read_bytes()
    # `keys id` reads the encrypted key's .pub beside it: no passphrase needed.
    result = CliRunner().invoke(cli, ["keys", "id", str(tmp_path / "alice.key")], env={"LEDGER_KEY_PASSPHRASE": ""})
    assert result.exit_code == 0 and len(result.stdout.strip()) == 64
    assert result.stdout.strip() in shown  # the id `keys new` printed
    # Signing with it: init asks for the passphrase at the terminal.
    code, shown = at_terminal(["init", "--origin", "example.org/p", "--name", "P", "--key", "alice.key",
                               "--holder", "Alice"], ["correct horse"], tmp_path)
    assert code == 0, shown
    assert "Passphrase for alice.key" in shown and "correct horse" not in shown


def test_a_wrong_passphrase_is_one_line(tmp_path: Path) -> None:
    assert at_terminal(["keys", "new", "alice", "--passphrase"], ["right", "right"], tmp_path)[0] == 0
    code, shown = at_terminal(["init", "--origin", "example.org/p", "--name", "P", "--key", "alice.key",
                               "--holder", "Alice"], ["wrong"], tmp_path)
    assert code == 1
    assert shown.strip().splitlines()[-1] == (
        "error: key file alice.key is not a readable PKCS#8 key (wrong passphrase or not a key)")
    assert not (tmp_path / "ledger.db").exists()


def test_a_script_without_a_terminal_is_told_what_to_set(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "LEDGER_KEY_PASSPHRASE"}
    subprocess.run([*LEDGER, "keys", "new", "bot"], cwd=tmp_path, check=True, capture_output=True,
                   env={**env, "LEDGER_KEY_PASSPHRASE": "s3cret", "PYTHONPATH": str(ROOT)})
    result = subprocess.run([*LEDGER, "init", "--origin", "example.org/p", "--name", "P", "--key", "bot.key",
                             "--holder", "Bot"], cwd=tmp_path, capture_output=True, text=True, stdin=subprocess.DEVNULL,
                            env={**env, "PYTHONPATH": str(ROOT)})
    assert (result.returncode, result.stderr) == (
        1, "error: key file bot.key is encrypted: type its passphrase at a terminal, or set LEDGER_KEY_PASSPHRASE\n")
    result = subprocess.run([*LEDGER, "init", "--origin", "example.org/p", "--name", "P", "--key", "bot.key",
                             "--holder", "Bot"], cwd=tmp_path, capture_output=True, text=True, stdin=subprocess.DEVNULL,
                            env={**env, "LEDGER_KEY_PASSPHRASE": "s3cret", "PYTHONPATH": str(ROOT)})
    assert result.returncode == 0, result.stderr
