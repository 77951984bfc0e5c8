"""Step 8 of verification: replay the governance rules over history.

Every stored record is turned back into its domain event and applied to an
in-memory copy of its aggregate, in log order.  Before applying, the event's
own ``check`` runs against the state just before it, exactly as it ran when
the command was given.  A record that breaks a rule is a finding even when
its signature is perfect: a secretariat holding valid keys cannot record a
decision that the votes do not support.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from eventsourcing.domain import OriginatorVersionError

from ledger import record as rec
from ledger.domain.base import Context
from ledger.domain.identity import KeyInfo, Registry
from ledger.errors import LedgerError
from ledger.store import RecordMapper
from ledger.types import EVENT_CLASSES


class RuleReplayer:
    """Holds every aggregate's state as of the current point of the log."""

    def __init__(self) -> None:
        self.mapper = RecordMapper(transcoder=None)  # type: ignore[arg-type]
        self.aggregates: dict[uuid.UUID, Any] = {}
        # Digests of every record so far (grievances must cite earlier records);
        # raw 32-byte digests take half the memory of hex strings.
        self.digests: set[bytes] = set()
        self.registry: Registry | None = None
        self.ctx: Context | None = None

    def check(self, position: int, record: rec.Record) -> list[str]:
        reasons = self._check(record)
        self.digests.add(bytes.fromhex(record.event_hash))
        return reasons

    def warnings(self) -> list[str]:
        """Committees in breach of composition (and for how long), and the
        decisions taken while they were: allowed, because people leave, but a
        reader of the record should know."""
        from ledger.domain.committee import Committee
        from ledger.domain.covenant import Covenant
        from ledger.domain.motion import Motion

        out = []
        now = self.ctx.at if self.ctx is not None else None
        for aggregate in self.aggregates.values():
            if isinstance(aggregate, Committee) and aggregate.breach is not None:
                line = f"{aggregate.ref} is in breach of composition since {aggregate.breach_since}: {aggregate.breach}"
                covenant = next((a for a in self.aggregates.values()
                                 if isinstance(a, Covenant) and a.ref == aggregate.covenant), None)
                if covenant is not None and now is not None and aggregate.vacancy_overdue(covenant, now):
                    days = covenant.terms["composition"]["max_vacancy_days"]
                    line += f" (longer than the {days} days the covenant allows)"
                out.append(line)
            elif isinstance(aggregate, Motion) and (aggregate.snapshot or {}).get("in_breach_of_composition"):
                out.append(f"{aggregate.ref} was decided while {aggregate.committee} was in breach of composition: "
                           f"{aggregate.snapshot['in_breach_of_composition']}")
        return sorted(out)

    def _exists(self, digest: str) -> bool:
        try:
            return bytes.fromhex(digest) in self.digests
        except ValueError:
            return False

    def _check(self, record: rec.Record) -> list[str]:
        if record.type not in EVENT_CLASSES:
            return []  # the verifier already reports unknown types (no writer may sign them)
        event = self.mapper.event_from_record(record)
        stream = event.originator_id
        before = self.aggregates.get(stream)
        reasons = []
        actor = self._actor(record.actor)
        if actor is not None:
            ctx = self._context(record, actor, event.timestamp)
            try:
                event.check(before, ctx)
            except LedgerError as exc:
                reasons.append(f"breaks a rule: {exc}")
            except (KeyError, TypeError, ValueError, AttributeError) as exc:
                reasons.append(f"breaks a rule: cannot be applied ({type(exc).__name__}: {exc})")
        try:
            after = self._apply(event, before, record.seq)
        except Exception as exc:  # history that cannot be applied is a finding
            return [*reasons, f"cannot be applied to its stream's state ({type(exc).__name__}: {exc})"]
        if after is None:
            return reasons
        self.aggregates[stream] = after
        if isinstance(after, Registry):
            self.registry = after
        return reasons

    def _context(self, record: rec.Record, actor: KeyInfo, at: datetime) -> Context:
        # One context, updated per record: the rules read it, never keep it.
        if self.ctx is None:
            self.ctx = Context(record.ledger, actor, self.registry, at, self.aggregates.get,
                               record_exists=self._exists)
        self.ctx.actor, self.ctx.registry, self.ctx.at = actor, self.registry, at
        return self.ctx

    @staticmethod
    def _apply(event: Any, before: Any, seq: int) -> Any:
        try:
            return event.mutate(before)
        except OriginatorVersionError:
            # A gap or swap in the stream, which the chain check (step 4)
            # has reported: carry on from this record so that later records
            # are still judged by the rules.
            if before is None:
                return None
            object.__setattr__(before, "_version", seq - 1)
            return event.mutate(before)

    def _actor(self, key_id: str) -> KeyInfo | None:
        if self.registry is None:
            return None  # the genesis record: its signer is checked by the verifier
        return self.registry.keys.get(key_id)
