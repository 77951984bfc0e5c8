"""The ledger's own stream: its genesis, its people and every change to their keys.

One aggregate, the :class:`Registry`, holds who may sign: the founding keys
listed in the genesis record and every key registered, rotated, retired,
revoked or re-roled since.  It is small (one entry per key), so each command
loads it to check its signer.

People are not keys.  Each key belongs to a *person*, whose id is the key id
of the first key registered for them (a self-certifying identifier, as KERI's
are derived from their inception event): ``key.rotated`` and
``key.registered`` with ``person`` give the same person another key, so
seats, votes, representation and roles recorded against the person id
survive every change of key.  A ledger written before people existed reads
the same way: there, every key was its own person.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from ledger import authz
from ledger.domain.base import LEDGER_NAMESPACE, Context, LedgerAggregate, require
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
    person: str = ""  # the person's id: the key id of their first key

    def __post_init__(self) -> None:
        if not self.person:
            object.__setattr__(self, "person", self.key_id)

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
        # Each person's age recipients (age1...), to whom confidential content is sealed.
        self.recipients: dict[str, list[str]] = {}

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
            entry["key_id"], entry["public_key"], entry["holder"], tuple(entry["roles"]),
            person=entry.get("person") or entry["key_id"],
        )

    # --- people ----------------------------------------------------------

    def is_person(self, person: str) -> bool:
        """Whether ``person`` is a person id (the key id of someone's first key)."""
        info = self.keys.get(person)
        return info is not None and info.person == person

    def keys_of(self, person: str) -> list[KeyInfo]:
        """Every key the person has held, oldest first."""
        return [k for k in self.keys.values() if k.person == person]

    def active_keys_of(self, person: str) -> list[KeyInfo]:
        return [k for k in self.keys_of(person) if k.status == "active"]

    def name_of(self, person: str) -> str:
        """The person's name as their newest key gives it ("Amara Okafor (Clean Air Now)")."""
        held = self.keys_of(person)
        return held[-1].holder if held else person[:12]

    def roles_of(self, person: str) -> set[str]:
        """The roles of the person's active keys."""
        return {role for k in self.active_keys_of(person) for role in k.roles}

    def _people(self) -> dict[str, str]:
        """Person id -> name, as each person's newest key gives it (one pass over the keys)."""
        return {info.person: info.holder for info in self.keys.values()}

    def names(self) -> dict[str, str]:
        """Person ids and key ids -> the person's name, for showing people instead of ids."""
        return {**{k.key_id: k.holder for k in self.keys.values()}, **self._people()}

    def resolve_person(self, text: str) -> str:
        """A person's id from their name (or its unambiguous beginning), their
        organisation's slug, a person id, or any of their keys' ids (or an
        unambiguous prefix of at least 8 hex digits).  People with an active
        key are preferred; a name that matches several people is refused."""
        wanted = " ".join(text.split()).casefold()
        if wanted in self.keys:
            return self.keys[wanted].person
        people = self._people()
        for active_only in (True, False):
            candidates = {p: n for p, n in people.items() if not active_only or self.active_keys_of(p)}
            matches = [p for p, n in candidates.items() if n.casefold() == wanted]
            if not matches and wanted:
                matches = [p for p, n in candidates.items()
                           if n.casefold().startswith(wanted) or _organisation_slug(n) == wanted]
            if len(matches) > 1:
                names = sorted(candidates[p] for p in matches)
                raise InvalidInputError(f"{text!r} matches several people: {'; '.join(names)}; give more of the name")
            if matches:
                return matches[0]
        if all(c in "0123456789abcdef" for c in wanted) and len(wanted) >= 8:
            return self.find_key(wanted).person
        raise NotFoundError(f"nobody called {text!r} holds a key in this ledger")

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
        # The person this key is another key of (a second device); None: a new person.
        person: str | None = None

        def check(self, registry: Registry, ctx: Context) -> None:
            require(self.key_id not in registry.keys, f"key {self.key_id[:12]} is already registered")
            if self.person is not None:
                require(registry.is_person(self.person), f"{self.person[:12]} is not a person in this ledger")
            if ctx.actor is not None and "secretariat" not in ctx.actor.roles:
                # A person enrols another device of their own (a browser, a new laptop) with a key
                # they already hold; everyone else is registered by the secretariat.
                require(self.person == ctx.actor.person,
                        "only the secretariat registers keys for others; a person adds their own devices")
                require(set(self.roles) <= set(ctx.actor.roles),
                        "a device key has at most the roles of the key that enrols it")

        def apply(self, registry: Registry) -> None:
            registry._add(
                {"key_id": self.key_id, "public_key": self.public_key,
                 "holder": self.holder, "roles": self.roles, "person": self.person}
            )

    def register_key(self, public_key: str, holder: str, roles: list[str], person: str | None = None) -> KeyInfo:
        """Register a key for a new person, or (``person``: a name or id) another key of someone known."""
        if person is not None:
            person = self.resolve_person(person)
            holder = holder or self.name_of(person)
        entry = key_entry(public_key, holder, roles)
        if entry["key_id"] in self.keys:
            raise RefusedError(f"key {entry['key_id'][:12]} is already registered")
        self.trigger_event(self.KeyRegistered, person=person, **entry)
        return self.keys[entry["key_id"]]

    class RecipientRegistered(LedgerAggregate.Event):
        """A person's age recipient: confidential content for them is sealed to it."""

        TYPE = "key.recipient_registered"
        person: str
        recipient: str

        def check(self, registry: Registry, ctx: Context) -> None:
            from ledger.sealed import check_recipient

            require(registry.is_person(self.person), f"{self.person[:12]} is not a person in this ledger")
            require(ctx.actor.person == self.person or "secretariat" in ctx.actor.roles,
                    "a person registers their own age recipient, or the secretariat does")
            try:
                check_recipient(self.recipient)
            except InvalidInputError as exc:
                require(False, str(exc))
            require(self.recipient not in {r for rs in registry.recipients.values() for r in rs},
                    "that age recipient is already registered")

        def apply(self, registry: Registry) -> None:
            registry.recipients.setdefault(self.person, []).append(self.recipient)

    def register_recipient(self, person: str, recipient: str) -> str:
        who = self.resolve_person(person)
        self.trigger_event(self.RecipientRegistered, person=who, recipient=recipient)
        return who

    def recipients_of(self, person: str) -> list[str]:
        return list(getattr(self, "recipients", {}).get(person, []))

    class KeyRotated(LedgerAggregate.Event):
        """A person moves from one key to a new one: the new key takes the old
        one's holder, roles and person; the old one signs nothing more (its
        past records stay valid and remain the person's).  Signed by the old
        key itself, or by the secretariat when the old key is lost."""

        TYPE = "key.rotated"
        key_id: str  # the old key
        new_key_id: str
        public_key: str
        reason: str

        def check(self, registry: Registry, ctx: Context) -> None:
            old = registry.keys.get(self.key_id)
            require(old is not None, f"key {self.key_id[:12]} is not registered")
            assert old is not None
            require(ctx.actor.key_id == self.key_id or "secretariat" in ctx.actor.roles,
                    "a key is rotated by itself, or by the secretariat when it is lost")
            require(old.status == "active" or "secretariat" in ctx.actor.roles,
                    f"key {old.short()} is {old.status}: only the secretariat can give its holder a new key")
            require(self.new_key_id not in registry.keys, f"key {self.new_key_id[:12]} is already registered")
            require(compute_key_id(decode_public_key(self.public_key)) == self.new_key_id,
                    "new_key_id is not the id of public_key")

        def apply(self, registry: Registry) -> None:
            old = registry.keys[self.key_id]
            registry._add({"key_id": self.new_key_id, "public_key": self.public_key, "holder": old.holder,
                           "roles": list(old.roles), "person": old.person})
            if old.status == "active":
                registry.keys[self.key_id] = replace(old, status="retired")

    def rotate_key(self, key_text: str, public_key: str, reason: str) -> KeyInfo:
        """``key_text``: the old key's id (or a prefix), or its holder's name when they hold one active key."""
        old = self.resolve(key_text)
        entry = key_entry(public_key, old.holder, list(old.roles))
        if entry["key_id"] in self.keys:
            raise RefusedError(f"key {entry['key_id'][:12]} is already registered")
        self.trigger_event(self.KeyRotated, key_id=old.key_id, new_key_id=entry["key_id"],
                           public_key=public_key, reason=_reason(reason))
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
