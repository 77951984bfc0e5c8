"""Open-data exports validate against the Popolo and 360Giving schemas in tests/vectors (vendored),
and every item carries the event hash of a record that is in the ledger."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from jsonschema import Draft3Validator, Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT3, DRAFT202012

from cli.main import cli
from ledger import Ledger
from tests.conftest import VECTORS

POPOLO = VECTORS / "popolo"
GIVING = VECTORS / "360giving"


def popolo_validator(name: str) -> Draft3Validator:
    resources = [(f"http://www.popoloproject.com/schemas/{p.name}",
                  Resource.from_contents(json.loads(p.read_text()), default_specification=DRAFT3))
                 for p in POPOLO.glob("*.json")]
    registry: Registry = Registry().with_resources(resources)
    return Draft3Validator(json.loads((POPOLO / name).read_text()), registry=registry)


def giving_validator() -> Draft202012Validator:
    grant = json.loads((GIVING / "360-giving-schema.json").read_text())
    package = json.loads((GIVING / "360-giving-package-schema.json").read_text())
    registry: Registry = Registry().with_resources([
        (url, Resource.from_contents(grant, default_specification=DRAFT202012))
        for url in (grant["$id"], package["properties"]["grants"]["items"]["$ref"])
    ])
    return Draft202012Validator(package, registry=registry)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("opendata") / "demo"
    assert CliRunner().invoke(cli, ["demo", "--dir", str(directory)], catch_exceptions=False).exit_code == 0
    return directory / "ledger.db"


def export(db: Path, fmt: str) -> str:
    result = CliRunner().invoke(cli, ["--db", str(db), "export", "--format", fmt], catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    return result.stdout


def in_ledger(db: Path, hashes: set[str]) -> None:
    ledger = Ledger(str(db))
    try:
        for digest in hashes:
            ledger.position_of(digest)  # raises NotFoundError if the hash is not a record's
    finally:
        ledger.close()


@pytest.mark.parametrize(("key", "schema"), [("organizations", "organization.json"), ("persons", "person.json"),
                                              ("memberships", "membership.json"), ("motions", "motion.json"),
                                              ("vote_events", "vote_event.json")])
def test_popolo_items_validate(demo: Path, key: str, schema: str) -> None:
    body = json.loads(export(demo, "popolo"))
    validator = popolo_validator(schema)
    assert body[key]
    for item in body[key]:
        errors = list(validator.iter_errors(item))
        assert not errors, [e.message for e in errors]


def test_popolo_vote_events_match_the_decisions(demo: Path) -> None:
    body = json.loads(export(demo, "popolo"))
    tie = next(e for e in body["vote_events"] if e["identifier"] == "M-3")
    assert tie["result"] == "fail"
    assert {c["option"]: c["value"] for c in tie["counts"]} == {"yes": 2, "no": 2, "abstain": 0}
    assert sorted(v["option"] for v in tie["votes"]) == ["no", "no", "yes", "yes"]
    assert tie["ledger:decision_rule"]["threshold"] == "1/2"
    hashes = {e["ledger:event_hash"] for e in body["vote_events"]} | {
        v["ledger:event_hash"] for e in body["vote_events"] for v in e["votes"]}
    for key in ("organizations", "persons", "memberships", "motions"):
        assert all("ledger:event_hash" in item for item in body[key]), key
        hashes |= {item["ledger:event_hash"] for item in body[key]}
    in_ledger(demo, hashes)


def test_360giving_validates_with_exact_amounts(demo: Path) -> None:
    text = export(demo, "360giving")
    assert '"amountAwarded": 40000.00' in text  # an exact decimal token, never via a float
    body = json.loads(text)
    errors = list(giving_validator().iter_errors(body))
    assert not errors, [e.message for e in errors]
    [grant] = body["grants"]
    assert {(f["id"], f["name"]) for f in grant["fundingOrganization"]} == {
        ("360G-riverside-civic-renewal", "Civic Renewal Party"),  # no registered number: the 360G prefix
        ("GB-CHC-1234567", "Clean Air Now"), ("GB-COH-01234567", "Riverside Tenants' Union")}
    # The money goes to the named recipient, by its org-id identifier (not a name made up from the project).
    assert grant["recipientOrganization"] == [{"id": "GB-COH-07654321", "name": "Urban Health Institute"}]
    # Transactions carry the standard's `value` (exact decimal tokens), not a field outside the standard.
    assert '"value": 15000.00' in text and '"amount"' not in text
    assert [t["value"] for t in grant["disbursementTransaction"]] == [15000, 10000]
    assert grant["dataSource"] == "https://ledger.example.org/riverside-partnership/"
    assert grant["dateModified"] == grant["disbursementTransaction"][-1]["transactionDate"]
    assert "XI-LEDGER" not in text and ".0," not in text and ".0\n" not in text
    assert grant["ledger:matching"] == {"civic-renewal": {"owed": 15000, "met": 15000, "outstanding": 0}}
    assert '"owed": 15000.00' in text
    in_ledger(demo, {grant["ledger:event_hash"]} | {t["ledger:event_hash"] for t in grant["disbursementTransaction"]})


@pytest.mark.parametrize(("fmt", "columns"), [
    ("csv-motions", ["identifier", "classification", "result", "text", "event_hash"]),
    ("csv-votes", ["motion", "voter", "option", "event_hash"]),
    ("csv-allocations", ["allocation", "project", "recipient", "currency", "awarded", "disbursed", "decision",
                         "event_hash"]),
    ("csv-funds", ["fund", "name", "currency", "pledged", "received", "matching_owed", "matching_outstanding",
                   "allocated", "balance", "event_hash"]),
    ("csv-meetings", ["meeting", "committee", "number", "starts_at", "chair_party", "agenda_items", "present",
                      "minutes", "event_hash"]),
    ("csv-milestones", ["milestone", "title", "unit", "baseline", "target", "deadline", "latest", "status",
                        "event_hash"]),
    ("csv-disputes", ["dispute", "stage", "complainant", "upheld", "remedy", "event_hash"]),
])
def test_csv_registers_have_stable_columns_and_provable_rows(demo: Path, fmt: str, columns: list[str]) -> None:
    rows = list(csv.DictReader(io.StringIO(export(demo, fmt))))
    assert rows and list(rows[0]) == columns
    in_ledger(demo, {r["event_hash"] for r in rows})


def test_audit_jsonl_has_one_line_per_record(demo: Path, tmp_path: Path) -> None:
    out = tmp_path / "audit.jsonl"
    result = CliRunner().invoke(cli, ["--db", str(demo), "export", "--format", "audit-jsonl", "--out", str(out)],
                                catch_exceptions=False)
    assert result.exit_code == 0
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [row["position"] for row in lines] == list(range(len(lines)))
    in_ledger(demo, {lines[0]["event_hash"], lines[-1]["event_hash"]})


def test_export_needs_a_bundle_or_a_format(demo: Path) -> None:
    result = CliRunner().invoke(cli, ["--db", str(demo), "export"])
    assert result.exit_code == 2
    assert "give --bundle FILE, or --format FORMAT" in result.stderr


def test_popolo_people_organisations_and_times(demo: Path) -> None:
    body = json.loads(export(demo, "popolo"))
    persons = {p["name"]: p for p in body["persons"]}
    assert len(persons) == len(body["persons"])  # one person, however many keys
    assert len(persons["Luis Moreno (Tenants' Union)"]["ledger:keys"]) == 2  # his key was rotated
    ids = {o["id"] for o in body["organizations"]}
    assert {"civil_society:clean-air-now", "political_party:civic-renewal",
            "research_institute:urban-health"} <= ids
    assert not any(i.startswith("party:") for i in ids)
    clean_air = next(o for o in body["organizations"] if o["id"] == "civil_society:clean-air-now")
    assert clean_air["identifiers"] == [{"scheme": "org-id", "identifier": "GB-CHC-1234567"}]
    assert all(m["date"] for m in body["motions"])
    assert all(e["start_date"] <= e["end_date"] for e in body["vote_events"])
    ended = [m for m in body["memberships"] if "end_date" in m]
    assert [m["on_behalf_of_id"] for m in ended] == ["research_institute:urban-health"]  # Prof Asante's seat
    assert all(m["start_date"] for m in body["memberships"])
