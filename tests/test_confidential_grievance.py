"""Confidential grievances: the complainant and the grounds are sealed to the
covenant's neutrals, the record is signed by the intake, and only a neutral's
identity opens them; the procedure itself stays public."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.main import cli
from ledger import commands as c
from ledger.domain.dispute import Dispute
from projections.describe import load
from tests.test_domain_rules import Partnership, found, refused

GROUNDS = "SECRET-GROUNDS-99 The chair pressured me to change my vote; I fear losing my tenancy."


@pytest.fixture
def p(tmp_path: Path) -> Partnership:
    return Partnership(tmp_path / "demo")


def run(p: Partnership, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["--db", str(p.path), *args], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def file(p: Partnership) -> str:
    code, out, err = run(p, "dispute", "file", "--covenant", "C-1", "--complainant", "Luis Moreno",
                         "--complainant-kind", "member", "--party", "tenants-union", "--respondent", "civic-renewal",
                         "--contests", "M-3", "--grounds", GROUNDS, "--confidential",
                         "--key", str(p.path.parent / "keys" / "secretariat.key"))
    assert code == 0, err
    assert out == "filed D-2, sealed to the covenant's neutrals\n"
    return "D-2"


def test_only_a_neutral_opens_a_confidential_grievance(p: Partnership, tmp_path: Path) -> None:
    ref = file(p)
    dispute = load(p.ledger, Dispute, ref)
    assert dispute.complainant == {"kind": "confidential"} and dispute.grounds == ""
    assert p.ledger.record_at(p.ledger.size() - 1).actor == p.keys["secretariat"].key_id  # not the complainant
    shown = json.loads(run(p, "dispute", "show", ref, "--json")[1])
    assert shown["grounds"].startswith("[sealed ") and "SECRET" not in json.dumps(shown)
    opened = json.loads(run(p, "dispute", "show", ref, "--json", "--identity",
                            str(p.path.parent / "keys" / "ombudsperson.age"))[1])
    assert opened["grounds"] == GROUNDS and opened["complainant"]["name"] == "Luis Moreno"
    # Nowhere else in clear: the bundle, the site, the database file.
    keys = p.path.parent / "keys"
    assert run(p, "export", "--bundle", str(tmp_path / "b.jsonl"), "--log-key", str(keys / "log.key"))[0] == 0
    assert run(p, "publish", str(tmp_path / "site"), "--log-key", str(keys / "log.key"))[0] == 0
    places = [(tmp_path / "b.jsonl").read_bytes(), *(f.read_bytes() for f in p.path.parent.glob("ledger.db*"))]
    places += [f.read_bytes() for f in (tmp_path / "site").rglob("*") if f.is_file()]
    assert not any(b"SECRET-GROUNDS-99" in data for data in places)
    # The procedure stays public and works as any other.
    c.on_dispute(p.ledger, p.keys["secretariat"], ref, lambda ctx, d: d.acknowledge("Received."))
    c.assign_dispute(p.ledger, p.keys["secretariat"], ref, p.holder["ombudsperson"], "ombudsperson")
    assert p.verify().ok


def test_a_confidential_grievance_is_signed_by_the_intake(p: Partnership) -> None:
    refused(p, "signed by the intake",
            lambda: c.file_confidential_dispute(p.ledger, p.keys["cso-tenants"], "C-1",
                                                {"kind": "member", "name": "Luis"}, ["civic-renewal"], ["M-3"],
                                                "Pressure."))


def test_verify_finds_a_confidential_grievance_sealed_to_someone_else(p: Partnership) -> None:
    from ledger import sealed
    from ledger.sealed import write_identity

    outsider = write_identity(p.path.parent / "outsider.age")
    box = sealed.seal(b'{"grounds": "x"}', [outsider])
    digest = c.cited_hash(p.ledger, "M-3")
    position = p.forge_next("secretariat", "dispute", "D-2", "dispute.filed", {
        "ref": "D-2", "covenant": "C-1", "complainant": {"kind": "confidential"}, "respondents": ["civic-renewal"],
        "contested": [digest], "grounds": "", "sealed": box.payload()})
    found(p.verify(), position, "sealed to the covenant's neutrals, and only to them")


def test_replay_and_report_open_the_grounds_only_with_an_identity(p: Partnership, tmp_path: Path) -> None:
    ref = file(p)
    identity = str(p.path.parent / "keys" / "ombudsperson.age")
    code, out, _ = run(p, "dispute", "replay", ref)
    assert code == 0 and out.startswith(f"{ref} (filed): [sealed ") and "SECRET" not in out
    code, out, _ = run(p, "dispute", "replay", ref, "--identity", identity)
    assert out.startswith(f"{ref} (filed): {GROUNDS}")
    assert run(p, "dispute", "report", ref, "--out", str(tmp_path / "public.html"))[0] == 0
    assert "SECRET" not in (tmp_path / "public.html").read_text()
    assert run(p, "dispute", "report", ref, "--out", str(tmp_path / "neutral.html"), "--identity", identity)[0] == 0
    text = (tmp_path / "neutral.html").read_text()
    assert "SECRET-GROUNDS-99" in text and "Luis Moreno" in text


def test_the_covenant_says_what_the_site_shows_about_disputes(p: Partnership, tmp_path: Path) -> None:
    from ledger.demo import CURRENT_TERMS, REPRESENTS

    led, k = p.ledger, p.keys
    terms = dict(CURRENT_TERMS, dispute_procedure=dict(CURRENT_TERMS["dispute_procedure"],
                                                       public=["stage", "grounds"]))
    c2 = c.draft_covenant(led, k["secretariat"], "Open Grievances Covenant", terms)
    for stem, party in REPRESENTS.items():
        c.accede(led, k[stem], c2, party)
    c.file_dispute(led, k["cso-air"], c2, {"kind": "party", "name": "Clean Air Now", "party": "clean-air-now"},
                   ["civic-renewal"], ["M-3"], "OPEN-GROUNDS-12 The tie was recorded too early.")
    assert run(p, "publish", str(tmp_path / "site"), "--log-key", str(p.path.parent / "keys" / "log.key"))[0] == 0
    page = (tmp_path / "site" / "disputes.html").read_text()
    d1, d2 = page.split("<h2>D-1</h2>")[1].split("<h2>D-2</h2>")
    assert "OPEN-GROUNDS-12" in d2 and "Resolve by" not in d2  # this covenant publishes grounds, not deadlines
    assert "Resolve by" in d1 and "roll-call" not in d1  # the demo's covenant: the default, no grounds


def test_the_neutral_may_seal_a_finding_and_a_remedy(p: Partnership, tmp_path: Path) -> None:
    ref = file(p)
    keys = p.path.parent / "keys"
    c.on_dispute(p.ledger, p.keys["secretariat"], ref, lambda ctx, d: d.acknowledge("Received."))
    c.assign_dispute(p.ledger, p.keys["secretariat"], ref, p.holder["ombudsperson"], "ombudsperson")
    code, out, err = run(p, "dispute", "finding", ref, "--upheld", "--text", "SEALED-FINDING-3 The chair did so.",
                         "--sealed", "--key", str(keys / "ombudsperson.key"))
    assert (code, out) == (0, f"recorded the finding on {ref}, sealed to the neutrals\n"), err
    code, out, err = run(p, "dispute", "remedy", ref, "--kind", "apology", "--details", "SEALED-REMEDY-4 Apologise.",
                         "--due", "2099-01-01", "--sealed", "--key", str(keys / "ombudsperson.key"))
    assert code == 0, err
    dispute = load(p.ledger, Dispute, ref)
    assert dispute.findings[-1]["upheld"] is True and dispute.findings[-1]["finding"] == ""
    assert run(p, "publish", str(tmp_path / "site"), "--log-key", str(keys / "log.key"))[0] == 0
    page = (tmp_path / "site" / "disputes.html").read_text()
    assert "Upheld: (sealed to the neutrals)" in page and "SEALED-" not in page
    assert not any(b"SEALED-FINDING-3" in f.read_bytes() for f in p.path.parent.glob("ledger.db*"))
    assert p.verify().ok


def test_verify_finds_a_sealed_finding_readable_by_someone_else(p: Partnership) -> None:
    from ledger import sealed
    from ledger.sealed import write_identity

    ref = file(p)
    c.on_dispute(p.ledger, p.keys["secretariat"], ref, lambda ctx, d: d.acknowledge("Received."))
    c.assign_dispute(p.ledger, p.keys["secretariat"], ref, p.holder["ombudsperson"], "ombudsperson")
    box = sealed.seal(b"leaked", [write_identity(p.path.parent / "press.age")])
    refused(p, "sealed to the covenant's neutrals, and only to them",
            lambda: c.on_dispute(p.ledger, p.keys["ombudsperson"], ref,
                                 lambda ctx, d: d.record_finding(True, "", box.payload())))
    position = p.forge_next("ombudsperson", "dispute", ref, "dispute.finding_recorded",
                            {"upheld": True, "finding": "", "sealed": box.payload()})
    found(p.verify(), position, "a sealed finding is sealed to the covenant's neutrals, and only to them")
