"""The covenant: the partnership agreement, its parties, rules and versions.

Lifecycle: drafted -> acceded to by each party (each party's own
representative signs) -> in force once every founding party has acceded ->
reviewed, amended (clause by clause, only under a passed ``amendment``
decision), renewed, terminated.  Every version of the clauses is kept.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

from ledger.domain.base import Context, LedgerAggregate, RuleError, require, require_not_future
from ledger.domain.decisions import parse_rule
from ledger.errors import InvalidInputError
from ledger.money import check_currency
from ledger.types import register_aggregate

PARTY_KINDS = ("political_party", "civil_society", "government_body", "research_institute", "other")
SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
CLAUSE_RE = re.compile(r"^[0-9]{1,3}(\.[0-9]{1,3}){0,2}$")
MAX_TEXT = 10_000


def check_date(text: object, what: str) -> str:
    if not isinstance(text, str):
        raise InvalidInputError(f"{what} must be a date such as 2026-01-31")
    try:
        date.fromisoformat(text)
    except ValueError:
        raise InvalidInputError(f"{what} {text!r} is not a date such as 2026-01-31") from None
    if len(text) != 10:
        raise InvalidInputError(f"{what} {text!r} is not a date such as 2026-01-31")
    return text


def check_text(text: object, what: str, limit: int = MAX_TEXT) -> str:
    if not isinstance(text, str) or not text.strip():
        raise InvalidInputError(f"{what} must not be empty")
    if len(text) > limit:
        raise InvalidInputError(f"{what} is longer than {limit} characters")
    return text.strip()


ORG_ID_RE = re.compile(r"^[A-Z0-9]{2,4}-[A-Z0-9]{2,10}-\S{1,100}$")


def check_identifier(value: object, what: str) -> str:
    """An organisation identifier in the org-id.guide form: REGISTER-LOCAL (GB-CHC-1234567)."""
    if not isinstance(value, str) or not ORG_ID_RE.match(value):
        raise InvalidInputError(f"{what} must be an org-id.guide identifier such as GB-CHC-1234567 "
                                "(a register's prefix, then the number on that register)")
    return value


def check_party(party: Any) -> dict[str, Any]:
    """One party as the terms (or an admission) list it; InvalidInputError if malformed."""
    if not isinstance(party, dict) or not SLUG_RE.match(str(party.get("id", ""))):
        raise InvalidInputError("each party needs an id of lowercase letters, digits and dashes")
    check_text(party.get("name"), f"party {party['id']} name", 200)
    if party.get("kind") not in PARTY_KINDS:
        raise InvalidInputError(f"party {party['id']} kind must be one of {', '.join(PARTY_KINDS)}")
    reps = party.get("representatives")
    if not isinstance(reps, list) or not reps:
        raise InvalidInputError(f"party {party['id']} needs at least one representative key")
    if party.get("identifier") is not None:
        check_identifier(party["identifier"], f"party {party['id']} identifier")
    groups = party.get("constituencies", [])
    if not isinstance(groups, list) or not all(isinstance(g, str) and SLUG_RE.match(g) for g in groups):
        raise InvalidInputError(f"party {party['id']} constituencies are slugs such as disabled-people")
    return party


CHANNEL_STATISTICS = ("received", "acknowledged_in_time", "answered_in_time", "overdue", "outcomes")


def check_channels(channels: object) -> None:
    """Confidential feedback channels: {NAME: {recipients, intake, acknowledge_days, feedback_days}}."""
    if channels is None:
        return
    if not isinstance(channels, dict):
        raise InvalidInputError("channels is an object: channel name -> {recipients, intake, ...}")
    for name, channel in channels.items():
        if not SLUG_RE.match(str(name)) or not isinstance(channel, dict):
            raise InvalidInputError(f"channel {name!r}: a name of lowercase letters, digits and dashes, and an object")
        for who in ("recipients", "intake"):
            people = channel.get(who)
            if not isinstance(people, list) or not people or not all(isinstance(x, str) for x in people):
                raise InvalidInputError(f"channel {name} needs {who}: a list of people")
        stats = channel.get("statistics", list(CHANNEL_STATISTICS))
        if not isinstance(stats, list) or not set(stats) <= set(CHANNEL_STATISTICS):
            raise InvalidInputError(f"channel {name} statistics are some of {', '.join(CHANNEL_STATISTICS)}")
        if not isinstance(channel.get("members_submit", False), bool):
            raise InvalidInputError(f"channel {name} members_submit is true or false")
        retention = channel.get("retention_days", 1)
        if not isinstance(retention, int) or isinstance(retention, bool) or not 1 <= retention <= 36500:
            raise InvalidInputError(f"channel {name} retention_days must be a whole number of days")
        for days, most in (("acknowledge_days", 7), ("feedback_days", 90)):
            value = channel.get(days, most)
            if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= most:
                raise InvalidInputError(f"channel {name} {days} must be a whole number of days from 1 to {most} "
                                        "(the covenant may shorten the Directive's deadlines, not lengthen them)")


def validate_terms(terms: dict[str, Any]) -> dict[str, Any]:
    """Check a covenant's drafted terms; return them normalised."""
    parties = terms.get("parties")
    if not isinstance(parties, list) or len(parties) < 2:
        raise InvalidInputError("a covenant needs at least two parties")
    seen: set[str] = set()
    for party in parties:
        check_party(party)
        if party["id"] in seen:
            raise InvalidInputError(f"party {party['id']} is listed twice")
        seen.add(party["id"])
    clauses = terms.get("clauses")
    if not isinstance(clauses, list) or not clauses:
        raise InvalidInputError("a covenant needs numbered clauses")
    numbers = [c.get("number") for c in clauses if isinstance(c, dict)]
    if len(numbers) != len(clauses) or len(set(numbers)) != len(numbers):
        raise InvalidInputError("clause numbers must be unique")
    for clause in clauses:
        if not CLAUSE_RE.match(str(clause["number"])):
            raise InvalidInputError(f"clause number {clause['number']!r} must look like 4 or 4.2")
        check_text(clause.get("text"), f"clause {clause['number']}")
    term = terms.get("term") or {}
    start, end = check_date(term.get("start"), "term start"), check_date(term.get("end"), "term end")
    if end <= start:
        raise InvalidInputError("the term must end after it starts")
    for point in terms.get("reviews", []):
        check_date(point, "review point")
    rules = terms.get("decision_rules")
    if not isinstance(rules, dict) or not rules:
        raise InvalidInputError("a covenant needs decision rules")
    for name, rule in rules.items():
        if not SLUG_RE.match(name):
            raise InvalidInputError(f"decision class {name!r} must be lowercase letters, digits and dashes")
        parse_rule(rule, name)
    for needed in ("ordinary", "amendment"):
        if needed not in rules:
            raise InvalidInputError(f"decision rules must include the {needed!r} class")
    procedure = terms.get("dispute_procedure") or {}
    for days in ("acknowledge_days", "resolve_days"):
        value = procedure.get(days)
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 365:
            raise InvalidInputError(f"dispute procedure {days} must be a whole number of days from 1 to 365")
    public = procedure.get("public")
    if public is not None and (not isinstance(public, list)
                               or not set(public) <= {"stage", "deadlines", "findings", "remedy", "grounds"}):
        raise InvalidInputError("dispute procedure public lists what the site shows: stage, deadlines, findings, "
                                "remedy, grounds")
    for who in ("ombudspersons", "mediators"):
        if not isinstance(procedure.get(who, []), list):
            raise InvalidInputError(f"dispute procedure {who} must be a list of key ids")
    composition = terms.get("composition") or {}
    if "max_share" in composition:
        from ledger.money import parse_fraction

        parse_fraction(composition["max_share"], "composition max_share")
    if not isinstance(composition.get("min_civil_society_seats", 0), int):
        raise InvalidInputError("composition min_civil_society_seats must be a whole number")
    reserved = composition.get("reserved", [])
    if not isinstance(reserved, list) or not all(
            isinstance(r, dict) and set(r) == {"constituency", "seats"} and isinstance(r["constituency"], str)
            and SLUG_RE.match(r["constituency"]) and isinstance(r["seats"], int) and not isinstance(r["seats"], bool)
            and 1 <= r["seats"] <= 20 for r in reserved):
        raise InvalidInputError('composition reserved is a list of {"constituency": SLUG, "seats": N}')
    vacancy = composition.get("max_vacancy_days", 1)
    if not isinstance(vacancy, int) or isinstance(vacancy, bool) or not 1 <= vacancy <= 3650:
        raise InvalidInputError("composition max_vacancy_days must be a whole number of days from 1 to 3650")
    witnesses = terms.get("witnesses")
    if witnesses is not None:
        from ledger.note import parse_vkey

        keys = witnesses.get("keys") if isinstance(witnesses, dict) else None
        required = witnesses.get("required") if isinstance(witnesses, dict) else None
        if not isinstance(keys, list) or not isinstance(required, int) or not 0 <= required <= len(keys):
            raise InvalidInputError("witnesses needs 'keys' (verifier key strings) and 'required' (0 to their count)")
        for vkey in keys:
            if parse_vkey(str(vkey))[1] != 0x04:
                raise InvalidInputError("witness keys must be cosigner keys (type 0x04; see 'ledger witness key')")
    prefix = (terms.get("open_data") or {}).get("prefix")
    if prefix is not None and not (isinstance(prefix, str) and re.match(r"^360G-[A-Za-z0-9-]{1,40}$", prefix)):
        raise InvalidInputError("open_data prefix must be a 360Giving prefix such as 360G-riverside")
    check_channels(terms.get("channels"))
    erasers = terms.get("erasers")
    if erasers is not None and (not isinstance(erasers, list) or not all(isinstance(x, str) for x in erasers)):
        raise InvalidInputError("erasers is a list of the people who may erase sealed content")
    proxies = terms.get("proxies")
    if proxies is not None:
        if not isinstance(proxies, dict) or not isinstance(proxies.get("allowed"), bool):
            raise InvalidInputError('proxies is {"allowed": true|false, "max_per_holder": N, '
                                    '"quorum": "counts"|"does_not_count"}')
        carried = proxies.get("max_per_holder", 1)
        if not isinstance(carried, int) or isinstance(carried, bool) or not 1 <= carried <= 10:
            raise InvalidInputError("proxies max_per_holder must be a whole number from 1 to 10")
        if proxies.get("quorum", "does_not_count") not in ("counts", "does_not_count"):
            raise InvalidInputError("proxies quorum is counts or does_not_count")
    report = terms.get("minority_report")
    if report is not None:
        from ledger.money import parse_fraction

        if not isinstance(report, dict):
            raise InvalidInputError('minority_report is {"min_share": "1/4"}')
        parse_fraction(report.get("min_share"), "minority_report min_share")
    funding = terms.get("funding") or {}
    if "currency" in funding:
        check_currency(funding["currency"])
    return terms


@register_aggregate
class Covenant(LedgerAggregate):
    KIND = "covenant"
    PREFIX = "C"

    class Drafted(LedgerAggregate.Created):
        TYPE = "covenant.drafted"
        ref: str
        title: str
        terms: dict[str, Any]

        def check(self, aggregate: Any, ctx: Context) -> None:
            require(aggregate is None, f"covenant {self.ref} already exists")
            try:
                validate_terms(self.terms)
            except InvalidInputError as exc:
                raise RuleError(str(exc)) from None
            if ctx.registry is not None:
                for party in self.terms["parties"]:
                    for key in party["representatives"]:
                        require(ctx.registry.is_person(str(key)),
                                f"representative {str(key)[:12]} of {party['id']} is not a person in this ledger")

    def __init__(self, ref: str, title: str, terms: dict[str, Any]) -> None:
        self.ref = ref
        self.title = title
        self.terms = terms
        self.parties = {p["id"]: p for p in terms["parties"]}
        self.acceded: list[str] = []
        self.status = "drafted"
        self.versions: list[dict[str, str]] = [{c["number"]: c["text"] for c in terms["clauses"]}]
        self.rules: dict[str, Any] = dict(terms["decision_rules"])
        self.end = terms["term"]["end"]
        self.reviews_done: list[str] = []
        self.amendments: list[str] = []
        self.acts_decided: list[str] = []  # decisions used for an act (renew, admit, ...): each serves one
        # Each party's standing: "founding" until it accedes, then "member"; "admitted" (joining,
        # until its representative accedes), "withdrawn" or "expelled".
        self.standing: dict[str, str] = {p["id"]: "founding" for p in terms["parties"]}
        # The ombudspersons and mediators the covenant names (changed only by amendment).
        procedure = terms.get("dispute_procedure") or {}
        self.neutrals: dict[str, list[str]] = {who: list(procedure.get(who, [])) for who in NEUTRALS}

    @classmethod
    def draft(cls, ctx: Context, title: str, terms: dict[str, Any]) -> Covenant:
        ref = cls.next_ref(ctx)
        return cls._create(cls.Drafted, id=cls.new_id(ctx, ref), ref=ref, title=check_text(title, "title", 200),
                           terms=validate_terms(terms))

    # --- queries -------------------------------------------------------

    @property
    def clauses(self) -> dict[str, str]:
        return self.versions[-1]

    @property
    def clause_version(self) -> int:
        return len(self.versions)

    def party_of(self, person: str) -> str | None:
        """The party a person represents, if any (a party that has left represents nobody)."""
        for party_id, party in self.parties.items():
            if person in party["representatives"] and self.is_current(party_id):
                return str(party_id)
        return None

    def is_current(self, party: str) -> bool:
        """A party that has not withdrawn or been expelled."""
        return getattr(self, "standing", {}).get(party, "founding") in ("founding", "member", "admitted")

    def current_parties(self) -> list[str]:
        return [p for p in self.parties if self.is_current(p)]

    def kind_of(self, party_id: str) -> str:
        return str(self.parties[party_id]["kind"])

    def rule(self, decision_class: str) -> dict[str, Any]:
        if decision_class not in self.rules:
            raise RuleError(f"covenant {self.ref} has no decision class {decision_class!r} "
                            f"(classes: {', '.join(sorted(self.rules))})")
        return dict(self.rules[decision_class])

    def require_in_force(self, ctx: Context | None = None) -> None:
        """In force: every party acceded, not terminated, and (judged at the record's
        time, ``ctx.at``) its term not ended without renewal."""
        require(self.status == "in_force", f"covenant {self.ref} is {self.status.replace('_', ' ')}, not in force")
        if ctx is not None:
            expired = self.expired_since(ctx.at.date())
            require(expired is None, f"covenant {self.ref} expired on {expired} (its term ended without renewal): "
                                     "only reports, evaluations, disputes and closing records are accepted")

    def expired_since(self, today: date) -> str | None:
        """The day after the term's end, once that has passed without renewal (else None)."""
        if self.status != "in_force" or today.isoformat() <= self.end:
            return None
        return (date.fromisoformat(self.end) + timedelta(days=1)).isoformat()

    # --- accession -------------------------------------------------------

    class Acceded(LedgerAggregate.Event):
        TYPE = "covenant.acceded"
        party: str

        def check(self, covenant: Covenant, ctx: Context) -> None:
            admitted = covenant.status == "in_force" and covenant.standing.get(self.party) == "admitted"
            require(covenant.status == "drafted" or admitted,
                    f"covenant {covenant.ref} is {covenant.status.replace('_', ' ')}, and {self.party} "
                    "has not been admitted to it")
            require(self.party in covenant.parties, f"{self.party} is not a party to covenant {covenant.ref}")
            require(self.party not in covenant.acceded, f"{self.party} has already acceded")
            require(ctx.actor.person in covenant.parties[self.party]["representatives"],
                    f"only a representative of {self.party} may sign its accession")

        def apply(self, covenant: Covenant) -> None:
            covenant.acceded.append(self.party)
            covenant.standing[self.party] = "member"
            if covenant.status == "drafted" and set(covenant.acceded) == set(covenant.parties):
                covenant.status = "in_force"

    def accede(self, party: str) -> None:
        self.trigger_event(self.Acceded, party=party)

    # --- membership: joining, leaving, representatives -------------------------

    class PartyAdmitted(LedgerAggregate.Event):
        """A new party is admitted by a passed decision (act ``admit``); it becomes
        a member when its own representative signs ``covenant.acceded``."""

        TYPE = "covenant.party_admitted"
        party: dict[str, Any]
        decision: str

        def check(self, covenant: Covenant, ctx: Context) -> None:
            covenant.require_in_force(ctx)
            party_id = str(self.party.get("id"))
            try:
                check_party(self.party)
            except InvalidInputError as exc:
                raise RuleError(str(exc)) from None
            require(party_id not in covenant.parties or not covenant.is_current(party_id),
                    f"{party_id} is already a party to {covenant.ref}")
            for person in self.party["representatives"]:
                require(ctx.keys.is_person(str(person)),
                        f"representative {str(person)[:12]} of {party_id} is not a person in this ledger")
            covenant.require_act_decision(ctx, self.decision, {"kind": "admit", "party": party_id})

        def apply(self, covenant: Covenant) -> None:
            party_id = self.party["id"]
            covenant.parties[party_id] = dict(self.party)
            covenant.standing[party_id] = "admitted"
            if party_id in covenant.acceded:
                covenant.acceded.remove(party_id)  # a party that left and is readmitted accedes anew
            covenant.acts_decided.append(self.decision)

    def admit(self, party: dict[str, Any], decision: str) -> None:
        self.trigger_event(self.PartyAdmitted, party=check_party(dict(party)), decision=decision)

    class PartyWithdrew(LedgerAggregate.Event):
        """A party leaves, by its own representative's signature."""

        TYPE = "covenant.party_withdrew"
        party: str
        reason: str

        def check(self, covenant: Covenant, ctx: Context) -> None:
            covenant.require_in_force(ctx)
            require(self.party in covenant.parties and covenant.is_current(self.party),
                    f"{self.party} is not a current party to {covenant.ref}")
            require(ctx.actor.person in covenant.parties[self.party]["representatives"],
                    f"only a representative of {self.party} may sign its withdrawal")
            covenant.require_parties_left(self.party)

        def apply(self, covenant: Covenant) -> None:
            covenant.standing[self.party] = "withdrawn"

    def withdraw(self, party: str, reason: str) -> None:
        self.trigger_event(self.PartyWithdrew, party=party, reason=check_text(reason, "reason"))

    class PartyExpelled(LedgerAggregate.Event):
        """A party is expelled by a passed decision (act ``expel``)."""

        TYPE = "covenant.party_expelled"
        party: str
        decision: str
        reason: str

        def check(self, covenant: Covenant, ctx: Context) -> None:
            covenant.require_in_force(ctx)
            require(self.party in covenant.parties and covenant.is_current(self.party),
                    f"{self.party} is not a current party to {covenant.ref}")
            covenant.require_parties_left(self.party)
            covenant.require_act_decision(ctx, self.decision, {"kind": "expel", "party": self.party})

        def apply(self, covenant: Covenant) -> None:
            covenant.standing[self.party] = "expelled"
            covenant.acts_decided.append(self.decision)

    def expel(self, party: str, decision: str, reason: str) -> None:
        self.trigger_event(self.PartyExpelled, party=party, decision=decision, reason=check_text(reason, "reason"))

    def require_parties_left(self, leaving: str) -> None:
        # A covenant is an agreement between parties: at least two must remain.
        require(len([p for p in self.current_parties() if p != leaving]) >= 2,
                f"{leaving} cannot leave: fewer than two parties would remain (terminate the covenant instead)")

    class RepresentativesChanged(LedgerAggregate.Event):
        """A party names or replaces its representatives: signed by one of its current
        representatives, or, when none of them can still sign, by the secretariat
        citing a passed decision (act ``representatives``)."""

        TYPE = "covenant.representatives_changed"
        party: str
        representatives: list[str]
        decision: str | None = None

        def check(self, covenant: Covenant, ctx: Context) -> None:
            require(covenant.status in ("drafted", "in_force"), f"covenant {covenant.ref} is {covenant.status}")
            require(self.party in covenant.parties and covenant.is_current(self.party),
                    f"{self.party} is not a current party to {covenant.ref}")
            require(bool(self.representatives) and len(set(self.representatives)) == len(self.representatives),
                    "a party needs at least one representative, each named once")
            for person in self.representatives:
                require(ctx.keys.is_person(person), f"{str(person)[:12]} is not a person in this ledger")
            current = covenant.parties[self.party]["representatives"]
            if self.decision is None:
                require(ctx.actor.person in current,
                        f"only a representative of {self.party} may change its representatives "
                        "(or the secretariat, citing a decision, when none of them can sign)")
            else:
                require("secretariat" in ctx.actor.roles, "only the secretariat acts on such a decision")
                require(not any(ctx.keys.active_keys_of(p) for p in current),
                        f"{self.party} still has a representative who can sign; they make the change")
                covenant.require_act_decision(ctx, self.decision, {"kind": "representatives", "party": self.party})

        def apply(self, covenant: Covenant) -> None:
            covenant.parties[self.party] = dict(covenant.parties[self.party],
                                                representatives=list(self.representatives))
            if self.decision is not None:
                covenant.acts_decided.append(self.decision)

    def change_representatives(self, party: str, representatives: list[str], decision: str | None) -> None:
        self.trigger_event(self.RepresentativesChanged, party=party, representatives=representatives,
                           decision=decision)

    # --- review, renewal, termination --------------------------------------

    class Reviewed(LedgerAggregate.Event):
        TYPE = "covenant.reviewed"
        review_date: str
        notes: str

        def check(self, covenant: Covenant, ctx: Context) -> None:
            covenant.require_in_force(ctx)
            require_not_future(self.review_date, ctx, "review date")

        def apply(self, covenant: Covenant) -> None:
            covenant.reviews_done.append(self.review_date)

    def review(self, review_date: str, notes: str) -> None:
        self.trigger_event(self.Reviewed, review_date=check_date(review_date, "review date"),
                           notes=check_text(notes, "notes"))

    class Renewed(LedgerAggregate.Event):
        TYPE = "covenant.renewed"
        new_end: str
        decision: str

        def check(self, covenant: Covenant, ctx: Context) -> None:
            covenant.require_in_force(ctx)
            require(self.new_end > covenant.end, "a renewal must extend the term")
            covenant.require_act_decision(ctx, self.decision, {"kind": "renew", "date": self.new_end})

        def apply(self, covenant: Covenant) -> None:
            covenant.end = self.new_end
            covenant.acts_decided.append(self.decision)

    def renew(self, new_end: str, decision: str) -> None:
        self.trigger_event(self.Renewed, new_end=check_date(new_end, "new end"), decision=decision)

    class Terminated(LedgerAggregate.Event):
        TYPE = "covenant.terminated"
        decision: str
        reason: str

        def check(self, covenant: Covenant, ctx: Context) -> None:
            covenant.require_in_force(ctx)
            motion = covenant.require_act_decision(ctx, self.decision, None)
            require((motion.act or {}).get("kind") == "terminate",
                    f"{self.decision} did not decide to terminate {covenant.ref}")

        def apply(self, covenant: Covenant) -> None:
            covenant.status = "terminated"
            covenant.acts_decided.append(self.decision)

    def terminate(self, decision: str, reason: str) -> None:
        self.trigger_event(self.Terminated, decision=decision, reason=check_text(reason, "reason"))

    # --- amendment -------------------------------------------------------

    class Amended(LedgerAggregate.Event):
        TYPE = "covenant.amended"
        decision: str
        changes: list[dict[str, Any]]

        def check(self, covenant: Covenant, ctx: Context) -> None:
            covenant.require_in_force(ctx)
            motion = _require_passed(ctx, self.decision, "amendment", covenant.ref)
            require(motion.act is None and self.decision not in covenant.acts_decided,
                    f"{self.decision} decided a renewal or termination, not clause changes")
            require(motion.changes == self.changes,
                    f"the changes differ from those adopted by {self.decision}")
            require(self.decision not in covenant.applied_decisions(),
                    f"{self.decision} has already been applied")
            apply_changes(covenant.clauses, covenant.rules, self.changes)  # raises if impossible
            for change in self.changes:
                if change["op"] == "set_neutrals":
                    for person in change["people"]:
                        require(ctx.keys.is_person(person), f"{str(person)[:12]} is not a person in this ledger")

        def apply(self, covenant: Covenant) -> None:
            clauses, rules = apply_changes(covenant.clauses, covenant.rules, self.changes)
            covenant.versions.append(clauses)
            covenant.rules = rules
            covenant.amendments.append(self.decision)
            for change in self.changes:
                if change["op"] == "set_neutrals":
                    covenant.neutrals[change["capacity"]] = list(change["people"])

    def applied_decisions(self) -> list[str]:
        return list(self.amendments)

    def act_class(self, kind: str) -> str:
        """The decision class the covenant names for renewing or terminating it
        (``terms.acts``; the amendment class when it names none)."""
        acts = self.terms.get("acts") if isinstance(self.terms, dict) else None
        named = acts.get(kind) if isinstance(acts, dict) else None
        # Adopting a consulted policy is an ordinary decision unless the covenant says otherwise.
        return str(named or ("ordinary" if kind == "adopt" else "amendment"))

    def require_act_decision(self, ctx: Context, decision: str, act: dict[str, str] | None) -> Any:
        """A passed decision of the class named for this act, stating it, used for nothing else."""
        kind = act["kind"] if act is not None else "terminate"
        motion = _require_passed(ctx, decision, self.act_class(kind), self.ref)
        require(decision not in self.acts_decided and decision not in self.amendments,
                f"{decision} has already been used for another act")
        if act is not None:
            what = f"until {act['date']}" if "date" in act else f"({act.get('party')})"
            require(motion.act == act, f"{decision} did not decide to {kind} {self.ref} {what}")
        return motion

    def amend(self, decision: str, changes: list[dict[str, Any]]) -> None:
        self.trigger_event(self.Amended, decision=decision, changes=changes)

    def diff(self, old: int, new: int) -> list[dict[str, Any]]:
        """Clause-level differences between two versions (1-based)."""
        for wanted in (old, new):
            if not 1 <= wanted <= len(self.versions):
                raise InvalidInputError(f"covenant {self.ref} has versions 1 to {len(self.versions)}")
        return numbered_diff(self.versions[old - 1], self.versions[new - 1], "clause", "repealed")


def numbered_diff(before: dict[str, str], after: dict[str, str], label: str, removed: str) -> list[dict[str, Any]]:
    """Differences between two versions of a numbered text (clauses, a draft's sections):
    ``{label: number, "change": "inserted" | removed | "replaced", "was", "text"}`` in number order."""
    out: list[dict[str, Any]] = []
    for number in sorted(set(before) | set(after), key=_clause_key):
        if number not in before:
            out.append({label: number, "change": "inserted", "text": after[number]})
        elif number not in after:
            out.append({label: number, "change": removed, "was": before[number]})
        elif before[number] != after[number]:
            out.append({label: number, "change": "replaced", "was": before[number], "text": after[number]})
    return out


def _clause_key(number: str) -> tuple[int, ...]:
    return tuple(int(part) for part in number.split("."))


CHANGE_OPS = ("insert", "replace", "repeal", "set_rule", "set_neutrals")
NEUTRALS = ("ombudspersons", "mediators")


def validate_changes(changes: Any) -> list[dict[str, Any]]:
    """Check the shape of amendment changes (Akoma Ntoso's textual modification kinds)."""
    if not isinstance(changes, list) or not changes:
        raise InvalidInputError("an amendment needs at least one change")
    for change in changes:
        if not isinstance(change, dict) or change.get("op") not in CHANGE_OPS:
            raise InvalidInputError(f"each change needs an op: {', '.join(CHANGE_OPS)}")
        if change["op"] == "set_neutrals":
            people = change.get("people")
            if change.get("capacity") not in NEUTRALS or not isinstance(people, list) or \
                    not all(isinstance(x, str) for x in people):
                raise InvalidInputError('set_neutrals needs "capacity" (ombudspersons or mediators) and "people"')
            continue
        if change["op"] == "set_rule":
            parse_rule(change.get("rule"), str(change.get("class", "")))
            if not SLUG_RE.match(str(change.get("class", ""))):
                raise InvalidInputError("set_rule needs a decision class")
            continue
        if not CLAUSE_RE.match(str(change.get("number", ""))):
            raise InvalidInputError(f"clause number {change.get('number')!r} must look like 4 or 4.2")
        if change["op"] in ("insert", "replace"):
            check_text(change.get("text"), f"clause {change['number']} text")
    return changes


def apply_changes(clauses: dict[str, str], rules: dict[str, Any], changes: list[dict[str, Any]]
                  ) -> tuple[dict[str, str], dict[str, Any]]:
    """The clauses and rules after the changes; RuleError if a change cannot apply."""
    clauses, rules = dict(clauses), dict(rules)
    for change in changes:
        op = change["op"]
        if op == "set_rule":
            rules[change["class"]] = change["rule"]
            continue
        if op == "set_neutrals":
            continue  # applied to Covenant.neutrals by the amendment
        number = change["number"]
        if op == "insert":
            require(number not in clauses, f"clause {number} already exists; replace it instead")
            clauses[number] = change["text"]
        elif op == "replace":
            require(number in clauses, f"clause {number} does not exist")
            clauses[number] = change["text"]
        else:
            require(number in clauses, f"clause {number} does not exist")
            del clauses[number]
    return dict(sorted(clauses.items(), key=lambda kv: _clause_key(kv[0]))), rules


def _require_passed(ctx: Context, ref: str, decision_class: str, covenant_ref: str) -> Any:
    """The motion ``ref``, which must have passed under ``decision_class``."""
    from ledger.domain.motion import Motion

    motion = ctx.find(Motion, ref)
    require(motion.status == "closed" and motion.result == "pass", f"{ref} has not passed")
    require(motion.decision_class == decision_class,
            f"{ref} was decided as {motion.decision_class}, but this needs the {decision_class} class")
    require(motion.covenant == covenant_ref, f"{ref} belongs to covenant {motion.covenant}, not {covenant_ref}")
    return motion
