"""The normative docs and the code must agree."""

from __future__ import annotations

import re
from pathlib import Path

from ledger import authz
from tests.test_record import golden_record

DOCS = Path(__file__).resolve().parents[1] / "docs"


def _writers_in(doc: str) -> dict[str, frozenset[str]]:
    table = {}
    for rtype, roles in re.findall(r"^\| `([a-z_]+\.[a-z_.]+)` \| ([a-z, ]+) \|$", (DOCS / doc).read_text(), re.M):
        if rtype != authz.GENESIS:  # signed by a founding key, not by a role
            table[rtype] = frozenset(r.strip() for r in roles.split(","))
    return table


def test_worked_example_in_format_md_is_the_golden_record() -> None:
    text = (DOCS / "format.md").read_text(encoding="utf-8")
    example = text.split("## 8. Worked example", 1)[1].split("```\n", 2)[1].rstrip("\n")
    assert example.encode("utf-8") == golden_record()


def test_authorisation_tables_in_the_docs_match_the_code() -> None:
    documented = _writers_in("format.md")
    rules = DOCS / "rules.md"
    if rules.exists():
        documented.update(_writers_in("rules.md"))
    assert documented == authz.WRITERS


def _commands(group: object, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], object]]:
    import click

    assert isinstance(group, click.Command)
    found: list[tuple[tuple[str, ...], object]] = [(path, group)]
    if isinstance(group, click.Group):
        for name in group.list_commands(click.Context(group)):
            found += _commands(group.get_command(click.Context(group), name), (*path, name))
    return found


def _examples(command: object) -> list[list[str]]:
    """The 'Example: ledger ...' lines of a command's help, as argument lists."""
    import shlex

    text = getattr(command, "help", None) or ""
    out = []
    for paragraph in text.split("\n\n"):
        paragraph = " ".join(paragraph.split())
        if paragraph.startswith("Example: ledger "):
            words = shlex.split(paragraph[len("Example: ledger "):])
            out.append(words[:words.index(">")] if ">" in words else words)
    return out


def test_every_help_example_names_a_real_command_and_real_options() -> None:
    import click

    from cli.main import cli

    seen = 0
    for _path, command in _commands(cli):
        for words in _examples(command):
            seen += 1
            # Global options first (ledger --db FILE ...), then the command path.
            target: click.Command = cli
            args = list(words)
            while args and args[0].startswith("--"):
                option = args.pop(0)
                assert option in {o for p in cli.params for o in p.opts}, (words, option)
                args.pop(0)  # its value
            while isinstance(target, click.Group) and args and not args[0].startswith("-"):
                name = args.pop(0)
                sub = target.get_command(click.Context(target), name)
                assert sub is not None, (words, name)
                target = sub
            assert target is command, (words, "names another command than the one it documents")
            options = {o for p in target.params for o in p.opts} | {"--help"}
            for word in args:
                if word.startswith("--"):
                    assert word.split("=")[0] in options, (words, word)
    assert seen >= 15


def test_the_real_vote_record_in_format_md_is_reproduced_and_parses_as_a_vote() -> None:
    from ledger import record as rec
    from ledger.store import RecordMapper
    from tests.test_record import GOLDEN_SIGNER, GOLDEN_UNSIGNED

    text = (DOCS / "format.md").read_text(encoding="utf-8").split("A real `motion.vote_cast` record", 1)[1]
    example = text.split("```\n", 2)[1].rstrip("\n").encode("utf-8")
    unsigned = dict(GOLDEN_UNSIGNED, data={"choice": "yes", "member": GOLDEN_SIGNER.key_id, "on_behalf": False})
    assert example == rec.seal(unsigned, GOLDEN_SIGNER.sign(rec.signed_message(unsigned)))
    assert f"`{rec.event_hash(example)}`" in text
    event = RecordMapper(transcoder=None).event_from_record(rec.parse(example))  # type: ignore[arg-type]
    assert (event.member, event.choice, event.on_behalf) == (GOLDEN_SIGNER.key_id, "yes", False)
