"""Decision rules and tallies: pure functions, the heart of "who decided what".

A decision class (``ordinary``, ``funding``, ``amendment``, ``minutes``...)
has a rule, stored as data in the covenant::

    {"quorum": "1/2", "threshold": "1/2", "base": "cast", "strict": true, "seconded": true}

``threshold`` may also be ``"consensus"`` (no ``no`` vote among those present)
or ``"unanimity"`` (every seated member votes ``yes``).  A motion passes when
the quorum is met and the threshold holds.  See docs/rules.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from ledger.errors import InvalidInputError
from ledger.money import parse_fraction

BASES = ("cast", "present", "seated")
CHOICES = ("yes", "no", "abstain")


@dataclass(frozen=True)
class Rule:
    quorum: Fraction
    threshold: Fraction | str  # a fraction, "consensus" or "unanimity"
    base: str
    strict: bool
    seconded: bool
    # Minority protections: a majority of the votes cast within each of these kinds of party,
    # and a minimum number of yes votes from some kinds (docs/rules.md, "double majority").
    majority_within: tuple[str, ...] = ()
    min_yes: tuple[tuple[str, int], ...] = ()


def parse_rule(data: Any, decision_class: str = "") -> Rule:
    """Validate a rule given as data; refuse anything ambiguous."""
    where = f" for class {decision_class!r}" if decision_class else ""
    if not isinstance(data, dict):
        raise InvalidInputError(f"decision rule{where} must be an object")
    unknown = set(data) - {"quorum", "threshold", "base", "strict", "seconded", "majority_within", "min_yes"}
    if unknown:
        raise InvalidInputError(f"decision rule{where} has unknown field {sorted(unknown)[0]!r}")
    quorum = parse_fraction(data.get("quorum", "0/1"), f"quorum{where}")
    threshold_text = data.get("threshold")
    threshold: Fraction | str
    if threshold_text in ("consensus", "unanimity"):
        threshold = str(threshold_text)
    else:
        threshold = parse_fraction(threshold_text, f"threshold{where}")
    base = data.get("base", "cast")
    if base not in BASES:
        raise InvalidInputError(f"base{where} must be one of {', '.join(BASES)}")
    strict, seconded = data.get("strict", False), data.get("seconded", False)
    if not isinstance(strict, bool) or not isinstance(seconded, bool):
        raise InvalidInputError(f"strict and seconded{where} must be true or false")
    from ledger.domain.covenant import PARTY_KINDS

    within = data.get("majority_within", [])
    if not isinstance(within, list) or not all(k in PARTY_KINDS for k in within) or len(set(within)) != len(within):
        raise InvalidInputError(f"majority_within{where} lists kinds of party: {', '.join(PARTY_KINDS)}")
    minimum = data.get("min_yes", {})
    if not isinstance(minimum, dict) or not all(
            k in PARTY_KINDS and isinstance(n, int) and not isinstance(n, bool) and 1 <= n <= 100
            for k, n in minimum.items()):
        raise InvalidInputError(f"min_yes{where} maps kinds of party to a whole number of yes votes (1 to 100)")
    return Rule(quorum, threshold, base, strict, seconded, tuple(within), tuple(sorted(minimum.items())))


@dataclass(frozen=True)
class Tally:
    seated: int
    present: int
    yes: int
    no: int
    abstain: int

    def to_json(self) -> dict[str, int]:
        return {"seated": self.seated, "present": self.present, "yes": self.yes, "no": self.no,
                "abstain": self.abstain}


def count(votes: dict[str, str], seated: int, present: int) -> Tally:
    """Tally the last vote of each member (``votes`` maps member -> choice)."""
    choices = list(votes.values())
    return Tally(seated, present, choices.count("yes"), choices.count("no"), choices.count("abstain"))


def decide(rule: Rule, tally: Tally) -> tuple[str, str]:
    """("pass" | "fail", a one-line explanation of how the rule was met or not)."""
    need = rule.quorum * tally.seated
    if tally.present < need:
        return "fail", f"quorum not met: {tally.present} present of {tally.seated} seated, {_frac(rule.quorum)} needed"
    if rule.threshold == "consensus":
        if tally.no:
            return "fail", f"no consensus: {tally.no} voted no"
        return "pass", "consensus: nobody present voted no"
    if rule.threshold == "unanimity":
        if tally.yes == tally.seated and tally.seated > 0:
            return "pass", f"unanimous: all {tally.seated} seated members voted yes"
        return "fail", f"not unanimous: {tally.yes} of {tally.seated} seated members voted yes"
    assert isinstance(rule.threshold, Fraction)
    base = {"cast": tally.yes + tally.no, "present": tally.present, "seated": tally.seated}[rule.base]
    share = rule.threshold * base
    met = tally.yes > share if rule.strict else tally.yes >= share
    if rule.strict and base == 0:
        met = False
    word = "more than" if rule.strict else "at least"
    verdict = "pass" if met else "fail"
    return verdict, (f"{tally.yes} yes of {base} {rule.base}: {word} {_frac(rule.threshold)} "
                     f"{'was' if met else 'was not'} reached")


def _frac(value: Fraction) -> str:
    return f"{value.numerator}/{value.denominator}"


def decide_parts(rule: Rule, votes: dict[str, str], kinds: dict[str, str]) -> tuple[bool, str]:
    """The minority protections of a rule: (all met, one line per part) -- ("", True) when the rule has none.

    ``majority_within``: within each kind of party, more yes than no among its members' votes.
    ``min_yes``: at least N yes votes from members of that kind of party.
    """
    parts, ok = [], True
    for kind in rule.majority_within:
        mine = [choice for member, choice in votes.items() if kinds.get(member) == kind]
        yes, no = mine.count("yes"), mine.count("no")
        met = yes > no
        ok = ok and met
        parts.append(f"{kind.replace('_', ' ')}: {yes} yes, {no} no, majority {'reached' if met else 'not reached'}")
    for kind, needed in rule.min_yes:
        yes = sum(1 for member, choice in votes.items() if kinds.get(member) == kind and choice == "yes")
        met = yes >= needed
        ok = ok and met
        parts.append(f"{kind.replace('_', ' ')}: {yes} yes of {needed} needed, {'met' if met else 'not met'}")
    return ok, "; ".join(parts)
