"""People over time: identities outlive keys.

Seats, representation, chairs, neutrals' assignments and votes belong to a
person; keys are how the person signs at a given time.  Starts from the demo
partnership and rotates every key it was founded with.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ledger import Signer, UnauthorisedError
from ledger import commands as c
from ledger.domain.base import RuleError
from ledger.domain.motion import Motion
from ledger.errors import RefusedError
from projections.describe import load
from tests.helpers import snapshot
from tests.test_domain_rules import Partnership, found


@pytest.fixture
def p(tmp_path: Path) -> Partnership:
    return Partnership(tmp_path / "demo")


def _rotate_everyone(p: Partnership) -> dict[str, Signer]:
    """Every founding key rotated: by itself, except the ombudsperson's, which is
    'lost' and rotated by the secretariat; the secretariat rotates its own last."""
    registry = p.ledger.registry()
    active = [stem for stem in p.keys if registry.keys[p.keys[stem].key_id].status == "active"]
    new = {stem: Signer.generate() for stem in active}
    for stem in active:
        if stem in ("secretariat", "ombudsperson"):
            continue
        p.ledger.rotate_key(p.keys[stem], p.keys[stem].key_id, new[stem].public_b64, "yearly rotation")
    p.ledger.rotate_key(p.keys["secretariat"], p.keys["ombudsperson"].key_id, new["ombudsperson"].public_b64,
                        "laptop lost")
    p.ledger.rotate_key(p.keys["secretariat"], p.keys["secretariat"].key_id, new["secretariat"].public_b64,
                        "yearly rotation")
    return new


def test_every_founding_key_rotated_and_the_partnership_goes_on(p: Partnership) -> None:
    k = _rotate_everyone(p)
    old = {stem: p.keys[stem] for stem in k}
    registry = p.ledger.registry()
    for stem, signer in old.items():
        assert registry.keys[signer.key_id].status == "retired"
        assert registry.keys[k[stem].key_id].person == registry.keys[signer.key_id].person  # the same person
        assert registry.keys[k[stem].key_id].holder == p.holder[stem]
    # The old keys are retired already: retiring them again is refused, and they sign nothing.
    with pytest.raises(RefusedError, match="already retired"):
        p.ledger.retire_key(k["secretariat"], old["party"].key_id, "left")
    with pytest.raises(UnauthorisedError, match="retired and can no longer sign"):
        c.record_attendance(p.ledger, old["secretariat"], "MT-4", [p.holder["party"]])

    led, h = p.ledger, p.holder
    # MT-4 (chaired by Cycle Forward by rotation): members with new keys attend, propose, second and vote.
    c.record_attendance(led, k["secretariat"], "MT-4", [h[s] for s in ("party", "cso-air", "cso-tenants",
                                                                       "cso-cycle", "institute")])
    m7 = c.propose_motion(led, k["cso-air"], "MT-4", 1, "ordinary", "Ask the council to enforce bus lanes.")
    c.second_motion(led, k["cso-tenants"], m7)
    c.open_vote(led, k["cso-cycle"], m7)  # the chair, who holds Cycle Forward's seat, with a new key
    for stem in ("cso-air", "cso-tenants", "institute", "cso-cycle"):
        c.cast_vote(led, k[stem], m7, "yes")
    c.cast_vote(led, k["party"], m7, "no")
    c.cast_vote(led, k["party"], m7, "yes")  # a member changes their own vote with their new key
    assert c.close_motion(led, k["cso-cycle"], m7)[0] == "pass"
    # The chair rotates: MT-5 is Urban Health's; its representative opens and closes a vote there.
    c.record_attendance(led, k["secretariat"], "MT-5", [h[s] for s in ("party", "cso-air", "cso-cycle",
                                                                       "institute")])
    m8 = c.propose_motion(led, k["cso-cycle"], "MT-5", 1, "ordinary", "Extend school streets to four schools.")
    c.second_motion(led, k["cso-air"], m8)
    with pytest.raises(RuleError, match=r"only the chair of MT-5 \(urban-health\)"):
        c.open_vote(led, k["cso-cycle"], m8)
    c.open_vote(led, k["institute"], m8)
    for stem in ("party", "cso-air", "cso-cycle"):
        c.cast_vote(led, k[stem], m8, "yes")
    assert c.close_motion(led, k["institute"], m8)[0] == "pass"
    # A dispute, filed by a representative and heard by the ombudsperson, both with new keys.
    d2 = c.file_dispute(led, k["cso-tenants"], "C-1",
                        {"kind": "party", "name": "Riverside Tenants' Union", "party": "tenants-union"},
                        ["civic-renewal"], [c.cited_hash(led, m8)],
                        "Housing estates were not consulted on the bus lanes.")
    c.on_dispute(led, k["secretariat"], d2, lambda ctx, d: d.acknowledge("Received."))
    c.assign_dispute(led, k["secretariat"], d2, h["ombudsperson"], "ombudsperson")
    c.on_dispute(led, k["ombudsperson"], d2, lambda ctx, d: d.record_finding(False, "Consulted on 3 May."))
    c.on_dispute(led, k["ombudsperson"], d2, lambda ctx, d: d.close("Not upheld."))

    report = p.verify()
    assert report.ok, [f.line() for f in report.findings]
    # History signed with the old keys stays the same people's.
    motion = load(led, Motion, "M-1")
    assert motion.proposer == old["cso-air"].key_id
    assert led.registry().name_of(motion.proposer) == h["cso-air"]


def test_a_member_cannot_rotate_someone_elses_key(p: Partnership) -> None:
    before = snapshot(p.ledger)
    with pytest.raises(RuleError, match="rotated by itself, or by the secretariat"):
        p.ledger.rotate_key(p.keys["party"], p.keys["cso-air"].key_id, Signer.generate().public_b64, "")
    assert snapshot(p.ledger) == before


def test_verify_finds_a_rotation_of_someone_elses_key(p: Partnership) -> None:
    new = Signer.generate()
    from ledger.domain.identity import registry_id
    from ledger.keys import key_id

    position = _forge_registry(p, "party", "key.rotated", {
        "key_id": p.keys["cso-air"].key_id, "new_key_id": key_id(new.public_bytes),
        "public_key": new.public_b64, "reason": ""}, registry_id(p.ledger.origin))
    found(p.verify(), position, "a key is rotated by itself, or by the secretariat when it is lost")


def test_a_retired_key_leaves_its_holders_seat(p: Partnership) -> None:
    # Retiring a person's only key never removes their seat; a new key lets them act again.
    p.ledger.retire_key(p.keys["secretariat"], p.keys["cso-tenants"].key_id, "phone stolen")
    with pytest.raises(UnauthorisedError):
        c.second_motion(p.ledger, p.keys["cso-tenants"], "M-1")
    from ledger.domain.committee import Committee
    from projections.describe import load

    assert p.person("cso-tenants") in load(p.ledger, Committee, "K-1").seats
    fresh = Signer.generate()
    p.ledger.rotate_key(p.keys["secretariat"], p.keys["cso-tenants"].key_id, fresh.public_b64, "new phone")
    c.record_attendance(p.ledger, p.keys["secretariat"], "MT-4", [p.holder["cso-tenants"], p.holder["cso-air"]])
    m7 = c.propose_motion(p.ledger, fresh, "MT-4", 1, "ordinary", "Ask the council to enforce bus lanes.")
    c.second_motion(p.ledger, p.keys["cso-air"], m7)
    assert p.verify().ok


def test_a_second_device_key_for_the_same_person(p: Partnership) -> None:
    laptop = Signer.generate()
    info = p.ledger.register_key(p.keys["secretariat"], laptop.public_b64, "", ["member"],
                                 person=p.holder["cso-air"])
    assert info.person == p.keys["cso-air"].key_id and info.holder == p.holder["cso-air"]
    c.record_attendance(p.ledger, p.keys["secretariat"], "MT-4", [p.holder["cso-air"], p.holder["cso-tenants"]])
    m7 = c.propose_motion(p.ledger, laptop, "MT-4", 1, "ordinary", "Ask the council to enforce bus lanes.")
    c.second_motion(p.ledger, p.keys["cso-tenants"], m7)
    # Both keys act for one person: a name still resolves to that person.
    assert p.ledger.registry().resolve_person("Amara Okafor") == p.keys["cso-air"].key_id
    assert p.verify().ok


def _forge_registry(p: Partnership, signer: str, rtype: str, data: dict[str, object], sid: object) -> int:
    from datetime import UTC, datetime

    from ledger import record as rec
    from tests.helpers import append_raw, forge

    registry = p.ledger.registry()
    raw = forge(p.keys[signer], ledger=p.ledger.origin, stream=str(sid), seq=registry.version + 1, type=rtype,
                prev=registry.head_hash, data=data, at=rec.format_time(datetime.now(UTC)))
    append_raw(p.path, raw)
    return p.ledger.size() - 1


def test_keys_rotate_on_the_command_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from cli.main import cli
    from ledger.demo import build_demo

    build_demo(tmp_path / "demo", echo=lambda _text: None)[0].close()
    monkeypatch.chdir(tmp_path / "demo")

    def run(*args: str) -> tuple[int, str]:
        result = CliRunner().invoke(cli, ["--db", "ledger.db", *args], catch_exceptions=False)
        return result.exit_code, result.output

    assert run("keys", "new", "amara-2")[0] == 0
    old = run("keys", "id", "keys/cso-air.pub")[1].strip()
    new = run("keys", "id", "amara-2.pub")[1].strip()
    assert run("keys", "rotate", old[:12], "amara-2.pub", "--reason", "new laptop", "--key", "keys/cso-air.key") == (
        0, f"rotated Amara Okafor (Clean Air Now) to key {new}\n")
    # The old key is spent: rotating it again is refused in one line, and nothing is written.
    assert run("keys", "rotate", old[:12], "amara-2.pub", "--key", "keys/cso-air.key") == (
        1, f"error: key {old[:12]} (Amara Okafor (Clean Air Now)) is retired and can no longer sign\n")
    listed = {k["key_id"]: k for k in __import__("json").loads(run("keys", "list", "--json")[1])["keys"]}
    assert listed[new]["person"] == old and listed[old]["status"] == "retired"
    # The person keeps their seat: the committee shows them by name, once.
    code, shown = run("committee", "show", "K-1")
    assert code == 0 and shown.count("Amara Okafor (Clean Air Now)") == 1
    assert run("verify")[0] == 0
