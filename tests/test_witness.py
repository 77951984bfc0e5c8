"""Witness cosigning: consistent checkpoints are cosigned; a fork is refused with evidence."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ledger import Ledger, Signer, load_signer
from ledger import commands as c
from ledger.note import cosigner_vkey, parse, verify_cosignature
from ledger.tlog import TransparencyLog
from ledger.verify import verify_ledger
from ledger.witness import ForkError, WitnessState, cosign_checkpoint


@pytest.fixture
def keeper(tmp_path: Path) -> tuple[Ledger, Path]:
    from ledger.demo import build_demo

    ledger, paths = build_demo(tmp_path / "demo", echo=lambda _t: None)
    ledger.log_key = load_signer(Path(paths["keys"]) / "log.key")
    yield ledger, Path(paths["keys"])
    ledger.close()


def test_a_witness_cosigns_consistent_checkpoints_and_refuses_a_fork(keeper: tuple[Ledger, Path],
                                                                    tmp_path: Path) -> None:
    ledger, keys = keeper
    log = TransparencyLog(ledger)
    witness, state = Signer.generate(), WitnessState(tmp_path / "witness")
    first = log.checkpoint()
    cosigned = cosign_checkpoint(first.note, None, "witness.example", witness, state,
                                 trust=ledger.registry().log_key, now=1_800_000_000)
    assert verify_cosignature(parse(cosigned), "witness.example", witness.public_bytes) == 1_800_000_000
    assert log.add_cosignatures(cosigned) == ["witness.example"]
    assert log.checkpoint(first.size).note == cosigned

    c.attach_dissent(ledger, load_signer(keys / "party.key"), "M-3", "A later statement.")
    second = log.checkpoint()
    proof = log.consistency(first.size, second.size)
    again = cosign_checkpoint(second.note, proof, "witness.example", witness, state)
    assert verify_cosignature(parse(again), "witness.example", witness.public_bytes)

    # The keeper now shows the witness an older, different view: refused, with evidence kept.
    with pytest.raises(ForkError, match="FORK: the log shrank from"):
        cosign_checkpoint(first.note, None, "witness.example", witness, state)
    evidence = list((tmp_path / "witness").glob("*.fork-*.txt"))
    assert len(evidence) == 1
    assert second.note.splitlines()[2] in evidence[0].read_text()


def test_a_bad_consistency_proof_is_a_fork(keeper: tuple[Ledger, Path], tmp_path: Path) -> None:
    ledger, keys = keeper
    log = TransparencyLog(ledger)
    witness, state = Signer.generate(), WitnessState(tmp_path / "witness")
    first = log.checkpoint()
    cosign_checkpoint(first.note, None, "w", witness, state, trust=ledger.registry().log_key)
    c.attach_dissent(ledger, load_signer(keys / "party.key"), "M-3", "Another statement.")
    proof = log.consistency(first.size)
    proof["hashes"] = ["A" * 43 + "=", *proof["hashes"][1:]]  # a hash the log never had
    with pytest.raises(ForkError, match="not consistent"):
        cosign_checkpoint(log.checkpoint().note, proof, "w", witness, state)


def test_verify_reports_the_covenants_witness_requirement(tmp_path: Path) -> None:
    from ledger.demo import COVENANT_TERMS, PEOPLE, found_partnership

    w1, w2 = Signer.generate(), Signer.generate()
    terms = dict(COVENANT_TERMS, witnesses={"required": 1, "keys": [
        cosigner_vkey("w1.example", w1.public_bytes), cosigner_vkey("w2.example", w2.public_bytes)]})
    ledger = Ledger(str(tmp_path / "l.db"), create=True)
    signers = {stem: Signer.generate() for stem, _, _ in PEOPLE}
    log_key = Signer.generate()
    found_partnership(ledger, signers, log_key, lambda _t: None, terms=terms)
    report = verify_ledger(ledger)
    # Witnesses are required, not decorative: until one cosigns, verify fails.
    assert not report.ok
    assert [f.reason for f in report.findings] == [
        "the covenant requires 1 of 2 named witnesses (w1.example, w2.example) to cosign a checkpoint, but no "
        "checkpoint carries 1 valid cosignatures from them"]
    assert report.extra["witnesses"] == {"required": 1, "named": 2, "cosigned_by": [], "met": False}
    log = TransparencyLog(ledger)
    cosigned = cosign_checkpoint(log.checkpoint().note, None, "w2.example", w2, WitnessState(tmp_path / "w"),
                                 trust=ledger.registry().log_key)
    log.add_cosignatures(cosigned)
    assert verify_ledger(ledger).extra["witnesses"]["cosigned_by"] == ["w2.example"]
    assert verify_ledger(ledger).extra["witnesses"]["met"] is True
    assert verify_ledger(ledger).ok
    # A newer checkpoint the witnesses have not cosigned yet: its records are "not yet witnessed".
    ledger.log_key = None
    from ledger import commands as c

    c.attach_dissent(ledger, signers["party"], "M-3", "A later statement.")
    ledger.log_key = log_key
    ledger.checkpoint()
    later = verify_ledger(ledger)
    assert later.ok
    assert later.extra["witnesses"]["met"] is False
    assert later.extra["witnesses"]["witnessed_size"] == 128
    assert later.extra["witnesses"]["not_yet_witnessed"] == 1
    ledger.close()
    assert json.dumps(report.to_json())


def test_import_keeps_only_cosignatures_from_the_named_witnesses(tmp_path: Path) -> None:
    from ledger.bundle import import_bundle, write_bundle
    from ledger.demo import COVENANT_TERMS, PEOPLE, found_partnership
    from ledger.keys import parse_verifier_key
    from ledger.note import Note, cosign
    from ledger.store import cosignature_table

    named, stranger = Signer.generate(), Signer.generate()
    terms = dict(COVENANT_TERMS, witnesses={"required": 1, "keys": [cosigner_vkey("w1.example", named.public_bytes)]})
    ledger = Ledger(str(tmp_path / "l.db"), create=True)
    found_partnership(ledger, {stem: Signer.generate() for stem, _, _ in PEOPLE}, Signer.generate(),
                      lambda _t: None, terms=terms)
    log = TransparencyLog(ledger)
    good = cosign_checkpoint(log.checkpoint().note, None, "w1.example", named, WitnessState(tmp_path / "w"),
                             trust=ledger.registry().log_key)
    log.add_cosignatures(good)
    # A line from a key the covenant does not name, and one that claims the
    # named witness's name but does not verify: neither may get into a replica.
    extra = cosign(parse(good), "mallory.example", stranger, 1_700_000_000)
    forged = cosign(parse(good), "w1.example", stranger, 1_700_000_000)
    with (tmp_path / "b.jsonl").open("wb") as out:
        write_bundle(ledger, out)
    name, _, public = parse_verifier_key(ledger.registry().log_key)
    ledger.close()
    lines = (tmp_path / "b.jsonl").read_bytes().splitlines()
    from ledger.canonical import canonicalize

    padded = Note(extra.text, (*extra.signatures, forged.signatures[-1])).render()
    lines[-1] = canonicalize({"checkpoint": padded})
    (tmp_path / "padded.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    replica = Ledger(str(tmp_path / "r.db"), create=True)
    try:
        report = import_bundle(replica, tmp_path / "padded.jsonl", (name, public))
        assert report.ok, [f.line() for f in report.findings]
        with replica.recorder.transaction(commit=False) as session:
            stored = session.execute(cosignature_table.select()).all()
        assert [row.witness for row in stored] == ["w1.example"]
        assert verify_cosignature(parse(TransparencyLog(replica).checkpoint().note), "w1.example",
                                  named.public_bytes)
    finally:
        replica.close()
