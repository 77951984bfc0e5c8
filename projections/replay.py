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
from projections.describe import describe, load, plain, positions_of_stream, version_at
from projections.views import summarise


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


def _signer(ledger: Any, registry_sid: Any, key_id: str, position: int) -> tuple[str, list[str]]:
    """Holder and roles of a key as the registry stood at ``position``."""
    version = version_at(ledger, registry_sid, position)
    registry = ledger.repository.get(registry_sid, version=version)
    info = registry.keys.get(key_id)
    return (info.holder, list(info.roles)) if info else ("(unknown key)", [])


def timeline(ledger: Any, ref: str, identity: str | None = None) -> dict[str, Any]:
    """The replay of dispute ``ref`` as a JSON-ready dict (a confidential grievance's
    grounds opened with a neutral's age ``identity``, else shown as sealed).

    Reads the dispute's own stream, the contested records and the key
    registry as it stood at each: its cost grows with the dispute, not with
    the ledger.
    """
    from ledger.domain.identity import registry_id

    dispute = load(ledger, Dispute, ref)
    own = str(stream_id(ledger.origin, Dispute.KIND, dispute.ref))
    contested = {ledger.position_of(h): h for h in dispute.contested}
    registry_sid = registry_id(ledger.origin)
    covenant_id = stream_id(ledger.origin, Covenant.KIND, dispute.covenant)
    holders: dict[str, str] = {}
    steps = []
    for position in sorted({*positions_of_stream(ledger, own), *contested}):
        record = ledger.record_at(position)
        holder, roles = _signer(ledger, registry_sid, record.actor, position)
        holders[record.actor] = holder
        ref_of_stream = _ref_of(ledger, record.stream, position)
        _name_keys(ledger, registry_sid, _keys_in(record.data), position, holders)
        key_names = {k: (v, "") for k, v in holders.items()}
        step: dict[str, Any] = {
            "position": position, "at": record.at, "type": record.type, "ref": ref_of_stream,
            "signed_by": holder, "roles": roles, "key_id": record.actor, "event_hash": record.event_hash,
            "summary": summarise(record, ref_of_stream, key_names),
            "part": "contested" if position in contested else "dispute",
        }
        if position in contested:
            before = _state(ledger, record.stream, position - 1)
            after = _state(ledger, record.stream, position)
            _name_keys(ledger, registry_sid, _keys_in(before) | _keys_in(after), position, holders)
            context: dict[str, Any] = {"state_before": before, "data": plain(record.data)}
            covenant_version = version_at(ledger, covenant_id, position)
            if covenant_version is not None:
                covenant = ledger.repository.get(covenant_id, version=covenant_version)
                context["covenant_version"] = covenant.clause_version
                decision_class = (after or {}).get("decision_class")
                if decision_class and decision_class in covenant.rules:
                    context["rule_in_force"] = covenant.rules[decision_class]
            step["context"] = context
            step["changed"] = _changes(before, after)
        steps.append(step)
    from projections.confidential import grievance

    return {"dispute": dispute.ref, "stage": dispute.stage, "grounds": grievance(ledger, dispute, identity)["grounds"],
            "contested": [contested[p] for p in sorted(contested)], "steps": steps, "holders": holders}


def _name_keys(ledger: Any, registry_sid: Any, candidates: set[str], position: int, holders: dict[str, str]) -> None:
    """Name the candidates that are registered keys (event hashes look alike and are left alone)."""
    for key in candidates - set(holders):
        holder, roles = _signer(ledger, registry_sid, key, position)
        if roles:
            holders[key] = holder


def _ref_of(ledger: Any, stream: str, position: int) -> str:
    """The readable ref of a stream, from its first record."""
    first = positions_of_stream(ledger, stream)[0]
    return str(ledger.record_at(first).data.get("ref", ""))


def _keys_in(value: Any) -> set[str]:
    """Every key id (64 lowercase hex) mentioned in a value, for naming holders."""
    import re

    found: set[str] = set()
    if isinstance(value, dict):
        for k, v in value.items():
            found |= _keys_in(k) | _keys_in(v)
    elif isinstance(value, list):
        for v in value:
            found |= _keys_in(v)
    elif isinstance(value, str) and re.fullmatch(r"[0-9a-f]{64}", value):
        found.add(value)
    return found


def _named(value: Any, holders: dict[str, str]) -> Any:
    """Key ids replaced by their holders' names, for reading."""
    if isinstance(value, dict):
        return {holders.get(k, k): _named(v, holders) for k, v in value.items()}
    if isinstance(value, list):
        return [_named(v, holders) for v in value]
    return holders.get(value, value) if isinstance(value, str) else value


def _text(value: Any) -> str:
    """A value as words for people: no Python reprs (no braces, quotes or True/None)."""
    if isinstance(value, dict):
        if not value:
            return "none"
        return "; ".join(f"{k} {_text(v)}" if isinstance(v, str) and not isinstance(v, bool)
                         else f"{k}: {_text(v)}" for k, v in value.items())
    if isinstance(value, list):
        return ", ".join(_text(v) for v in value) if value else "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if value is None:
        return "none"
    return str(value)


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
            lines.append(f"    decision rule in force: {_text(context['rule_in_force'])}")
        before = context.get("state_before") or {}
        if before:
            keep = {k: v for k, v in before.items() if k in ("status", "votes", "tally", "result", "stage", "balance")}
            if keep:
                lines.append(f"    what the signer could see: {_text(_named(keep, holders))}")
        for key, change in step.get("changed", {}).items():
            before, after = _named(change["before"], holders), _named(change["after"], holders)
            lines.append(f"    changed {key}: {_text(before)} -> {_text(after)}")
    return "\n".join(lines)


__all__ = ["render", "timeline"]
