"""Sealed content: confidential text encrypted with age, committed to by records, kept apart.

A record never holds confidential content.  It holds a *sealed payload*::

    {"sealed": {"sha256": HEX, "size": BYTES, "recipients": ["age1...", ...]}}

where HEX is the SHA-256 of an age v1 file (C2SP age, X25519 recipients, made
with ``pyrage``) encrypting the content to the recipients.  The age file itself
is kept in the sealed store (``ledger_sealed``), a table beside the
append-only log, keyed by the digest: it can be erased (``sealed.erased``, a
signed record saying who erased what and why) and every record still verifies,
because the record commits to the file without containing it.  ``ledger
verify`` checks every kept file against its digest (a missing or erased one is
not a finding; an altered one is).  Anyone holding a recipient's identity can
decrypt a file with the standard ``age`` tool: ``age -d -i NAME.age FILE``.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ledger.errors import InvalidInputError, KeyFileError, NotFoundError

RECIPIENT_RE = re.compile(r"^age1[02-9ac-hj-np-z]{58}$")  # bech32, X25519
MAX_SEALED = 1024 * 1024  # 1 MiB of content: testimony and replies, not archives


def check_recipient(text: object) -> str:
    if not isinstance(text, str) or not RECIPIENT_RE.match(text):
        raise InvalidInputError(f"{str(text)[:70]!r} is not an age X25519 recipient (age1... as age-keygen prints)")
    return text


@dataclass(frozen=True)
class Sealed:
    """An age file and the payload a record holds for it."""

    digest: str
    size: int
    recipients: tuple[str, ...]
    content: bytes  # the age file

    def payload(self) -> dict[str, Any]:
        return {"sealed": {"sha256": self.digest, "size": self.size, "recipients": list(self.recipients)}}


def seal(text: bytes, recipients: list[str]) -> Sealed:
    """Encrypt ``text`` to every recipient (at least one) as an age v1 file."""
    import pyrage

    if not recipients:
        raise InvalidInputError("sealed content needs at least one recipient")
    if len(text) > MAX_SEALED:
        raise InvalidInputError(f"sealed content is limited to {MAX_SEALED // 1024} KiB")
    keys = sorted({check_recipient(r) for r in recipients})
    from ledger import determinism

    recorded = determinism.current()
    given = recorded.take_sealed() if recorded is not None else None
    if given is not None:
        # The same command run again with its signatures: the file its prepared run made.
        if not given.startswith(b"age-encryption.org/v1\n") or len(given) > MAX_SEALED + 64 * 1024:
            raise InvalidInputError("the sealed file given back is not an age v1 file")
        age_file = given
    else:
        age_file = pyrage.encrypt(text, [pyrage.x25519.Recipient.from_str(r) for r in keys])
    if recorded is not None:
        recorded.made_sealed.append(age_file)
    return Sealed(hashlib.sha256(age_file).hexdigest(), len(age_file), tuple(keys), age_file)


def check_payload(value: object) -> dict[str, Any]:
    """A sealed payload as records hold it (InvalidInputError if malformed)."""
    inner = value.get("sealed") if isinstance(value, dict) and set(value) == {"sealed"} else None
    if not isinstance(inner, dict) or set(inner) != {"sha256", "size", "recipients"}:
        raise InvalidInputError('a sealed payload is {"sealed": {"sha256", "size", "recipients"}}')
    if not isinstance(inner["sha256"], str) or not re.fullmatch(r"[0-9a-f]{64}", inner["sha256"]):
        raise InvalidInputError("a sealed payload's sha256 is 64 lowercase hex digits")
    if not isinstance(inner["size"], int) or isinstance(inner["size"], bool) or inner["size"] <= 0:
        raise InvalidInputError("a sealed payload's size is a positive number of bytes")
    recipients = inner["recipients"]
    if not isinstance(recipients, list) or not recipients:
        raise InvalidInputError("a sealed payload names at least one recipient")
    for recipient in recipients:
        check_recipient(recipient)
    return value  # type: ignore[return-value]


# --- identities -----------------------------------------------------------

def write_identity(path: Path, identity: Any = None) -> str:
    """Write an age identity file (a new one unless given; mode 0600, as age-keygen writes
    it); return its recipient."""
    import pyrage

    if path.exists():
        raise KeyFileError(f"{path} already exists; refusing to overwrite a key")
    identity = identity or pyrage.x25519.Identity.generate()
    recipient = str(identity.to_public())
    text = (f"# created: {datetime.now(UTC).strftime('%Y-%m-%dT%H:%M:%SZ')}\n"
            f"# public key: {recipient}\n{identity}\n")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(text)
    return recipient


def read_identity(path: str | Path) -> Any:
    """An age identity file (age-keygen's format: comments, then AGE-SECRET-KEY-1...)."""
    import pyrage

    try:
        lines = Path(path).read_text(encoding="ascii").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise KeyFileError(f"cannot read age identity {path}: {getattr(exc, 'strerror', None) or exc}") from None
    secrets = [line.strip() for line in lines if line.strip().startswith("AGE-SECRET-KEY-1")]
    if len(secrets) != 1:
        raise KeyFileError(f"{path} is not an age identity file (one AGE-SECRET-KEY-1... line)")
    try:
        return pyrage.x25519.Identity.from_str(secrets[0])
    except pyrage.IdentityError:
        raise KeyFileError(f"{path} holds an unreadable age identity") from None


def recipient_of(value: str) -> str:
    """An age recipient given directly (age1...) or as an identity file whose recipient it is."""
    if RECIPIENT_RE.match(value.strip()):
        return value.strip()
    return str(read_identity(value).to_public())


def open_sealed(content: bytes, identity_path: str | Path) -> bytes:
    """Decrypt an age file with an identity file (KeyFileError if it is not one of its recipients)."""
    import pyrage

    try:
        return bytes(pyrage.decrypt(content, [read_identity(identity_path)]))
    except pyrage.DecryptError:
        raise KeyFileError(f"{identity_path} cannot open this sealed content (not one of its recipients)") from None


# --- the store ---------------------------------------------------------------

def keep(session: Any, sealed: list[Sealed], kept_at: str) -> None:
    """Store age files in the writing transaction (the same digest is the same file)."""
    from sqlalchemy import insert, select

    from ledger.store import sealed_table

    for item in sealed:
        if session.execute(select(sealed_table.c.digest).where(sealed_table.c.digest == item.digest)).first():
            continue
        session.execute(insert(sealed_table).values(digest=item.digest, size=item.size, content=item.content,
                                                    kept_at=kept_at))


def erase(session: Any, digest: str) -> None:
    """Delete an age file from the store (the erasure's record is written by the same command)."""
    from sqlalchemy import delete

    from ledger.store import sealed_table

    session.execute(delete(sealed_table).where(sealed_table.c.digest == digest))


def get(ledger: Any, digest: str) -> bytes:
    """A kept age file (NotFoundError when not kept, or erased: the message says which)."""
    from sqlalchemy import select

    from ledger.store import sealed_table

    wanted = digest.strip().lower()
    if not re.fullmatch(r"[0-9a-f]{64}", wanted):
        raise InvalidInputError(f"{digest!r} is not a SHA-256 digest (64 hex digits)")
    row = None
    if ledger.recorder.has_table(sealed_table.name):
        with ledger.recorder.transaction(commit=False) as session:
            row = session.execute(select(sealed_table.c.content).where(sealed_table.c.digest == wanted)).first()
    if row is None:
        erased = erasure_of(ledger, wanted)
        if erased is not None:
            raise NotFoundError(f"sealed content {wanted[:12]}… was erased on {erased['at'][:10]} by "
                                f"{erased['by']}: {erased['reason']}")
        raise NotFoundError(f"no sealed content {wanted[:12]}… is kept in this ledger")
    return bytes(row[0])


def erasure_of(ledger: Any, digest: str) -> dict[str, str] | None:
    """Who erased a sealed file, when and why (from its signed ``sealed.erased`` record)."""
    from eventsourcing.application import AggregateNotFoundError

    from ledger.domain.base import stream_id
    from ledger.domain.sealing import SealedFile

    try:
        found = ledger.repository.get(stream_id(ledger.origin, SealedFile.KIND, digest))
    except AggregateNotFoundError:
        return None
    names = ledger.registry().names()
    return {"at": found.erased_at, "by": names.get(found.erased_by, found.erased_by[:12]), "reason": found.reason}


def mismatches(conn: Any) -> list[str]:
    """Kept age files whose bytes do not hash to their digest (for ``ledger verify``)."""
    from sqlalchemy import select

    from ledger.store import sealed_table

    if not conn.dialect.has_table(conn, sealed_table.name):
        return []
    out: list[str] = []
    t = sealed_table
    last = ""
    while True:
        rows = conn.execute(select(t.c.digest, t.c.content).where(t.c.digest > last).order_by(t.c.digest)
                            .limit(64)).all()
        if not rows:
            return out
        for digest, content in rows:
            if hashlib.sha256(bytes(content)).hexdigest() != digest:
                out.append(f"the sealed file {digest[:12]}… no longer matches its digest: it was altered")
        last = rows[-1][0]
