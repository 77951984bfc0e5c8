"""Proxies and minority protections (double majority, minimum yes votes, joint minority
reports): each rule refused on write and found by verify when forged with valid keys.

The demo covenant allows one proxy per holder, counts represented members toward the
quorum, has a ``policy`` class needing a majority within civil society and within the
political parties, and lets a quarter of the votes against attach a minority report.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ledger import commands as c
from ledger.domain.decisions import decide_parts, parse_rule
from ledger.domain.motion import Motion
from ledger.errors import InvalidInputError
from projections.describe import load
from tests.test_domain_rules import Partnership, found, refused
from tests.test_membership import ALL, in_session


def motion(p: Partnership, decision_class: str = "ordinary") -> str:
    ref = c.propose_motion(p.ledger, p.keys["cso-air"], "MT-4", 1, decision_class, "Enforce bus lanes.")
    c.second_motion(p.ledger, p.keys["cso-tenants"], ref)
    return ref


@pytest.fixture
def absent(tmp_path: Path) -> Partnership:
    """The demo at MT-4 with Mei Lin (Cycle Forward) absent."""
    p = Partnership(tmp_path / "demo")
    c.record_attendance(p.ledger, p.keys["secretariat"], "MT-4",
                        [p.holder[s] for s in ALL if s != "cso-cycle"])
    return p


# --- proxies -------------------------------------------------------------------------


def test_an_absent_member_votes_through_their_proxy_and_counts_toward_the_quorum(absent: Partnership) -> None:
    p = absent
    c.give_proxy(p.ledger, p.keys["cso-cycle"], "MT-4", p.holder["cso-air"])
    ref = motion(p)
    c.open_vote(p.ledger, p.keys["secretariat"], ref)
    opened = load(p.ledger, Motion, ref)
    assert opened.snapshot["represented"] == [p.person("cso-cycle")]
    c.cast_vote(p.ledger, p.keys["cso-air"], ref, "yes")
    c.cast_vote(p.ledger, p.keys["cso-air"], ref, "yes", proxy_for=p.holder["cso-cycle"])
    record = p.ledger.record_at(p.ledger.size() - 1)
    assert record.data == {"member": p.person("cso-cycle"), "choice": "yes", "on_behalf": False,
                           "proxy": p.person("cso-air")}
    c.close_motion(p.ledger, p.keys["secretariat"], ref)
    closed = load(p.ledger, Motion, ref)
    assert closed.tally["present"] == 5 and closed.proxy_votes == {p.person("cso-cycle"): p.person("cso-air")}
    assert p.verify().ok


def test_proxy_limits_are_refused(absent: Partnership) -> None:
    p = absent
    refused(p, "holds no seat", lambda: c.give_proxy(p.ledger, p.keys["cso-cycle"], "MT-4", p.holder["auditor"]))
    refused(p, "another member", lambda: c.give_proxy(p.ledger, p.keys["cso-cycle"], "MT-4", p.holder["cso-cycle"]))
    c.give_proxy(p.ledger, p.keys["cso-cycle"], "MT-4", p.holder["cso-air"])
    refused(p, "has already given a proxy",
            lambda: c.give_proxy(p.ledger, p.keys["cso-cycle"], "MT-4", p.holder["party"]))
    refused(p, "already carries 1 proxy",
            lambda: c.give_proxy(p.ledger, p.keys["cso-tenants"], "MT-4", p.holder["cso-air"]))
    ref = motion(p)
    c.open_vote(p.ledger, p.keys["secretariat"], ref)
    refused(p, "holds no proxy from", lambda: c.cast_vote(p.ledger, p.keys["party"], ref, "no",
                                                          proxy_for=p.holder["cso-cycle"]))
    refused(p, "has no proxy to revoke", lambda: c.revoke_proxy(p.ledger, p.keys["party"], "MT-4"))


def test_voting_in_person_overrides_the_proxy(tmp_path: Path) -> None:
    p = in_session(tmp_path)
    c.give_proxy(p.ledger, p.keys["cso-cycle"], "MT-4", p.holder["cso-air"])
    ref = motion(p)
    c.open_vote(p.ledger, p.keys["secretariat"], ref)
    c.cast_vote(p.ledger, p.keys["cso-air"], ref, "no", proxy_for=p.holder["cso-cycle"])
    c.cast_vote(p.ledger, p.keys["cso-cycle"], ref, "yes")
    after = load(p.ledger, Motion, ref)
    assert after.votes[p.person("cso-cycle")] == "yes" and after.proxy_votes == {}
    refused(p, "voted in person; their own vote stands",
            lambda: c.cast_vote(p.ledger, p.keys["cso-air"], ref, "no", proxy_for=p.holder["cso-cycle"]))
    c.revoke_proxy(p.ledger, p.keys["cso-cycle"], "MT-4")
    assert load(p.ledger, Motion, ref).votes[p.person("cso-cycle")] == "yes"


def test_verify_finds_a_proxy_vote_without_a_proxy(absent: Partnership) -> None:
    p = absent
    ref = motion(p)
    c.open_vote(p.ledger, p.keys["secretariat"], ref)
    position = p.forge_next("cso-tenants", "motion", ref, "motion.vote_cast", {
        "member": p.person("cso-cycle"), "choice": "no", "on_behalf": False, "proxy": p.person("cso-tenants")})
    found(p.verify(), position, "holds no proxy from")


def test_verify_finds_a_proxy_given_in_someone_elses_name(absent: Partnership) -> None:
    p = absent
    position = p.forge_next("cso-tenants", "meeting", "MT-4", "meeting.proxy_given", {
        "giver": p.person("cso-cycle"), "holder": p.person("cso-tenants"), "motion": None})
    found(p.verify(), position, "gives their proxy with their own key")


def test_verify_finds_a_quorum_that_counts_members_nobody_represents(absent: Partnership) -> None:
    p = absent
    ref = motion(p)
    rule = load(p.ledger, Motion, ref)
    assert rule.status == "seconded"
    from ledger.domain.covenant import Covenant

    covenant = load(p.ledger, Covenant, "C-1")
    position = p.forge_next("secretariat", "motion", ref, "motion.vote_opened", {
        "rule": covenant.rule("ordinary"), "seated": sorted(p.person(s) for s in ALL),
        "present": sorted(p.person(s) for s in ALL if s != "cso-cycle"), "recused": [], "covenant": "C-1",
        "committee": "K-1", "breach": None, "represented": [p.person("cso-cycle")]})
    found(p.verify(), position, "represented by proxy")


# --- double majority ---------------------------------------------------------------------


def vote_all(p: Partnership, ref: str, choices: dict[str, str]) -> tuple[str, str]:
    c.open_vote(p.ledger, p.keys["secretariat"], ref)
    for stem, choice in choices.items():
        c.cast_vote(p.ledger, p.keys[stem], ref, choice)
    return c.close_motion(p.ledger, p.keys["secretariat"], ref)


def test_a_policy_decision_needs_a_majority_within_each_kind_of_party(tmp_path: Path) -> None:
    p = in_session(tmp_path)
    result, why = vote_all(p, motion(p, "policy"), {"cso-air": "yes", "cso-tenants": "yes", "cso-cycle": "yes",
                                                    "institute": "yes", "party": "no"})
    assert result == "fail"
    assert why == ("4 yes of 5 cast: more than 1/2 was reached; civil society: 3 yes, 0 no, majority reached; "
                   "political party: 0 yes, 1 no, majority not reached")
    result, why = vote_all(p, motion(p, "policy"), {"cso-air": "yes", "cso-tenants": "no", "cso-cycle": "yes",
                                                    "party": "yes"})
    assert result == "pass", why
    assert p.verify().ok


def test_minimum_yes_votes_and_bad_rules() -> None:
    rule = parse_rule({"threshold": "1/2", "min_yes": {"civil_society": 2}})
    kinds = {"a": "civil_society", "b": "civil_society", "c": "political_party"}
    assert decide_parts(rule, {"a": "yes", "b": "no", "c": "yes"}, kinds) == (
        False, "civil society: 1 yes of 2 needed, not met")
    assert decide_parts(rule, {"a": "yes", "b": "yes"}, kinds)[0]
    for bad in ({"threshold": "1/2", "majority_within": ["nobody"]}, {"threshold": "1/2", "min_yes": {"x": 1}},
                {"threshold": "1/2", "min_yes": {"civil_society": 0}}):
        with pytest.raises(InvalidInputError):
            parse_rule(bad)


def test_verify_finds_a_policy_decision_passed_without_the_parties_majority(tmp_path: Path) -> None:
    p = in_session(tmp_path)
    ref = motion(p, "policy")
    c.open_vote(p.ledger, p.keys["secretariat"], ref)
    for stem, choice in {"cso-air": "yes", "cso-tenants": "yes", "party": "no"}.items():
        c.cast_vote(p.ledger, p.keys[stem], ref, choice)
    position = p.forge_next("secretariat", "motion", ref, "motion.closed", {
        "tally": {"seated": 5, "present": 5, "yes": 2, "no": 1, "abstain": 0}, "result": "pass",
        "explanation": "carried", "excluded": []})
    found(p.verify(), position, "contradicts the votes and rule")


# --- minority reports -------------------------------------------------------------------


def decided_against_two(p: Partnership) -> str:
    ref = motion(p)
    vote_all(p, ref, {"cso-air": "yes", "cso-tenants": "yes", "cso-cycle": "yes", "party": "no", "institute": "no"})
    return ref


def test_the_no_voters_attach_a_joint_minority_report_each_signing_it(tmp_path: Path) -> None:
    p = in_session(tmp_path)
    ref = decided_against_two(p)
    c.file_minority_report(p.ledger, p.keys["party"], ref, "Enforcement costs are underestimated.",
                           [p.holder["institute"]])
    c.join_minority_report(p.ledger, p.keys["institute"], ref)
    report = load(p.ledger, Motion, ref).minority_report
    assert report["signed"] == [p.person("party"), p.person("institute")]
    refused(p, "already has a minority report",
            lambda: c.file_minority_report(p.ledger, p.keys["institute"], ref, "x", []))
    refused(p, "has already signed it", lambda: c.join_minority_report(p.ledger, p.keys["institute"], ref))
    assert p.verify().ok


def test_minority_reports_only_from_no_voters_and_a_large_enough_minority(tmp_path: Path) -> None:
    p = in_session(tmp_path)
    ref = decided_against_two(p)
    refused(p, "did not vote no", lambda: c.file_minority_report(p.ledger, p.keys["party"], ref, "x",
                                                                 [p.holder["cso-air"]]))
    refused(p, "did not vote no", lambda: c.file_minority_report(p.ledger, p.keys["cso-air"], ref, "x", []))
    refused(p, "has no minority report", lambda: c.join_minority_report(p.ledger, p.keys["institute"], ref))
    lone = motion(p)
    vote_all(p, lone, {"cso-air": "yes", "cso-tenants": "yes", "cso-cycle": "yes", "institute": "yes",
                       "party": "no"})
    refused(p, "a minority report needs at least 1/4",
            lambda: c.file_minority_report(p.ledger, p.keys["party"], lone, "x", []))


def test_verify_finds_a_minority_report_filed_by_a_yes_voter(tmp_path: Path) -> None:
    p = in_session(tmp_path)
    ref = decided_against_two(p)
    position = p.forge_next("cso-air", "motion", ref, "motion.minority_report_filed",
                            {"text": "x", "members": [p.person("cso-air")]})
    found(p.verify(), position, "did not vote no")


# --- reserved seats ------------------------------------------------------------------------

SEATS = {"party": "civic-renewal", "cso-air": "clean-air-now", "cso-cycle": "cycle-forward",
         "institute": "urban-health"}


def test_a_committee_without_the_reserved_seat_is_refused_and_a_departure_is_a_breach(tmp_path: Path) -> None:
    p = Partnership(tmp_path / "demo")
    refused(p, "the social-housing-tenants constituency holds 0 seats; the covenant reserves 1",
            lambda: c.establish_committee(p.ledger, p.keys["secretariat"], "C-1", "Streets Committee",
                                          {p.holder[s]: party for s, party in SEATS.items()},
                                          ["civic-renewal"], 1))
    c.vacate_seat(p.ledger, p.keys["secretariat"], "K-1", p.holder["cso-tenants"], "stood down")
    from ledger.domain.committee import Committee

    assert load(p.ledger, Committee, "K-1").breach == ("the social-housing-tenants constituency holds 0 seats; "
                                                      "the covenant reserves 1")


def test_verify_finds_a_committee_established_without_the_reserved_seat(tmp_path: Path) -> None:
    p = Partnership(tmp_path / "demo")
    position = p.forge_next("secretariat", "committee", "K-2", "committee.established", {
        "ref": "K-2", "covenant": "C-1", "name": "Streets Committee",
        "seats": {p.person(s): party for s, party in SEATS.items()},
        "rotation": {"order": ["civic-renewal"], "every": 1}})
    found(p.verify(), position, "social-housing-tenants constituency holds 0 seats")


def test_verify_finds_a_holder_carrying_more_proxies_than_allowed(absent: Partnership) -> None:
    p = absent
    c.give_proxy(p.ledger, p.keys["cso-cycle"], "MT-4", p.holder["cso-air"])
    position = p.forge_next("cso-tenants", "meeting", "MT-4", "meeting.proxy_given", {
        "giver": p.person("cso-tenants"), "holder": p.person("cso-air"), "motion": None})
    found(p.verify(), position, "already carries 1 proxy")


def test_verify_finds_a_minority_report_too_small_or_joined_by_someone_unnamed(tmp_path: Path) -> None:
    p = in_session(tmp_path)
    lone = motion(p)
    vote_all(p, lone, {"cso-air": "yes", "cso-tenants": "yes", "cso-cycle": "yes", "institute": "yes",
                       "party": "no"})
    small = p.forge_next("party", "motion", lone, "motion.minority_report_filed",
                         {"text": "x", "members": [p.person("party")]})
    ref = decided_against_two(p)
    c.file_minority_report(p.ledger, p.keys["party"], ref, "Costs are underestimated.", [])
    stranger = p.forge_next("institute", "motion", ref, "motion.minority_report_joined",
                            {"member": p.person("institute")})
    report = p.verify()
    found(report, small, "a minority report needs at least 1/4")
    found(report, stranger, "is not named in the report")
