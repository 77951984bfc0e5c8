"""C2SP signed notes, tlog checkpoints and cosignatures (Ed25519).

* signed-note v1.0.0: a UTF-8 text ending in a newline, a blank line, then
  signature lines ``— <name> base64(4-byte key id || signature)``; key id =
  SHA-256(name || "\\n" || 0x01 || public key)[:4]; the signature covers the
  text (everything before the blank line, final newline included).
* tlog-checkpoint v1.0.0: the text is ``<origin>\\n<size>\\n<base64 root>\\n``.
* tlog-cosignature (cosignature/v1): key id type byte 0x04; the signature is
  ``u64 big-endian timestamp || Ed25519 signature`` over
  ``cosignature/v1\\ntime <timestamp>\\n`` + the checkpoint text.

Clients ignore signature lines they do not know, as the specification asks.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import struct
from dataclasses import dataclass

from ledger.errors import InvalidInputError
from ledger.keys import Signer, verify_signature

DASH = "\u2014"
COSIGNATURE_PREFIX = b"cosignature/v1\ntime "


class NoteError(ValueError):
    """A note, checkpoint or signature that does not verify."""


def key_id(name: str, type_byte: int, public: bytes) -> bytes:
    return hashlib.sha256(name.encode("utf-8") + b"\n" + bytes([type_byte]) + public).digest()[:4]


@dataclass(frozen=True)
class Signature:
    name: str
    key_id: bytes
    blob: bytes  # what follows the key id: the signature (or timestamp || signature)

    def line(self) -> str:
        return f"{DASH} {self.name} {base64.b64encode(self.key_id + self.blob).decode('ascii')}\n"


@dataclass(frozen=True)
class Note:
    text: str
    signatures: tuple[Signature, ...]

    def render(self) -> str:
        return self.text + "\n" + "".join(s.line() for s in self.signatures)

    def with_signature(self, signature: Signature) -> Note:
        return Note(self.text, (*self.signatures, signature))


def parse(note: str) -> Note:
    """Split a signed note into its text and signature lines; refuse malformed notes."""
    text, sep, rest = note.partition("\n\n")
    if not sep:
        raise NoteError("a signed note needs a blank line between its text and its signatures")
    text += "\n"
    if "\n\n" in text:
        raise NoteError("note text may not contain blank lines")
    if not rest.endswith("\n"):
        raise NoteError("a signed note must end with a newline")
    signatures = []
    for line in rest[:-1].split("\n"):
        prefix = DASH + " "
        if not line.startswith(prefix):
            raise NoteError(f"malformed signature line {line[:40]!r}")
        name, _, encoded = line[len(prefix):].rpartition(" ")
        try:
            blob = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            raise NoteError(f"signature of {name!r} is not base64") from None
        if not name or " " in name or "+" in name or len(blob) < 5:
            raise NoteError(f"malformed signature line for {name!r}")
        signatures.append(Signature(name, blob[:4], blob[4:]))
    if not signatures:
        raise NoteError("the note has no signatures")
    return Note(text, tuple(signatures))


def sign(text: str, name: str, signer: Signer) -> Note:
    """Sign ``text`` (which must end in a newline) as ``name``."""
    if not text.endswith("\n") or "\n\n" in text:
        raise InvalidInputError("note text must end with one newline and contain no blank lines")
    signature = Signature(name, key_id(name, 0x01, signer.public_bytes), signer.sign(text.encode("utf-8")))
    return Note(text, (signature,))


def verify(note: Note, name: str, public: bytes) -> None:
    """Raise NoteError unless ``note`` carries a valid signature by this key."""
    wanted = key_id(name, 0x01, public)
    for signature in note.signatures:
        if signature.name == name and signature.key_id == wanted:
            if len(signature.blob) == 64 and verify_signature(public, signature.blob, note.text.encode("utf-8")):
                return
            raise NoteError(f"the signature of {name} does not verify")
    raise NoteError(f"the note is not signed by {name}")


# --- checkpoints ------------------------------------------------------------------

@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes

    def text(self) -> str:
        return f"{self.origin}\n{self.size}\n{base64.b64encode(self.root).decode('ascii')}\n"


def parse_checkpoint(text: str) -> Checkpoint:
    lines = text.split("\n")
    if len(lines) < 4 or lines[-1] != "":
        raise NoteError("a checkpoint has an origin, a size and a root, each on its own line")
    origin, size_text, root_text = lines[0], lines[1], lines[2]
    if not origin:
        raise NoteError("the checkpoint origin is empty")
    if not size_text.isdigit() or (size_text != "0" and size_text.startswith("0")):
        raise NoteError(f"checkpoint size {size_text!r} is not a decimal number")
    try:
        root = base64.b64decode(root_text, validate=True)
    except (binascii.Error, ValueError):
        raise NoteError("checkpoint root is not base64") from None
    if len(root) != 32:
        raise NoteError("checkpoint root is not 32 bytes")
    return Checkpoint(origin, int(size_text), root)


def sign_checkpoint(checkpoint: Checkpoint, signer: Signer) -> Note:
    """A checkpoint signed by the log key, whose key name is the origin."""
    return sign(checkpoint.text(), checkpoint.origin, signer)


# --- cosignatures ----------------------------------------------------------------

def cosign(note: Note, name: str, signer: Signer, timestamp: int) -> Note:
    """Add a cosignature/v1 line by witness ``name`` at POSIX ``timestamp``."""
    if not 0 <= timestamp < 2**63:
        raise InvalidInputError("cosignature timestamp out of range")
    message = COSIGNATURE_PREFIX + str(timestamp).encode() + b"\n" + note.text.encode("utf-8")
    blob = struct.pack(">Q", timestamp) + signer.sign(message)
    return note.with_signature(Signature(name, key_id(name, 0x04, signer.public_bytes), blob))


def verify_cosignature(note: Note, name: str, public: bytes) -> int:
    """The timestamp of a valid cosignature by this witness; NoteError otherwise."""
    wanted = key_id(name, 0x04, public)
    for signature in note.signatures:
        if signature.name == name and signature.key_id == wanted:
            if len(signature.blob) != 72:
                raise NoteError(f"the cosignature of {name} has the wrong length")
            timestamp = struct.unpack(">Q", signature.blob[:8])[0]
            message = COSIGNATURE_PREFIX + str(timestamp).encode() + b"\n" + note.text.encode("utf-8")
            if verify_signature(public, signature.blob[8:], message):
                return int(timestamp)
            raise NoteError(f"the cosignature of {name} does not verify")
    raise NoteError(f"the note is not cosigned by {name}")


def cosigner_vkey(name: str, public: bytes) -> str:
    """A witness's verifier key string (type 0x04)."""
    return f"{name}+{key_id(name, 0x04, public).hex()}+{base64.b64encode(bytes([0x04]) + public).decode('ascii')}"


def parse_vkey(text: str) -> tuple[str, int, bytes]:
    """(name, type byte, public key) of a verifier key string; checks its key id."""
    parts = text.strip().split("+", 2)
    if len(parts) != 3:
        raise InvalidInputError("a verifier key looks like name+hex8+base64")
    name, hex_id, encoded = parts
    try:
        kid, blob = bytes.fromhex(hex_id), base64.b64decode(encoded, validate=True)
    except (ValueError, binascii.Error):
        raise InvalidInputError("the verifier key's id or key is malformed") from None
    if len(kid) != 4 or len(blob) != 33 or blob[0] not in (0x01, 0x04):
        raise InvalidInputError("not an Ed25519 verifier key (type 0x01 or 0x04)")
    if key_id(name, blob[0], blob[1:]) != kid:
        raise InvalidInputError("the verifier key's id does not match its name and key")
    return name, blob[0], blob[1:]


def signer_from_skey(text: str) -> tuple[str, Signer]:
    """A C2SP private key string ``PRIVATE+KEY+name+hex8+base64(0x01 || seed)``."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    parts = text.strip().split("+", 4)
    if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"]:
        raise InvalidInputError("a private key string starts PRIVATE+KEY+")
    blob = base64.b64decode(parts[4])
    if len(blob) != 33 or blob[0] != 0x01:
        raise InvalidInputError("not an Ed25519 private key string")
    return parts[2], Signer(Ed25519PrivateKey.from_private_bytes(blob[1:]))
