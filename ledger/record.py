"""The record: the one JSON object that every ledger event is stored as.

This module is the normative record format in code (``docs/format.md`` is the
same in prose).  It builds records, checks that bytes are a well-formed
record in canonical form, and derives the signed message and the event hash.
It knows nothing of storage or of the governance domain.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from typing import Any

import orjson

from ledger.canonical import MAX_SAFE_INTEGER, canonical_record_bytes
from ledger.errors import InvalidInputError, InvalidRecordError

FORMAT_VERSION = 1
SIGNING_DOMAIN = b"governance-ledger/v1\n"
FIELDS = ("v", "ledger", "stream", "seq", "type", "at", "actor", "prev", "data", "sig")

# Limits keep records small enough to verify, export and publish comfortably.
MAX_RECORD_BYTES = 65_535  # an entry bundle prefixes each record with a uint16 length (tlog-tiles)
MAX_STRING_CHARS = 20_000
MAX_DEPTH = 16

ORIGIN_RE = re.compile(r"^[\x21-\x2a\x2c-\x7e]{1,255}$")  # printable ASCII, no space, no '+'
TYPE_RE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")
AT_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$")
HEX64_RE = re.compile(r"^[0-9a-f]{64}$")
# Standard base64 of exactly 64 bytes: 86 characters, the last one carrying
# 2 bits (so its 4 unused bits are zero: A, Q, g or w), then "==".
SIG_RE = re.compile(r"^[A-Za-z0-9+/]{85}[AQgw]==$")
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


@dataclass(frozen=True)
class Record:
    """A parsed, structurally valid record (signature not yet checked)."""

    ledger: str
    stream: str
    seq: int
    type: str
    at: str
    actor: str
    prev: str | None
    data: dict[str, Any]
    sig: str
    raw: bytes  # the canonical bytes, exactly as stored

    @cached_property
    def event_hash(self) -> str:
        return event_hash(self.raw)

    def signed_message(self) -> bytes:
        # ``raw`` is canonical, so removing the sig member gives exactly the
        # canonical bytes of the other nine: no need to encode again.
        span = _sig_span(self.raw)
        if span is None:
            raise InvalidRecordError("record has no sig member")
        cut, end = span
        return SIGNING_DOMAIN + self.raw[:cut] + self.raw[end + 1:]

    def unsigned(self) -> dict[str, Any]:
        return {
            "v": FORMAT_VERSION,
            "ledger": self.ledger,
            "stream": self.stream,
            "seq": self.seq,
            "type": self.type,
            "at": self.at,
            "actor": self.actor,
            "prev": self.prev,
            "data": self.data,
        }

    def signature(self) -> bytes:
        return base64.b64decode(self.sig)

    @cached_property
    def moment(self) -> datetime:
        """``at`` as an aware UTC datetime."""
        return parse_time(self.at)


def event_hash(raw: bytes) -> str:
    """Lowercase hex SHA-256 of the record's canonical bytes, ``sig`` included."""
    return hashlib.sha256(raw).hexdigest()


_SIG_MEMBER = b',"sig":"'


def signing_parts(raw: bytes) -> tuple[bytes, bytes] | None:
    """The signed message and the signature of a stored record's bytes (None if not found).

    In canonical form the top-level ``sig`` member is the last ``,"sig":"``
    in the bytes (only ``stream``, ``type`` and ``v``, whose values cannot
    hold one, follow it), so it is found without parsing.  For a canonical
    record the message is exactly the signing domain plus the canonical bytes
    of the other nine fields.
    """
    span = _sig_span(raw)
    if span is None:
        return None
    cut, end = span
    try:
        signature = base64.b64decode(raw[cut + len(_SIG_MEMBER):end], validate=True)
    except ValueError:  # binascii.Error is a ValueError
        return None
    return SIGNING_DOMAIN + raw[:cut] + raw[end + 1:], signature


def _sig_span(raw: bytes) -> tuple[int, int] | None:
    """Where the top-level sig member starts (its comma) and where its value's closing quote is."""
    cut = raw.rfind(_SIG_MEMBER)
    end = raw.find(b'"', cut + len(_SIG_MEMBER)) if cut >= 0 else -1
    return None if end < 0 else (cut, end)


def signed_message(unsigned: dict[str, Any]) -> bytes:
    """The exact bytes an Ed25519 signature covers."""
    return SIGNING_DOMAIN + canonical_record_bytes(unsigned)


def format_time(moment: datetime) -> str:
    """RFC 3339 UTC with microseconds and ``Z``, as records require."""
    if moment.tzinfo is None:
        raise InvalidInputError("timestamps must be timezone-aware")
    utc = moment.astimezone(UTC).replace(tzinfo=None)
    if utc.year < 1000:  # isoformat (C code, on the write path) pads years to 4 digits too; strftime may not
        raise InvalidInputError(f"time {moment} is before the year 1000")
    return utc.isoformat(timespec="microseconds") + "Z"


def parse_time(text: str) -> datetime:
    """Parse a record's ``at`` (strict format) into an aware UTC datetime."""
    if not AT_RE.match(text):
        raise InvalidRecordError(f"time {text!r} is not RFC 3339 UTC with microseconds and Z")
    try:
        # The regex fixed the layout; fromisoformat (C code) checks the date
        # and reads the Z as UTC.
        return datetime.fromisoformat(text)
    except ValueError as exc:
        raise InvalidRecordError(f"time {text!r} is not a real date: {exc}") from None


def build_unsigned(
    *, ledger: str, stream: str, seq: int, type: str, at: str, actor: str,
    prev: str | None, data: dict[str, Any],
) -> dict[str, Any]:
    """Assemble and validate a record's content before signing."""
    unsigned = {
        "v": FORMAT_VERSION, "ledger": ledger, "stream": stream, "seq": seq,
        "type": type, "at": at, "actor": actor, "prev": prev, "data": data,
    }
    try:
        _check_envelope(unsigned)
        check_data(data)
    except InvalidRecordError as exc:
        raise InvalidInputError(str(exc)) from None
    return unsigned


def build_trusted(
    *, ledger: str, stream: str, seq: int, type: str, at: str, actor: str,
    prev: str | None, data: dict[str, Any],
) -> dict[str, Any]:
    """Like :func:`build_unsigned` for an envelope made by the write side itself.

    The envelope's values come from the ledger's own code (a UUID, a version
    counter, :func:`format_time`, a key id), so only ``data`` (which carries
    user input) is checked here; the write path is hot.
    """
    try:
        check_data(data)
    except InvalidRecordError as exc:
        raise InvalidInputError(str(exc)) from None
    return {"v": FORMAT_VERSION, "ledger": ledger, "stream": stream, "seq": seq,
            "type": type, "at": at, "actor": actor, "prev": prev, "data": data}


def sign_record(unsigned: dict[str, Any], sign: Callable[[bytes], bytes]) -> Record:
    """Sign validated content and seal it, encoding the content only once."""
    content = canonical_record_bytes(unsigned)
    return _sealed(unsigned, content, sign(SIGNING_DOMAIN + content))


def seal(unsigned: dict[str, Any], signature: bytes) -> bytes:
    """Attach a signature; return the canonical bytes of the whole record."""
    return seal_record(unsigned, signature).raw


def seal_record(unsigned: dict[str, Any], signature: bytes) -> Record:
    """Attach a signature to validated content (from :func:`build_unsigned`)."""
    return _sealed(unsigned, canonical_record_bytes(unsigned), signature)


def _sealed(unsigned: dict[str, Any], content: bytes, signature: bytes) -> Record:
    sig = base64.b64encode(signature).decode("ascii")
    raw = _with_sig(content, sig)
    if len(raw) > MAX_RECORD_BYTES:
        raise InvalidInputError(
            f"record of type {unsigned['type']} is {len(raw)} bytes; the limit is {MAX_RECORD_BYTES}"
        )
    return Record(
        ledger=unsigned["ledger"], stream=unsigned["stream"], seq=unsigned["seq"], type=unsigned["type"],
        at=unsigned["at"], actor=unsigned["actor"], prev=unsigned["prev"], data=unsigned["data"],
        sig=sig, raw=raw,
    )


def _with_sig(unsigned_bytes: bytes, sig: str) -> bytes:
    """Insert ``"sig"`` into canonical unsigned bytes, keeping JCS key order.

    Keys sort as ... "seq", "sig", "stream", ...; the ``"stream"`` member is
    the last one whose name could be found by searching from the right (only
    "type" and "v", with fixed-shape values, follow it), so the splice point
    is exact.  Equivalent to re-encoding the whole record (tested).
    """
    cut = unsigned_bytes.rindex(b',"stream":"')
    return unsigned_bytes[:cut] + b',"sig":"' + sig.encode("ascii") + b'"' + unsigned_bytes[cut:]


def _reject_float(text: str) -> Any:
    raise InvalidRecordError(f"number {text} is not an integer (floats are not allowed in records)")


def _reject_constant(text: str) -> Any:
    raise InvalidRecordError(f"{text} is not allowed in records")


# Built once: json.loads with hooks builds a new decoder on every call.
_DECODER = json.JSONDecoder(parse_float=_reject_float, parse_constant=_reject_constant)


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        raise InvalidRecordError("an object has a duplicate key")
    return obj


def _explain_non_canonical(text: str) -> str:
    try:
        json.loads(text, object_pairs_hook=_no_duplicate_keys)
    except InvalidRecordError as exc:
        return str(exc)
    return "record bytes are not in canonical (RFC 8785) form"


def parse(raw: bytes) -> Record:
    """Parse stored bytes into a :class:`Record`, or raise InvalidRecordError.

    Checks everything that can be checked from the bytes alone: JSON syntax,
    field set and types, the data rules, and that the bytes are exactly the
    canonical form of what they contain.
    """
    if not isinstance(raw, bytes):
        raise InvalidRecordError(f"stored record is {type(raw).__name__}, not bytes")
    if len(raw) > MAX_RECORD_BYTES:
        raise InvalidRecordError(f"record is {len(raw)} bytes; the limit is {MAX_RECORD_BYTES}")
    try:
        return _parse(raw, _fast_load)
    except InvalidRecordError:
        # The standard library's decoder, with hooks that refuse floats and
        # constants as it reads, says precisely what is wrong (and accepts
        # nothing the fast decoder's checks would refuse).
        return _parse(raw, _strict_load)


def _fast_load(raw: bytes) -> Any:
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InvalidRecordError(f"record is not valid JSON: {exc}") from None


def _strict_load(raw: bytes) -> Any:
    try:
        # Duplicate keys need no hook: json keeps one of them, so the bytes
        # cannot equal the canonical form checked below (and _explain says why).
        return _DECODER.decode(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise InvalidRecordError("record is not valid UTF-8") from None
    except json.JSONDecodeError as exc:
        raise InvalidRecordError(f"record is not valid JSON: {exc.msg} at byte {exc.pos}") from None


def _parse(raw: bytes, load: Callable[[bytes], Any]) -> Record:
    obj = load(raw)
    if not isinstance(obj, dict):
        raise InvalidRecordError("record is not a JSON object")
    moment = _check_envelope(obj)
    sig = obj["sig"]
    if not isinstance(sig, str) or not SIG_RE.match(sig):
        raise InvalidRecordError("sig is not standard base64 of 64 bytes")
    check_data(obj["data"])
    if canonical_record_bytes(obj) != raw:
        raise InvalidRecordError(_explain_non_canonical(raw.decode("utf-8", "replace")))
    # The fields straight into the instance (verification parses every record;
    # a frozen dataclass's __init__ sets each field through object.__setattr__),
    # with moment and event_hash set now: every reader of parsed records needs
    # both, and a cached_property lookup costs more than the work.
    record: Record = object.__new__(Record)
    fields = record.__dict__
    fields.update(obj)
    del fields["v"]
    fields["raw"] = raw
    fields["moment"] = moment
    fields["event_hash"] = hashlib.sha256(raw).hexdigest()
    return record


def load_stored(raw: bytes) -> Record:
    """A stored record, read without re-checking it (for derived views).

    Views and listings read the ledger's own records; checking them is
    ``ledger verify``'s job (see :func:`parse`), and a view is never trusted.
    """
    obj = orjson.loads(raw)
    return Record(
        ledger=obj["ledger"], stream=obj["stream"], seq=obj["seq"], type=obj["type"], at=obj["at"],
        actor=obj["actor"], prev=obj["prev"], data=obj["data"], sig=obj["sig"], raw=raw,
    )


_SIGNED_FIELDS = frozenset(FIELDS)
_UNSIGNED_FIELDS = _SIGNED_FIELDS - {"sig"}
# Values already seen to be well formed.  Origins, types and signers repeat on
# nearly every record; checking each once keeps verification fast.
_KNOWN_GOOD: dict[str, set[str]] = {"ledger": set(), "type": set(), "actor": set()}
_KNOWN_GOOD_LIMIT = 10_000


def _matches(field: str, value: Any, pattern: re.Pattern[str]) -> bool:
    if not isinstance(value, str):
        return False
    seen = _KNOWN_GOOD[field]
    if value in seen:
        return True
    if not pattern.match(value):
        return False
    if len(seen) < _KNOWN_GOOD_LIMIT:
        seen.add(value)
    return True


def _check_envelope(obj: dict[str, Any]) -> datetime:
    """Check the ten envelope fields; return ``at`` parsed."""
    expected = _SIGNED_FIELDS if "sig" in obj else _UNSIGNED_FIELDS
    if obj.keys() != expected:
        missing = sorted(expected - set(obj))
        extra = sorted(set(obj) - expected)
        raise InvalidRecordError(f"record fields wrong (missing {missing}, unexpected {extra})")
    if type(obj["v"]) is not int or obj["v"] != FORMAT_VERSION:  # not 1.0, not true
        raise InvalidRecordError(f"unsupported format version {obj['v']!r}")
    if not _matches("ledger", obj["ledger"], ORIGIN_RE):
        raise InvalidRecordError("ledger origin must be printable ASCII without spaces or '+'")
    if not isinstance(obj["stream"], str) or not UUID_RE.match(obj["stream"]):
        raise InvalidRecordError(f"stream {obj['stream']!r} is not a lowercase canonical UUID")
    seq = obj["seq"]
    if not isinstance(seq, int) or isinstance(seq, bool) or not 1 <= seq <= MAX_SAFE_INTEGER:
        raise InvalidRecordError(f"seq {seq!r} is not a positive integer")
    if not _matches("type", obj["type"], TYPE_RE):
        raise InvalidRecordError(f"type {obj['type']!r} is not a dotted lowercase name")
    if not isinstance(obj["at"], str):
        raise InvalidRecordError("at is not a string")
    moment = parse_time(obj["at"])
    if not _matches("actor", obj["actor"], HEX64_RE):
        raise InvalidRecordError("actor is not a lowercase hex SHA-256 key id")
    prev = obj["prev"]
    if seq == 1 and prev is not None:
        raise InvalidRecordError("prev must be null when seq is 1")
    if seq > 1 and (not isinstance(prev, str) or not HEX64_RE.match(prev)):
        raise InvalidRecordError("prev must be the lowercase hex event hash of the previous record")
    if not isinstance(obj["data"], dict):
        raise InvalidRecordError("data is not a JSON object")
    return moment


# Text a reader sees must be the text that was signed.  Control characters
# can rewrite a terminal line (CR, ESC sequences) or hide text (NUL), and
# bidirectional overrides and isolates reorder what is displayed ("Trojan
# Source", CVE-2021-42574).  Line breaks are allowed only in multi-line fields.
FORBIDDEN_TEXT_RE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
MULTILINE_FIELDS = frozenset({
    "text", "statement", "reason", "notes", "note", "details", "grounds", "finding", "narrative",
    "explanation", "assessment", "outcome", "description", "summary",
})
_CHARACTER_NAMES = {0: "NUL", 7: "BEL", 8: "BS", 9: "TAB", 0x0D: "CR", 0x1B: "ESC", 0x7F: "DEL",
                    0x202E: "RIGHT-TO-LEFT OVERRIDE", 0x202D: "LEFT-TO-RIGHT OVERRIDE"}


def check_text(value: str, field: str | None) -> None:
    """Refuse text that could show a reader something other than what was signed."""
    bad = FORBIDDEN_TEXT_RE.search(value)
    name = f"field {field!r}" if field else "a text field"
    if bad:
        code = ord(bad.group())
        label = _CHARACTER_NAMES.get(code, "a control or bidirectional formatting character")
        raise InvalidRecordError(f"{name} contains U+{code:04X} ({label}), which is not allowed in text")
    if "\n" in value and field not in MULTILINE_FIELDS:
        raise InvalidRecordError(f"{name} is one line of text and cannot contain a line break")


def check_data(value: Any, depth: int = 0, field: str | None = None) -> None:
    """Enforce the data rules: JSON types only, no floats, ASCII keys, limits, readable text."""
    if depth > MAX_DEPTH:
        raise InvalidRecordError(f"data is nested deeper than {MAX_DEPTH} levels")
    if value is None or isinstance(value, bool):
        return
    if isinstance(value, int):
        if abs(value) > MAX_SAFE_INTEGER:
            raise InvalidRecordError(f"integer {value} is outside the safe range ±(2^53-1)")
        return
    if isinstance(value, float):
        raise InvalidRecordError(
            f"{value!r} is a float; floats are not allowed (money is a decimal string)"
        )
    if isinstance(value, str):
        if len(value) > MAX_STRING_CHARS:
            raise InvalidRecordError(f"a text field is {len(value)} characters; the limit is {MAX_STRING_CHARS}")
        _check_encodable(value)
        check_text(value, field)
        return
    if isinstance(value, list):
        for item in value:
            if not _is_plain_leaf(item):
                check_data(item, depth + 1, field)
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str) or not key.isascii():
                raise InvalidRecordError(f"object key {key!r} is not an ASCII string")
            if not _is_plain_leaf(item):
                check_data(item, depth + 1, key)
        return
    raise InvalidRecordError(f"{type(value).__name__} values are not allowed in records")


def _is_plain_leaf(value: Any) -> bool:
    """True for values that certainly pass: short ASCII text, safe integers, booleans, null.

    Most fields are such; answering without a call per field keeps
    verification fast.  Anything else gets the full checks.
    """
    kind = type(value)
    if kind is str:
        # isprintable() is False for every control character, line breaks included.
        return len(value) <= MAX_STRING_CHARS and value.isascii() and value.isprintable()
    if kind is int:
        return bool(-MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER)
    return value is None or kind is bool


def _check_encodable(text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidRecordError("text contains an unpaired surrogate") from None


def canonical_stream(value: str) -> str:
    """Normalise a stream id given by a person; refuse anything else."""
    try:
        return str(uuid.UUID(value))
    except (ValueError, AttributeError, TypeError):
        raise InvalidInputError(f"{value!r} is not a stream id (a UUID)") from None
