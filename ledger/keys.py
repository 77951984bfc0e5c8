"""Ed25519 keys: files, key ids, signing, and C2SP verifier key strings.

A signer's *key id* is the lowercase hex SHA-256 of the raw 32-byte public
key.  Private keys live in PKCS#8 PEM files (mode 0600), encrypted when the
``LEDGER_KEY_PASSPHRASE`` environment variable is set.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ledger.errors import InvalidInputError, KeyFileError

PASSPHRASE_ENV = "LEDGER_KEY_PASSPHRASE"


def key_id(public_raw: bytes) -> str:
    """The key id: lowercase hex SHA-256 of the raw public key."""
    return hashlib.sha256(public_raw).hexdigest()


def public_raw(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def decode_public_key(text: str) -> bytes:
    """Standard base64 of 32 raw bytes -> the bytes; refuse anything else."""
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInputError("public_key is not standard base64") from None
    if len(raw) != 32 or base64.b64encode(raw).decode("ascii") != text:
        raise InvalidInputError("public_key must be standard base64 of 32 bytes")
    return raw


def verify_signature(public: bytes, signature: bytes, message: bytes) -> bool:
    """True when ``signature`` is a valid Ed25519 signature of ``message``."""
    try:
        Ed25519PublicKey.from_public_bytes(public).verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True


@dataclass(frozen=True)
class Signer:
    """A private key ready to sign records."""

    private: Ed25519PrivateKey

    @classmethod
    def generate(cls) -> Signer:
        return cls(Ed25519PrivateKey.generate())

    @cached_property
    def public_bytes(self) -> bytes:
        return public_raw(self.private.public_key())

    @property
    def public_b64(self) -> str:
        return base64.b64encode(self.public_bytes).decode("ascii")

    @cached_property
    def key_id(self) -> str:
        return key_id(self.public_bytes)

    def sign(self, message: bytes) -> bytes:
        return self.private.sign(message)

    def private_seed(self) -> bytes:
        return self.private.private_bytes(
            serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
        )


def _passphrase() -> bytes | None:
    value = os.environ.get(PASSPHRASE_ENV)
    return value.encode("utf-8") if value else None


def write_key_pair(signer: Signer, stem: Path, passphrase: str | None = None) -> tuple[Path, Path]:
    """Write ``STEM.key`` (0600, PKCS#8 PEM, encrypted with ``passphrase`` or else
    LEDGER_KEY_PASSPHRASE when set) and ``STEM.pub``; refuse to overwrite."""
    key_path, pub_path = stem.with_name(stem.name + ".key"), stem.with_name(stem.name + ".pub")
    for path in (key_path, pub_path):
        if path.exists():
            raise KeyFileError(f"{path} already exists; refusing to overwrite a key")
    passphrase_bytes = passphrase.encode("utf-8") if passphrase else _passphrase()
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(passphrase_bytes) if passphrase_bytes else serialization.NoEncryption()
    )
    pem = signer.private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    )
    # Create with 0600 from the start so the key is never readable by others.
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    pub_pem = signer.private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    pub_path.write_bytes(pub_pem)
    return key_path, pub_path


def is_encrypted(path: str | Path) -> bool:
    """Whether a private key file is encrypted with a passphrase."""
    try:
        return b"ENCRYPTED PRIVATE KEY" in Path(path).read_bytes()[:64]
    except OSError:
        return False


def load_signer(path: str | Path, ask: Callable[[Path], str | None] | None = None) -> Signer:
    """Load a private key file.  An encrypted one is opened with LEDGER_KEY_PASSPHRASE
    (for scripts) or, failing that, with what ``ask(path)`` returns (a person at a
    terminal typing it; the command line supplies the prompt)."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise KeyFileError(f"cannot read key file {path}: {exc.strerror}") from None
    password = _passphrase()
    if password is None and ask is not None and b"ENCRYPTED PRIVATE KEY" in data[:64]:
        typed = ask(path)
        password = typed.encode("utf-8") if typed else None
    try:
        private = serialization.load_pem_private_key(data, password=password)
    except TypeError:
        raise KeyFileError(
            f"key file {path} is encrypted: type its passphrase at a terminal, or set {PASSPHRASE_ENV}"
        ) from None
    except ValueError:
        raise KeyFileError(
            f"key file {path} is not a readable PKCS#8 key (wrong passphrase or not a key)"
        ) from None
    if not isinstance(private, Ed25519PrivateKey):
        raise KeyFileError(f"key file {path} does not hold an Ed25519 key")
    return Signer(private)


def load_public(path: str | Path, ask: Callable[[Path], str | None] | None = None) -> bytes:
    """Read a ``.pub`` file (PEM SubjectPublicKeyInfo) or a private key file (an
    encrypted one through its ``.pub`` beside it, else its passphrase)."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise KeyFileError(f"cannot read key file {path}: {exc.strerror}") from None
    if b"PRIVATE KEY" in data:
        beside = path.with_suffix(".pub")
        if b"ENCRYPTED PRIVATE KEY" in data[:64] and beside.exists():
            return load_public(beside)
        return load_signer(path, ask).public_bytes
    try:
        public = serialization.load_pem_public_key(data)
    except ValueError:
        raise KeyFileError(f"{path} is not a PEM public key") from None
    if not isinstance(public, Ed25519PublicKey):
        raise KeyFileError(f"{path} does not hold an Ed25519 public key")
    return public_raw(public)


# --- C2SP signed-note keys (used for the log key that signs checkpoints) ---

def note_key_id(name: str, public: bytes) -> bytes:
    """C2SP signed-note key id: first 4 bytes of SHA-256(name || 0x0A || 0x01 || pub)."""
    return hashlib.sha256(name.encode("utf-8") + b"\n\x01" + public).digest()[:4]


def verifier_key_string(name: str, public: bytes) -> str:
    """C2SP verifier key: ``name+hex8(keyid)+base64(0x01 || pub)``."""
    blob = base64.b64encode(b"\x01" + public).decode("ascii")
    return f"{name}+{note_key_id(name, public).hex()}+{blob}"


def parse_verifier_key(text: str) -> tuple[str, bytes, bytes]:
    """Parse a C2SP Ed25519 (type 0x01) verifier key string into (name, key id, public key)."""
    from ledger.note import parse_vkey  # the one parser of verifier key strings

    name, type_byte, public = parse_vkey(text)
    if type_byte != 0x01:
        raise InvalidInputError("verifier key is not an Ed25519 (type 0x01) signing key")
    return name, note_key_id(name, public), public
