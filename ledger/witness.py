"""Witnesses: partners who cosign checkpoints only if the log stayed append-only.

A witness keeps, in its own state directory, the log's verifier key (trusted
on first use) and the last checkpoint it cosigned.  Given a new checkpoint and
a consistency proof from that last one, it adds a C2SP ``cosignature/v1``
line only if the proof holds; otherwise it refuses and keeps both signed
checkpoints as evidence of a fork.
"""

from __future__ import annotations

import base64
import json
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ledger import merkle, note
from ledger.errors import InvalidInputError, RefusedError
from ledger.keys import Signer, parse_verifier_key


class ForkError(RefusedError):
    """The log showed this witness two histories that cannot both be true."""


@dataclass(frozen=True)
class WitnessState:
    directory: Path

    def _file(self, origin: str, suffix: str) -> Path:
        safe = re.sub(r"[^A-Za-z0-9._-]", "_", origin)
        return self.directory / f"{safe}.{suffix}"

    def trusted_key(self, origin: str, offered: str | None) -> tuple[str, bytes]:
        """The log's verifier key: the stored one, or ``offered`` on first use."""
        stored = self._file(origin, "vkey")
        if stored.exists():
            text = stored.read_text().strip()
            if offered and offered.strip() != text:
                raise RefusedError(f"this witness already trusts a different log key for {origin}")
        elif offered:
            self.directory.mkdir(parents=True, exist_ok=True)
            stored.write_text(offered.strip() + "\n")
            text = offered.strip()
        else:
            raise InvalidInputError(f"this witness does not know {origin} yet: give its log key with --trust")
        name, _kid, public = parse_verifier_key(text)
        if name != origin:
            raise RefusedError(f"the log key is named {name}, but the checkpoint's origin is {origin}")
        return name, public

    def last(self, origin: str) -> str | None:
        path = self._file(origin, "checkpoint")
        return path.read_text(encoding="utf-8") if path.exists() else None

    def remember(self, origin: str, signed: str) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        self._file(origin, "checkpoint").write_text(signed, encoding="utf-8")

    def keep_evidence(self, origin: str, old: str, new: str, reason: str) -> Path:
        path = self._file(origin, f"fork-{int(time.time())}.txt")
        path.write_text(f"# fork evidence: {reason}\n# last cosigned checkpoint:\n{old}\n"
                        f"# checkpoint offered now:\n{new}", encoding="utf-8")
        return path


def cosign_checkpoint(signed_text: str, proof: dict[str, Any] | None, witness_name: str, witness: Signer,
                      state: WitnessState, trust: str | None = None, now: int | None = None) -> str:
    """Return the checkpoint with this witness's cosignature added, or raise."""
    try:
        signed = note.parse(signed_text)
        checkpoint = note.parse_checkpoint(signed.text)
    except note.NoteError as exc:
        raise InvalidInputError(f"not a signed checkpoint: {exc}") from None
    name, public = state.trusted_key(checkpoint.origin, trust)
    try:
        note.verify(signed, name, public)
    except note.NoteError as exc:
        raise RefusedError(f"the checkpoint is not signed by the log's key: {exc}") from None
    previous = state.last(checkpoint.origin)
    if previous is not None:
        _require_consistent(previous, signed_text, checkpoint, proof, state)
    cosigned = note.cosign(signed, witness_name, witness, int(time.time()) if now is None else now).render()
    state.remember(checkpoint.origin, cosigned)
    return cosigned


def _require_consistent(previous: str, offered: str, new: note.Checkpoint, proof: dict[str, Any] | None,
                        state: WitnessState) -> None:
    old = note.parse_checkpoint(note.parse(previous).text)
    reason = None
    if new.size < old.size:
        reason = f"the log shrank from {old.size} to {new.size} records"
    elif new.size == old.size:
        if new.root != old.root:
            reason = f"two different roots for the same size {new.size}"
    elif proof is None:
        raise InvalidInputError(f"give a consistency proof from size {old.size} to {new.size} "
                                f"(ledger prove consistency {old.size} {new.size})")
    else:
        try:
            if (int(proof["size1"]), int(proof["size2"])) != (old.size, new.size):
                raise InvalidInputError(f"the proof is from {proof['size1']} to {proof['size2']}, "
                                        f"not from {old.size} to {new.size}")
            hashes = [base64.b64decode(h, validate=True) for h in proof["hashes"]]
            merkle.verify_consistency(old.size, new.size, old.root, new.root, hashes)
        except merkle.ProofError as exc:
            reason = f"the new checkpoint is not consistent with the one cosigned before ({exc})"
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidInputError(f"malformed consistency proof: {exc}") from None
    if reason:
        evidence = state.keep_evidence(new.origin, previous, offered, reason)
        raise ForkError(f"FORK: {reason}; refusing to cosign; both checkpoints kept in {evidence}")


def load_proof(path: Path | None) -> dict[str, Any] | None:
    if path is None:
        return None
    try:
        value = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise InvalidInputError(f"{path} is not JSON: {exc.msg}") from None
    if not isinstance(value, dict):
        raise InvalidInputError(f"{path} is not a proof")
    return value
