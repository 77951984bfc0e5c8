"""Consultations on policy drafts and adjustment requests: the policy itself, co-produced.

Each rule twice: refused on write (nothing written, one line), and found by
verify when a record breaking it is forged with valid keys.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from ledger import commands as c
from ledger.domain.consultation import Consultation
from ledger.errors import InvalidInputError
from projections.describe import load
from tests.test_domain_rules import Partnership, found, refused
from tests.test_membership import decide, in_session

NOW = datetime.now(UTC)
SECTIONS = [{"number": "1", "text": "Bus lanes are enforced from 7 to 10."},
            {"number": "2", "text": "Air sensors at every school."}]


@pytest.fixture
def p(tmp_path: Path) -> Partnership:
    partnership = in_session(tmp_path)
    c.open_consultation(partnership.ledger, partnership.keys["secretariat"], "K-1", "Clean air plan", SECTIONS,
                        "members", NOW - timedelta(days=1), NOW + timedelta(hours=1))
    return partnership


def on(p: Partnership, who: str, call: Any) -> Any:
    return c.on_consultation(p.ledger, p.keys[who], "CX-2", call)


def cx(p: Partnership) -> Consultation:
    return load(p.ledger, Consultation, "CX-2")


def later(p: Partnership, hours: int = 2) -> None:
    """Move the ledger's clock past the consultation's close."""
    p.ledger.clock = lambda: datetime.now(UTC) + timedelta(hours=hours)


def comment(p: Partnership, who: str = "cso-air", section: str = "1", replacement: str | None = None,
            public: bool = False) -> int:
    return int(on(p, who, lambda ctx, x: x.comment(ctx, section, "Start at 6.", replacement, public)))


def test_a_consultation_runs_from_draft_to_adopted_policy(p: Partnership) -> None:
    comment(p, "cso-air", "1", "Bus lanes are enforced from 6 to 10.")
    comment(p, "cso-tenants", "2")
    on(p, "secretariat", lambda ctx, x: x.publish_version(
        [{"number": "1", "text": "Bus lanes are enforced from 6 to 10."}, SECTIONS[1]], "Earlier start"))
    on(p, "secretariat", lambda ctx, x: x.answer(1, "accepted", None, 2))
    on(p, "secretariat", lambda ctx, x: x.answer(2, "not_accepted", "Schools only in this plan.", None))
    later(p)
    on(p, "secretariat", lambda ctx, x: x.close())
    motion = decide(p, "Adopt the clean air plan, version 2.", "ordinary",
                    act={"kind": "adopt", "consultation": "CX-2", "version": 2})
    on(p, "secretariat", lambda ctx, x: x.adopt(2, motion))
    done = cx(p)
    assert done.status == "adopted" and done.adopted == {"version": 2, "decision": motion}
    assert done.statistics == {"comments": 2, "from_the_public": 0, "confidential": 0, "accepted": 1,
                               "partly_accepted": 0, "not_accepted": 1}
    assert done.diff(1, 2) == [{"section": "1", "change": "replaced", "was": SECTIONS[0]["text"],
                                "text": "Bus lanes are enforced from 6 to 10."}]
    assert p.verify().ok


def test_comments_only_while_open_and_only_from_those_invited(p: Partnership) -> None:
    refused(p, "is open to the partners' members", lambda: comment(p, "auditor"))
    refused(p, "is not open to the public", lambda: comment(p, "secretariat", public=True))
    refused(p, "has no section 9", lambda: comment(p, "cso-air", "9"))
    later(p)
    refused(p, "takes comments from", lambda: comment(p, "cso-air"))


def test_answers_must_show_in_a_later_version_and_say_why(p: Partnership) -> None:
    comment(p, "cso-air", "1", "Bus lanes are enforced from 6 to 10.")
    refused(p, "needs a reason", lambda: on(p, "secretariat", lambda ctx, x: x.answer(1, "not_accepted", None,
                                                                                       None)))
    refused(p, "name the later version", lambda: on(p, "secretariat", lambda ctx, x: x.answer(1, "accepted", None,
                                                                                             None)))
    on(p, "secretariat", lambda ctx, x: x.publish_version(
        [{"number": "1", "text": "Bus lanes are enforced from 6 to 9."}, SECTIONS[1]], None))
    refused(p, "is not the replacement proposed",
            lambda: on(p, "secretariat", lambda ctx, x: x.answer(1, "accepted", None, 2)))
    on(p, "secretariat", lambda ctx, x: x.answer(1, "partly_accepted", "Until 9 only.", 2))
    refused(p, "already answered", lambda: on(p, "secretariat", lambda ctx, x: x.answer(1, "accepted", None, 2)))


def test_a_consultation_closes_after_its_date_with_every_comment_answered(p: Partnership) -> None:
    comment(p, "cso-air")
    refused(p, "takes comments until", lambda: on(p, "secretariat", lambda ctx, x: x.close()))
    later(p)
    refused(p, "every comment needs an answer first", lambda: on(p, "secretariat", lambda ctx, x: x.close()))


def test_adoption_needs_a_passed_decision_stating_that_version(p: Partnership) -> None:
    later(p)
    on(p, "secretariat", lambda ctx, x: x.close())
    p.ledger.clock = lambda: datetime.now(UTC)
    motion = decide(p, "Adopt the plan.", "ordinary", act={"kind": "adopt", "consultation": "CX-2", "version": 1})
    refused(p, "has no version 2", lambda: on(p, "secretariat", lambda ctx, x: x.adopt(2, motion)))
    other = decide(p, "Something else.", "ordinary")
    refused(p, "did not decide to adopt version 1", lambda: on(p, "secretariat", lambda ctx, x: x.adopt(1, other)))
    with pytest.raises(InvalidInputError):
        c.propose_motion(p.ledger, p.keys["cso-air"], "MT-4", 1, "ordinary", "x", act={"kind": "adopt"})


def test_adjustment_requests_come_from_a_partys_representative_and_have_a_due_date(p: Partnership) -> None:
    ref = c.request_adjustment(p.ledger, p.keys["cso-tenants"], "K-1", "CX-2", "Review the hours in May.")
    from ledger.domain.consultation import Adjustment

    request = load(p.ledger, Adjustment, ref)
    assert request.party == "tenants-union"
    assert request.due == (datetime.now(UTC) + timedelta(days=30)).date().isoformat()
    refused(p, "only a party's representative", lambda: c.request_adjustment(
        p.ledger, p.keys["auditor"], "K-1", "CX-2", "x"), InvalidInputError)
    c.answer_adjustment(p.ledger, p.keys["secretariat"], ref, "granted", "Reviewed in May.")
    refused(p, "already answered", lambda: c.answer_adjustment(p.ledger, p.keys["secretariat"], ref, "refused", "x"))


# --- verify finds the same breaches, forged with valid keys ------------------------


def test_verify_finds_a_comment_from_someone_not_invited(p: Partnership) -> None:
    position = p.forge_next("auditor", "consultation", "CX-2", "comment.submitted", {
        "number": 1, "section": "1", "text": "x", "replacement": None, "author": p.person("auditor"),
        "version": 1})
    found(p.verify(), position, "is open to the partners' members")


def test_verify_finds_an_accepted_answer_the_text_does_not_show(p: Partnership) -> None:
    comment(p, "cso-air")
    on(p, "secretariat", lambda ctx, x: x.publish_version([SECTIONS[0], {"number": "2", "text": "Other."}], None))
    position = p.forge_next("secretariat", "consultation", "CX-2", "comment.answered",
                            {"comment": 1, "answer": "accepted", "reason": None, "version": 2})
    found(p.verify(), position, "the change does not show")


def test_verify_finds_a_close_with_comments_unanswered(p: Partnership) -> None:
    comment(p, "cso-air")
    position = p.forge_next("secretariat", "consultation", "CX-2", "consultation.closed",
                            {"statistics": {"comments": 1, "from_the_public": 0, "confidential": 0, "accepted": 0,
                                            "partly_accepted": 0, "not_accepted": 0}})
    report = p.verify()
    assert any(f.position == position for f in report.findings), [f.line() for f in report.findings]


def test_verify_finds_an_adoption_no_decision_stated(p: Partnership) -> None:
    later(p)
    on(p, "secretariat", lambda ctx, x: x.close())
    p.ledger.clock = lambda: datetime.now(UTC) + timedelta(hours=3)
    other = decide(p, "Something else.", "ordinary")
    position = p.forge_next("secretariat", "consultation", "CX-2", "consultation.adopted",
                            {"version": 1, "decision": other})
    found(p.verify(), position, "did not decide to adopt version 1")


def test_verify_finds_an_adjustment_requested_in_another_partys_name(p: Partnership) -> None:
    position = p.forge_next("cso-air", "adjustment", "AR-1", "adjustment.requested", {
        "ref": "AR-1", "committee": "K-1", "subject": "CX-2", "party": "tenants-union", "text": "x",
        "due": (datetime.now(UTC) + timedelta(days=30)).date().isoformat()})
    found(p.verify(), position, "in the party's name")


def test_a_confidential_comment_is_sealed_to_the_channel_and_counted_without_content(p: Partnership) -> None:
    number = c.comment_confidentially(p.ledger, p.keys["cso-tenants"], "CX-2", "1",
                                      "My neighbour cannot reach the bus stop.", "community-voices")
    record = p.ledger.record_at(p.ledger.size() - 1)
    assert record.data["text"] == "" and record.data["channel"] == "community-voices"
    assert b"neighbour" not in record.raw and "sha256" in record.data["sealed"]["sealed"]
    assert cx(p).computed_statistics()["confidential"] == 1 and number == 1
    refused(p, "unknown channel|no channel|has no channel", lambda: c.comment_confidentially(
        p.ledger, p.keys["cso-tenants"], "CX-2", "1", "x", "nowhere"), Exception)


def test_verify_finds_a_confidential_comment_with_its_text_in_the_clear(p: Partnership) -> None:
    c.comment_confidentially(p.ledger, p.keys["cso-tenants"], "CX-2", "1", "Sealed words.", "community-voices")
    sealed = p.ledger.record_at(p.ledger.size() - 1).data["sealed"]
    position = p.forge_next("cso-tenants", "consultation", "CX-2", "comment.submitted", {
        "number": 2, "section": "1", "text": "Sealed words.", "replacement": None, "author": p.person("cso-tenants"),
        "version": 1, "channel": "community-voices", "sealed": sealed})
    found(p.verify(), position, "carries no text in the clear")


def test_a_version_that_changes_nothing_is_refused_and_found(p: Partnership) -> None:
    refused(p, "this version changes nothing", lambda: on(p, "secretariat", lambda ctx, x: x.publish_version(
        SECTIONS, None)))
    position = p.forge_next("secretariat", "consultation", "CX-2", "draft.version_published",
                            {"version": 2, "sections": SECTIONS, "note": None})
    found(p.verify(), position, "this version changes nothing")


def test_verify_finds_a_comment_after_the_close_and_a_close_before_it(p: Partnership) -> None:
    c.open_consultation(p.ledger, p.keys["secretariat"], "K-1", "Past plan", SECTIONS, "members",
                        NOW - timedelta(days=2), NOW - timedelta(days=1))
    late = p.forge_next("cso-air", "consultation", "CX-3", "comment.submitted", {
        "number": 1, "section": "1", "text": "x", "replacement": None, "author": p.person("cso-air"), "version": 1})
    early = p.forge_next("secretariat", "consultation", "CX-2", "consultation.closed", {"statistics": {
        "comments": 0, "from_the_public": 0, "confidential": 0, "accepted": 0, "partly_accepted": 0,
        "not_accepted": 0}})
    report = p.verify()
    found(report, late, "takes comments from")
    found(report, early, "takes comments until")


def test_verify_finds_a_refusal_without_a_reason(p: Partnership) -> None:
    comment(p, "cso-air")
    position = p.forge_next("secretariat", "consultation", "CX-2", "comment.answered",
                            {"comment": 1, "answer": "not_accepted", "reason": None, "version": None})
    found(p.verify(), position, "needs a reason")


def test_verify_finds_an_adjustment_answered_twice_or_due_on_another_day(p: Partnership) -> None:
    ref = c.request_adjustment(p.ledger, p.keys["cso-tenants"], "K-1", "CX-1", "Review the hours in May.")
    c.answer_adjustment(p.ledger, p.keys["secretariat"], ref, "granted", "Reviewed in May.")
    twice = p.forge_next("secretariat", "adjustment", ref, "adjustment.answered",
                         {"decision": "refused", "text": "No."})
    early = p.forge_next("cso-tenants", "adjustment", "AR-2", "adjustment.requested", {
        "ref": "AR-2", "committee": "K-1", "subject": "CX-1", "party": "tenants-union", "text": "x",
        "due": (datetime.now(UTC) + timedelta(days=1)).date().isoformat()})
    report = p.verify()
    found(report, twice, "already answered")
    found(report, early, "the answer's due date is the covenant's")
