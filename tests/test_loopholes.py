"""Governance without loopholes (issue 11): each rule is refused on write, with one
line and nothing written, and found by `ledger verify` when forged with valid keys."""

from __future__ import annotations

from ledger import commands as c
from ledger.domain.motion import Motion
from tests.test_domain_rules import Partnership, found, p, refused

__all__ = ["p"]  # the fixture: the demo plus M-7 being voted on (yes: Clean Air; no: Tenants, Party)


# --- a member's own vote is theirs -------------------------------------------------------

def test_the_secretariat_cannot_overwrite_a_members_own_vote(p: Partnership) -> None:
    refused(p, "voted with their own key; only they can change their vote",
            lambda: c.cast_vote(p.ledger, p.keys["secretariat"], "M-7", "no", member=p.holder["cso-air"]))
    c.cast_vote(p.ledger, p.keys["cso-air"], "M-7", "abstain")  # the member themself may
    c.cast_vote(p.ledger, p.keys["secretariat"], "M-7", "yes", member=p.holder["cso-cycle"])  # not voted yet
    assert p.verify().ok


def test_verify_finds_an_overwritten_own_vote(p: Partnership) -> None:
    air = p.keys["cso-air"].key_id
    position = p.forge_next("secretariat", "motion", "M-7", "motion.vote_cast",
                            {"member": air, "choice": "no", "on_behalf": True})
    report = p.verify()
    found(report, position, f"key {air[:12]} voted with their own key; only they can change their vote")
    assert [f.position for f in report.findings] == [position]


# --- a conflict declared after the vote opened recuses ---------------------------------------

def test_a_late_conflict_excludes_the_vote_and_says_why(p: Partnership) -> None:
    tenants = p.keys["cso-tenants"].key_id
    c.declare_conflict(p.ledger, p.keys["cso-tenants"], "MT-4", p.holder["cso-tenants"], [1], "Works for the operator")
    refused(p, "declared a conflict on item 1 and is recused",
            lambda: c.cast_vote(p.ledger, p.keys["cso-tenants"], "M-7", "yes"))
    result, why = c.close_motion(p.ledger, p.keys["secretariat"], "M-7")
    # Clean Air yes; Party no; the Tenants' no is excluded.
    assert (result, why) == ("fail", "1 yes of 2 cast: more than 1/2 was not reached (1 vote excluded: conflict "
                                     "declared)")
    from projections.describe import load

    motion = load(p.ledger, Motion, "M-7")
    assert motion.excluded == [tenants] and motion.tally["no"] == 1
    assert p.verify().ok


def test_verify_finds_a_close_that_counts_a_recused_vote(p: Partnership) -> None:
    c.declare_conflict(p.ledger, p.keys["cso-tenants"], "MT-4", p.holder["cso-tenants"], [1], "Works for the operator")
    tally = {"seated": 5, "present": 5, "yes": 1, "no": 2, "abstain": 0}
    position = p.forge_next("secretariat", "motion", "M-7", "motion.closed",
                            {"tally": tally, "result": "fail", "explanation": "1 yes of 3 cast", "excluded": []})
    found(p.verify(), position, "the votes excluded for conflicts (0) are not those of members who declared a "
                                "conflict on item 1 (1)")


def test_the_site_shows_an_excluded_vote_with_its_reason(p: Partnership, tmp_path: object) -> None:
    from pathlib import Path

    from projections.site import publish

    c.declare_conflict(p.ledger, p.keys["cso-tenants"], "MT-4", p.holder["cso-tenants"], [1], "Works for the operator")
    c.close_motion(p.ledger, p.keys["secretariat"], "M-7")
    from ledger import load_signer

    p.ledger.log_key = load_signer(p.path.parent / "keys" / "log.key")
    site = Path(str(tmp_path)) / "site"
    publish(p.ledger, site)
    page = (site / "motions" / "M-7.html").read_text(encoding="utf-8")
    assert "no <em>(excluded: conflict declared (Works for the operator))</em>" in page
