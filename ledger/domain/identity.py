"""The ledger's own stream: its genesis and every change to its keys.

One aggregate, the :class:`Registry`, holds who may sign: the founding keys
listed in the genesis record and every key registered, retired, revoked or
re-roled since.  It is small (one entry per key), so each command loads it
to check its signer.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from ledger import authz
from ledger.domain.base import LEDGER_NAMESPACE, LedgerAggregate
from ledger.errors import InvalidInputError, NotFoundError, RefusedError, UnauthorisedError
from ledger.keys import decode_public_key
from ledger.keys import key_id as compute_key_id
from ledger.record import ORIGIN_RE, format_time
from ledger.types import register_aggregate

MAX_NAME = 200


def registry_id(origin: str) -> uuid.UUID:
    """The stream id of a ledger's registry (its genesis stream)."""
    return uuid.uuid5(LEDGER_NAMESPACE, "ledger:" + origin)


@dataclass(frozen=True)
class KeyInfo:
    key_id: str
    public_key: str
    holder: str
    roles: tuple[str, ...]
    status: str = "active"  # active | retired | revoked
    compromised_since: str | None = None

    def short(self) -> str:
        return f"{self.key_id[:12]} ({self.holder})"


def key_entry(public_key: str, holder: str, roles: list[str]) -> dict[str, Any]:
    """Validate and build one key entry as records store it."""
    raw = decode_public_key(public_key)
    holder = holder.strip()
    if not holder or len(holder) > MAX_NAME:
        raise InvalidInputError(f"holder must be 1 to {MAX_NAME} characters")
    roles = sorted(set(roles))
    if not roles:
        raise InvalidInputError("a key needs at least one role")
    unknown = set(roles) - authz.ROLES
    if unknown:
        raise InvalidInputError(
            f"unknown role {sorted(unknown)[0]!r} (roles: {', '.join(sorted(authz.ROLES))})"
        )
    return {"key_id": compute_key_id(raw), "public_key": public_key, "holder": holder, "roles": roles}


@register_aggregate
class Registry(LedgerAggregate):
    """Genesis plus the key registry of one ledger."""

    class Founded(LedgerAggregate.Created):
        TYPE = "ledger.genesis"
        origin: str
        name: str
        keys: list[dict[str, Any]]
        log_key: str

    def __init__(self, origin: str, name: str, keys: list[dict[str, Any]], log_key: str) -> None:
        self.origin = origin
        self.name = name
        self.log_key = log_key
        self.keys: dict[str, KeyInfo] = {}
        for entry in keys:
            self._add(entry)

    @classmethod
    def found(
        cls, *, origin: str, name: str, keys: list[dict[str, Any]], log_key: str
    ) -> Registry:
        if not ORIGIN_RE.match(origin):
            raise InvalidInputError("origin must be printable ASCII without spaces or '+'")
        name = name.strip()
        if not name or len(name) > MAX_NAME:
            raise InvalidInputError(f"name must be 1 to {MAX_NAME} characters")
        if not keys:
            raise InvalidInputError("a ledger needs at least one founding key")
        if len({k["key_id"] for k in keys}) != len(keys):
            raise InvalidInputError("a founding key is listed twice")
        if not any("secretariat" in k["roles"] for k in keys):
            raise InvalidInputError("at least one founding key needs the secretariat role")
        return cls._create(
            cls.Founded, id=registry_id(origin), origin=origin, name=name, keys=keys, log_key=log_key
        )

    def _add(self, entry: dict[str, Any]) -> None:
        self.keys[entry["key_id"]] = KeyInfo(
            entry["key_id"], entry["public_key"], entry["holder"], tuple(entry["roles"])
        )

    # --- queries --------------------------------------------------------

    def find_key(self, text: str) -> KeyInfo:
        """A key by full id or an unambiguous prefix of at least 8 hex digits."""
        text = text.strip().lower()
        if text in self.keys:
            return self.keys[text]
        if len(text) < 8:
            raise InvalidInputError(f"key id {text!r} is too short (give at least 8 hex digits)")
        matches = [k for k in self.keys if k.startswith(text)]
        if len(matches) > 1:
            raise InvalidInputError(f"key id {text!r} is ambiguous")
        if not matches:
            raise NotFoundError(f"key {text} is not known to this ledger")
        return self.keys[matches[0]]

    def resolve(self, text: str) -> KeyInfo:
        """An active key by id, id prefix, or its holder: the full name, an
        unambiguous beginning of it ("Amara Okafor" for "Amara Okafor (Clean
        Air Now)"), or the slug of the holder's organisation ("clean-air-now").
        Case-insensitive.  An ambiguous name is refused, listing the holders.
        """
        wanted = " ".join(text.split()).casefold()
        active = [k for k in self.keys.values() if k.status == "active"]
        matches = [k for k in active if k.holder.casefold() == wanted]
        if not matches and wanted:
            matches = [k for k in active if k.holder.casefold().startswith(wanted)
                       or _organisation_slug(k.holder) == wanted]
        holders = sorted({k.holder for k in matches})
        if len(holders) > 1:
            raise InvalidInputError(f"{text!r} matches several holders: {'; '.join(holders)}; give more of the name")
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            raise InvalidInputError(f"{holders[0]!r} holds several active keys; give a key id")
        if all(c in "0123456789abcdef" for c in wanted) and len(wanted) >= 8:
            return self.find_key(wanted)
        raise NotFoundError(f"no active key is held by {text!r}")

    def check_signer(self, key_id: str, record_type: str) -> KeyInfo:
        """Refuse unless ``key_id`` is active and holds a role that may write the type."""
        info = self.keys.get(key_id)
        if info is None:
            raise UnauthorisedError(f"key {key_id[:12]} is not registered in this ledger")
        if info.status != "active":
            raise UnauthorisedError(f"key {info.short()} is {info.status} and can no longer sign")
        if not authz.may_write(record_type, info.roles):
            raise UnauthorisedError(
                f"key {info.short()} with roles {', '.join(info.roles)} may not write "
                f"{record_type} (allowed: {authz.writers_of(record_type)})"
            )
        return info

    def active_registrars(self) -> list[KeyInfo]:
        return [k for k in self.keys.values() if k.status == "active" and "secretariat" in k.roles]

    # --- commands ------------------------------------------------------

    class KeyRegistered(LedgerAggregate.Event):
        TYPE = "key.registered"
        key_id: str
        public_key: str
        holder: str
        roles: list[str]

        def apply(self, registry: Registry) -> None:
            registry._add(
                {"key_id": self.key_id, "public_key": self.public_key,
                 "holder": self.holder, "roles": self.roles}
            )

    def register_key(self, public_key: str, holder: str, roles: list[str]) -> KeyInfo:
        entry = key_entry(public_key, holder, roles)
        if entry["key_id"] in self.keys:
            raise RefusedError(f"key {entry['key_id'][:12]} is already registered")
        self.trigger_event(self.KeyRegistered, **entry)
        return self.keys[entry["key_id"]]

    class KeyRetired(LedgerAggregate.Event):
        TYPE = "key.retired"
        key_id: str
        reason: str

        def apply(self, registry: Registry) -> None:
            registry.keys[self.key_id] = replace(registry.keys[self.key_id], status="retired")

    def retire_key(self, key_text: str, reason: str) -> KeyInfo:
        info = self.find_key(key_text)
        if info.status != "active":
            raise RefusedError(f"key {info.short()} is already {info.status}")
        self._keep_a_registrar(info.key_id)
        self.trigger_event(self.KeyRetired, key_id=info.key_id, reason=_reason(reason))
        return self.keys[info.key_id]

    def retire_holder(self, holder: str, reason: str) -> list[KeyInfo]:
        active = [k for k in self.keys.values() if k.holder == holder and k.status == "active"]
        if not active:
            raise NotFoundError(f"holder {holder!r} has no active keys")
        return [self.retire_key(k.key_id, reason) for k in active]

    class KeyRevoked(LedgerAggregate.Event):
        TYPE = "key.revoked"
        key_id: str
        compromised_since: str
        reason: str

        def apply(self, registry: Registry) -> None:
            registry.keys[self.key_id] = replace(
                registry.keys[self.key_id], status="revoked", compromised_since=self.compromised_since
            )

    def revoke_key(self, key_text: str, compromised_since: datetime, reason: str) -> KeyInfo:
        info = self.find_key(key_text)
        if info.status == "revoked":
            raise RefusedError(f"key {info.short()} is already revoked")
        self._keep_a_registrar(info.key_id)
        self.trigger_event(
            self.KeyRevoked, key_id=info.key_id,
            compromised_since=format_time(compromised_since), reason=_reason(reason),
        )
        return self.keys[info.key_id]

    class StoreRepaired(LedgerAggregate.Event):
        """The secretariat rebuilt what the database derives from the records,
        and restored its append-only guards (``ledger repair``): on the record,
        because a guard that was missing is evidence worth keeping."""

        TYPE = "ledger.store_repaired"
        guards: list[str]  # the guard problems found before the repair
        tables: list[str]  # the derived tables rebuilt from the records
        reason: str

        def apply(self, registry: Registry) -> None:
            return None

    def record_repair(self, guards: list[str], tables: list[str], reason: str) -> None:
        self.trigger_event(self.StoreRepaired, guards=guards, tables=tables, reason=_reason(reason))

    class RolesChanged(LedgerAggregate.Event):
        TYPE = "key.roles_changed"
        key_id: str
        roles: list[str]

        def apply(self, registry: Registry) -> None:
            registry.keys[self.key_id] = replace(registry.keys[self.key_id], roles=tuple(self.roles))

    def change_roles(self, key_text: str, roles: list[str]) -> KeyInfo:
        info = self.find_key(key_text)
        if info.status != "active":
            raise RefusedError(f"key {info.short()} is {info.status}")
        entry = key_entry(info.public_key, info.holder, roles)
        if "secretariat" not in entry["roles"]:
            self._keep_a_registrar(info.key_id)
        self.trigger_event(self.RolesChanged, key_id=info.key_id, roles=entry["roles"])
        return self.keys[info.key_id]

    def _keep_a_registrar(self, leaving: str) -> None:
        # Without an active secretariat key nobody could ever register a key
        # again: the ledger would be frozen for good.
        if not [k for k in self.active_registrars() if k.key_id != leaving]:
            raise RefusedError("refused: this would leave no active secretariat key")


def _reason(text: str) -> str:
    text = text.strip()
    if len(text) > 2000:
        raise InvalidInputError("reason is longer than 2000 characters")
    return text


def _organisation_slug(holder: str) -> str:
    """'Amara Okafor (Clean Air Now)' -> 'clean-air-now'; '' when no organisation is named."""
    if not holder.endswith(")") or "(" not in holder:
        return ""
    organisation = holder[holder.rindex("(") + 1:-1]
    return "-".join("".join(c if c.isalnum() else " " for c in organisation.casefold()).split())
