"""The core governance rules of issue 11, on both databases: refused on write, and
found by `ledger verify` when the keeper forges them with valid keys and plain SQL."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from ledger import Ledger
from ledger import commands as c
from ledger import record as rec
from ledger.demo import PEOPLE
from ledger.domain.base import RuleError, stream_id
from tests.helpers import forge
from tests.test_keeper_attacks import Partnership

HOLDER = {stem: holder for stem, holder, _ in PEOPLE}


def _voting(url: str, tmp_path: Path) -> tuple[Partnership, Ledger]:
    """The demo partnership with MT-4 held and M-7 open; Clean Air Now has voted yes."""
    partnership = Partnership(url, tmp_path / "state")
    ledger = Ledger(url)
    s = partnership.signers
    c.record_attendance(ledger, s["secretariat"], "MT-4", [HOLDER[k] for k in ("party", "cso-air", "cso-tenants",
                                                                               "cso-cycle")])
    c.propose_motion(ledger, s["cso-air"], "MT-4", 1, "ordinary", "Enforce bus lanes.")
    c.second_motion(ledger, s["cso-cycle"], "M-7")
    c.open_vote(ledger, s["secretariat"], "M-7")
    c.cast_vote(ledger, s["cso-air"], "M-7", "yes")
    return partnership, ledger


def _append_forged(partnership: Partnership, ledger: Ledger, signer: str, data: dict[str, object],
                   rtype: str = "motion.vote_cast") -> int:
    """The keeper appends a validly signed, correctly chained record with plain SQL."""
    sid = stream_id(ledger.origin, "motion", "M-7")
    found = ledger.recorder.select_events(sid, desc=True, limit=1)
    head = rec.parse(bytes(found[0].state))
    raw = forge(partnership.signers[signer], ledger=ledger.origin, stream=str(sid), seq=head.seq + 1, type=rtype,
                prev=head.event_hash, data=data)
    position = ledger.size()
    partnership.drop_guards()
    stream_value = uuid.UUID(str(sid)).bytes if "://" not in partnership.url else str(sid)
    partnership.sql("INSERT INTO ledger_events (originator_id, originator_version, topic, state) VALUES (?, ?, ?, ?)",
                    params=(stream_value, head.seq + 1, rtype, raw))
    (row_id,) = partnership.sql("SELECT max(id) FROM ledger_events")[0]
    partnership.sql("INSERT INTO ledger_log (position, notification_id, event_hash) VALUES (?, ?, ?)",
                    params=(position, row_id, rec.event_hash(raw)))
    partnership.restore_guards_exactly()
    return position


def test_the_secretariat_cannot_overwrite_an_own_vote_on_either_database(db_url: str, tmp_path: Path) -> None:
    partnership, ledger = _voting(db_url, tmp_path)
    try:
        with pytest.raises(RuleError, match="voted with their own key; only they can change their vote"):
            c.cast_vote(ledger, partnership.signers["secretariat"], "M-7", "no", member=HOLDER["cso-air"])
        air = partnership.signers["cso-air"].key_id
        position = _append_forged(partnership, ledger, "secretariat", {"member": air, "choice": "no",
                                                                        "on_behalf": True})
    finally:
        ledger.close()
    result = partnership.verify()
    assert result.returncode == 1
    assert any(line.startswith(f"{position} ") and "only they can change their vote" in line
               for line in result.stdout.splitlines()), result.stdout


def test_a_late_conflict_excludes_the_vote_on_either_database(db_url: str, tmp_path: Path) -> None:
    partnership, ledger = _voting(db_url, tmp_path)
    try:
        s = partnership.signers
        c.declare_conflict(ledger, s["cso-air"], "MT-4", HOLDER["cso-air"], [1], "Advises the bus operator")
        with pytest.raises(RuleError, match="declared a conflict on item 1 and is recused"):
            c.cast_vote(ledger, s["cso-air"], "M-7", "yes")
        tally = {"seated": 5, "present": 4, "yes": 1, "no": 0, "abstain": 0}
        position = _append_forged(partnership, ledger, "secretariat",
                                  {"tally": tally, "result": "pass", "explanation": "carried", "excluded": []},
                                  rtype="motion.closed")
    finally:
        ledger.close()
    result = partnership.verify()
    assert result.returncode == 1
    assert any(line.startswith(f"{position} ") and "the votes excluded for conflicts (0)" in line
               for line in result.stdout.splitlines()), result.stdout
