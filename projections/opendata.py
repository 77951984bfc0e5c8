"""Open-data exports in the field's standards, built from the records.

* Popolo JSON: organizations (the covenant's parties, with ids by their
  kind, and committees), persons (people, each with every key they held),
  memberships (committee seats, with start and end), motions (with their
  date), vote events with start and end, counts and votes.
* 360Giving JSON: one grant per allocation, co-funders (the parties whose
  money was received) in ``fundingOrganization``, the allocation's named
  recipient in ``recipientOrganization`` (org-id.guide identifiers where the
  organisation has one, else the partnership's 360G prefix), disbursements
  as transactions with ``value``.
* CSV registers and the audit trail as JSON Lines.

Every item carries ``ledger:event_hash``, the hash of the record it came
from, so a reader can prove it with ``ledger prove inclusion HASH``.  What a
standard cannot say (the machine-readable decision rule) goes in fields
namespaced ``ledger:``.  Amounts are written as exact decimal numbers, never
through a float.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from ledger.domain.covenant import Covenant
from ledger.domain.funding import Fund
from ledger.domain.motion import Motion
from projections.describe import load, refs

FORMATS = ("popolo", "360giving", "csv-motions", "csv-votes", "csv-allocations", "csv-funds", "csv-meetings",
           "csv-milestones", "csv-disputes", "audit-jsonl")


# The audit rows an export needs besides each object's first record of a type:
# votes, openings, seats, money movements and key records (one pass, page by page).
KEPT_TYPES = frozenset({"motion.vote_cast", "motion.vote_opened", "motion.proposed", "motion.closed",
                        "committee.established", "committee.seat_assigned", "committee.seat_vacated",
                        "fund.allocated", "fund.disbursed", "fund.returned", "ledger.genesis", "key.registered",
                        "key.rotated"})


def _hashes(ledger: Any) -> tuple[dict[tuple[str, str], str], list[dict[str, Any]]]:
    """Event hash of each (ref, type) first record, and the audit rows of the kinds the
    exports use (read page by page: never the whole log at once)."""
    from projections.audit import every_row

    first: dict[tuple[str, str], str] = {}
    rows = []
    for row in every_row(ledger, ledger.size() - 1):
        first.setdefault((row["ref"], row["type"]), row["event_hash"])
        if row["type"] in KEPT_TYPES:
            rows.append(row)
    return first, rows


def popolo(ledger: Any) -> dict[str, Any]:
    hashes, rows = _hashes(ledger)
    registry = ledger.registry()
    organizations, memberships, motions, vote_events = [], [], [], []
    for ref in refs(ledger, Covenant):
        covenant = load(ledger, Covenant, ref)
        for party in covenant.parties.values():
            organization: dict[str, Any] = {
                "id": _org_id(party), "name": party["name"], "classification": party["kind"],
                "ledger:standing": covenant.standing.get(party["id"], "founding"),
                "ledger:event_hash": hashes[(ref, "covenant.drafted")]}
            if party.get("identifier"):
                organization["identifiers"] = [{"scheme": "org-id", "identifier": party["identifier"]}]
            organizations.append(organization)
    registered = _key_records(ledger, rows)
    persons = []
    for person in dict.fromkeys(k.person for k in registry.keys.values()):
        held = registry.keys_of(person)
        persons.append({"id": f"person:{person}", "name": registry.name_of(person),
                        "ledger:keys": [k.key_id for k in held],
                        "ledger:roles": sorted({r for k in held for r in k.roles}),
                        "ledger:event_hash": registered[person]})
    from ledger.domain.committee import Committee

    kinds = _party_kinds(ledger)
    for ref in refs(ledger, Committee):
        committee = load(ledger, Committee, ref)
        organizations.append({"id": f"committee:{ref}", "name": committee.name, "classification": "committee",
                              "ledger:event_hash": hashes[(ref, "committee.established")]})
        memberships += _seats(ledger, rows, ref, kinds)
    votes_by_motion: dict[str, list[dict[str, Any]]] = {}
    opened: dict[str, str] = {}
    proposed_at: dict[str, str] = {}
    closing: dict[str, str] = {}
    for row in rows:
        if row["type"] == "motion.vote_cast":
            votes_by_motion.setdefault(row["ref"], []).append(row)
        elif row["type"] == "motion.vote_opened":
            opened[row["ref"]] = row["at"]
        elif row["type"] == "motion.proposed":
            proposed_at.setdefault(row["ref"], row["at"])
        elif row["type"] == "motion.closed":
            closing[row["ref"]] = row["summary"]
    for ref in refs(ledger, Motion):
        motion = load(ledger, Motion, ref)
        motions.append({
            "id": f"motion:{ref}", "organization_id": f"committee:{motion.committee}" if motion.committee else None,
            "creator_id": f"person:{motion.proposer}", "text": motion.text, "identifier": ref,
            "classification": motion.decision_class, "result": motion.result, "date": _date(proposed_at[ref]),
            "ledger:event_hash": hashes[(ref, "motion.proposed")],
            "ledger:decision_rule": motion.snapshot.get("rule"),
        })
        if motion.status != "closed":
            continue
        tally = motion.tally
        event: dict[str, Any] = {
            "id": f"vote_event:{ref}", "motion_id": f"motion:{ref}", "identifier": ref,
            "organization_id": f"committee:{motion.committee}", "result": motion.result,
            "start_date": _date(opened.get(ref, motion.decided_at)), "end_date": _date(motion.decided_at), "counts": [
                {"option": option, "value": tally[option]} for option in ("yes", "no", "abstain")],
            "votes": [_vote(ledger, row) for row in votes_by_motion.get(ref, [])],
            "ledger:event_hash": hashes[(ref, "motion.closed")],
            "ledger:decision_rule": motion.snapshot["rule"],
            "ledger:explanation": closing.get(ref, ""),
        }
        if motion.snapshot.get("in_breach_of_composition"):
            event["ledger:in_breach_of_composition"] = motion.snapshot["in_breach_of_composition"]
        if motion.snapshot.get("represented"):
            event["ledger:represented_by_proxy"] = [f"person:{p}" for p in motion.snapshot["represented"]]
        report = getattr(motion, "minority_report", None)
        if report:
            event["ledger:minority_report"] = {"text": report["text"],
                                               "signed_by": [f"person:{p}" for p in report["signed"]],
                                               "awaiting": [f"person:{p}" for p in report["members"]
                                                            if p not in report["signed"]]}
        vote_events.append(event)
    return {"organizations": organizations, "persons": persons, "memberships": memberships,
            "motions": motions, "vote_events": vote_events}


def _date(at: str) -> str:
    """A record's time as Popolo's date pattern takes it (whole seconds: 2026-03-10T17:00:00Z)."""
    return at[:19] + "Z"


def _org_id(party: dict[str, Any]) -> str:
    """A party's Popolo id, by its kind: civil_society:clean-air-now, political_party:civic-renewal."""
    return f"{party['kind']}:{party['id']}"


def _party_kinds(ledger: Any) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for ref in refs(ledger, Covenant):
        out.update(load(ledger, Covenant, ref).parties)
    return out


SEAT_TYPES = ("committee.established", "committee.seat_assigned", "committee.seat_vacated")


def _seats(ledger: Any, rows: list[dict[str, Any]], ref: str, parties: dict[str, dict[str, Any]]
           ) -> list[dict[str, Any]]:
    """Popolo memberships of one committee: every seat ever held, with its start and end."""
    held: dict[str, dict[str, Any]] = {}
    out: list[dict[str, Any]] = []

    def begin(member: str, party: str, row: dict[str, Any]) -> None:
        held[member] = {"id": f"seat:{ref}:{member[:16]}:{row['position']}", "person_id": f"person:{member}",
                        "organization_id": f"committee:{ref}",
                        "on_behalf_of_id": _org_id(parties[party]) if party in parties else f"party:{party}",
                        "role": "member", "start_date": _date(row["at"]), "ledger:event_hash": row["event_hash"]}

    for row in rows:
        if row["ref"] != ref or row["type"] not in SEAT_TYPES:
            continue
        data = ledger.record_at(row["position"]).data
        if row["type"] == "committee.established":
            for member, party in sorted(data["seats"].items()):
                begin(member, party, row)
        elif row["type"] == "committee.seat_assigned":
            begin(data["member"], data["party"], row)
        elif row["type"] == "committee.seat_vacated" and data["member"] in held:
            out.append(dict(held.pop(data["member"]), end_date=_date(row["at"])))
    return out + list(held.values())


def _key_records(ledger: Any, rows: list[dict[str, Any]]) -> dict[str, str]:
    """Key id -> event hash of the record that brought the key in (genesis, key.registered, key.rotated)."""
    out: dict[str, str] = {}
    for row in rows:
        if row["type"] == "ledger.genesis":
            for entry in ledger.record_at(row["position"]).data["keys"]:
                out.setdefault(entry["key_id"], row["event_hash"])
        elif row["type"] == "key.registered":
            out.setdefault(ledger.record_at(row["position"]).data["key_id"], row["event_hash"])
        elif row["type"] == "key.rotated":
            out.setdefault(ledger.record_at(row["position"]).data["new_key_id"], row["event_hash"])
    return out


def _vote(ledger: Any, row: dict[str, Any]) -> dict[str, Any]:
    """A Popolo vote from the audit row of a motion.vote_cast record (one read)."""
    data = ledger.record_at(row["position"]).data
    vote = {"id": f"vote:{row['position']}", "voter_id": f"person:{data['member']}", "option": data["choice"],
            "ledger:event_hash": row["event_hash"]}
    if data.get("proxy"):
        vote["ledger:cast_by_proxy"] = f"person:{data['proxy']}"
    return vote


def threesixtygiving(ledger: Any) -> dict[str, Any]:
    _, rows = _hashes(ledger)
    from ledger.domain.organisation import Organisation

    organisations = {ref: load(ledger, Organisation, ref) for ref in refs(ledger, Organisation)}
    grants = []
    for fund_ref in refs(ledger, Fund):
        fund = load(ledger, Fund, fund_ref)
        covenant = load(ledger, Covenant, fund.covenant)
        prefix = publisher_prefix(covenant)

        funders = [_party_org(covenant, party, prefix) for party in sorted(fund.received)] or [
            {"id": f"{prefix}-{fund_ref}", "name": fund.name}]
        of_fund = [r for r in rows if r["ref"] == fund_ref]
        for allocation, entry in fund.allocations.items():
            own = [r for r in of_fund if allocation in r["summary"]]
            disbursed = [r for r in own if r["type"] == "fund.disbursed"]
            allocated_row = next(r for r in own if r["type"] == "fund.allocated")
            grants.append({
                "id": f"{prefix}-{allocation.replace('/', '-')}",
                "title": entry["project"], "description": f"{entry['project']}, authorised by {entry['decision']}",
                "currency": fund.currency,
                "amountAwarded": _Number(fund.fmt(entry["amount"])),
                "amountDisbursed": _Number(fund.fmt(entry["disbursed"])),
                "awardDate": allocated_row["at"],
                "fundingOrganization": funders,
                "recipientOrganization": [_recipient(entry, covenant, organisations, prefix)],
                "disbursementTransaction": [
                    {"id": f"{prefix}-{allocation.replace('/', '-')}-D{n}",
                     "value": _Number(fund.fmt(Decimal(ledger.record_at(r["position"]).data["amount"]))),
                     "transactionDate": r["at"], "ledger:event_hash": r["event_hash"]}
                    for n, r in enumerate(disbursed, start=1)],
                "dateModified": own[-1]["at"],
                "dataSource": f"https://{ledger.origin}/",
                "ledger:event_hash": allocated_row["event_hash"],
                "ledger:decision": entry["decision"],
                "ledger:matching": {matcher: {k: _Number(v) for k, v in status.items()}
                                    for matcher, status in fund.matching_status().items()},
            })
    return {"grants": grants}


def publisher_prefix(covenant: Any) -> str:
    """The partnership's 360Giving prefix (``terms.open_data.prefix``, registered with
    360Giving), else ``360G-ledger``: grant ids, and the ids of organisations without a
    registered number, start with it."""
    configured = (covenant.terms.get("open_data") or {}).get("prefix")
    return str(configured or "360G-ledger")


def _party_org(covenant: Any, party: str, prefix: str) -> dict[str, str]:
    entry = covenant.parties[party]
    return {"id": entry.get("identifier") or f"{prefix}-{party}", "name": entry["name"]}


def _recipient(entry: dict[str, Any], covenant: Any, organisations: dict[str, Any], prefix: str) -> dict[str, str]:
    recipient = str(entry.get("recipient") or "")
    if recipient in covenant.parties:
        return _party_org(covenant, recipient, prefix)
    if recipient in organisations:
        found = organisations[recipient]
        return {"id": found.identifier or f"{prefix}-{recipient}", "name": found.name}
    # Allocations recorded before recipients were named: the project stands in, and says so.
    return {"id": f"{prefix}-project-{entry['project'].lower().replace(' ', '-')}",
            "name": f"{entry['project']} (recipient not recorded)"}


class _Number:
    """An exact decimal to be written as a JSON number (never via a float)."""

    def __init__(self, value: Decimal | str) -> None:
        self.text = str(Decimal(value))


def dumps(value: Any) -> str:
    """JSON with _Number values written as exact number tokens."""
    numbers: list[str] = []

    def mark(obj: Any) -> Any:
        if isinstance(obj, _Number):
            numbers.append(obj.text)
            return f"\x00number{len(numbers) - 1}\x00"
        if isinstance(obj, dict):
            return {k: mark(v) for k, v in obj.items()}
        if isinstance(obj, list):
            return [mark(v) for v in obj]
        return obj

    text = json.dumps(mark(value), indent=2, ensure_ascii=False)
    for index, number in enumerate(numbers):
        text = text.replace(f'"\\u0000number{index}\\u0000"', number)
    return text


def csv_table(rows: list[dict[str, Any]], columns: list[str]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow(row)
    return out.getvalue()


def audit_lines(ledger: Any) -> Iterator[str]:
    """The audit trail as JSON Lines, one record at a time."""
    from projections.audit import every_row

    for row in every_row(ledger, ledger.size() - 1):
        yield json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n"


def export(ledger: Any, fmt: str) -> str:
    """The text of one export format."""
    if fmt == "popolo":
        return dumps(popolo(ledger)) + "\n"
    if fmt == "360giving":
        return dumps(threesixtygiving(ledger)) + "\n"
    if fmt == "audit-jsonl":
        return "".join(audit_lines(ledger))
    data = popolo(ledger)
    if fmt == "csv-motions":
        rows = [{**m, "event_hash": m["ledger:event_hash"]} for m in data["motions"]]
        return csv_table(rows, ["identifier", "classification", "result", "text", "event_hash"])
    if fmt == "csv-votes":
        rows = [{"motion": e["identifier"], "voter": v["voter_id"], "option": v["option"],
                 "event_hash": v["ledger:event_hash"]} for e in data["vote_events"] for v in e["votes"]]
        return csv_table(rows, ["motion", "voter", "option", "event_hash"])
    if fmt == "csv-allocations":
        grants = threesixtygiving(ledger)["grants"]
        rows = [{"allocation": g["id"], "project": g["title"], "recipient": g["recipientOrganization"][0]["name"],
                 "currency": g["currency"],
                 "awarded": g["amountAwarded"].text, "disbursed": g["amountDisbursed"].text,
                 "decision": g["ledger:decision"], "event_hash": g["ledger:event_hash"]} for g in grants]
        return csv_table(rows, ["allocation", "project", "recipient", "currency", "awarded", "disbursed", "decision",
                                "event_hash"])
    return _register(ledger, fmt)


def _register(ledger: Any, fmt: str) -> str:
    """The remaining CSV registers, one row per object, with the hash of the record that created it."""
    from ledger.domain.committee import Meeting
    from ledger.domain.dispute import Dispute
    from ledger.domain.milestone import Milestone

    hashes, _ = _hashes(ledger)
    if fmt == "csv-funds":
        rows = []
        for ref in refs(ledger, Fund):
            f = load(ledger, Fund, ref)
            rows.append({"fund": ref, "name": f.name, "currency": f.currency, "pledged": f.fmt(f.total(f.pledged)),
                         "received": f.fmt(f.total(f.received)), "matching_owed": f.fmt(f.total(f.matching_owed)),
                         "matching_outstanding": f.fmt(sum((Decimal(m["outstanding"])
                                                            for m in f.matching_status().values()), Decimal(0))),
                         "allocated": f.fmt(f.allocated()), "balance": f.fmt(f.balance()),
                         "event_hash": hashes[(ref, "fund.established")]})
        return csv_table(rows, ["fund", "name", "currency", "pledged", "received", "matching_owed",
                                "matching_outstanding", "allocated", "balance", "event_hash"])
    if fmt == "csv-meetings":
        rows = []
        for ref in refs(ledger, Meeting):
            m = load(ledger, Meeting, ref)
            rows.append({"meeting": ref, "committee": m.committee, "number": m.number, "starts_at": m.starts_at,
                         "chair_party": m.chair_party, "agenda_items": len(m.agenda), "present": len(m.present),
                         "minutes": m.minutes or "", "event_hash": hashes[(ref, "meeting.scheduled")]})
        return csv_table(rows, ["meeting", "committee", "number", "starts_at", "chair_party", "agenda_items",
                                "present", "minutes", "event_hash"])
    if fmt == "csv-milestones":
        from datetime import UTC, datetime

        today = datetime.now(UTC).date()
        rows = []
        for ref in refs(ledger, Milestone):
            ms = load(ledger, Milestone, ref)
            rows.append({"milestone": ref, "title": ms.title, "unit": ms.unit, "baseline": ms.baseline,
                         "target": ms.target, "deadline": ms.deadline,
                         "latest": ms.latest_report["value"] if ms.latest_report else "", "status": ms.status(today),
                         "event_hash": hashes[(ref, "milestone.defined")]})
        return csv_table(rows, ["milestone", "title", "unit", "baseline", "target", "deadline", "latest", "status",
                                "event_hash"])
    if fmt == "csv-disputes":
        rows = []
        for ref in refs(ledger, Dispute):
            d = load(ledger, Dispute, ref)
            rows.append({"dispute": ref, "stage": d.stage, "complainant": d.complainant.get("name", "(confidential)"),
                         "upheld": "" if not d.findings else ("yes" if d.findings[-1]["upheld"] else "no"),
                         "remedy": d.remedy["kind"] if d.remedy else "", "event_hash": hashes[(ref, "dispute.filed")]})
        return csv_table(rows, ["dispute", "stage", "complainant", "upheld", "remedy", "event_hash"])
    raise ValueError(fmt)
