"""Every example in `ledger ... --help` and in docs/cli.md runs as written against the demo ledger.

Each example runs in a fresh copy of the demo folder (with ``LEDGER_DB``
pointing at its ledger), after the steps a user would have taken first to
have the files it names (a bundle to verify, a proof to check).  The steps
are commands too, so they must work as well.
"""

from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.main import cli
from tests.test_docs import _commands, _examples

ROOT = Path(__file__).resolve().parents[1]

# The demo's pending meeting MT-4, up to an open vote on M-7 (the motion the examples use).
MEETING = ["meeting attend MT-4 --member 'Amara Okafor' --member 'Mei Lin' --member 'Luis Moreno' "
           "--member 'Sam Whitfield' --key keys/secretariat.key"]
OPEN_M7 = [*MEETING, "motion propose --meeting MT-4 --item 1 --text 'Enforce bus lanes.' --key keys/cso-air.key",
           "motion second M-7 --key keys/cso-cycle.key", "motion open M-7 --key keys/secretariat.key"]
FUNDING_M7 = [*MEETING, "motion propose --meeting MT-4 --item 1 --class funding --text 'Fund the pilot' "
              "--amount 12000.00 --currency EUR --fund F-1 --key keys/cso-air.key",
              "motion second M-7 --key keys/cso-cycle.key", "motion open M-7 --key keys/secretariat.key",
              "motion vote M-7 yes --key keys/cso-air.key", "motion vote M-7 yes --key keys/cso-cycle.key",
              "motion vote M-7 yes --key keys/cso-tenants.key", "motion close M-7 --key keys/secretariat.key"]

# What a user has done before an example that names files it did not make.
SETUP: dict[str, list[str]] = {
    "fund allocate": [*FUNDING_M7, "organisation register riverside-schools-trust --name 'Riverside Schools Trust' "
                      "--identifier GB-CHC-1234567 --kind charity --key keys/secretariat.key"],
    "motion propose": MEETING,
    "import": ["export --bundle riverside.jsonl", "checkpoint --vkey > log.vkey"],
    "sync": ["export --bundle riverside.jsonl", "checkpoint --vkey > log.vkey",
             "--db replica.db import riverside.jsonl --trust log.vkey",
             "meeting schedule --committee K-1 --at 2035-03-01T18:00:00Z --key keys/secretariat.key",
             "export --bundle riverside-december.jsonl --log-key keys/log.key"],
    "verify": ["checkpoint --show > last-checkpoint.txt",
               "meeting schedule --committee K-1 --at 2035-03-01T18:00:00Z --key keys/secretariat.key",
               "export --bundle riverside.jsonl --log-key keys/log.key", "checkpoint --vkey > log.vkey"],
    "verify-proof": ["prove inclusion 42 > proof.json", "checkpoint --vkey > log.vkey"],
    "keys register": ["keys new bob"],
    "keys rotate": ["keys new amara-2"],
    "keys recipient": ["keys new ruth --age"],
    # A passed decision to admit the youth forum, and its representative registered.
    "covenant admit": [*MEETING, "keys new kofi",
                       "keys register kofi.pub --holder 'Kofi Mensah (Riverside Youth Forum)' "
                       "--role member --key keys/secretariat.key",
                       "motion propose --meeting MT-4 --item 1 --class amendment --admit youth-forum "
                       "--text 'Admit the Riverside Youth Forum.' --key keys/cso-air.key",
                       "motion second M-7 --key keys/cso-cycle.key", "motion open M-7 --key keys/secretariat.key",
                       "motion vote M-7 yes --key keys/cso-air.key", "motion vote M-7 yes --key keys/cso-cycle.key",
                       "motion vote M-7 yes --key keys/cso-tenants.key", "motion vote M-7 yes --key keys/party.key",
                       "motion close M-7 --key keys/secretariat.key"],
    "motion close": OPEN_M7,
    "motion vote": OPEN_M7,
    "consultation comment": ["consultation open --committee K-1 --title 'Bus lanes' --section '1=Bus lanes are "
                             "enforced from 7 to 10.' --opens-at 2026-11-01 --closes-at 2035-12-01 "
                             "--key keys/secretariat.key"],
    "meeting agenda": ["meeting schedule --committee K-1 --at 2035-03-01T18:00:00Z --key keys/secretariat.key"],
}


# These run servers until stopped; tests/test_server*.py run them as real processes.
SERVERS = {"serve", "witness serve"}


def help_examples() -> list[tuple[str, list[str]]]:
    found = []
    for path, command in _commands(cli):
        if " ".join(path) in SERVERS:
            continue
        for words in _examples(command):
            found.append((" ".join(path), words))
    return found


def docs_blocks() -> list[list[str]]:
    """The `ledger ...` lines of each sh block of docs/cli.md, a workflow each."""
    blocks = []
    text = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    for block in re.findall(r"```sh\n(.+?)\n```", text, re.S):
        lines = [line.split("  #")[0].strip() for line in block.replace("\\\n", " ").splitlines()]
        blocks.append([line[len("ledger "):] for line in lines if line.startswith("ledger ")])
    return blocks


# What a reader of docs/cli.md has before a block (the witness has a key of its own).
DOCS_SETUP = {"checkpoint --vkey > log.vkey": ["keys new me"]}


def _command_path(words: list[str]) -> str:
    import click

    target: click.Command = cli
    path = []
    args = list(words)
    while args and args[0].startswith("--"):
        args = args[2:]
    while isinstance(target, click.Group) and args and not args[0].startswith("-"):
        sub = target.get_command(click.Context(target), args[0])
        if sub is None:
            break
        path.append(args.pop(0))
        target = sub
    return " ".join(path)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("examples") / "demo"
    result = CliRunner().invoke(cli, ["demo", "--dir", str(directory)])
    assert result.exit_code == 0, result.output
    return directory


def _run(words: list[str], cwd: Path) -> tuple[int, str]:
    runner = CliRunner()
    with _chdir(cwd):
        result = runner.invoke(cli, words, env={"LEDGER_DB": "ledger.db", "LEDGER_KEY": None,
                                                "LEDGER_LOG_KEY": None})
    return result.exit_code, result.output


class _chdir:
    def __init__(self, path: Path) -> None:
        self.path, self.old = path, Path.cwd()

    def __enter__(self) -> None:
        import os

        os.chdir(self.path)

    def __exit__(self, *exc: object) -> None:
        import os

        os.chdir(self.old)


def _step(step: str, work: Path) -> None:
    """Run one command line, with '> FILE' as the shell would do it."""
    words, _, target = step.partition(" > ")
    code, output = _run(shlex.split(words), work)
    assert code == 0, f"ledger {step}\n{output}"
    if target:
        (work / target.strip()).write_text(output, encoding="utf-8")


def _try(example: tuple[str, list[str]], demo: Path, tmp_path: Path) -> None:
    path, words = example
    work = tmp_path / "demo"
    shutil.copytree(demo, work)
    for step in SETUP.get(path, []):
        _step(step, work)
    code, output = _run(words, work)
    assert code == 0, f"ledger {shlex.join(words)}\n{output}"


def test_there_are_examples_to_run() -> None:
    assert len(help_examples()) >= 25
    assert sum(len(block) for block in docs_blocks()) >= 4


@pytest.mark.parametrize("example", help_examples(), ids=lambda e: " ".join(e[1])[:60])
def test_every_help_example_runs_as_written(example: tuple[str, list[str]], demo: Path, tmp_path: Path) -> None:
    _try(example, demo, tmp_path)


@pytest.mark.parametrize("block", docs_blocks(), ids=lambda b: b[0][:60] if b else "empty")
def test_every_cli_doc_example_runs_as_written(block: list[str], demo: Path, tmp_path: Path) -> None:
    work = tmp_path / "demo"
    shutil.copytree(demo, work)
    for step in DOCS_SETUP.get(block[0], []) if block else []:
        _step(step, work)
    for line in block:
        _step(line, work)


def _apply_example_files() -> list[str]:
    """The example file in `ledger apply --help`, and the one in docs/cli.md's apply section."""
    from cli.apply import apply

    help_text = apply.help or ""
    in_help = help_text.split("Example file (meeting.ledger), for the demo ledger's meeting MT-4:", 1)[1]
    from_help = "\n".join(line.strip() for line in in_help.strip().splitlines())
    docs = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8").split("## ledger apply", 1)[1]
    from_docs = docs.split("```\n", 2)[1]
    return [from_help, from_docs]


@pytest.mark.parametrize("content", _apply_example_files(), ids=["help", "docs"])
def test_the_apply_example_files_run_against_the_demo(content: str, demo: Path, tmp_path: Path) -> None:
    work = tmp_path / "demo"
    shutil.copytree(demo, work)
    (work / "meeting.ledger").write_text(content, encoding="utf-8")
    code, output = _run(["apply", "meeting.ledger", "--key", "keys/secretariat.key"], work)
    assert code == 0, output
    assert output.startswith("applied ")
