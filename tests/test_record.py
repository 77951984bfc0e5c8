"""The record format: canonical bytes, strict parsing, hashing, golden bytes."""

from __future__ import annotations

import base64
import hashlib
import json
import re

import pytest
import rfc8785
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st

from ledger import record as rec
from ledger.canonical import MAX_SAFE_INTEGER, canonical_record_bytes
from ledger.errors import InvalidInputError, InvalidRecordError
from ledger.keys import Signer

# A fixed key (RFC 8032 TEST 1) so that the golden record below is reproducible.
GOLDEN_SIGNER = Signer(Ed25519PrivateKey.from_private_bytes(bytes.fromhex(
    "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")))
GOLDEN_UNSIGNED = {
    "v": 1, "ledger": "ledger.example.org/riverside-partnership",
    "stream": "0b7f4e8a-3c1d-4f2a-9e6b-5d4c3b2a1f0e", "seq": 2, "type": "motion.vote_cast",
    "at": "2026-11-22T10:15:00.000000Z", "actor": GOLDEN_SIGNER.key_id,
    "prev": "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "data": {"member": "Amara Okafor", "vote": "yes", "amount": {"value": "1250.00", "currency": "EUR"},
             "note": "Zürich – “quoted”"},
}


def golden_record() -> bytes:
    return rec.seal(GOLDEN_UNSIGNED, GOLDEN_SIGNER.sign(rec.signed_message(GOLDEN_UNSIGNED)))


def test_golden_record_bytes_and_hash_never_change() -> None:
    # These exact bytes are in docs/format.md as the worked example; an
    # independent verifier must reproduce them.  Changing them breaks history.
    raw = golden_record()
    assert raw == (
        '{"actor":"' + GOLDEN_SIGNER.key_id + '","at":"2026-11-22T10:15:00.000000Z",'
        '"data":{"amount":{"currency":"EUR","value":"1250.00"},"member":"Amara Okafor",'
        '"note":"Zürich – “quoted”","vote":"yes"},"ledger":"ledger.example.org/riverside-partnership",'
        '"prev":"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d","seq":2,'
        '"sig":"' + json.loads(raw)["sig"] + '","stream":"0b7f4e8a-3c1d-4f2a-9e6b-5d4c3b2a1f0e",'
        '"type":"motion.vote_cast","v":1}'
    ).encode("utf-8")
    assert GOLDEN_SIGNER.key_id == "21fe31dfa154a261626bf854046fd2271b7bed4b6abe45aa58877ef47f9721b9"
    assert json.loads(raw)["sig"] == (
        "ZKTNuwgFBvj0R2NEY93wHr31FTQFOYDdjwVbnuz6Aa8Q7+1Vz6pXCB7czPYYRi7TEF4AWnEAtaYaf6/acJKYDA=="
    )
    assert rec.event_hash(raw) == hashlib.sha256(raw).hexdigest()
    assert rec.event_hash(raw) == "8c3b063bd84e9821f7d83e752c0a900781d9a4ee1e3105cb4c5f11c6682a77c6"


def test_signed_message_is_domain_line_plus_canonical_unsigned_record() -> None:
    message = rec.signed_message(GOLDEN_UNSIGNED)
    assert message.startswith(b"governance-ledger/v1\n{")
    assert message[len(b"governance-ledger/v1\n"):] == rfc8785.dumps(GOLDEN_UNSIGNED)


def test_parse_round_trip() -> None:
    record = rec.parse(golden_record())
    assert record.unsigned() == GOLDEN_UNSIGNED
    assert record.signed_message() == rec.signed_message(GOLDEN_UNSIGNED)


def _reencode(mutate) -> bytes:  # type: ignore[no-untyped-def]
    obj = json.loads(golden_record())
    mutate(obj)
    return canonical_record_bytes(obj)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b'{"v":1.0}', "floats are not allowed"),
        (golden_record().replace(b'"seq":2', b'"seq":2.0'), "floats are not allowed"),
        (golden_record().replace(b'{"actor"', b'{ "actor"'), "canonical"),
        (golden_record()[:-1] + b',"v":1}', "duplicate key"),
        (b"\xff", "UTF-8"),
        (b"[]", "not a JSON object"),
        (_reencode(lambda o: o.update(seq=0)), "seq 0"),
        (_reencode(lambda o: o.update(prev=None)), "prev must be the lowercase hex"),
        (_reencode(lambda o: o.update(seq=1)), "prev must be null"),
        (_reencode(lambda o: o.update(stream="0B7F4E8A-3C1D-4F2A-9E6B-5D4C3B2A1F0E")), "lowercase canonical UUID"),
        (_reencode(lambda o: o.update(type="MotionVoteCast")), "dotted lowercase"),
        (_reencode(lambda o: o.update(at="2026-11-22T10:15:00Z")), "microseconds"),
        (_reencode(lambda o: o.update(at="2026-02-30T10:15:00.000000Z")), "not a real date"),
        (_reencode(lambda o: o.update(ledger="has space")), "origin"),
        (_reencode(lambda o: o.update(ledger="a+b")), "origin"),
        (_reencode(lambda o: o.update(sig="abc")), "base64 of 64 bytes"),
        (_reencode(lambda o: o.update(v=2)), "format version"),
        (_reencode(lambda o: o.update(extra=1)), re.escape("unexpected ['extra']")),
        (_reencode(lambda o: o.pop("actor")), re.escape("missing ['actor']")),
        (_reencode(lambda o: o["data"].update({"é": 1})), "ASCII"),
        (_reencode(lambda o: o["data"].update(n=MAX_SAFE_INTEGER + 1)), "safe range"),
        (_reencode(lambda o: o["data"].update(t="x" * 20_001)), "limit is 20000"),
    ],
)
def test_parse_refuses(raw: bytes, message: str) -> None:
    with pytest.raises(InvalidRecordError, match=message) as caught:
        rec.parse(raw)
    assert "\n" not in str(caught.value)


def test_building_a_record_with_a_float_is_refused() -> None:
    unsigned = dict(GOLDEN_UNSIGNED, data={"amount": 12.5})
    with pytest.raises(InvalidInputError, match="floats are not allowed"):
        rec.build_unsigned(**{k: v for k, v in unsigned.items() if k != "v"})


def test_oversized_record_is_refused() -> None:
    data = {f"f{i}": "x" * 19_000 for i in range(4)}
    unsigned = dict(GOLDEN_UNSIGNED, data=data)
    with pytest.raises(InvalidInputError, match="limit is 65535"):
        rec.seal(unsigned, b"\0" * 64)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-MAX_SAFE_INTEGER, MAX_SAFE_INTEGER) | st.text(),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(alphabet=st.characters(max_codepoint=127), max_size=8), children, max_size=4),
    max_leaves=20,
)


@given(json_values)
def test_fast_canonical_form_equals_rfc8785(value: object) -> None:
    try:
        expected = rfc8785.dumps(value)
    except rfc8785.CanonicalizationError:
        return  # e.g. lone surrogates, which records refuse anyway
    assert canonical_record_bytes(value) == expected


def test_signature_must_be_canonical_base64() -> None:
    raw = golden_record()
    sig = json.loads(raw)["sig"]
    unpadded = base64.b64encode(base64.b64decode(sig)).decode().rstrip("=")
    with pytest.raises(InvalidRecordError, match="base64"):
        rec.parse(raw.replace(sig.encode(), unpadded.encode()))


@given(json_values, st.binary(min_size=64, max_size=64))
def test_sealing_splices_the_signature_exactly_where_jcs_puts_it(data: object, signature: bytes) -> None:
    unsigned = dict(GOLDEN_UNSIGNED, data={"x": data})
    try:
        rfc8785.dumps(unsigned)
    except rfc8785.CanonicalizationError:
        return
    sealed = rec.seal_record(unsigned, signature)
    assert sealed.raw == rfc8785.dumps(dict(unsigned, sig=base64.b64encode(signature).decode()))


def test_trusted_and_checked_builders_agree() -> None:
    fields = {k: v for k, v in GOLDEN_UNSIGNED.items() if k != "v"}
    assert rec.build_trusted(**fields) == rec.build_unsigned(**fields)
    with pytest.raises(InvalidInputError, match="floats are not allowed"):
        rec.build_trusted(**dict(fields, data={"x": 0.5}))


def test_times_are_written_in_the_record_format_whatever_their_zone() -> None:
    from datetime import UTC, datetime, timedelta, timezone

    plus_two = timezone(timedelta(hours=2))
    assert rec.format_time(datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)) == "2026-01-02T03:04:05.000000Z"
    assert rec.format_time(datetime(2026, 1, 2, 3, 4, 5, 7, tzinfo=plus_two)) == "2026-01-02T01:04:05.000007Z"
    with pytest.raises(InvalidInputError, match="timezone-aware"):
        rec.format_time(datetime(2026, 1, 2))
    with pytest.raises(InvalidInputError, match="before the year 1000"):
        rec.format_time(datetime(999, 12, 31, tzinfo=UTC))


any_json = st.recursive(
    st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=4), children, max_size=3),
    max_leaves=8,
)


@given(st.sampled_from(rec.FIELDS), any_json)
def test_the_fast_parser_accepts_nothing_the_strict_one_refuses(field: str, value: object) -> None:
    # parse() tries orjson first and the standard library (which refuses
    # floats as it reads) only to explain a refusal: so whatever the fast
    # path accepts, the strict path must accept as the same record.
    obj = json.loads(golden_record())
    obj[field] = value
    raw = json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8", "surrogatepass")
    try:
        fast = rec._parse(raw, rec._fast_load)
    except (InvalidRecordError, UnicodeDecodeError):
        return
    assert rec._parse(raw, rec._strict_load) == fast


@pytest.mark.parametrize("field, value", [("v", 1.0), ("seq", 2.0), ("v", True), ("data", {"n": 0.5})])
def test_numbers_that_are_not_integers_are_refused(field: str, value: object) -> None:
    obj = json.loads(golden_record())
    obj[field] = value
    with pytest.raises(InvalidRecordError):
        rec.parse(json.dumps(obj, sort_keys=True, separators=(",", ":")).encode())
