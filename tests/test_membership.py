"""Membership over time: parties join and leave, representatives change, the
neutrals change by amendment, and a departure that breaks the committee's
composition is recorded (the committee is then in breach, which verify warns of).

Each rule is tested twice: refused on write, and found by verify when a
record breaking it is forged with valid keys.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ledger import NotFoundError, Signer
from ledger import commands as c
from ledger.domain.committee import Committee
from ledger.domain.covenant import Covenant
from ledger.domain.motion import Motion
from projections.describe import load
from tests.test_domain_rules import Partnership, found, refused

ALL = ("party", "cso-air", "cso-tenants", "cso-cycle", "institute")
YOUTH = {"id": "youth-forum", "name": "Riverside Youth Forum", "kind": "civil_society",
         "identifier": "GB-CHC-7654321"}


def in_session(tmp_path: Path) -> Partnership:
    """The demo, with everyone present at its meeting MT-4 (for the tests that decide things there)."""
    partnership = Partnership(tmp_path / "demo")
    c.record_attendance(partnership.ledger, partnership.keys["secretariat"], "MT-4",
                        [partnership.holder[s] for s in ALL])
    return partnership


@pytest.fixture
def p(tmp_path: Path) -> Partnership:
    return in_session(tmp_path)


def decide(p: Partnership, text: str, decision_class: str = "amendment", **extra: Any) -> str:
    """A motion at MT-4, passed by everyone present."""
    k = p.keys
    motion = c.propose_motion(p.ledger, k["cso-air"], "MT-4", 1, decision_class, text, **extra)
    c.second_motion(p.ledger, k["cso-tenants"], motion)
    c.open_vote(p.ledger, k["secretariat"], motion)
    for stem in ALL:
        c.cast_vote(p.ledger, k[stem], motion, "yes")
    assert c.close_motion(p.ledger, k["secretariat"], motion)[0] == "pass"
    return motion


def new_person(p: Partnership, holder: str, roles: tuple[str, ...] = ("member",)) -> Signer:
    signer = Signer.generate()
    p.ledger.register_key(p.keys["secretariat"], signer.public_b64, holder, list(roles))
    return signer


def covenant(p: Partnership) -> Covenant:
    return load(p.ledger, Covenant, "C-1")  # type: ignore[no-any-return]


# --- a party joins --------------------------------------------------------------

def test_a_party_joins_by_decision_and_its_own_accession(p: Partnership) -> None:
    youth_rep = new_person(p, "Kofi Mensah (Riverside Youth Forum)")
    party = dict(YOUTH, representatives=["Kofi Mensah"])
    refused(p, "motion M-99 does not exist",
            lambda: c.admit_party(p.ledger, p.keys["secretariat"], "C-1", party, "M-99"), error=NotFoundError)
    ordinary = decide(p, "Welcome the youth forum.", "ordinary")
    refused(p, f"{ordinary} was decided as ordinary, but this needs the amendment class",
            lambda: c.admit_party(p.ledger, p.keys["secretariat"], "C-1", party, ordinary))
    m = decide(p, "Admit the Riverside Youth Forum.", act={"kind": "admit", "party": "youth-forum"})
    c.admit_party(p.ledger, p.keys["secretariat"], "C-1", party, m)
    assert covenant(p).standing["youth-forum"] == "admitted"
    refused(p, f"{m} has already been used for another act",
            lambda: c.admit_party(p.ledger, p.keys["secretariat"], "C-1", dict(party, id="other"), m))
    refused(p, "only a representative of youth-forum may sign its accession",
            lambda: c.accede(p.ledger, p.keys["cso-air"], "C-1", "youth-forum"))
    c.accede(p.ledger, youth_rep, "C-1", "youth-forum")
    assert covenant(p).standing["youth-forum"] == "member"
    # A member party's representative may take a seat (civil society: composition still met).
    c.assign_seat(p.ledger, p.keys["secretariat"], "K-1", "Kofi Mensah", "youth-forum")
    assert youth_rep.key_id in load(p.ledger, Committee, "K-1").seats
    assert p.verify().ok


def test_verify_finds_an_admission_without_a_decision(p: Partnership) -> None:
    youth_rep = new_person(p, "Kofi Mensah (Riverside Youth Forum)")
    ordinary = decide(p, "Welcome the youth forum.", "ordinary")
    position = p.forge_next("secretariat", "covenant", "C-1", "covenant.party_admitted",
                            {"party": dict(YOUTH, representatives=[youth_rep.key_id]), "decision": ordinary})
    found(p.verify(), position, f"{ordinary} was decided as ordinary, but this needs the amendment class")


# --- a party leaves -------------------------------------------------------------

def test_a_party_withdraws_by_its_own_signature(p: Partnership) -> None:
    refused(p, "only a representative of urban-health may sign its withdrawal",
            lambda: c.withdraw_party(p.ledger, p.keys["party"], "C-1", "urban-health", "We leave."))
    c.withdraw_party(p.ledger, p.keys["institute"], "C-1", "urban-health", "Our funding ended.")
    assert covenant(p).standing["urban-health"] == "withdrawn"
    # A party that has left represents nobody: its former representative cannot act for it.
    refused(p, "is not a current party", lambda: c.withdraw_party(p.ledger, p.keys["institute"], "C-1",
                                                                  "urban-health", "Again."))
    assert covenant(p).party_of(p.keys["institute"].key_id) is None
    assert p.verify().ok


def test_verify_finds_a_withdrawal_signed_by_another_party(p: Partnership) -> None:
    position = p.forge_next("party", "covenant", "C-1", "covenant.party_withdrew",
                            {"party": "urban-health", "reason": "Pushed out."})
    found(p.verify(), position, "only a representative of urban-health may sign its withdrawal")


def test_a_party_is_expelled_only_by_decision(p: Partnership) -> None:
    ordinary = decide(p, "Expel the institute.", "ordinary")
    refused(p, "needs the amendment class",
            lambda: c.expel_party(p.ledger, p.keys["secretariat"], "C-1", "urban-health", ordinary, "Breach."))
    m = decide(p, "Expel the Urban Health Institute.", act={"kind": "expel", "party": "urban-health"})
    refused(p, f"{m} did not decide to expel C-1 \\(cycle-forward\\)",
            lambda: c.expel_party(p.ledger, p.keys["secretariat"], "C-1", "cycle-forward", m, "Breach."))
    c.expel_party(p.ledger, p.keys["secretariat"], "C-1", "urban-health", m, "Repeated breach of clause 4.")
    assert covenant(p).standing["urban-health"] == "expelled"
    assert p.verify().ok


def test_verify_finds_an_expulsion_without_a_decision(p: Partnership) -> None:
    position = p.forge_next("secretariat", "covenant", "C-1", "covenant.party_expelled",
                            {"party": "urban-health", "decision": "M-1", "reason": "Breach."})
    found(p.verify(), position, "M-1 was decided as ordinary, but this needs the amendment class")


# --- representatives change ------------------------------------------------------

def test_a_party_replaces_its_representative(p: Partnership) -> None:
    successor = new_person(p, "Nadia Osei (Clean Air Now)")
    refused(p, "only a representative of clean-air-now may change its representatives",
            lambda: c.change_representatives(p.ledger, p.keys["party"], "C-1", "clean-air-now", ["Nadia Osei"]))
    c.change_representatives(p.ledger, p.keys["cso-air"], "C-1", "clean-air-now", ["Nadia Osei"])
    assert covenant(p).parties["clean-air-now"]["representatives"] == [successor.key_id]
    # The new representative takes the seat: the old one leaves it, which breaks the civil-society
    # minimum until the seat is filled.
    c.vacate_seat(p.ledger, p.keys["secretariat"], "K-1", p.holder["cso-air"], "Replaced as representative")
    assert load(p.ledger, Committee, "K-1").breach is not None
    c.assign_seat(p.ledger, p.keys["secretariat"], "K-1", "Nadia Osei", "clean-air-now")
    assert load(p.ledger, Committee, "K-1").breach is None
    assert p.verify().ok and p.verify().warnings == []


def test_the_secretariat_names_a_representative_only_when_none_can_sign(p: Partnership) -> None:
    successor = new_person(p, "Nadia Osei (Clean Air Now)")
    m = decide(p, "Recognise Nadia Osei for Clean Air Now.", act={"kind": "representatives",
                                                                   "party": "clean-air-now"})
    refused(p, "clean-air-now still has a representative who can sign",
            lambda: c.change_representatives(p.ledger, p.keys["secretariat"], "C-1", "clean-air-now",
                                             ["Nadia Osei"], m))
    p.ledger.retire_key(p.keys["secretariat"], p.keys["cso-air"].key_id, "Amara Okafor has left")
    refused(p, "only a representative of clean-air-now may change",
            lambda: c.change_representatives(p.ledger, p.keys["secretariat"], "C-1", "clean-air-now",
                                             ["Nadia Osei"]))
    c.change_representatives(p.ledger, p.keys["secretariat"], "C-1", "clean-air-now", ["Nadia Osei"], m)
    assert covenant(p).parties["clean-air-now"]["representatives"] == [successor.key_id]
    assert p.verify().ok


def test_verify_finds_representatives_changed_by_another_party(p: Partnership) -> None:
    successor = new_person(p, "Nadia Osei (Clean Air Now)")
    position = p.forge_next("party", "covenant", "C-1", "covenant.representatives_changed",
                            {"party": "clean-air-now", "representatives": [successor.key_id], "decision": None})
    found(p.verify(), position, "only a representative of clean-air-now may change its representatives")


# --- the neutrals change by amendment -------------------------------------------------

def test_the_neutrals_change_by_amendment(p: Partnership) -> None:
    mediator = new_person(p, "Grace Lee (Neutral Mediator)", ("mediator",))
    m = decide(p, "Name Grace Lee as mediator.",
               changes=[{"op": "set_neutrals", "capacity": "mediators", "people": ["Grace Lee"]}])
    c.amend_covenant(p.ledger, p.keys["secretariat"], "C-1", m)
    assert covenant(p).neutrals["mediators"] == [mediator.key_id]
    d = c.file_dispute(p.ledger, p.keys["cso-tenants"], "C-1",
                       {"kind": "party", "name": "Riverside Tenants' Union", "party": "tenants-union"},
                       ["civic-renewal"], [c.cited_hash(p.ledger, m)], "Not consulted.")
    c.on_dispute(p.ledger, p.keys["secretariat"], d, lambda ctx, x: x.acknowledge("Received."))
    c.assign_dispute(p.ledger, p.keys["secretariat"], d, "Grace Lee", "mediator")
    assert p.verify().ok


def test_verify_finds_a_neutral_the_covenant_does_not_name(p: Partnership) -> None:
    mediator = new_person(p, "Grace Lee (Neutral Mediator)", ("mediator",))
    d = c.file_dispute(p.ledger, p.keys["cso-tenants"], "C-1",
                       {"kind": "party", "name": "Riverside Tenants' Union", "party": "tenants-union"},
                       ["civic-renewal"], [c.cited_hash(p.ledger, "M-1")], "Not consulted.")
    c.on_dispute(p.ledger, p.keys["secretariat"], d, lambda ctx, x: x.acknowledge("Received."))
    refused(p, "Grace Lee \\(Neutral Mediator\\) is not named as mediator in the covenant",
            lambda: c.assign_dispute(p.ledger, p.keys["secretariat"], d, "Grace Lee", "mediator"))
    position = p.forge_next("secretariat", "dispute", d, "dispute.assigned",
                            {"assignee": mediator.key_id, "capacity": "mediator", "decision": None})
    found(p.verify(), position, "is not named as mediator in the covenant")


# --- vacancies and breach of composition -------------------------------------------

def test_a_departure_that_breaks_composition_is_recorded_and_warned_of(p: Partnership) -> None:
    c.vacate_seat(p.ledger, p.keys["secretariat"], "K-1", p.holder["cso-cycle"], "Mei Lin has moved away")
    committee = load(p.ledger, Committee, "K-1")
    assert committee.breach == "civil society holds 2 seats; the covenant requires at least 3"
    # A decision taken while in breach is marked so.
    m = c.propose_motion(p.ledger, p.keys["cso-air"], "MT-4", 1, "ordinary", "Enforce bus lanes.")
    c.second_motion(p.ledger, p.keys["cso-tenants"], m)
    c.open_vote(p.ledger, p.keys["secretariat"], m)
    assert load(p.ledger, Motion, m).snapshot["in_breach_of_composition"] == committee.breach
    report = p.verify()
    assert report.ok
    assert report.warnings == [
        f"K-1 is in breach of composition since {committee.breach_since}: {committee.breach}",
        f"{m} was decided while K-1 was in breach of composition: {committee.breach}",
    ]
    # Filling the seat mends the breach.
    c.assign_seat(p.ledger, p.keys["secretariat"], "K-1", p.holder["cso-cycle"], "cycle-forward")
    assert load(p.ledger, Committee, "K-1").breach is None


def test_verify_finds_a_departure_that_hides_the_breach(p: Partnership) -> None:
    position = p.forge_next("secretariat", "committee", "K-1", "committee.seat_vacated",
                            {"member": p.keys["cso-cycle"].key_id, "reason": "moved", "composition": None})
    found(p.verify(), position, "the composition recorded differs from the committee's: civil society holds 2")


def test_verify_finds_a_vote_opened_in_breach_but_not_marked(p: Partnership) -> None:
    c.vacate_seat(p.ledger, p.keys["secretariat"], "K-1", p.holder["cso-cycle"], "moved away")
    m = c.propose_motion(p.ledger, p.keys["cso-air"], "MT-4", 1, "ordinary", "Enforce bus lanes.")
    c.second_motion(p.ledger, p.keys["cso-tenants"], m)
    motion = load(p.ledger, Motion, m)
    committee = load(p.ledger, Committee, "K-1")
    meeting_present = sorted(p.person(s) for s in ALL)
    position = p.forge_next("secretariat", "motion", m, "motion.vote_opened", {
        "rule": covenant(p).rule("ordinary"), "seated": sorted(committee.seats), "present": meeting_present,
        "recused": [], "covenant": "C-1", "committee": "K-1", "breach": None})
    assert motion.status == "seconded"
    found(p.verify(), position, "the composition recorded differs from the committee's (civil society holds 2")


def test_a_vacancy_longer_than_the_covenant_allows_is_flagged(p: Partnership) -> None:
    from datetime import UTC, datetime, timedelta

    c.vacate_seat(p.ledger, p.keys["secretariat"], "K-1", p.holder["cso-cycle"], "Mei Lin has moved away")
    since = load(p.ledger, Committee, "K-1").breach_since
    later = datetime.now(UTC) + timedelta(days=91)
    p.ledger.clock = lambda: later  # three months on, the seat is still empty
    c.schedule_meeting(p.ledger, p.keys["secretariat"], "K-1", later + timedelta(days=14))
    report = p.verify()
    assert report.ok
    assert report.warnings[0] == (f"K-1 is in breach of composition since {since}: civil society holds 2 seats; the "
                                  "covenant requires at least 3 (longer than the 90 days the covenant allows)")


def test_the_command_line_records_a_departure_and_shows_the_breach(p: Partnership,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from cli.main import cli

    monkeypatch.chdir(p.path.parent)

    def run(*args: str) -> tuple[int, str]:
        result = CliRunner().invoke(cli, ["--db", "ledger.db", *args], catch_exceptions=False)
        return result.exit_code, result.output

    assert run("committee", "vacate", "K-1", "--member", "Mei Lin", "--reason", "Moved away",
               "--key", "keys/secretariat.key") == (0, "vacated Mei Lin's seat on K-1\n")
    since = load(p.ledger, Committee, "K-1").breach_since
    code, shown = run("committee", "show", "K-1")
    assert code == 0
    assert (f"composition: in breach since {since}: civil society holds 2 seats; the covenant requires at least 3"
            in shown)
    assert "Mei Lin" not in shown.split("rotation:")[0]  # no longer among the seats
    code, listed = run("committee", "list")
    assert code == 0 and f"in breach since {since[:10]}" in listed
    code, out = run("verify")
    assert code == 0
    assert f"warning: K-1 is in breach of composition since {since}" in out
    # The site says so too.
    assert run("publish", "site", "--log-key", "keys/log.key")[0] == 0
    assert (f"In breach of composition since {since[:10]}: civil society holds 2 seats; the covenant requires at "
            "least 3") in (p.path.parent / "site" / "meetings.html").read_text()
