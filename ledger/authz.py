"""Who may write what: the authorisation table, shared by writing and verifying.

Each record type names the roles whose keys may sign it.  The write side
refuses a command whose signer lacks the role; ``ledger verify`` reports a
record whose signer lacked it at that point of the log.  One table serves
both so that the two can never disagree.
"""

from __future__ import annotations

from collections.abc import Iterable

ROLES = frozenset(
    {"secretariat", "member", "chair", "auditor", "ombudsperson", "mediator", "witness"}
)

# The genesis record is special: its signer must be one of the founding keys
# it lists (checked separately), so it has no entry here.
GENESIS = "ledger.genesis"

WRITERS: dict[str, frozenset[str]] = {
    # The secretariat registers anyone; a person may add a device key of their own (the record's rule).
    "key.registered": ROLES,
    # Any key may rotate itself; the record's own rule limits rotating others' keys to the secretariat.
    "key.rotated": ROLES,
    # A person registers their own age recipient (or the secretariat does): the record's rule.
    "key.recipient_registered": ROLES,
    "key.retired": frozenset({"secretariat"}),
    "key.revoked": frozenset({"secretariat"}),
    "key.roles_changed": frozenset({"secretariat"}),
    "ledger.store_repaired": frozenset({"secretariat"}),
}


def register_writers(table: dict[str, Iterable[str]]) -> None:
    """Add record types and their writing roles (used by domain modules)."""
    for record_type, roles in table.items():
        unknown = set(roles) - ROLES
        if unknown:
            raise RuntimeError(f"unknown roles {sorted(unknown)} for {record_type}")
        WRITERS[record_type] = frozenset(roles)


def may_write(record_type: str, roles: Iterable[str]) -> bool:
    allowed = WRITERS.get(record_type)
    return allowed is not None and not allowed.isdisjoint(roles)


def writers_of(record_type: str) -> str:
    allowed = WRITERS.get(record_type)
    return ", ".join(sorted(allowed)) if allowed else "nobody (unknown record type)"
