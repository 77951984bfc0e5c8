"""The README's set-up commands and CI stay in step."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    section = text.split("## Set up", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.+?)\n```", section)


def test_readme_has_exactly_two_set_up_commands() -> None:
    commands = readme_commands()
    assert len(commands) == 2
    assert commands[0].endswith("ledger demo --dir demo")
    assert commands[1].endswith("python -m pytest")


def test_ci_runs_the_readme_test_command_verbatim() -> None:
    assert readme_commands()[1] in (ROOT / ".ci" / "run").read_text().splitlines()


def test_ci_runs_both_readme_commands_in_a_fresh_clone() -> None:
    lines = (ROOT / ".ci" / "run").read_text().splitlines()
    clone = next(i for i, line in enumerate(lines) if line.startswith("git clone"))
    first, second = readme_commands()
    assert lines.index(first) > clone and lines.index(second) > lines.index(first)


def test_no_test_reads_anything_beside_the_repository() -> None:
    # A user's machine has only the clone: the public vectors are vendored in tests/vectors.
    outside = ("../" + "shared", 'parents[2] / "' + "shared")  # spelt in two parts so this file passes
    for path in (ROOT / "tests").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert not any(word in text for word in outside), path
    for folder in ("rfc6962", "signed-note", "jcs", "ed25519", "popolo", "360giving"):
        source = (ROOT / "tests" / "vectors" / folder / "SOURCE.md").read_text(encoding="utf-8")
        assert "Source:" in source or "Source" in source
        assert "icen" in source  # names its licence
