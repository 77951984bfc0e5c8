"""Erasure of sealed content: the signed record of who destroyed which sealed file, and why.

Each sealed file that is erased gets a stream of its own, named by its digest,
whose one record (``sealed.erased``) keeps the erasure on the record while the
file itself is gone from the sealed store (ledger/sealed.py).
"""

from __future__ import annotations

import re
from typing import Any

from ledger.domain.base import Context, LedgerAggregate, require
from ledger.domain.covenant import check_text
from ledger.record import format_time
from ledger.types import register_aggregate


@register_aggregate
class SealedFile(LedgerAggregate):
    KIND = "sealed"  # refs are the files' digests: no prefix

    class Erased(LedgerAggregate.Created):
        TYPE = "sealed.erased"
        ref: str  # the age file's SHA-256
        erased_by: str  # the person who erased it (the signer's person)
        reason: str
        # The covenant under which it is erased: when it names ``erasers``, only they may.
        covenant: str | None = None

        def check(self, aggregate: Any, ctx: Context) -> None:
            from ledger.domain.covenant import Covenant

            require(aggregate is None, f"sealed content {self.ref[:12]}… was already erased")
            require(bool(re.fullmatch(r"[0-9a-f]{64}", self.ref)), "a sealed file is named by its SHA-256 digest")
            require(self.erased_by == ctx.actor.person, "an erasure names its signer as who erased")
            if self.covenant is not None:
                erasers = ctx.find(Covenant, self.covenant).terms.get("erasers")
                require(not erasers or ctx.actor.person in erasers,
                        f"covenant {self.covenant} names who may erase sealed content, and not this signer")

    def __init__(self, ref: str, erased_by: str, reason: str, covenant: str | None = None) -> None:
        self.ref = ref
        self.erased_by = erased_by
        self.reason = reason
        self.covenant = covenant

    @property
    def erased_at(self) -> str:
        return format_time(self.created_on)

    @classmethod
    def erase(cls, ctx: Context, digest: str, reason: str, covenant: str | None = None) -> SealedFile:
        return cls._create(cls.Erased, id=cls.new_id(ctx, digest), ref=digest, erased_by=ctx.actor.person,
                           reason=check_text(reason, "reason", 2000), covenant=covenant)
