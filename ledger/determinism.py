"""Randomness a prepared command reuses when it runs again with its signatures.

A command that seals content (age encryption is randomised) or draws a receipt
code would produce different records each time it runs, so the records a
member signed after ``prepare`` could never be those ``submit`` writes.  While
a :class:`Recorded` is current, :func:`ledger.sealed.seal` and
:func:`ledger.receipts.new_code` first reuse what the prepared run made (handed
back by the client, in order), and note anything new they make.  Sealed files
are ciphertext and a receipt code goes to whoever submits, so the client may
carry both between the two runs: the server keeps no state.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field


@dataclass
class Recorded:
    """Sealed files and receipt codes given back by the client, and those made now."""

    sealed: list[bytes] = field(default_factory=list)
    codes: list[str] = field(default_factory=list)
    made_sealed: list[bytes] = field(default_factory=list)
    made_codes: list[str] = field(default_factory=list)

    def take_sealed(self) -> bytes | None:
        index = len(self.made_sealed)
        return self.sealed[index] if index < len(self.sealed) else None

    def take_code(self) -> str | None:
        index = len(self.made_codes)
        return self.codes[index] if index < len(self.codes) else None

    def reset(self) -> None:
        """Before a run: what it makes is counted afresh (a retried run reuses the same)."""
        self.made_sealed.clear()
        self.made_codes.clear()


_CURRENT: ContextVar[Recorded | None] = ContextVar("ledger_recorded_randomness", default=None)


@contextmanager
def reusing(recorded: Recorded) -> Iterator[Recorded]:
    token = _CURRENT.set(recorded)
    try:
        yield recorded
    finally:
        _CURRENT.reset(token)


def current() -> Recorded | None:
    return _CURRENT.get()
