"""Printable dispute reports: the replay, the contested records with their
signatures and inclusion proofs, and the findings and remedy, as one
self-contained HTML page rendered from a Jinja2 template (autoescaped)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from ledger.domain.covenant import Covenant
from ledger.domain.dispute import Dispute
from ledger.errors import NotFoundError
from ledger.record import format_time
from projections.describe import load
from projections.replay import timeline

_env = Environment(loader=PackageLoader("projections", "templates"), autoescape=select_autoescape(["html", "j2"]))


def dispute_report(ledger: Any, ref: str, identity: str | None = None) -> str:
    from ledger.tlog import TransparencyLog

    dispute = load(ledger, Dispute, ref)
    replay = timeline(ledger, dispute.ref)
    log = TransparencyLog(ledger)
    contested = []
    for step in replay["steps"]:
        if step["part"] != "contested":
            continue
        try:
            proof = log.inclusion(step["position"])
        except NotFoundError:
            proof = None
        contested.append({"step": step, "proof": proof, "sig": ledger.record_at(step["position"]).sig})
    from projections.confidential import grievance

    return _env.get_template("dispute_report.html.j2").render(
        dispute=dispute, opened=grievance(ledger, dispute, identity), origin=ledger.origin, size=ledger.size(),
        steps=replay["steps"], contested=contested,
        deadlines=dispute.deadlines(load(ledger, Covenant, dispute.covenant)),
        generated=format_time(datetime.now(UTC)),
    )
