"""Every command of the README's tour runs, as a real `ledger` process, on the demo."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def tour_commands(heading: str = "## A short tour") -> list[str]:
    text = (ROOT / "README.md").read_text()
    section = text.split(heading, 1)[1].split("\n## ", 1)[0]
    commands = []
    for block in re.findall(r"```sh\n(.+?)\n```", section, re.S):
        for line in block.splitlines():
            command = line.split("  #")[0].strip()
            if command.startswith("ledger "):
                commands.append(command)
    return commands


def ledger_program() -> list[str]:
    found = shutil.which("ledger", path=str(Path(sys.executable).parent))
    return [found] if found else [sys.executable, "-m", "cli.main"]


def test_the_tour_has_commands() -> None:
    assert len(tour_commands()) >= 15


def test_every_tour_command_succeeds_in_order(tmp_path: Path) -> None:
    demo = tmp_path / "demo"
    made = subprocess.run([*ledger_program(), "demo", "--dir", str(demo)], capture_output=True, text=True,
                          cwd=ROOT, timeout=300)
    assert made.returncode == 0, made.stderr
    env = {**os.environ, "LEDGER_DB": "ledger.db", "PYTHONPATH": str(ROOT)}
    env.pop("LEDGER_KEY", None)
    for command in tour_commands():
        args = shlex.split(command)[1:]
        result = subprocess.run([*ledger_program(), *args], capture_output=True, text=True, cwd=demo, env=env,
                                timeout=120)
        assert result.returncode == 0, f"{command}\n{result.stderr}"
        assert "Traceback" not in result.stderr
    final = subprocess.run([*ledger_program(), "verify"], capture_output=True, text=True, cwd=demo, env=env)
    assert final.stdout.endswith(": OK\n")


@pytest.mark.parametrize("args", [["motion", "show", "M-3"], ["log", "--limit", "200"]])
def test_a_closed_pipe_ends_quietly(tmp_path: Path, args: list[str]) -> None:
    demo = tmp_path / "demo"
    subprocess.run([*ledger_program(), "demo", "--dir", str(demo)], capture_output=True, check=True, cwd=ROOT)
    command = " ".join(shlex.quote(a) for a in [*ledger_program(), "--db", str(demo / "ledger.db"), *args])
    result = subprocess.run(f"{command} | head -1", shell=True, capture_output=True, text=True)
    assert result.stderr == ""


def test_starting_your_own_ledger_works_as_written(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for name in ("LEDGER_DB", "LEDGER_KEY", "LEDGER_KEY_PASSPHRASE"):
        env.pop(name, None)
    commands = tour_commands("## Your own ledger")
    assert commands[-1] == "ledger verify"
    for command in commands:
        result = subprocess.run([*ledger_program(), *shlex.split(command)[1:]], capture_output=True, text=True,
                                cwd=tmp_path, env=env, timeout=120)
        assert result.returncode == 0, f"{command}\n{result.stderr}"


def test_the_audit_section_works_as_written(tmp_path: Path) -> None:
    demo = tmp_path / "demo"
    subprocess.run([*ledger_program(), "demo", "--dir", str(demo)], capture_output=True, check=True, cwd=ROOT)
    program = ledger_program()
    bindir = Path(program[0]).parent if len(program) == 1 else None
    env = {**os.environ, "LEDGER_DB": "ledger.db", "PYTHONPATH": str(ROOT)}
    if bindir is None:
        pytest.skip("the ledger program is not installed as a script in this environment")
    env["PATH"] = f"{bindir}:{env['PATH']}"
    text = (ROOT / "README.md").read_text().split("## Audit without trusting the keeper", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```sh\n(.+?)\n```", text, re.S)
    assert len(blocks) == 2
    for line in "\n".join(blocks).splitlines():
        command = line.split("  #")[0].strip()
        result = subprocess.run(["bash", "-c", command], capture_output=True, text=True, cwd=demo, env=env,
                                timeout=120)
        assert result.returncode == 0, f"{command}\n{result.stdout}\n{result.stderr}"
    assert (demo / "proof.json").exists()
