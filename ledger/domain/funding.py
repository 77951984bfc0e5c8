"""Funds: pledges, receipts, matching, allocations, disbursements, returns.

A fund holds one ISO 4217 currency.  Invariants (checked on every command
and by ``ledger verify``):

* no allocation without a passed ``funding`` decision for at least that
  amount (allocations citing one decision never exceed what it authorised);
* disbursed never exceeds allocated, per allocation;
* a fund never goes negative: allocations never exceed money received;
* amounts are decimal strings with at most the currency's minor-unit digits.

Matching rules (party P matches contributions received from parties of the
given kinds at ratio R, up to cap C) turn receipts into obligations for P.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ledger.domain.base import Context, LedgerAggregate, RuleError, require
from ledger.domain.committee import check_digest
from ledger.domain.covenant import Covenant, check_text
from ledger.domain.organisation import Organisation
from ledger.errors import InvalidInputError
from ledger.money import check_currency, format_amount, parse_amount, parse_ratio
from ledger.types import register_aggregate


def _amount(value: str, currency: str) -> Decimal:
    try:
        return parse_amount(value, currency)
    except InvalidInputError as exc:
        raise RuleError(str(exc)) from None


@register_aggregate
class Fund(LedgerAggregate):
    KIND = "fund"
    PREFIX = "F"

    class Established(LedgerAggregate.Created):
        TYPE = "fund.established"
        ref: str
        covenant: str
        name: str
        currency: str
        matching: list[dict[str, Any]]

        def check(self, aggregate: Any, ctx: Context) -> None:
            covenant = ctx.find(Covenant, self.covenant)
            covenant.require_in_force(ctx)
            for rule in self.matching:
                require(rule.get("matcher") in covenant.parties, f"matcher {rule.get('matcher')} is not a party")
                require(isinstance(rule.get("from_kinds"), list) and bool(rule["from_kinds"]),
                        "a matching rule needs from_kinds")
                try:
                    parse_ratio(rule.get("ratio"))
                except InvalidInputError as exc:
                    raise RuleError(str(exc)) from None
                _amount(rule.get("cap", ""), self.currency)

    def __init__(self, ref: str, covenant: str, name: str, currency: str, matching: list[dict[str, Any]]) -> None:
        self.ref = ref
        self.covenant = covenant
        self.name = name
        self.currency = currency
        self.matching = matching
        self.pledged: dict[str, Decimal] = {}
        self.received: dict[str, Decimal] = {}
        self.matching_owed: dict[str, Decimal] = {}
        self.allocations: dict[str, dict[str, Any]] = {}
        self.by_decision: dict[str, Decimal] = {}

    @classmethod
    def establish(cls, ctx: Context, covenant: str, name: str, currency: str,
                  matching: list[dict[str, Any]]) -> Fund:
        check_currency(currency)
        for rule in matching:
            parse_ratio(rule.get("ratio"))
            parse_amount(rule.get("cap"), currency)
        ref = cls.next_ref(ctx)
        return cls._create(cls.Established, id=cls.new_id(ctx, ref), ref=ref, covenant=covenant,
                           name=check_text(name, "fund name", 200), currency=currency, matching=matching)

    # --- derived figures ---------------------------------------------------

    def total(self, values: dict[str, Decimal]) -> Decimal:
        return sum(values.values(), Decimal(0))

    def allocated(self) -> Decimal:
        return sum((a["amount"] - a["returned"] for a in self.allocations.values()), Decimal(0))

    def balance(self) -> Decimal:
        """Money received and not yet allocated."""
        return self.total(self.received) - self.allocated()

    def fmt(self, value: Decimal) -> str:
        return format_amount(value, self.currency)

    def matching_status(self) -> dict[str, dict[str, str]]:
        """Per matching party: what its commitments made it owe, what it has met (its own
        money received, up to what it owes) and what is outstanding."""
        out = {}
        for matcher, owed in sorted(self.matching_owed.items()):
            met = min(owed, self.received.get(matcher, Decimal(0)))
            out[matcher] = {"owed": self.fmt(owed), "met": self.fmt(met), "outstanding": self.fmt(owed - met)}
        return out

    # --- contributions ---------------------------------------------------

    class Pledged(LedgerAggregate.Event):
        TYPE = "fund.pledged"
        party: str
        amount: str

        def check(self, fund: Fund, ctx: Context) -> None:
            covenant = ctx.find(Covenant, fund.covenant)
            require(self.party in covenant.parties, f"{self.party} is not a party")
            _amount(self.amount, fund.currency)
            require(covenant.party_of(ctx.actor.person) == self.party or "secretariat" in ctx.actor.roles,
                    f"only {self.party}'s representative or the secretariat records its pledge")

        def apply(self, fund: Fund) -> None:
            fund.pledged[self.party] = fund.pledged.get(self.party, Decimal(0)) + Decimal(self.amount)

    def pledge(self, party: str, amount: str) -> None:
        parse_amount(amount, self.currency)
        self.trigger_event(self.Pledged, party=party, amount=amount)

    class Received(LedgerAggregate.Event):
        TYPE = "fund.received"
        party: str
        amount: str
        evidence: str
        matching: dict[str, str]  # matcher party -> obligation created by this receipt

        def check(self, fund: Fund, ctx: Context) -> None:
            covenant = ctx.find(Covenant, fund.covenant)
            require(self.party in covenant.parties, f"{self.party} is not a party")
            _amount(self.amount, fund.currency)
            expected = fund.matching_for(covenant, self.party, Decimal(self.amount))
            require(self.matching == expected,
                    f"the matching obligations recorded {self.matching} are not those the rules give {expected}")

        def apply(self, fund: Fund) -> None:
            fund.received[self.party] = fund.received.get(self.party, Decimal(0)) + Decimal(self.amount)
            for matcher, owed in self.matching.items():
                fund.matching_owed[matcher] = fund.matching_owed.get(matcher, Decimal(0)) + Decimal(owed)

    def matching_for(self, covenant: Covenant, party: str, amount: Decimal) -> dict[str, str]:
        """The obligations a receipt from ``party`` creates, capped per rule."""
        out: dict[str, str] = {}
        for rule in self.matching:
            matcher = rule["matcher"]
            if matcher == party or covenant.kind_of(party) not in rule["from_kinds"]:
                continue
            cap = Decimal(rule["cap"])
            already = self.matching_owed.get(matcher, Decimal(0)) + Decimal(out.get(matcher, "0"))
            ratio = parse_ratio(rule["ratio"])
            owed = min(amount * ratio.numerator / ratio.denominator, max(cap - already, Decimal(0)))
            if owed > 0:
                out[matcher] = self.fmt(Decimal(out.get(matcher, "0")) + owed)
        return out

    def receive(self, ctx: Context, party: str, amount: str, evidence: str) -> None:
        value = parse_amount(amount, self.currency)
        covenant = ctx.find(Covenant, self.covenant)
        self.trigger_event(self.Received, party=party, amount=amount, evidence=check_digest(evidence),
                           matching=self.matching_for(covenant, party, value))

    # --- allocations and disbursements -----------------------------------------

    class Allocated(LedgerAggregate.Event):
        TYPE = "fund.allocated"
        allocation: str
        project: str
        amount: str
        decision: str
        # Who the money goes to: a current party of the covenant, or a registered
        # organisation's id (None only in records written before recipients existed).
        recipient: str | None = None

        def check(self, fund: Fund, ctx: Context) -> None:
            from ledger.domain.motion import Motion

            if self.recipient is not None:
                covenant = ctx.find(Covenant, fund.covenant)
                require((covenant.is_current(self.recipient) and self.recipient in covenant.parties)
                        or ctx.exists(Organisation, self.recipient),
                        f"the recipient {self.recipient} is neither a party to {covenant.ref} nor a registered "
                        "organisation (see 'ledger organisation register')")

            amount = _amount(self.amount, fund.currency)
            require(amount > 0, "an allocation must be more than zero")
            require(self.allocation not in fund.allocations, f"allocation {self.allocation} already exists")
            motion = ctx.find(Motion, self.decision)
            require(motion.status == "closed" and motion.result == "pass", f"{self.decision} has not passed")
            require(motion.decision_class == "funding", f"{self.decision} is not a funding decision")
            require(motion.amount is not None and motion.amount.get("fund") == fund.ref,
                    f"{self.decision} did not authorise spending from {fund.ref}")
            assert motion.amount is not None
            authorised = Decimal(motion.amount["value"])
            used = fund.by_decision.get(self.decision, Decimal(0))
            require(used + amount <= authorised,
                    f"{self.decision} authorised {motion.amount['value']} {fund.currency}; "
                    f"{fund.fmt(used)} is already allocated, so {self.amount} would exceed it")
            require(amount <= fund.balance(),
                    f"the fund holds {fund.fmt(fund.balance())} {fund.currency} unallocated; "
                    f"allocating {self.amount} would take it below zero")

        def apply(self, fund: Fund) -> None:
            fund.allocations[self.allocation] = {"project": self.project, "recipient": self.recipient,
                                                 "amount": Decimal(self.amount), "decision": self.decision,
                                                 "disbursed": Decimal(0), "returned": Decimal(0)}
            fund.by_decision[self.decision] = fund.by_decision.get(self.decision, Decimal(0)) + Decimal(self.amount)

    def allocate(self, project: str, amount: str, decision: str, recipient: str) -> str:
        parse_amount(amount, self.currency)
        if not recipient:
            raise InvalidInputError("an allocation names its recipient: a party's id or a registered organisation")
        allocation = f"{self.ref}/A-{len(self.allocations) + 1}"
        self.trigger_event(self.Allocated, allocation=allocation, project=check_text(project, "project", 200),
                           amount=amount, decision=decision, recipient=recipient)
        return allocation

    class Disbursed(LedgerAggregate.Event):
        TYPE = "fund.disbursed"
        allocation: str
        amount: str
        evidence: str

        def check(self, fund: Fund, ctx: Context) -> None:
            require(self.allocation in fund.allocations, f"allocation {self.allocation} does not exist")
            entry = fund.allocations[self.allocation]
            amount = _amount(self.amount, fund.currency)
            require(amount > 0, "a disbursement must be more than zero")
            require(entry["disbursed"] + amount <= entry["amount"] - entry["returned"],
                    f"allocation {self.allocation} has {fund.fmt(entry['amount'] - entry['returned'])} "
                    f"{fund.currency} allocated and {fund.fmt(entry['disbursed'])} disbursed; "
                    f"{self.amount} more would exceed it")

        def apply(self, fund: Fund) -> None:
            fund.allocations[self.allocation]["disbursed"] += Decimal(self.amount)

    def disburse(self, allocation: str, amount: str, evidence: str) -> None:
        parse_amount(amount, self.currency)
        self.trigger_event(self.Disbursed, allocation=allocation, amount=amount, evidence=check_digest(evidence))

    class Returned(LedgerAggregate.Event):
        TYPE = "fund.returned"
        allocation: str
        amount: str
        reason: str

        def check(self, fund: Fund, ctx: Context) -> None:
            require(self.allocation in fund.allocations, f"allocation {self.allocation} does not exist")
            entry = fund.allocations[self.allocation]
            amount = _amount(self.amount, fund.currency)
            undisbursed = entry["amount"] - entry["returned"] - entry["disbursed"]
            require(0 < amount <= undisbursed,
                    f"allocation {self.allocation} has {fund.fmt(undisbursed)} {fund.currency} undisbursed to return")

        def apply(self, fund: Fund) -> None:
            fund.allocations[self.allocation]["returned"] += Decimal(self.amount)

    def return_funds(self, allocation: str, amount: str, reason: str) -> None:
        parse_amount(amount, self.currency)
        self.trigger_event(self.Returned, allocation=allocation, amount=amount, reason=check_text(reason, "reason"))
