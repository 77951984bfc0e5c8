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
from ledger.domain.base import Context, stream_id
from ledger.domain.committee import Committee
from ledger.domain.covenant import Covenant
from ledger.domain.identity import KeyInfo, Registry
from ledger.domain.motion import Motion
from ledger.errors import LedgerError
from ledger.spill import DEFAULT_CAPACITY, SpillingMap, SpillingSet
from ledger.store import RecordMapper
from ledger.types import EVENT_CLASSES


class RuleReplayer:
    """Holds every aggregate's state as of the current point of the log."""

    def __init__(self, capacity: int = DEFAULT_CAPACITY, digest_capacity: int = 1 << 16) -> None:
        self.mapper = RecordMapper(transcoder=None)  # type: ignore[arg-type]
        # Every object's state, the recent ones in memory and the rest spilled to a
        # temporary file: memory stays flat however many objects the ledger holds.
        self.aggregates = SpillingMap(capacity)
        # The first 8 bytes of every record's digest so far (grievances must cite
        # earlier records): the newest packed in memory, the rest in the temporary file.
        self.digests = SpillingSet(digest_capacity)
        self.registry: Registry | None = None
        self.ctx: Context | None = None
        self.breaches: dict[str, str] = {}  # committee ref -> its covenant, while in breach
        self.in_breach: dict[str, str] = {}  # motion ref -> warning: decided while in breach
        self.covenant_ids: dict[uuid.UUID, None] = {}  # every covenant's stream, in creation order
        self._final_covenants: list[Covenant] | None = None

    def check(self, position: int, record: rec.Record) -> list[str]:
        reasons = self._check(record)
        self.digests.add(int.from_bytes(bytes.fromhex(record.event_hash)[:8], "big"))
        return reasons

    def close(self) -> None:
        # The witness policy is read after the run: keep the covenants, not the spilled file.
        self._final_covenants = self.covenants()
        self.aggregates.close()
        self.digests.close()

    def warnings(self) -> list[str]:
        """Committees in breach of composition (and for how long), and the
        decisions taken while they were: allowed, because people leave, but a
        reader of the record should know."""
        out = list(self.in_breach.values())
        now = self.ctx.at if self.ctx is not None else None
        origin = self.ctx.origin if self.ctx is not None else ""
        for ref, covenant_ref in self.breaches.items():
            committee = self.aggregates.get(stream_id(origin, Committee.KIND, ref))
            if committee is None or committee.breach is None:
                continue
            line = f"{ref} is in breach of composition since {committee.breach_since}: {committee.breach}"
            covenant = self.aggregates.get(stream_id(origin, Covenant.KIND, covenant_ref))
            if covenant is not None and now is not None and committee.vacancy_overdue(covenant, now):
                days = covenant.terms["composition"]["max_vacancy_days"]
                line += f" (longer than the {days} days the covenant allows)"
            out.append(line)
        return sorted(out)

    def _exists(self, digest: str) -> bool:
        # A 64-bit prefix is as good as the digest for telling which record is meant.
        try:
            raw = bytes.fromhex(digest)
        except ValueError:
            return False
        return len(raw) == 32 and int.from_bytes(raw[:8], "big") in self.digests

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
        self._note_breach(after)
        return reasons

    def covenants(self) -> list[Covenant]:
        """Every covenant as it stands now, oldest first (for the witness policy)."""
        if self._final_covenants is not None:
            return self._final_covenants
        return [self.aggregates.get(sid) for sid in self.covenant_ids]

    def _note_breach(self, aggregate: Any) -> None:
        if isinstance(aggregate, Covenant):
            self.covenant_ids.setdefault(aggregate.id, None)
        elif isinstance(aggregate, Committee):
            if aggregate.breach is None:
                self.breaches.pop(aggregate.ref, None)
            else:
                self.breaches[aggregate.ref] = aggregate.covenant
        elif isinstance(aggregate, Motion) and (aggregate.snapshot or {}).get("in_breach_of_composition"):
            self.in_breach[aggregate.ref] = (f"{aggregate.ref} was decided while {aggregate.committee} was in breach "
                                             f"of composition: {aggregate.snapshot['in_breach_of_composition']}")

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
