"""A Ledger keeps objects between commands (brought up to date from the records),
and forgets them when a transaction does not commit: nothing rolled back is ever
seen again."""

from __future__ import annotations

from pathlib import Path

import pytest

from ledger import NotFoundError
from ledger import commands as c
from ledger.domain.base import stream_id
from ledger.domain.motion import Motion
from tests.test_domain_rules import Partnership
from tests.test_membership import in_session


@pytest.fixture
def p(tmp_path: Path) -> Partnership:
    return in_session(tmp_path)


def test_a_rolled_back_batch_leaves_nothing_in_the_cache(p: Partnership) -> None:
    led, k = p.ledger, p.keys
    m7 = c.propose_motion(led, k["cso-air"], "MT-4", 1, "ordinary", "Enforce bus lanes.")
    with pytest.raises(RuntimeError), led.batch():
        c.second_motion(led, k["cso-tenants"], m7)
        c.propose_motion(led, k["cso-cycle"], "MT-4", 1, "ordinary", "Widen the pavements.")
        raise RuntimeError("the meeting's secretary pulled the plug")
    assert led.repository.get(stream_id(led.origin, Motion.KIND, m7)).status == "proposed"  # not seconded
    with pytest.raises(NotFoundError):
        c.second_motion(led, k["cso-air"], "M-8")  # never created
    c.second_motion(led, k["cso-tenants"], m7)  # and the real history goes on
    assert led.repository.get(stream_id(led.origin, Motion.KIND, m7)).status == "seconded"
    assert p.verify().ok


def test_another_process_writing_is_seen_through_the_cache(p: Partnership) -> None:
    from ledger import Ledger

    led, k = p.ledger, p.keys
    m7 = c.propose_motion(led, k["cso-air"], "MT-4", 1, "ordinary", "Enforce bus lanes.")
    other = Ledger(str(p.path))  # another writer on the same file
    try:
        c.second_motion(other, k["cso-tenants"], m7)
    finally:
        other.close()
    c.open_vote(led, k["secretariat"], m7)  # our cached copy is brought up to date, so this is allowed
    assert led.repository.get(stream_id(led.origin, Motion.KIND, m7)).status == "voting"
