"""docs/records.md lists every record type, every data field and no other, and
who may sign each, as the code has them."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import ledger.domain  # noqa: F401  (registers every record type)
from ledger import authz
from ledger.types import EVENT_CLASSES

DOC = Path(__file__).resolve().parents[1] / "docs" / "records.md"
ENVELOPE = {"originator_id", "originator_version", "timestamp", "originator_topic"}


def documented() -> dict[str, tuple[str, list[str]]]:
    """type -> (the 'Signed by' text, the field names of its table)."""
    out = {}
    for section in DOC.read_text(encoding="utf-8").split("\n### ")[1:]:
        heading, _, body = section.partition("\n")
        rtype = heading.strip().strip("`")
        signed = re.search(r"Signed by: ([^.]+)\.", body)
        assert signed, rtype
        fields = re.findall(r"^\| `([a-z_]+)` \|", body, re.M)
        out[rtype] = (signed.group(1), fields)
    return out


def ledger_types() -> set[str]:
    # Benchmarks register record types of their own (bench.*) when imported by other tests.
    return {t for t, cls in EVENT_CLASSES.items() if cls.__module__.startswith("ledger.")}


def test_every_record_type_is_documented_and_no_other() -> None:
    assert set(documented()) == ledger_types()


def test_every_field_is_documented_and_no_other() -> None:
    for rtype, (_signed, fields) in documented().items():
        actual = [f.name for f in dataclasses.fields(EVENT_CLASSES[rtype]) if f.name not in ENVELOPE]
        assert fields == actual, rtype


def test_the_signers_are_those_the_code_allows() -> None:
    for rtype, (signed, _fields) in documented().items():
        if rtype == authz.GENESIS:
            assert signed == "one of the founding keys it lists"
            continue
        assert {role.strip() for role in signed.split(",")} == set(authz.WRITERS[rtype]), rtype
