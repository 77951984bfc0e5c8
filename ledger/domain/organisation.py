"""Outside organisations: who money goes to when the recipient is not a party.

An allocation names its recipient: a party to the covenant, or an
organisation registered here with its name and an organisation identifier in
the org-id.guide form (``GB-CHC-1234567``: a register's prefix, then the
number on that register), so that open-data consumers can link it to the
same organisation elsewhere.  Each organisation is a stream named by its
slug (``riverside-schools-trust``).
"""

from __future__ import annotations

from typing import Any

from ledger.domain.base import Context, LedgerAggregate, current_context, require
from ledger.domain.covenant import SLUG_RE, check_identifier, check_text
from ledger.errors import InvalidInputError
from ledger.types import register_aggregate

ORGANISATION_KINDS = ("charity", "company", "public_body", "community_group", "research_institute", "other")


@register_aggregate
class Organisation(LedgerAggregate):
    KIND = "organisation"
    # Refs are slugs chosen by people, not numbers: no prefix.

    class Registered(LedgerAggregate.Created):
        TYPE = "organisation.registered"
        ref: str  # the slug
        name: str
        identifier: str | None
        kind: str

        def check(self, aggregate: Any, ctx: Context) -> None:
            require(aggregate is None, f"organisation {self.ref} is already registered")
            require(bool(SLUG_RE.match(self.ref)), "an organisation's id is lowercase letters, digits and dashes")
            require(self.kind in ORGANISATION_KINDS, f"kind must be one of {', '.join(ORGANISATION_KINDS)}")
            if self.identifier is not None:
                try:
                    check_identifier(self.identifier, "identifier")
                except InvalidInputError as exc:
                    require(False, str(exc))

    def __init__(self, ref: str, name: str, identifier: str | None, kind: str) -> None:
        self.ref = ref
        self.name = name
        self.identifier = identifier
        self.kind = kind

    @classmethod
    def register(cls, ref: str, name: str, identifier: str | None, kind: str) -> Organisation:
        ctx = current_context()
        if not SLUG_RE.match(ref):
            raise InvalidInputError(f"{ref!r} is not an id of lowercase letters, digits and dashes")
        if identifier is not None:
            check_identifier(identifier, "identifier")
        return cls._create(cls.Registered, id=cls.new_id(ctx, ref), ref=ref,
                           name=check_text(name, "name", 200), identifier=identifier, kind=kind)
