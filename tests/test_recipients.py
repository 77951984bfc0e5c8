"""Money goes to someone: allocations name their recipient (a party or a
registered outside organisation), and matching commitments show what is owed,
met and outstanding."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.main import cli
from ledger import commands as c
from ledger.domain.funding import Fund
from ledger.errors import InvalidInputError
from projections.describe import load
from tests.test_domain_rules import Partnership, found, refused
from tests.test_membership import decide, in_session


@pytest.fixture
def p(tmp_path: Path) -> Partnership:
    return in_session(tmp_path)


def funding(p: Partnership) -> str:
    return decide(p, "Fund school streets.", "funding",
                  amount={"value": "5000.00", "currency": "EUR", "fund": "F-1"})


def test_an_allocation_names_a_party_or_a_registered_organisation(p: Partnership) -> None:
    m = funding(p)
    sec = p.keys["secretariat"]
    refused(p, "the recipient riverside-schools-trust is neither a party to C-1 nor a registered organisation",
            lambda: c.allocate(p.ledger, sec, "F-1", "School streets", "5000.00", m, "riverside-schools-trust"))
    refused(p, "an allocation names its recipient", lambda: c.allocate(p.ledger, sec, "F-1", "x", "1.00", m, ""),
            error=InvalidInputError)
    refused(p, "must be an org-id.guide identifier", lambda: c.register_organisation(
        p.ledger, sec, "riverside-schools-trust", "Riverside Schools Trust", "charity 1234567", "charity"),
        error=InvalidInputError)
    c.register_organisation(p.ledger, sec, "riverside-schools-trust", "Riverside Schools Trust", "GB-CHC-1234567",
                            "charity")
    allocation = c.allocate(p.ledger, sec, "F-1", "School streets", "5000.00", m, "riverside-schools-trust")
    assert load(p.ledger, Fund, "F-1").allocations[allocation]["recipient"] == "riverside-schools-trust"
    assert p.verify().ok


def test_verify_finds_an_allocation_to_an_unknown_recipient(p: Partnership) -> None:
    m = funding(p)
    position = p.forge_next("secretariat", "fund", "F-1", "fund.allocated",
                            {"allocation": "F-1/A-2", "project": "School streets", "amount": "5000.00",
                             "decision": m, "recipient": "nobody-we-know"})
    found(p.verify(), position, "the recipient nobody-we-know is neither a party to C-1 nor a registered organisation")


def test_matching_shows_owed_met_and_outstanding(p: Partnership, monkeypatch: pytest.MonkeyPatch) -> None:
    # The demo: civil society paid in 15000.00, so the Civic Renewal Party owes 15000.00 in matching,
    # and its own 40000.00 received meets it.
    assert load(p.ledger, Fund, "F-1").matching_status() == {
        "civic-renewal": {"owed": "15000.00", "met": "15000.00", "outstanding": "0.00"}}
    # Cycle Forward pays in 3000.00: the matching owed rises to 18000.00, still met.
    c.receive(p.ledger, p.keys["secretariat"], "F-1", "cycle-forward", "3000.00", "ab" * 32)
    status = load(p.ledger, Fund, "F-1").matching_status()
    assert status["civic-renewal"] == {"owed": "18000.00", "met": "18000.00", "outstanding": "0.00"}
    monkeypatch.chdir(p.path.parent)
    result = CliRunner().invoke(cli, ["--db", "ledger.db", "fund", "show", "F-1", "--json"], catch_exceptions=False)
    assert json.loads(result.stdout)["matching_status"] == status
    result = CliRunner().invoke(cli, ["--db", "ledger.db", "fund", "show", "F-1"], catch_exceptions=False)
    assert "matching_status:\n  civic-renewal:\n    owed: 18000.00\n    met: 18000.00\n    outstanding: 0.00\n" \
        in result.stdout


def test_matching_outstanding_until_the_matcher_pays(p: Partnership) -> None:
    sec = p.keys["secretariat"]
    fund = c.establish_fund(p.ledger, sec, "C-1", "Night Bus Fund", "EUR", [
        {"matcher": "civic-renewal", "from_kinds": ["civil_society"], "ratio": "1/2", "cap": "10000.00"}])
    c.receive(p.ledger, sec, fund, "clean-air-now", "4000.00", "cd" * 32)
    assert load(p.ledger, Fund, fund).matching_status() == {
        "civic-renewal": {"owed": "2000.00", "met": "0.00", "outstanding": "2000.00"}}
    c.receive(p.ledger, sec, fund, "civic-renewal", "1500.00", "ef" * 32)
    assert load(p.ledger, Fund, fund).matching_status() == {
        "civic-renewal": {"owed": "2000.00", "met": "1500.00", "outstanding": "500.00"}}
    assert p.verify().ok


def test_verify_finds_an_organisation_with_a_malformed_identifier(p: Partnership) -> None:
    position = p.forge_next("secretariat", "organisation", "shady-trust", "organisation.registered",
                            {"ref": "shady-trust", "name": "Shady Trust", "identifier": "charity 42",
                             "kind": "charity"})
    found(p.verify(), position, "identifier must be an org-id.guide identifier")
