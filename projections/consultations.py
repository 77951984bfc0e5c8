"""Consultations and adjustment requests as people read them: the one shape the CLI's
``consultation show --json`` prints and the site's consultations page renders."""

from __future__ import annotations

from datetime import date
from typing import Any


def consultation_view(found: Any) -> dict[str, Any]:
    """The draft, each version's changes, and per section the comments and their answers."""
    versions = [{"version": number, "changes": found.diff(number - 1, number) if number > 1 else []}
                for number in range(1, len(found.versions) + 1)]
    sections = [{"number": s["number"], "text": s["text"],
                 "comments": [c for c in found.comments if c["section"] == s["number"]]}
                for s in found.versions[-1]]
    return {"ref": found.ref, "stream": str(found.id), "title": found.title, "committee": found.committee,
            "status": found.status, "participation": found.participation, "opens_at": found.opens_at,
            "closes_at": found.closes_at, "current_version": len(found.versions), "versions": versions,
            "sections": sections, "statistics": found.statistics or found.computed_statistics(),
            "adopted": found.adopted}


def adjustment_state(request: Any, today: date) -> str:
    """An adjustment request's answer, or ``overdue`` / ``awaiting`` by its due date."""
    if request.answer:
        return str(request.answer["decision"])
    return "overdue" if today.isoformat() > request.due else "awaiting"
