"""Signature checks for worker processes.

Kept free of the rest of the package's imports at module level: a spawned
worker imports only this and ``cryptography``.  (Importing ``ledger.sigcheck``
runs ``ledger/__init__``; workers are started once per verification.)
"""

from __future__ import annotations

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

_keys: dict[bytes, Ed25519PublicKey] = {}


def bad_signatures(jobs: list[tuple[bytes, bytes, bytes]]) -> list[int]:
    """Indexes of the (public key, signature, message) jobs that fail."""
    bad = []
    for index, (public, signature, message) in enumerate(jobs):
        key = _keys.get(public)
        if key is None:
            key = _keys[public] = Ed25519PublicKey.from_public_bytes(public)
        try:
            key.verify(signature, message)
        except InvalidSignature:
            bad.append(index)
    return bad
