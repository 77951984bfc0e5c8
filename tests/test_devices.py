"""A person enrols another device (a browser) with a key they already hold; everyone
else is registered by the secretariat.  Refused on write, found by verify when forged."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from ledger import Signer
from ledger.domain.identity import key_entry
from tests.test_domain_rules import Partnership, found, refused


@pytest.fixture
def p(tmp_path: Path) -> Partnership:
    return Partnership(tmp_path / "demo")


def test_a_member_enrols_a_device_of_their_own(p: Partnership) -> None:
    device = Signer.generate()
    info = p.ledger.register_key(p.keys["cso-air"], device.public_b64, "", ["member"], person="Amara Okafor")
    assert info.person == p.person("cso-air") and info.status == "active"
    assert p.verify().ok


def test_a_member_cannot_register_keys_for_others_or_with_more_roles(p: Partnership) -> None:
    refused(p, "only the secretariat registers keys for others", lambda: p.ledger.register_key(
        p.keys["cso-air"], Signer.generate().public_b64, "", ["member"], person="Mei Lin"))
    refused(p, "only the secretariat registers keys for others", lambda: p.ledger.register_key(
        p.keys["cso-air"], Signer.generate().public_b64, "Someone New (Nowhere)", ["member"]))
    refused(p, "at most the roles", lambda: p.ledger.register_key(
        p.keys["cso-air"], Signer.generate().public_b64, "", ["member", "secretariat"], person="Amara Okafor"))


def test_verify_finds_a_key_a_member_registered_for_someone_else(p: Partnership) -> None:
    from datetime import UTC, datetime

    from ledger import record as rec
    from tests.helpers import append_raw, forge

    entry = key_entry(Signer.generate().public_b64, "Mei Lin (Cycle Forward)", ["member"])
    registry = p.ledger.registry()
    raw = forge(p.keys["cso-air"], ledger=p.ledger.origin, stream=str(registry.id), seq=registry.version + 1,
                type="key.registered", prev=registry.head_hash, data=dict(entry, person=p.person("cso-cycle")),
                at=rec.format_time(datetime.now(UTC)))
    append_raw(p.path, raw)
    found(p.verify(), p.ledger.size() - 1, "only the secretariat registers keys for others")
    assert base64.b64decode(entry["public_key"])


def test_a_member_submits_in_their_own_name_only_to_a_channel_open_to_members(tmp_path: Path) -> None:
    from ledger import Ledger
    from ledger import commands as c
    from ledger.demo import COVENANT_TERMS, PEOPLE, found_partnership
    from ledger.domain.base import RuleError
    from ledger.verify import verify_ledger
    from tests.helpers import append_raw, forge, snapshot

    channel = dict(COVENANT_TERMS["channels"]["community-voices"])  # type: ignore[index]
    channel.pop("members_submit")
    terms = dict(COVENANT_TERMS, channels={"community-voices": channel})
    ledger = Ledger(str(tmp_path / "l.db"), create=True)
    signers = {stem: Signer.generate() for stem, _, _ in PEOPLE}
    found_partnership(ledger, signers, Signer.generate(), lambda _t: None, terms=terms)
    before = snapshot(ledger)
    with pytest.raises(RuleError, match="only the intake of channel community-voices signs submissions to it"):
        c.submit_feedback(ledger, signers["cso-air"], "C-1", "community-voices", "Sealed words.")
    assert snapshot(ledger) == before
    # The intake may; a forged submission in a member's own name is found by verify.
    c.submit_feedback(ledger, signers["secretariat"], "C-1", "community-voices", "Sealed words.")
    first = ledger.record_at(ledger.size() - 1)
    from ledger.domain.base import stream_id

    data = dict(first.data, ref="FB-2")
    stream = str(stream_id(ledger.origin, "feedback", "FB-2"))
    from datetime import UTC, datetime

    from ledger import record as rec

    append_raw(tmp_path / "l.db", forge(signers["cso-air"], ledger=ledger.origin, stream=stream, seq=1,
                                        type="feedback.submitted", prev=None, data=data,
                                        at=rec.format_time(datetime.now(UTC))))
    ledger.close()
    fresh = Ledger(str(tmp_path / "l.db"))
    report = verify_ledger(fresh)
    fresh.close()
    assert any("only the intake of channel community-voices" in f.reason for f in report.findings), \
        [f.line() for f in report.findings]
