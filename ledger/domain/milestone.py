"""SMART milestones: metric, unit, baseline, target, deadline, owner.

Progress reports carry a value, date, evidence digest and narrative; joint
evaluations are made by an evaluator independent of the owner.  The status
(met, on track, at risk, missed) is derived from the reports, never typed in.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Any

from ledger.domain.base import Context, LedgerAggregate, require, require_not_future
from ledger.domain.committee import check_digest
from ledger.domain.covenant import Covenant, check_date, check_text
from ledger.errors import InvalidInputError
from ledger.types import register_aggregate

# Plain decimal notation, as for money, with an optional minus sign: no
# exponent ("1e999999" would be "met"), '_', '+', spaces or non-ASCII digits.
NUMBER_RE = re.compile(r"^-?(0|[1-9][0-9]{0,14})(\.[0-9]{1,6})?$")


def check_number(text: str, what: str) -> str:
    if not isinstance(text, str) or not NUMBER_RE.match(text) or (text.startswith("-") and not Decimal(text)):
        raise InvalidInputError(f"{what} {text!r} is not a plain decimal number such as 12.5 or -3")
    return text


def derive_status(baseline: str, target: str, deadline: str, start: str,
                  latest_value: str | None, today: date) -> str:
    """met | on track | at risk | missed, from the latest report and the calendar."""
    base, goal = Decimal(baseline), Decimal(target)
    rising = goal >= base
    latest = Decimal(latest_value) if latest_value is not None else base
    if (latest >= goal) if rising else (latest <= goal):
        return "met"
    end = date.fromisoformat(deadline)
    if today > end:
        return "missed"
    begun = date.fromisoformat(start)
    span = max((end - begun).days, 1)
    elapsed = min(max((today - begun).days, 0), span)
    expected = base + (goal - base) * Decimal(elapsed) / Decimal(span)
    on_track = latest >= expected if rising else latest <= expected
    return "on track" if on_track else "at risk"


@register_aggregate
class Milestone(LedgerAggregate):
    KIND = "milestone"
    PREFIX = "MS"

    class Defined(LedgerAggregate.Created):
        TYPE = "milestone.defined"
        ref: str
        covenant: str
        title: str
        metric: str
        unit: str
        baseline: str
        target: str
        deadline: str
        owner: str

        def check(self, aggregate: Any, ctx: Context) -> None:
            covenant = ctx.find(Covenant, self.covenant)
            covenant.require_in_force(ctx)
            require(self.owner in covenant.parties, f"owner {self.owner} is not a party")
            require(self.baseline != self.target, "the target must differ from the baseline")

    def __init__(self, ref: str, covenant: str, title: str, metric: str, unit: str, baseline: str, target: str,
                 deadline: str, owner: str) -> None:
        self.ref = ref
        self.covenant = covenant
        self.title = title
        self.metric = metric
        self.unit = unit
        self.baseline = baseline
        self.target = target
        self.deadline = deadline
        self.owner = owner
        # Only what later records depend on: a milestone reports for years, and an object
        # holding every report grew with the ledger (verify's memory, snapshots).  The
        # reports themselves are read from the stream when shown (projections.describe).
        self.report_count = 0
        self.first_report_date: str | None = None
        self.latest_report: dict[str, Any] | None = None
        self.evaluations: list[dict[str, Any]] = []

    @classmethod
    def define(cls, ctx: Context, covenant: str, title: str, metric: str, unit: str, baseline: str, target: str,
               deadline: str, owner: str) -> Milestone:
        ref = cls.next_ref(ctx)
        return cls._create(cls.Defined, id=cls.new_id(ctx, ref), ref=ref, covenant=covenant,
                           title=check_text(title, "title", 200), metric=check_text(metric, "metric", 200),
                           unit=check_text(unit, "unit", 50), baseline=check_number(baseline, "baseline"),
                           target=check_number(target, "target"), deadline=check_date(deadline, "deadline"),
                           owner=owner)

    def status(self, today: date) -> str:
        start = self.first_report_date or today.isoformat()
        latest = self.latest_report["value"] if self.latest_report else None
        return derive_status(self.baseline, self.target, self.deadline, min(start, self.deadline), latest, today)

    class ProgressReported(LedgerAggregate.Event):
        TYPE = "milestone.progress_reported"
        value: str
        report_date: str
        evidence: str
        narrative: str

        def check(self, milestone: Milestone, ctx: Context) -> None:
            covenant = ctx.find(Covenant, milestone.covenant)
            require(covenant.party_of(ctx.actor.person) == milestone.owner or "secretariat" in ctx.actor.roles,
                    f"only {milestone.owner}'s representative or the secretariat reports progress")
            check_number(self.value, "value")  # here too, so that verify judges forged values
            require_not_future(self.report_date, ctx, "report date")
            if milestone.latest_report:
                require(self.report_date >= milestone.latest_report["date"], "reports must not go back in time")

        def apply(self, milestone: Milestone) -> None:
            milestone.report_count += 1
            milestone.first_report_date = milestone.first_report_date or self.report_date
            milestone.latest_report = {"value": self.value, "date": self.report_date, "evidence": self.evidence,
                                       "narrative": self.narrative}

    def report(self, value: str, report_date: str, evidence: str, narrative: str) -> None:
        self.trigger_event(self.ProgressReported, value=check_number(value, "value"),
                           report_date=check_date(report_date, "report date"), evidence=check_digest(evidence),
                           narrative=check_text(narrative, "narrative"))

    class Evaluated(LedgerAggregate.Event):
        TYPE = "milestone.evaluated"
        evaluator: str
        assessment: str

        def check(self, milestone: Milestone, ctx: Context) -> None:
            covenant = ctx.find(Covenant, milestone.covenant)
            require(ctx.actor.person == self.evaluator, "evaluators sign their own evaluation")
            require(covenant.party_of(self.evaluator) != milestone.owner,
                    f"the evaluator represents {milestone.owner}, the reporting organisation: not independent")
            require(milestone.report_count > 0, "there is no progress report to evaluate")

        def apply(self, milestone: Milestone) -> None:
            milestone.evaluations.append({"evaluator": self.evaluator, "assessment": self.assessment})

    def evaluate(self, evaluator: str, assessment: str) -> None:
        self.trigger_event(self.Evaluated, evaluator=evaluator, assessment=check_text(assessment, "assessment"))
