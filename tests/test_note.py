"""C2SP signed notes, checkpoints and cosignatures against the shared vectors."""

from __future__ import annotations

import json

import pytest

from ledger import merkle, note
from ledger.keys import Signer
from tests.conftest import VECTORS

CASES = json.loads((VECTORS / "signed-note" / "signed_note_vectors.json").read_text())["cases"]
SIGNED = [c for c in CASES if "vkey" in c]


@pytest.mark.parametrize("case", SIGNED, ids=[c["vkey"].split("+")[0] for c in SIGNED])
def test_signed_note_vectors_verify(case: dict[str, str]) -> None:
    name, type_byte, public = note.parse_vkey(case["vkey"])
    assert type_byte == 0x01
    parsed = note.parse(case["note"])
    if case["expect"] == "valid":
        note.verify(parsed, name, public)
    else:
        with pytest.raises(note.NoteError):
            note.verify(parsed, name, public)


def test_the_private_key_case_reproduces_the_note_byte_for_byte() -> None:
    [case] = [c for c in CASES if "skey" in c]
    name, signer = note.signer_from_skey(case["skey"])
    text = note.parse(case["note"]).text
    assert note.sign(text, name, signer).render() == case["note"]


def test_the_unsigned_tree_note_is_a_checkpoint_body() -> None:
    [case] = [c for c in CASES if "note_text" in c]
    checkpoint = note.parse_checkpoint(case["note_text"])
    assert checkpoint.root == merkle.leaf_hash(b"hello world")
    assert checkpoint.text() == case["note_text"]


def test_a_changed_checkpoint_fails() -> None:
    log = Signer.generate()
    signed = note.sign_checkpoint(note.Checkpoint("example.org/log", 5, b"\x11" * 32), log)
    forged = note.parse(signed.render().replace("\n5\n", "\n6\n"))
    with pytest.raises(note.NoteError, match="does not verify"):
        note.verify(forged, "example.org/log", log.public_bytes)


def test_cosignatures_round_trip_and_bind_the_text() -> None:
    log, witness = Signer.generate(), Signer.generate()
    signed = note.sign_checkpoint(note.Checkpoint("example.org/log", 5, b"\x11" * 32), log)
    cosigned = note.parse(note.cosign(signed, "witness.example", witness, 1_700_000_000).render())
    assert note.verify_cosignature(cosigned, "witness.example", witness.public_bytes) == 1_700_000_000
    note.verify(cosigned, "example.org/log", log.public_bytes)  # the log's own signature still there
    tampered = note.Note(cosigned.text.replace("5", "7"), cosigned.signatures)
    with pytest.raises(note.NoteError):
        note.verify_cosignature(tampered, "witness.example", witness.public_bytes)
    vkey = note.cosigner_vkey("witness.example", witness.public_bytes)
    assert note.parse_vkey(vkey) == ("witness.example", 0x04, witness.public_bytes)
