"""Public test vectors from tests/vectors (vendored): JCS, Ed25519, C2SP verifier keys."""

from __future__ import annotations

import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ledger.canonical import canonicalize
from ledger.keys import Signer, key_id, parse_verifier_key, verifier_key_string, verify_signature
from tests.conftest import VECTORS

JCS_CASES = sorted(p.name for p in (VECTORS / "jcs" / "input").glob("*.json"))
ED25519_CASES = json.loads((VECTORS / "ed25519" / "rfc8032_7.1_ed25519.json").read_text())
NOTE_CASES = [c for c in json.loads((VECTORS / "signed-note" / "signed_note_vectors.json").read_text())["cases"]
              if "vkey" in c]


def test_all_jcs_vectors_are_present() -> None:
    assert JCS_CASES == ["arrays.json", "french.json", "structures.json", "unicode.json", "values.json",
                         "weird.json"]


@pytest.mark.parametrize("name", JCS_CASES)
def test_jcs_vector(name: str) -> None:
    value = json.loads((VECTORS / "jcs" / "input" / name).read_text(encoding="utf-8"))
    expected = (VECTORS / "jcs" / "output" / name).read_bytes()
    assert canonicalize(value) == expected


@pytest.mark.parametrize("case", ED25519_CASES, ids=[c["name"] for c in ED25519_CASES])
def test_ed25519_vector(case: dict[str, str]) -> None:
    signer = Signer(Ed25519PrivateKey.from_private_bytes(bytes.fromhex(case["secret_key"])))
    message = bytes.fromhex(case["message"])
    assert signer.public_bytes.hex() == case["public_key"]
    assert signer.sign(message).hex() == case["signature"]
    assert verify_signature(bytes.fromhex(case["public_key"]), bytes.fromhex(case["signature"]), message)
    assert signer.key_id == key_id(bytes.fromhex(case["public_key"]))


def test_ed25519_rejects_a_changed_message() -> None:
    case = ED25519_CASES[2]
    assert not verify_signature(bytes.fromhex(case["public_key"]), bytes.fromhex(case["signature"]), b"other")


@pytest.mark.parametrize("case", NOTE_CASES, ids=[c["vkey"].split("+")[0] for c in NOTE_CASES])
def test_c2sp_verifier_keys_parse_and_round_trip(case: dict[str, str]) -> None:
    name, kid, public = parse_verifier_key(case["vkey"])
    assert verifier_key_string(name, public) == case["vkey"]
    assert len(kid) == 4
