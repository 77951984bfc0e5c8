"""Signing where the key is: prepare a command, sign its records elsewhere, submit.

A member's private key never leaves their device.  The server runs the
member's command with a :class:`RemoteSigner` in place of a key: every rule is
applied exactly as for a local command, and each record's signed message
(``SIGNING_DOMAIN`` + canonical bytes, format.md §2) is handed back instead of
being signed.  The member signs those messages (Ed25519 is deterministic over
the message, so nothing else is needed) and sends the signatures; the server
runs the same command again with the signatures at hand and the same clock
reading, and the records come out byte for byte as prepared, or, when the log
moved on meanwhile, differently: then nothing is written and the client
prepares again (:class:`MovedOnError`).

A command whose second record in a stream follows its first needs the first
one's signature before the second's bytes are known (``prev``, or a citation in
``data``, is the first's event hash, which covers its signature).  Such records are *provisional* in a
round; the client signs what is final, asks again, and gets the rest: one
round per record chained inside the command, usually one in all.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from ledger import record as rec
from ledger.canonical import canonical_record_bytes
from ledger.errors import ConflictError, InvalidInputError, UnauthorisedError
from ledger.keys import verify_signature

# How far a submitted command's time may be from the server's clock: long
# enough for a person to read what they sign, short enough that nobody can
# choose when their act happened.
MAX_SKEW = timedelta(minutes=10)
_PLACEHOLDER = b"\0" * 64


class MovedOnError(ConflictError):
    """The ledger changed since the command was prepared: prepare and sign it again."""


@dataclass
class Wanted:
    """One record a command would write, and whether its bytes are final yet."""

    message: bytes
    unsigned: dict[str, Any]
    final: bool

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.message).hexdigest()

    def to_json(self) -> dict[str, Any]:
        return {
            "record": self.unsigned,
            "message": base64.b64encode(self.message).decode("ascii"),
            "message_sha256": self.digest,
            "final": self.final,
        }


@dataclass
class RemoteSigner:
    """A signer whose private key is elsewhere.

    ``sign`` answers with the signature its holder gave for exactly that
    message (checked against the registered public key), or, while
    preparing, notes the message and answers with a placeholder.
    """

    key_id: str
    public_bytes: bytes
    signatures: dict[str, bytes] = field(default_factory=dict)
    preparing: bool = True
    wanted: list[Wanted] = field(default_factory=list)
    signed: list[str] = field(default_factory=list)  # event hashes of the records signed, in order
    _provisional_hashes: set[str] = field(default_factory=set)

    def sign(self, message: bytes) -> bytes:
        digest = hashlib.sha256(message).hexdigest()
        given = self.signatures.get(digest)
        if given is not None:
            if not verify_signature(self.public_bytes, given, message):
                raise UnauthorisedError(f"the signature given for record {digest[:12]}… does not verify "
                                        f"with key {self.key_id[:12]}")
            self.signed.append(rec.seal_record(json.loads(message[len(rec.SIGNING_DOMAIN):]), given).event_hash)
            return given
        if not self.preparing:
            raise MovedOnError("the ledger moved on since this command was prepared (its records would now "
                               "differ from what was signed); nothing was written: prepare and sign it again")
        unsigned = json.loads(message[len(rec.SIGNING_DOMAIN):])
        # Provisional when it names (as prev, or cites in its data) a record of this
        # command whose signature is not known yet; everything after it waits too.
        final = self.complete and not any(h.encode() in message for h in self._provisional_hashes)
        self.wanted.append(Wanted(message, unsigned, final))
        self._provisional_hashes.add(rec.seal_record(unsigned, _PLACEHOLDER).event_hash)
        return _PLACEHOLDER

    @property
    def pending(self) -> list[Wanted]:
        return [w for w in self.wanted if w.final]

    @property
    def complete(self) -> bool:
        """True when every record of the command was final this round (one more signing, then submit)."""
        return all(w.final for w in self.wanted)


def parse_signatures(given: Any) -> dict[str, bytes]:
    """``{"<sha256 of message, hex>": "<base64 signature>"}`` from a request."""
    if given is None:
        return {}
    if not isinstance(given, dict):
        raise InvalidInputError("signatures must be an object of message SHA-256 (hex) to base64 signature")
    out: dict[str, bytes] = {}
    for digest, value in given.items():
        if not (isinstance(digest, str) and len(digest) == 64 and all(c in "0123456789abcdef" for c in digest)):
            raise InvalidInputError(f"signature key {str(digest)[:70]!r} is not a lowercase hex SHA-256")
        try:
            signature = base64.b64decode(value, validate=True) if isinstance(value, str) else b""
        except (binascii.Error, ValueError):
            signature = b""
        if len(signature) != 64:
            raise InvalidInputError(f"the signature for {digest[:12]}… is not 64 bytes of base64")
        out[digest] = signature
    return out


def command_time(given: Any, now: datetime | None = None) -> datetime:
    """The time a prepared command carries, refused when too far from the server's clock."""
    now = now or datetime.now(UTC)
    if given is None:
        return now
    if not isinstance(given, str):
        raise InvalidInputError("at must be the time the server returned when preparing (RFC 3339)")
    try:
        moment = rec.parse_time(given)
    except Exception:
        raise InvalidInputError(f"at {given[:40]!r} is not a time in the records' format") from None
    if abs(moment - now) > MAX_SKEW:
        raise MovedOnError(f"this command was prepared at {given}, more than {int(MAX_SKEW.total_seconds() // 60)} "
                           f"minutes from now; nothing was written: prepare and sign it again")
    return moment


def sign_messages(signer: Any, wanted: list[dict[str, Any]]) -> dict[str, str]:
    """The client's half: sign each final message it was given, after checking the
    message is what the record says (the server cannot slip in other bytes)."""
    out: dict[str, str] = {}
    for item in wanted:
        message = base64.b64decode(item["message"])
        expected = rec.SIGNING_DOMAIN + canonical_record_bytes(item["record"])
        if message != expected:
            raise InvalidInputError("the server's message to sign is not the record it shows; refusing to sign")
        if item["record"].get("actor") != signer.key_id:
            raise InvalidInputError("the server asks for a record in someone else's name; refusing to sign")
        out[hashlib.sha256(message).hexdigest()] = base64.b64encode(signer.sign(message)).decode("ascii")
    return out
