"""Dispute replay: the ombudsperson's view of what was on record, and when.

For a dispute, the timeline holds the dispute's own records and every record
it contests, in log order.  For each contested record it shows who signed it
and in what role, the state of the object it touched just before (what the
signer could see), the covenant version and decision rule in force then, and
what changed because of it.  Everything is computed from the records.
"""

from __future__ import annotations

from typing import Any

from ledger.domain.base import stream_id
from ledger.domain.covenant import Covenant
from ledger.domain.dispute import Dispute
from projections.describe import describe, load, plain, version_at
from projections.views import AuditState


def _state(ledger: Any, stream: str, position: int) -> dict[str, Any] | None:
    """The object of ``stream`` as it stood at ``position`` (None if not yet created)."""
    from uuid import UUID

    if position < 0:
        return None
    version = version_at(ledger, UUID(stream), position)
    if version is None:
        return None
    return describe(ledger.repository.get(UUID(stream), version=version))


def _changes(before: dict[str, Any] | None, after: dict[str, Any] | None) -> dict[str, Any]:
    if after is None:
        return {}
    before = before or {}
    return {k: {"before": before.get(k), "after": v} for k, v in after.items()
            if k not in ("seq",) and before.get(k) != v}


def timeline(ledger: Any, ref: str) -> dict[str, Any]:
    """The replay of dispute ``ref`` as a JSON-ready dict."""
    dispute = load(ledger, Dispute, ref)
    own = str(stream_id(ledger.origin, Dispute.KIND, dispute.ref))
    contested = {ledger.position_of(h): h for h in dispute.contested}
    last = ledger.size() - 1
    audit = AuditState()
    steps = []
    covenant_id = stream_id(ledger.origin, Covenant.KIND, dispute.covenant)
    for position, record in ledger.read(0, last + 1):
        row = audit.row(position, record)
        if record.stream != own and position not in contested:
            continue
        step: dict[str, Any] = {
            "position": position, "at": record.at, "type": record.type, "ref": row["ref"],
            "signed_by": row["holder"], "roles": row["roles"].split(",") if row["roles"] else [],
            "key_id": record.actor, "event_hash": record.event_hash, "summary": row["summary"],
            "part": "contested" if position in contested else "dispute",
        }
        if position in contested:
            before = _state(ledger, record.stream, position - 1)
            after = _state(ledger, record.stream, position)
            covenant_version = version_at(ledger, covenant_id, position)
            context: dict[str, Any] = {"state_before": before, "data": plain(record.data)}
            if covenant_version is not None:
                covenant = ledger.repository.get(covenant_id, version=covenant_version)
                context["covenant_version"] = covenant.clause_version
                decision_class = (after or {}).get("decision_class")
                if decision_class and decision_class in covenant.rules:
                    context["rule_in_force"] = covenant.rules[decision_class]
            step["context"] = context
            step["changed"] = _changes(before, after)
        steps.append(step)
    return {"dispute": dispute.ref, "stage": dispute.stage, "grounds": dispute.grounds,
            "contested": [contested[p] for p in sorted(contested)], "steps": steps,
            "holders": {key_id: holder for key_id, (holder, _roles) in audit.keys.items()}}


def _named(value: Any, holders: dict[str, str]) -> Any:
    """Key ids replaced by their holders' names, for reading."""
    if isinstance(value, dict):
        return {holders.get(k, k): _named(v, holders) for k, v in value.items()}
    if isinstance(value, list):
        return [_named(v, holders) for v in value]
    return holders.get(value, value) if isinstance(value, str) else value


def render(step: dict[str, Any], holders: dict[str, str] | None = None) -> str:
    """One step as readable text (key ids shown as their holders' names)."""
    holders = holders or {}
    lines = [f"[{step['position']}] {step['at']}  {step['type']}  ({step['part']})",
             f"    signed by {step['signed_by']} as {', '.join(step['roles']) or '?'} (key {step['key_id'][:12]})",
             f"    {step['summary']}"]
    context = step.get("context")
    if context:
        if "covenant_version" in context:
            lines.append(f"    covenant version in force: {context['covenant_version']}")
        if "rule_in_force" in context:
            lines.append(f"    decision rule in force: {context['rule_in_force']}")
        before = context.get("state_before") or {}
        if before:
            keep = {k: v for k, v in before.items() if k in ("status", "votes", "tally", "result", "stage", "balance")}
            if keep:
                lines.append(f"    what the signer could see: {_named(keep, holders)}")
        for key, change in step.get("changed", {}).items():
            before, after = _named(change["before"], holders), _named(change["after"], holders)
            lines.append(f"    changed {key}: {before} -> {after}")
    return "\n".join(lines)


__all__ = ["render", "timeline"]
