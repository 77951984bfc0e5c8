"""The public transparency site: static, self-contained pages from the records.

``ledger publish DIR`` writes plain HTML (no JavaScript, no network
requests), a stylesheet, charts as inline SVG with text alternatives, and the
bundle anyone can verify.  Pages are rendered from Jinja2 templates with
autoescaping; every figure comes from the records as of the chosen point.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from datetime import date
from decimal import Decimal
from html import escape
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from ledger.domain.committee import Committee, Meeting, composition_problem
from ledger.domain.covenant import Covenant
from ledger.domain.dispute import Dispute
from ledger.domain.funding import Fund
from ledger.domain.milestone import Milestone
from ledger.domain.motion import Motion
from ledger.errors import InvalidInputError
from ledger.tlog import covering_checkpoint
from projections.describe import iter_refs, load, refs

AUDIT_PAGE = 200
DISTRIBUTION = "covenant-ledger"  # the name this project installs under (pyproject.toml); tests check they agree
_env = Environment(loader=PackageLoader("projections", "templates"), autoescape=select_autoescape(["html", "j2"]))


MARKER = ".ledger-site"  # names the origin of a site that `ledger publish` wrote, so it may be replaced


def page_count(ledger: Any, as_of: int | None = None) -> int:
    """How many pages :func:`publish` writes (for a progress bar)."""
    end = ledger.size() - 1 if as_of is None else as_of
    motions = sum(1 for _ in iter_refs(ledger, Motion, end))  # counted, not listed: there may be 100,000
    return 10 + motions + max(1, -(-(end + 1) // AUDIT_PAGE))


def publish(ledger: Any, directory: Path, as_of: int | None = None,
            progress: Callable[[int], None] | None = None) -> int:
    """Write the site into ``directory``; return how many files were written.

    The site is built in a folder beside it and swapped in whole, so a
    failure leaves the old site (or nothing).  ``directory`` must be new,
    empty, or a site published before from this ledger: nothing else a
    user keeps there is ever replaced.
    """
    import os
    import tempfile

    end = ledger.size() - 1 if as_of is None else as_of
    covering_checkpoint(ledger, end + 1)  # the bundle must prove every record the pages show
    if directory.exists() and not directory.is_dir():
        raise InvalidInputError(f"{directory} is a file, not a folder")
    marker = directory / MARKER
    ours = marker.is_file() and marker.read_text(encoding="utf-8").strip() == ledger.origin
    if directory.is_dir() and any(directory.iterdir()) and not ours:
        raise InvalidInputError(f"{directory} is not empty and holds no site published from this ledger; "
                                "choose a new or empty folder (nothing was written)")
    directory.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{directory.name}.", suffix=".new", dir=directory.parent))
    try:
        written = _write_site(ledger, staging, end, as_of, progress)
        (staging / MARKER).write_text(ledger.origin + "\n", encoding="utf-8")
        staging.chmod(0o755)
        old = None
        if directory.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{directory.name}.", suffix=".old", dir=directory.parent))
            os.rename(directory, old / "site")
        os.rename(staging, directory)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if old is not None:
        shutil.rmtree(old)  # the site this one replaces: its own earlier output, checked above
    return written


def _write_site(ledger: Any, directory: Path, end: int, as_of: int | None,
                progress: Callable[[int], None] | None) -> int:
    """Write every page; return how many files were written.

    Memory stays flat however old the ledger: pages are rendered as streams, and
    the long lists (every meeting of a committee, every motion, the audit trail)
    are generators that load one object at a time (each motion's own page is
    written as the register reaches it)."""
    (directory / "motions").mkdir(exist_ok=True)
    moment = ledger.record_at(end).moment
    holders = ledger.registry().names()  # person and key ids -> names
    common = {"name": ledger.registry().name, "origin": ledger.origin, "size": end + 1, "as_of": as_of}
    written = 0

    def page(name: str, template: str, title: str, root: str = "", **values: Any) -> None:
        nonlocal written
        with (directory / name).open("wb") as out:
            _env.get_template(template).stream(title=title, root=root, **common, **values).dump(out, encoding="utf-8")
        written += 1
        if progress:
            progress(1)

    covenants = [load(ledger, Covenant, r, end) for r in refs(ledger, Covenant, end)]
    page("index.html", "site_index.html.j2", "The partnership", parties=_parties(covenants),
         covenants=[_covenant(c, moment.date()) for c in covenants])
    from ledger.documents import listing

    kept = {d["digest"]: d for d in listing(ledger)}
    copied: list[Path] = []
    committees = [_committee(ledger, r, end, holders, kept, lambda d: _copy_document(ledger, directory, d, copied))
                  for r in refs(ledger, Committee, end)]
    page("meetings.html", "site_meetings.html.j2", "Committees and meetings", committees=committees)
    written += len(copied)

    def register() -> Iterator[dict[str, Any]]:
        # One motion at a time: its page is written, and its row goes to the register.
        for ref in iter_refs(ledger, Motion, end):
            motion = load(ledger, Motion, ref, end)
            described = _motion(ledger, motion, holders)
            page(f"motions/{motion.ref}.html", "site_motion.html.j2", f"Motion {motion.ref}", root="../",
                 m=described)
            yield {"ref": motion.ref, "meeting": motion.meeting, "decision_class": motion.decision_class,
                   "text": motion.text, "result": motion.result, "status": motion.status, "tally": motion.tally,
                   "why": described["explanation"]}

    page("decisions.html", "site_decisions.html.j2", "Decisions register", motions=register())
    page("money.html", "site_money.html.j2", "Money",
         funds=[_fund(ledger, load(ledger, Fund, r, end)) for r in refs(ledger, Fund, end)])
    from ledger.domain.consultation import Adjustment, Consultation

    page("consultations.html", "site_consultations.html.j2", "Consultations",
         consultations=[_consultation(load(ledger, Consultation, r, end), holders)
                        for r in refs(ledger, Consultation, end)],
         adjustments=[_adjustment(load(ledger, Adjustment, r, end), moment.date())
                      for r in refs(ledger, Adjustment, end)])
    page("milestones.html", "site_milestones.html.j2", "Milestones",
         milestones=[_milestone(ledger, load(ledger, Milestone, r, end), moment.date())
                     for r in refs(ledger, Milestone, end)])
    page("channels.html", "site_channels.html.j2", "Confidential voices",
         channels=_channels(ledger, covenants, end, moment))
    page("disputes.html", "site_disputes.html.j2", "Disputes",
         disputes=(_dispute(ledger, r, end) for r in iter_refs(ledger, Dispute, end)))
    # One audit row per record, read page by page: memory stays flat however old the ledger.
    from projections.audit import every_row

    pages = max(1, -(-(end + 1) // AUDIT_PAGE))
    chunk: list[dict[str, Any]] = []
    number = 0

    def audit_page(rows: list[dict[str, Any]], number: int) -> None:
        page(f"audit-{number}.html", "site_audit.html.j2", f"Audit trail, page {number} of {pages}", rows=rows,
             page=number, pages=pages, first=rows[0]["position"] if rows else 0,
             last=rows[-1]["position"] if rows else 0)

    for row in every_row(ledger, end):
        chunk.append(row)
        if len(chunk) == AUDIT_PAGE:
            number += 1
            audit_page(chunk, number)
            chunk = []
    if chunk or number == 0:
        audit_page(chunk, number + 1)
    verification, files = _verification(ledger, directory, end)
    written += files
    page("verify.html", "site_verify.html.j2", "Verify it yourself", vkey=ledger.registry().log_key,
         distribution=DISTRIBUTION, **verification)
    shutil.copyfile(Path(__file__).parent / "templates" / "style.css", directory / "style.css")
    return written + 1


def _parties(covenants: list[Covenant]) -> list[dict[str, Any]]:
    seen: dict[str, dict[str, Any]] = {}
    for c in covenants:
        for party in c.parties.values():
            seen[party["id"]] = {"name": party["name"], "kind": party["kind"], "acceded": party["id"] in c.acceded}
    return list(seen.values())


def _covenant(c: Covenant, today: date) -> dict[str, Any]:
    pending = sorted(c.terms.get("reviews", []))[len(c.reviews_done):]
    diffs = [{"to": v, "decision": c.amendments[v - 2] if v - 2 < len(c.amendments) else "",
              "changes": c.diff(v - 1, v)} for v in range(2, c.clause_version + 1)]
    expired = c.expired_since(today)
    status = f"expired on {expired}" if expired else c.status
    return {"ref": c.ref, "title": c.title, "status": status, "version": c.clause_version, "term_end": c.end,
            "clauses": c.clauses, "diffs": diffs, "next_review": min((d for d in pending if d >= today.isoformat()),
                                                                     default=None),
            "overdue": [d for d in pending if d < today.isoformat()]}


def _document_links(digests: list[str], kept: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Documents cited by digest: a link to the copy on the site when the ledger keeps the file."""
    out = []
    for digest in digests:
        name = _safe_name(kept[digest]["name"]) if digest in kept else None
        out.append({"digest": digest, "name": name, "href": f"documents/{digest}/{name}" if name else None})
    return out


def _safe_name(name: str) -> str:
    # A file name from whoever kept the document: only its last part, in plain characters.
    cleaned = "".join(c if c.isalnum() or c in "-_." else "-" for c in Path(name).name).strip(".-")
    return cleaned or "document"


def _copy_document(ledger: Any, directory: Path, doc: dict[str, Any], copied: list[Path]) -> None:
    """Copy a kept document a page links to into the site (documents/DIGEST/NAME), once."""
    from ledger.documents import get

    if doc["href"] is None or (directory / doc["href"]).exists():
        return
    target = directory / doc["href"]
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(get(ledger, doc["digest"]).content)
    copied.append(target)


def _channels(ledger: Any, covenants: list[Covenant], end: int, moment: Any) -> list[dict[str, Any]]:
    """Per confidential channel, counts only: never content, never receipt values."""
    from datetime import timedelta

    from ledger.domain.covenant import CHANNEL_STATISTICS
    from ledger.domain.feedback import Feedback
    from ledger.record import parse_time

    items = [load(ledger, Feedback, r, end) for r in refs(ledger, Feedback, end)]
    out = []
    for covenant in covenants:
        for name, spec in sorted((covenant.terms.get("channels") or {}).items()):
            mine = [f for f in items if f.covenant == covenant.ref and f.channel == name]
            acknowledged = [f for f in mine if f.acknowledged_at is not None and parse_time(f.acknowledged_at)
                            <= f.submitted_at() + timedelta(days=int(spec.get("acknowledge_days", 7)))]
            answered = [f for f in mine if f.acknowledged_at is not None and f.replies and parse_time(
                f.replies[0]["at"]) <= parse_time(f.acknowledged_at) + timedelta(days=int(spec.get("feedback_days",
                                                                                                      90)))]
            outcomes: dict[str, int] = {}
            for f in mine:
                if f.outcome:
                    outcomes[f.outcome] = outcomes.get(f.outcome, 0) + 1
            out.append({"covenant": covenant.ref, "name": name, "received": len(mine),
                        "shown": set(spec.get("statistics") or CHANNEL_STATISTICS),
                        "acknowledge_days": spec.get("acknowledge_days", 7),
                        "feedback_days": spec.get("feedback_days", 90),
                        "acknowledged_in_time": len(acknowledged), "answered_in_time": len(answered),
                        "overdue": sum(1 for f in mine if f.overdue(covenant, moment)),
                        "outcomes": sorted(outcomes.items())})
    return out


def _committee(ledger: Any, ref: str, end: int, holders: dict[str, str],
               kept: dict[str, dict[str, Any]] | None = None,
               linked: Callable[[dict[str, Any]], None] | None = None) -> dict[str, Any]:
    """A committee and, as a generator read once by its page, its meetings (``linked`` is
    told of each kept document they link to)."""
    k = load(ledger, Committee, ref, end)

    def meetings() -> Iterator[dict[str, Any]]:
        for mref in iter_refs(ledger, Meeting, end):
            m = load(ledger, Meeting, mref, end)
            if m.committee != ref:
                continue
            chair = holders.get(m.chair_delegate, "") + " (delegated)" if m.chair_delegate else m.chair_party
            agenda = [dict(item, docs=_document_links(item.get("documents") or [], kept or {})) for item in m.agenda]
            minutes_docs = _document_links([m.minutes] if m.minutes else [], kept or {})
            for doc in [d for item in agenda for d in item["docs"]] + minutes_docs:
                if linked is not None:
                    linked(doc)
            yield {"ref": m.ref, "starts_at": m.starts_at, "chair": chair, "agenda": agenda,
                   "present": [holders.get(p, p[:12]) for p in m.present], "minutes": m.minutes,
                   "minutes_docs": minutes_docs}

    problem = composition_problem(load(ledger, Covenant, k.covenant, end), k.seats)
    composition = "The seats meet the covenant's composition rules"
    if problem:
        composition = f"In breach of composition since {(k.breach_since or '?')[:10]}: {problem}"
    return {"ref": k.ref, "name": k.name, "rotation": k.rotation["order"], "every": k.rotation["every"],
            "composition": composition,
            "seats": [{"holder": holders.get(m, m[:12]), "party": p} for m, p in sorted(k.seats.items())],
            "meetings": meetings()}


def _motion(ledger: Any, m: Motion, holders: dict[str, str]) -> dict[str, Any]:
    snap = m.snapshot or {}
    votes = []
    from ledger.domain.base import stream_id

    records = _stream_rows(ledger, stream_id(ledger.origin, Motion.KIND, m.ref), m.version)
    first = records[0] if records else None
    for row in records:
        if row.type == "motion.vote_cast":
            proxy = row.data.get("proxy")
            votes.append({"member": holders.get(row.data["member"], row.data["member"][:12]),
                          "choice": row.data["choice"], "on_behalf": row.data["on_behalf"],
                          "proxy": holders.get(proxy, proxy[:12]) if proxy else None})
    explanation = next((r.data["explanation"] for r in records if r.type == "motion.closed"), "")
    reasons = load(ledger, Meeting, m.meeting).conflict_reasons if m.excluded else {}
    excluded = {holders.get(k, k[:12]): reasons.get(k, "") for k in m.excluded}
    for vote in votes:
        if vote["member"] in excluded:
            vote["excluded"] = f"excluded: conflict declared ({excluded[vote['member']]})"
    return {"ref": m.ref, "text": m.text, "meeting": m.meeting, "item": m.item, "decision_class": m.decision_class,
            "status": m.status, "result": m.result, "explanation": explanation, "rule": snap.get("rule"),
            "in_breach": snap.get("in_breach_of_composition"),
            "seated": len(snap.get("seated", [])), "present": len(snap.get("present", [])),
            "recused": [holders.get(r, r[:12]) for r in snap.get("recused", [])], "votes": votes,
            "dissents": [{"member": holders.get(d["member"], d["member"][:12]), "statement": d["statement"]}
                         for d in m.dissents], "event_hash": first.event_hash if first else "",
            "represented": [holders.get(r, r[:12]) for r in snap.get("represented", [])],
            "minority_report": _minority_report(getattr(m, "minority_report", None), holders)}


def _minority_report(report: dict[str, Any] | None, holders: dict[str, str]) -> dict[str, Any] | None:
    if not report:
        return None
    return {"text": report["text"], "signed": [holders.get(p, p[:12]) for p in report["signed"]],
            "awaiting": [holders.get(p, p[:12]) for p in report["members"] if p not in report["signed"]]}


def _consultation(x: Any, holders: dict[str, str]) -> dict[str, Any]:
    """A consultation as its page shows it: the CLI's view, in people's words."""
    from projections.consultations import consultation_view

    view = consultation_view(x)
    for section in view["sections"]:
        section["comments"] = [_comment(note, holders) for note in section["comments"]]
    return dict(view, opens_at=x.opens_at[:16].replace("T", " "), closes_at=x.closes_at[:16].replace("T", " "),
                versions=len(x.versions), changes=view["versions"][1:])


def _comment(note: dict[str, Any], holders: dict[str, str]) -> dict[str, Any]:
    said = note["answer"] or {}
    public = "a member of the public"
    return {"number": note["number"], "replacement": note["replacement"], "version": note["version"],
            "text": "[confidential: sealed to the channel's recipients]" if note.get("confidential") else note["text"],
            "author": holders.get(note["author"], public) if note["author"] else public,
            "answer": (said.get("answer") or "awaited").replace("_", " "), "reason": said.get("reason"),
            "in_version": said.get("version")}


def _adjustment(a: Any, today: date) -> dict[str, Any]:
    from projections.consultations import adjustment_state

    state = adjustment_state(a, today)
    return {"ref": a.ref, "subject": a.subject, "party": a.party, "text": a.text, "due": a.due,
            "state": "awaiting an answer" if state == "awaiting" else state.replace("_", " "),
            "answer": a.answer["text"] if a.answer else None}


def _stream_rows(ledger: Any, stream: Any, version: int) -> list[Any]:
    """A stream's records up to ``version`` (the object as published), in one query."""
    from ledger import record as rec

    return [rec.parse(stored.state) for stored in ledger.recorder.select_events(stream, lte=version)]


def _fund(ledger: Any, f: Fund) -> dict[str, Any]:
    parties = sorted(set(f.pledged) | set(f.received) | set(f.matching_owed))
    zero = Decimal(0)
    # A matcher meets its obligation with the money it has paid in, up to what it owes.
    status = f.matching_status()
    rows = [{"party": p, "pledged": f.fmt(f.pledged.get(p, zero)), "received": f.fmt(f.received.get(p, zero)),
             "owed": status.get(p, {}).get("owed", f.fmt(zero)), "met": status.get(p, {}).get("met", f.fmt(zero)),
             "outstanding": status.get(p, {}).get("outstanding", f.fmt(zero))} for p in parties]
    allocations = [{"ref": ref, "project": a["project"], "recipient": a.get("recipient") or "not recorded",
                    "decision": a["decision"], "amount": f.fmt(a["amount"]),
                    "disbursed": f.fmt(a["disbursed"]), "returned": f.fmt(a["returned"])}
                   for ref, a in f.allocations.items()]
    bars = [("Pledged", f.total(f.pledged)), ("Received", f.total(f.received)), ("Allocated", f.allocated()),
            ("Disbursed", sum((a["disbursed"] for a in f.allocations.values()), Decimal(0)))]
    text = "; ".join(f"{label} {f.fmt(value)} {f.currency}" for label, value in bars)
    return {"ref": f.ref, "name": f.name, "currency": f.currency, "parties": rows, "allocations": allocations,
            "balance": f.fmt(f.balance()), "chart": bar_chart(bars, f"{f.name}: money in and out", f.currency),
            "chart_text": text}


def _milestone(ledger: Any, ms: Milestone, today: date) -> dict[str, Any]:
    from projections.describe import milestone_reports

    reports = milestone_reports(ledger, ms)
    points = [(r["date"], Decimal(r["value"])) for r in reports]
    text = (f"From a baseline of {ms.baseline} to a target of {ms.target} {ms.unit}: "
            + ", ".join(f"{d} {v}" for d, v in points)) if points else "No reports yet."
    return {"ref": ms.ref, "title": ms.title, "metric": ms.metric, "unit": ms.unit, "baseline": ms.baseline,
            "target": ms.target, "deadline": ms.deadline, "owner": ms.owner, "status": ms.status(today),
            "reports": reports, "evaluations": ms.evaluations,
            "chart": line_chart(points, Decimal(ms.baseline), Decimal(ms.target), ms.title), "chart_text": text}


DISPUTE_PUBLIC = ("stage", "deadlines", "findings", "remedy")  # what the site shows unless the covenant says


def _dispute(ledger: Any, ref: str, end: int) -> dict[str, Any]:
    """What the covenant makes public about a dispute (``dispute_procedure.public``); the
    grounds of an open grievance only if it lists them, of a confidential one never."""
    d = load(ledger, Dispute, ref, end)
    covenant = load(ledger, Covenant, d.covenant, end)
    public = set(covenant.terms.get("dispute_procedure", {}).get("public") or DISPUTE_PUBLIC)
    out: dict[str, Any] = {"ref": d.ref, "public": public}
    if "stage" in public:
        out["stage"] = d.stage
    if "deadlines" in public:
        out.update(d.deadlines(covenant))
    if "findings" in public:
        out["findings"] = d.findings
    if "remedy" in public:
        out["remedy"] = d.remedy
    if "grounds" in public and d.sealed is None:
        out["grounds"] = d.grounds
    return out


def _verification(ledger: Any, directory: Path, end: int) -> tuple[dict[str, Any], int]:
    from ledger.bundle import write_bundle
    from ledger.tlog import TransparencyLog

    checkpoint = TransparencyLog(ledger).checkpoint(end + 1)  # publish() made sure there is one
    with (directory / "bundle.jsonl").open("wb") as out:
        write_bundle(ledger, out, checkpoint.size)
    from ledger.tiles import write_tree

    # The same log as a C2SP tlog-tiles tree: any static host then serves a standard tiled log.
    tiles = write_tree(ledger, directory / "log", checkpoint.size, checkpoint.note)
    return {"checkpoint": checkpoint.note, "bundle": "bundle.jsonl", "tiles": "log/"}, 1 + tiles


# --- charts as inline SVG, with a title and description for screen readers -----------

def bar_chart(bars: list[tuple[str, Decimal]], title: str, unit: str) -> str:
    top = max((v for _, v in bars), default=Decimal(1)) or Decimal(1)
    height = 28 * len(bars) + 10
    # The accessible name comes from aria-label (and <title>, shown as a tooltip): no id to keep unique.
    parts = [f'<svg role="img" aria-label="{escape(title)}" viewBox="0 0 520 {height}" width="520" '
             f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>']
    for i, (label, value) in enumerate(bars):
        width = float(Decimal(300) * value / top)  # pixels only: the figures themselves stay exact
        y = 8 + 28 * i
        parts.append(f'<text x="0" y="{y + 15}">{escape(label)}</text>'
                     f'<rect x="90" y="{y}" width="{width:.1f}" height="20" fill="#1d3557"/>'
                     f'<text x="{95 + width:.1f}" y="{y + 15}">{escape(str(value))} {escape(unit)}</text>')
    return "".join(parts) + "</svg>"


def line_chart(points: list[tuple[str, Decimal]], baseline: Decimal, target: Decimal, title: str) -> str:
    values = [baseline, target, *[v for _, v in points]]
    low, high = min(values), max(values)
    span = (high - low) or Decimal(1)

    def y(v: Decimal) -> float:
        return float(10 + (high - v) / span * 150)

    xs = [110 + i * (340 / max(len(points) - 1, 1)) for i in range(len(points))]
    parts = [f'<svg role="img" aria-label="{escape(title)}" viewBox="0 0 520 190" width="520" '
             f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>',
             f'<line x1="60" x2="500" y1="{y(target):.1f}" y2="{y(target):.1f}" stroke="#1b5e20" '
             f'stroke-dasharray="6 4"/><text x="0" y="{y(target) + 4:.1f}">target</text>',
             f'<line x1="60" x2="500" y1="{y(baseline):.1f}" y2="{y(baseline):.1f}" stroke="#8a8a8a" '
             f'stroke-dasharray="2 4"/><text x="0" y="{y(baseline) + 4:.1f}">baseline</text>']
    if points:
        path = " ".join(f"{x:.1f},{y(v):.1f}" for x, (_, v) in zip(xs, points, strict=True))
        parts.append(f'<polyline points="{path}" fill="none" stroke="#1d3557" stroke-width="2"/>')
        for x, (d, v) in zip(xs, points, strict=True):
            parts.append(f'<circle cx="{x:.1f}" cy="{y(v):.1f}" r="4" fill="#1d3557"/>'
                         f'<text x="{x:.1f}" y="185" text-anchor="middle">{escape(d)}</text>')
    return "".join(parts) + "</svg>"


__all__ = ["bar_chart", "line_chart", "publish"]
