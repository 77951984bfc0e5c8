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
