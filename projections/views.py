"""SQL read models rebuilt from the signed records.

Views live in the ledger's own database (SQLite or PostgreSQL) and are pure
derived data: ``ledger verify`` never reads them, and ``ledger projections
rebuild`` can always recreate them.  Each view change is written together
with the views' tracking position in one transaction, so a crash never
leaves a view ahead of or behind its position.  A ledger with views attached
(``attach``) updates them inside each writing command's own transaction.

Views: ``view_keys`` (who holds each key), ``view_streams`` (readable refs),
``view_audit`` (one row per record), ``view_motions`` (decisions register),
``view_votes`` (every vote on record), ``view_funds`` (money per fund),
``view_covenants``, ``view_committees``, ``view_meetings``, ``view_milestones``
and ``view_disputes`` (their current state).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, Boolean, Column, Integer, MetaData, String, Table, Text, delete, insert, select
from sqlalchemy import update as sql_update

from ledger import record as rec

NAME = "views"
metadata = MetaData()
BIG = BigInteger().with_variant(Integer(), "sqlite")

tracking = Table("view_tracking", metadata, Column("name", String(32), primary_key=True),
                 Column("position", BIG, nullable=False))
keys = Table("view_keys", metadata, Column("key_id", String(64), primary_key=True),
             Column("holder", Text, nullable=False), Column("roles", Text, nullable=False),
             Column("status", String(16), nullable=False))
streams = Table("view_streams", metadata, Column("stream", String(36), primary_key=True),
                Column("kind", String(32), nullable=False), Column("ref", Text, nullable=False))
audit = Table("view_audit", metadata, Column("position", BIG, primary_key=True, autoincrement=False),
              Column("at", String(27), nullable=False, index=True), Column("actor", String(64), nullable=False),
              Column("holder", Text, nullable=False), Column("roles", Text, nullable=False),
              Column("type", String(64), nullable=False, index=True), Column("summary", Text, nullable=False),
              Column("stream", String(36), nullable=False, index=True), Column("seq", BIG, nullable=False),
              Column("ref", Text, nullable=False), Column("event_hash", String(64), nullable=False))
motions = Table("view_motions", metadata, Column("ref", String(32), primary_key=True),
                Column("meeting", String(32), nullable=False), Column("committee", String(32), nullable=False),
                Column("decision_class", String(40), nullable=False), Column("text", Text, nullable=False),
                Column("status", String(16), nullable=False), Column("result", String(8), nullable=False),
                Column("yes", Integer, nullable=False), Column("no", Integer, nullable=False),
                Column("abstain", Integer, nullable=False), Column("present", Integer, nullable=False),
                Column("seated", Integer, nullable=False), Column("rule", Text, nullable=False),
                Column("explanation", Text, nullable=False), Column("dissents", Integer, nullable=False),
                Column("decided_at", String(27), nullable=False))
votes = Table("view_votes", metadata, Column("position", BIG, primary_key=True, autoincrement=False),
              Column("motion", String(32), nullable=False, index=True), Column("member", String(64), nullable=False),
              Column("holder", Text, nullable=False), Column("choice", String(8), nullable=False),
              Column("on_behalf", Boolean, nullable=False))
funds = Table("view_funds", metadata, Column("ref", String(32), primary_key=True),
              Column("currency", String(3), nullable=False), Column("pledged", String(24), nullable=False),
              Column("received", String(24), nullable=False), Column("matching_owed", String(24), nullable=False),
              Column("allocated", String(24), nullable=False), Column("disbursed", String(24), nullable=False),
              Column("balance", String(24), nullable=False))
covenants = Table("view_covenants", metadata, Column("ref", String(32), primary_key=True),
                  Column("title", Text, nullable=False), Column("status", String(16), nullable=False),
                  Column("clause_version", Integer, nullable=False), Column("parties", Text, nullable=False),
                  Column("acceded", Text, nullable=False), Column("term_end", String(10), nullable=False),
                  Column("reviews", Text, nullable=False), Column("reviews_done", Text, nullable=False))
committees = Table("view_committees", metadata, Column("ref", String(32), primary_key=True),
                   Column("covenant", String(32), nullable=False), Column("name", Text, nullable=False),
                   Column("seats", Text, nullable=False), Column("meetings", Integer, nullable=False),
                   Column("current_chair", Text, nullable=False))
meetings = Table("view_meetings", metadata, Column("ref", String(32), primary_key=True),
                 Column("committee", String(32), nullable=False), Column("number", Integer, nullable=False),
                 Column("starts_at", String(27), nullable=False), Column("chair_party", Text, nullable=False),
                 Column("chair_delegate", Text, nullable=False), Column("agenda_items", Integer, nullable=False),
                 Column("present", Integer, nullable=False), Column("conflicts", Integer, nullable=False),
                 Column("minutes", Text, nullable=False))
milestones = Table("view_milestones", metadata, Column("ref", String(32), primary_key=True),
                   Column("title", Text, nullable=False), Column("owner", Text, nullable=False),
                   Column("baseline", String(32), nullable=False), Column("target", String(32), nullable=False),
                   Column("deadline", String(10), nullable=False), Column("latest", String(32), nullable=False),
                   Column("latest_date", String(10), nullable=False), Column("reports", Integer, nullable=False),
                   Column("evaluations", Integer, nullable=False))
disputes = Table("view_disputes", metadata, Column("ref", String(32), primary_key=True),
                 Column("covenant", String(32), nullable=False), Column("complainant", Text, nullable=False),
                 Column("stage", String(16), nullable=False), Column("filed_at", String(27), nullable=False),
                 Column("acknowledged_at", String(27), nullable=False), Column("assignee", Text, nullable=False),
                 Column("upheld", String(8), nullable=False))
fund_parties = Table("view_fund_parties", metadata, Column("fund", String(32), primary_key=True),
                     Column("party", String(64), primary_key=True), Column("pledged", String(24), nullable=False),
                     Column("received", String(24), nullable=False),
                     Column("matching_owed", String(24), nullable=False))
allocations = Table("view_allocations", metadata, Column("allocation", String(48), primary_key=True),
                    Column("fund", String(32), nullable=False), Column("project", Text, nullable=False),
                    Column("decision", String(32), nullable=False), Column("amount", String(24), nullable=False),
                    Column("disbursed", String(24), nullable=False), Column("returned", String(24), nullable=False))
VIEWS = [keys, streams, audit, motions, votes, funds, covenants, committees, meetings, milestones, disputes,
         fund_parties, allocations]


# --- the audit trail: one pure function, used by the view and by --as-of ---------

class AuditState:
    """What the audit trail needs to remember while reading records in order."""

    def __init__(self) -> None:
        self.keys: dict[str, tuple[str, str]] = {}  # key id -> (holder, roles)
        self.refs: dict[str, tuple[str, str]] = {}  # stream -> (kind, ref)
        # What the last row() changed, for the views to copy (not rescanned).
        self.changed_keys: list[str] = []
        self.new_ref: str | None = None

    def _key(self, key_id: str, holder: str, roles: str) -> None:
        self.keys[key_id] = (holder, roles)
        self.changed_keys.append(key_id)

    def row(self, position: int, record: rec.Record) -> dict[str, Any]:
        data = record.data
        self.changed_keys, self.new_ref = [], None
        if record.type == "ledger.genesis":
            for entry in data.get("keys", []):
                self._key(entry["key_id"], entry["holder"], ",".join(entry["roles"]))
            self.refs[record.stream] = ("ledger", data.get("origin", ""))
            self.new_ref = record.stream
        elif record.type == "key.registered":
            self._key(data["key_id"], data["holder"], ",".join(data["roles"]))
        elif record.type == "key.rotated" and data.get("key_id") in self.keys:
            self._key(data["new_key_id"], *self.keys[data["key_id"]])
        elif record.type == "key.roles_changed" and data.get("key_id") in self.keys:
            self._key(data["key_id"], self.keys[data["key_id"]][0], ",".join(data["roles"]))
        if "ref" in data and record.seq == 1:
            self.refs[record.stream] = (record.type.split(".")[0], str(data["ref"]))
            self.new_ref = record.stream
        holder, roles = self.keys.get(record.actor, ("(unknown key)", ""))
        ref = self.refs.get(record.stream, ("", ""))[1]
        return {"position": position, "at": record.at, "actor": record.actor, "holder": holder, "roles": roles,
                "type": record.type, "summary": summarise(record, ref, self.keys), "stream": record.stream,
                "seq": record.seq, "ref": ref, "event_hash": record.event_hash}


def summarise(record: rec.Record, ref: str, holders: dict[str, tuple[str, str]]) -> str:
    """A readable line for a record: what happened, to what."""
    data = record.data

    def who(key: object) -> str:
        return holders.get(str(key), (str(key)[:12], ""))[0]

    kind = record.type.split(".", 1)[1].replace("_", " ")
    if record.type == "motion.vote_cast":
        return f"{who(data['member'])} voted {data['choice']} on {ref}" + (" (recorded by the secretariat)"
                                                                         if data.get("on_behalf") else "")
    if record.type == "motion.closed":
        return f"{ref} {data['result']}: {data.get('explanation', '')}"
    if record.type in ("fund.pledged", "fund.received"):
        return f"{data['party']} {kind} {data['amount']} to {ref}"
    if record.type in ("fund.allocated", "fund.disbursed", "fund.returned"):
        return f"{data['allocation']} {kind} {data['amount']}" + (f" citing {data['decision']}"
                                                                  if "decision" in data else "")
    if record.type == "key.registered":
        return f"key for {data['holder']} registered ({', '.join(data['roles'])})"
    if record.type == "key.rotated":
        return f"{who(data['key_id'])} moved to key {str(data['new_key_id'])[:12]}"
    if "ref" in data and record.seq == 1:
        return f"{data['ref']} {kind}"
    return f"{ref or record.stream[:8]} {kind}".strip()


def audit_rows(records: Iterable[tuple[int, rec.Record]]) -> Iterator[dict[str, Any]]:
    state = AuditState()
    for position, record in records:
        yield state.row(position, record)


# --- keeping the views current ------------------------------------------------------

def create(bind: Any) -> None:
    """Create missing view tables (an engine, or a session's connection inside its transaction)."""
    from sqlalchemy import inspect

    existing = set(inspect(bind).get_table_names())
    missing = [t for t in metadata.sorted_tables if t.name not in existing]
    if missing:
        metadata.create_all(bind, tables=missing, checkfirst=True)


def position(session: Any) -> int:
    found = session.execute(select(tracking.c.position).where(tracking.c.name == NAME)).scalar()
    return -1 if found is None else int(found)


class _Looked(dict[str, tuple[str, str]]):
    """A dict that fetches what it lacks from a view table, one row at a time.

    A writing command touches a handful of streams and keys: loading every row
    of view_streams (one per object the ledger ever created) on each write was
    a cost that grew with the ledger's age."""

    def __init__(self, fetch: Any) -> None:
        super().__init__()
        self.fetch = fetch

    def _load(self, key: str) -> bool:
        if dict.__contains__(self, key):
            return True
        found = self.fetch(key)
        if found is not None:
            self[key] = found
        return found is not None

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self._load(key)

    def get(self, key: str, default: Any = None) -> Any:
        return dict.get(self, key, default) if self._load(key) else default


def state_from_views(session: Any) -> AuditState:
    """The audit state as of the views' position, fetched row by row as records need it."""
    state = AuditState()

    def key_row(key_id: str) -> tuple[str, str] | None:
        row = session.execute(select(keys.c.holder, keys.c.roles).where(keys.c.key_id == key_id)).first()
        return None if row is None else (row[0], row[1])

    def stream_row(stream: str) -> tuple[str, str] | None:
        row = session.execute(select(streams.c.kind, streams.c.ref).where(streams.c.stream == stream)).first()
        return None if row is None else (row[0], row[1])

    state.keys = _Looked(key_row)
    state.refs = _Looked(stream_row)
    return state


class Updater:
    """Applies records, in order, to the view tables of one session."""

    def __init__(self, session: Any) -> None:
        self.session = session
        self.pending: list[dict[str, Any]] = []
        self.audit = state_from_views(session)

    def apply(self, position: int, record: rec.Record) -> None:
        row = self.audit.row(position, record)
        self.pending.append(row)  # inserted in batches: one row per record adds up
        for key_id in self.audit.changed_keys:
            holder, roles = self.audit.keys[key_id]
            self.session.execute(delete(keys).where(keys.c.key_id == key_id))
            self.session.execute(insert(keys).values(key_id=key_id, holder=holder, roles=roles, status="active"))
        if record.type in ("key.retired", "key.revoked", "key.rotated"):
            status = "revoked" if record.type == "key.revoked" else "retired"
            self.session.execute(sql_update(keys).where(keys.c.key_id == record.data["key_id"],
                                                        keys.c.status == "active").values(status=status))
        if self.audit.new_ref is not None:
            kind, ref = self.audit.refs[self.audit.new_ref]
            self.session.execute(insert(streams).values(stream=self.audit.new_ref, kind=kind, ref=ref))
        handler = HANDLERS.get(record.type)
        if handler:
            handler(self, position, record, row["ref"])
        if len(self.pending) >= 1000:
            self.flush()

    def flush(self) -> None:
        if self.pending:
            self.session.execute(insert(audit), self.pending)
            self.pending = []

    def finish(self, last: int) -> None:
        self.flush()
        if self.session.execute(select(tracking.c.name).where(tracking.c.name == NAME)).first():
            self.session.execute(sql_update(tracking).where(tracking.c.name == NAME).values(position=last))
        else:
            self.session.execute(insert(tracking).values(name=NAME, position=last))


def _motion_proposed(u: Updater, position: int, record: rec.Record, ref: str) -> None:
    d = record.data
    u.session.execute(insert(motions).values(
        ref=d["ref"], meeting=d["meeting"], committee="", decision_class=d["decision_class"], text=d["text"],
        status="proposed", result="", yes=0, no=0, abstain=0, present=0, seated=0, rule="", explanation="",
        dissents=0, decided_at=""))


def _motion_status(status: str) -> Callable[[Updater, int, rec.Record, str], None]:
    def handler(u: Updater, position: int, record: rec.Record, ref: str) -> None:
        u.session.execute(sql_update(motions).where(motions.c.ref == ref).values(status=status))
    return handler


def _vote_opened(u: Updater, position: int, record: rec.Record, ref: str) -> None:
    d = record.data
    u.session.execute(sql_update(motions).where(motions.c.ref == ref).values(
        status="voting", committee=d["committee"], rule=json.dumps(d["rule"], sort_keys=True),
        present=len(d["present"]), seated=len(d["seated"])))


def _vote_cast(u: Updater, position: int, record: rec.Record, ref: str) -> None:
    d = record.data
    u.session.execute(insert(votes).values(position=position, motion=ref, member=d["member"],
                                           holder=u.audit.keys.get(d["member"], ("?", ""))[0],
                                           choice=d["choice"], on_behalf=bool(d["on_behalf"])))


def _closed(u: Updater, position: int, record: rec.Record, ref: str) -> None:
    d = record.data
    tally = d["tally"]
    u.session.execute(sql_update(motions).where(motions.c.ref == ref).values(
        status="closed", result=d["result"], yes=tally["yes"], no=tally["no"], abstain=tally["abstain"],
        present=tally["present"], seated=tally["seated"], explanation=d["explanation"], decided_at=record.at))


def _dissent(u: Updater, position: int, record: rec.Record, ref: str) -> None:
    u.session.execute(sql_update(motions).where(motions.c.ref == ref).values(dissents=motions.c.dissents + 1))


# How each money record moves the fund's figures: (column, sign) pairs.
FUND_MOVES: dict[str, list[tuple[str, int]]] = {
    "fund.pledged": [("pledged", 1)],
    "fund.received": [("received", 1), ("balance", 1)],
    "fund.allocated": [("allocated", 1), ("balance", -1)],
    "fund.disbursed": [("disbursed", 1)],
    "fund.returned": [("allocated", -1), ("balance", 1)],
}


def _add_amount(u: Updater, table: Table, where: Any, column: str, amount: Decimal,
                defaults: dict[str, Any]) -> None:
    """Add to a money column of one row, creating the row (zeros) if needed."""
    current = u.session.execute(select(table.c[column]).where(where)).scalar()
    if current is None:
        u.session.execute(insert(table).values(**defaults))
        current = "0"
    u.session.execute(sql_update(table).where(where).values(**{column: str(Decimal(current) + amount)}))


def _fund_detail(u: Updater, record: rec.Record, ref: str, amount: Decimal) -> None:
    """Per-party and per-allocation figures."""
    d = record.data
    if record.type in ("fund.pledged", "fund.received"):
        zeros = {"fund": ref, "party": d["party"], "pledged": "0", "received": "0", "matching_owed": "0"}
        where = (fund_parties.c.fund == ref) & (fund_parties.c.party == d["party"])
        _add_amount(u, fund_parties, where, record.type.split(".")[1], amount, zeros)
        for matcher, owed in (d.get("matching") or {}).items():
            where = (fund_parties.c.fund == ref) & (fund_parties.c.party == matcher)
            _add_amount(u, fund_parties, where, "matching_owed", Decimal(owed), dict(zeros, party=matcher))
    elif record.type == "fund.allocated":
        u.session.execute(insert(allocations).values(allocation=d["allocation"], fund=ref, project=d["project"],
                                                     decision=d["decision"], amount=d["amount"], disbursed="0",
                                                     returned="0"))
    else:
        column = "disbursed" if record.type == "fund.disbursed" else "returned"
        _add_amount(u, allocations, allocations.c.allocation == d["allocation"], column, amount, {})


def _fund(u: Updater, position: int, record: rec.Record, ref: str) -> None:
    row = u.session.execute(select(funds).where(funds.c.ref == ref)).mappings().first()
    if row is None:
        return
    _fund_detail(u, record, ref, Decimal(record.data["amount"]))
    amount = Decimal(record.data["amount"])
    values = {column: str(Decimal(row[column]) + sign * amount) for column, sign in FUND_MOVES[record.type]}
    if record.type == "fund.received":
        owed = sum((Decimal(v) for v in record.data.get("matching", {}).values()), Decimal(0))
        values["matching_owed"] = str(Decimal(row["matching_owed"]) + owed)
    u.session.execute(sql_update(funds).where(funds.c.ref == ref).values(**values))


def _fund_established(u: Updater, position: int, record: rec.Record, ref: str) -> None:
    zero = "0"
    u.session.execute(insert(funds).values(ref=record.data["ref"], currency=record.data["currency"], pledged=zero,
                                           received=zero, matching_owed=zero, allocated=zero, disbursed=zero,
                                           balance=zero))


def _set(table: Table, **values: Any) -> Callable[[Updater, int, rec.Record, str], None]:
    """A handler that sets columns (values may be functions of the record)."""
    def handler(u: Updater, position: int, record: rec.Record, ref: str) -> None:
        resolved = {k: (v(u, record) if callable(v) else v) for k, v in values.items()}
        u.session.execute(sql_update(table).where(table.c.ref == ref).values(**resolved))
    return handler


def _add_json(table: Table, column: str, item: Callable[[rec.Record], Any]) -> Callable[..., None]:
    def handler(u: Updater, position: int, record: rec.Record, ref: str) -> None:
        current = u.session.execute(select(table.c[column]).where(table.c.ref == ref)).scalar()
        items = json.loads(current or "[]")
        items.append(item(record))
        u.session.execute(sql_update(table).where(table.c.ref == ref).values(**{column: json.dumps(items)}))
    return handler


def _covenant_drafted(u: Updater, position: int, record: rec.Record, ref: str) -> None:
    d, terms = record.data, record.data["terms"]
    u.session.execute(insert(covenants).values(
        ref=d["ref"], title=d["title"], status="drafted", clause_version=1,
        parties=json.dumps(sorted(p["id"] for p in terms["parties"])), acceded="[]",
        term_end=terms["term"]["end"], reviews=json.dumps(terms.get("reviews", [])), reviews_done="[]"))


def _acceded(u: Updater, position: int, record: rec.Record, ref: str) -> None:
    row = u.session.execute(select(covenants).where(covenants.c.ref == ref)).mappings().one()
    acceded = sorted({*json.loads(row["acceded"]), record.data["party"]})
    status = "in_force" if acceded == json.loads(row["parties"]) else row["status"]
    u.session.execute(sql_update(covenants).where(covenants.c.ref == ref)
                      .values(acceded=json.dumps(acceded), status=status))


def _committee_established(u: Updater, position: int, record: rec.Record, ref: str) -> None:
    d = record.data
    u.session.execute(insert(committees).values(ref=d["ref"], covenant=d["covenant"], name=d["name"],
                                                seats=json.dumps(d["seats"], sort_keys=True), meetings=0,
                                                current_chair=""))


def _seats(change: str) -> Callable[[Updater, int, rec.Record, str], None]:
    def handler(u: Updater, position: int, record: rec.Record, ref: str) -> None:
        seats = json.loads(u.session.execute(select(committees.c.seats).where(committees.c.ref == ref)).scalar())
        if change == "assign":
            seats[record.data["member"]] = record.data["party"]
        else:
            seats.pop(record.data["member"], None)
        u.session.execute(sql_update(committees).where(committees.c.ref == ref)
                          .values(seats=json.dumps(seats, sort_keys=True)))
    return handler


def _meeting_scheduled(u: Updater, position: int, record: rec.Record, ref: str) -> None:
    d = record.data
    u.session.execute(insert(meetings).values(ref=d["ref"], committee=d["committee"], number=d["number"],
                                              starts_at=d["starts_at"], chair_party=d["chair_party"],
                                              chair_delegate="", agenda_items=0, present=0, conflicts=0,
                                              minutes=""))
    u.session.execute(sql_update(committees).where(committees.c.ref == d["committee"])
                      .values(meetings=d["number"], current_chair=d["chair_party"]))


def _milestone_defined(u: Updater, position: int, record: rec.Record, ref: str) -> None:
    d = record.data
    u.session.execute(insert(milestones).values(ref=d["ref"], title=d["title"], owner=d["owner"],
                                                baseline=d["baseline"], target=d["target"], deadline=d["deadline"],
                                                latest="", latest_date="", reports=0, evaluations=0))


def _dispute_filed(u: Updater, position: int, record: rec.Record, ref: str) -> None:
    d = record.data
    u.session.execute(insert(disputes).values(ref=d["ref"], covenant=d["covenant"],
                                              complainant=d["complainant"].get("name", "(confidential)"), stage="filed",
                                              filed_at=record.at, acknowledged_at="", assignee="", upheld=""))


HANDLERS: dict[str, Callable[[Updater, int, rec.Record, str], None]] = {
    "covenant.drafted": _covenant_drafted,
    "covenant.acceded": _acceded,
    "covenant.reviewed": _add_json(covenants, "reviews_done", lambda r: r.data["review_date"]),
    "covenant.amended": _set(covenants, clause_version=lambda u, r: covenants.c.clause_version + 1),
    "covenant.renewed": _set(covenants, term_end=lambda u, r: r.data["new_end"]),
    "covenant.terminated": _set(covenants, status="terminated"),
    "committee.established": _committee_established,
    "committee.seat_assigned": _seats("assign"),
    "committee.seat_vacated": _seats("vacate"),
    "meeting.scheduled": _meeting_scheduled,
    "meeting.chair_delegated": _set(meetings, chair_delegate=lambda u, r: u.audit.keys.get(
        r.data["to_member"], (r.data["to_member"], ""))[0]),
    "meeting.agenda_published": _set(meetings, agenda_items=lambda u, r: len(r.data["items"])),
    "meeting.attendance_recorded": _set(meetings, present=lambda u, r: len(r.data["present"])),
    "meeting.arrived": _set(meetings, present=lambda u, r: meetings.c.present + len(r.data["members"])),
    "meeting.departed": _set(meetings, present=lambda u, r: meetings.c.present - len(r.data["members"])),
    "meeting.postponed": _set(meetings, starts_at=lambda u, r: r.data["starts_at"]),
    "meeting.conflict_declared": _set(meetings, conflicts=lambda u, r: meetings.c.conflicts + 1),
    "meeting.minutes_adopted": _set(meetings, minutes=lambda u, r: r.data["decision"]),
    "milestone.defined": _milestone_defined,
    "milestone.progress_reported": _set(milestones, latest=lambda u, r: r.data["value"],
                                        latest_date=lambda u, r: r.data["report_date"],
                                        reports=lambda u, r: milestones.c.reports + 1),
    "milestone.evaluated": _set(milestones, evaluations=lambda u, r: milestones.c.evaluations + 1),
    "dispute.filed": _dispute_filed,
    "dispute.acknowledged": _set(disputes, stage="acknowledged", acknowledged_at=lambda u, r: r.at),
    "dispute.assigned": _set(disputes, stage="assigned", assignee=lambda u, r: u.audit.keys.get(
        r.data["assignee"], (r.data["assignee"], ""))[0]),
    "dispute.finding_recorded": _set(disputes, stage="found",
                                     upheld=lambda u, r: "yes" if r.data["upheld"] else "no"),
    "dispute.remedy_ordered": _set(disputes, stage="remedied"),
    "dispute.closed": _set(disputes, stage="closed"),
    "dispute.appealed": _set(disputes, stage="appealed"),
    "motion.proposed": _motion_proposed,
    "motion.seconded": _motion_status("seconded"),
    "motion.withdrawn": _motion_status("withdrawn"),
    "motion.vote_opened": _vote_opened,
    "motion.vote_cast": _vote_cast,
    "motion.closed": _closed,
    "motion.dissent_attached": _dissent,
    "fund.established": _fund_established,
    **dict.fromkeys(FUND_MOVES, _fund),
}


def catch_up(ledger: Any, session: Any, progress: Callable[[int], None] | None = None) -> int:
    """Apply every record after the views' position, in this session's transaction."""
    start = position(session) + 1
    updater = Updater(session)
    applied = 0
    while True:
        batch = ledger.read(start + applied, 1000, check=False)
        for pos, record in batch:
            updater.apply(pos, record)
        applied += len(batch)
        if progress and batch:
            progress(len(batch))
        if len(batch) < 1000:
            break
    if applied:
        updater.finish(start + applied - 1)
    return applied


def attach(ledger: Any) -> None:
    """Keep the views current inside every writing command's transaction.

    Nothing is written until a command writes: read-only commands (verify,
    show, export...) leave the database untouched.  The first writing command
    creates any missing view tables in its own transaction, under its lock.
    """
    state = {"ready": False}

    def hook(session: Any) -> None:
        if not state["ready"]:
            create(session.connection())
            state["ready"] = True
        catch_up(ledger, session)

    ledger.after_save.append(hook)


def rebuild(ledger: Any, progress: Callable[[int], None] | None = None) -> int:
    """Drop and rebuild every view from the records, in one transaction.

    Both databases roll DDL back with the rest, so a rebuild that is killed or
    fails leaves the views exactly as they were (the old ones, complete),
    never empty or dropped; readers see the old views until it commits.
    """
    from ledger.store import writing

    with writing(), ledger.recorder.transaction(commit=True) as session:
        connection = session.connection()
        metadata.drop_all(connection, tables=[*VIEWS, tracking], checkfirst=True)
        create(connection)
        return catch_up(ledger, session, progress)


def digest(ledger: Any) -> dict[str, str]:
    """A content digest per view: identical after an incremental run and a rebuild."""
    from sqlalchemy import inspect

    from ledger.errors import StoreError

    if not set(t.name for t in VIEWS) <= set(inspect(ledger.factory.datastore.engine).get_table_names()):
        raise StoreError("this ledger has no views yet: run 'ledger projections rebuild'")
    out = {}
    with ledger.recorder.transaction(commit=False) as session:
        for table in VIEWS:
            order = list(table.primary_key.columns)
            h = hashlib.sha256()
            for row in session.execute(select(table).order_by(*order)).mappings():
                h.update(json.dumps({k: _plain(v) for k, v in row.items()}, sort_keys=True).encode() + b"\n")
            out[table.name] = h.hexdigest()
    return out


def _plain(value: Any) -> Any:
    return bool(value) if isinstance(value, bool) else value


def status(ledger: Any) -> dict[str, Any]:
    """The views' position against the log (all views move together, in one transaction)."""
    import sqlalchemy.exc

    with ledger.recorder.transaction(commit=False) as session:
        try:
            pos = position(session)
        except sqlalchemy.exc.SQLAlchemyError:  # no views yet
            pos = -1
    return {"position": pos, "log_size": ledger.size(), "views": {table.name: pos for table in VIEWS}}
