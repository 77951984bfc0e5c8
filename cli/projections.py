"""``ledger projections ...`` and ``ledger audit``: the read side."""

from __future__ import annotations

from typing import Any

import click

from cli.common import emit_json, json_option, open_ledger, plural, progress_to_terminal, table


@click.group()
def projections() -> None:
    """Read models rebuilt from the records: rebuild, status, digest."""


@projections.command("rebuild")
def rebuild() -> None:
    """Drop every view and rebuild it from the records."""
    from projections import views

    ledger = open_ledger()
    with progress_to_terminal("rebuilding", ledger.size()) as bar:
        applied = views.rebuild(ledger, progress=bar.update)
    click.echo(f"rebuilt the views from {plural(applied, 'record')}")


@projections.command("status")
@json_option
def status(as_json: bool) -> None:
    """Each view's position against the log."""
    from projections import views

    body = views.status(open_ledger())
    if as_json:
        emit_json(body)
        return
    behind = body["log_size"] - 1 - body["position"]
    click.echo(f"views at position {body['position']} of a log of {body['log_size']} records"
               + (": up to date" if behind == 0 else f": {behind} behind (any writing command catches up)"))


@projections.command("digest")
@json_option
def digest(as_json: bool) -> None:
    """A content digest per view (equal after incremental updates and after a rebuild)."""
    from projections import views

    body = views.digest(open_ledger())
    if as_json:
        emit_json(body)
        return
    for name, value in body.items():
        click.echo(f"{value}  {name}")


@click.command("audit")
@click.option("--holder", default=None, help="Only records signed by this holder (substring, case-insensitive).")
@click.option("--type", "record_type", default=None, help="Only this record type, or a prefix such as 'motion.'.")
@click.option("--ref", default=None, help="Only records about this object (e.g. M-3, F-1).")
@click.option("--stream", default=None, help="Only records of this stream (its UUID).")
@click.option("--organisation", default=None,
              help="Only records signed by representatives of this party (its id in the covenant).")
@click.option("--role", default=None, help="Only records signed by a key with this role.")
@click.option("--since", default=None, help="Only records at or after this time (RFC 3339 or date).")
@click.option("--until", default=None, help="Only records before this time.")
@click.option("--as-of", "as_of", default=None, metavar="POSITION|EVENT_HASH|TIME",
              help="Answer as the ledger stood then (computed from the records, not the views).")
@click.option("--limit", type=click.IntRange(min=1), default=100, show_default=True)
@json_option
def audit(holder: str | None, record_type: str | None, ref: str | None, stream: str | None,
          organisation: str | None, role: str | None, since: str | None, until: str | None, as_of: str | None,
          limit: int, as_json: bool) -> None:
    """The audit trail: who signed what, when, in which role.

    JSON: {"records": [{"position", "at", "actor", "holder", "roles", "type",
    "summary", "stream", "seq", "ref", "event_hash"}]}.

    Example: ledger audit --organisation clean-air-now --type motion. --since 2026-11-01
    """
    from ledger.record import format_time
    from ledger.timeparse import parse_user_time
    from projections.history import resolve_as_of
    from projections.views import audit_rows

    ledger = open_ledger()
    bounds = [format_time(parse_user_time(t)) if t else None for t in (since, until)]
    end = resolve_as_of(ledger, as_of) if as_of else ledger.size() - 1
    members = _representatives(ledger, organisation) if organisation else None
    rows: list[dict[str, Any]] = []
    for row in audit_rows(ledger.read(0, end + 1, check=False)):
        if stream and row["stream"] != stream.lower():
            continue
        if members is not None and row["actor"] not in members:
            continue
        if _keep(row, holder, record_type, ref, role, bounds):
            rows.append(row)
    rows = rows[-limit:]
    if as_json:
        emit_json({"records": rows})
        return
    click.echo(table([[r["position"], r["at"][:19], r["holder"][:30], r["type"], r["summary"][:60]] for r in rows],
                     ["POS", "AT", "SIGNED BY", "TYPE", "WHAT"]))


def _representatives(ledger: Any, party: str) -> set[str]:
    """Keys named as representatives of a party in any covenant."""
    from ledger.domain.covenant import Covenant
    from projections.describe import load, refs

    keys: set[str] = set()
    for ref in refs(ledger, Covenant):
        found = load(ledger, Covenant, ref).parties.get(party)
        if found:
            keys |= set(found["representatives"])
    if not keys:
        from ledger.errors import NotFoundError

        raise NotFoundError(f"no covenant names a party {party!r}")
    return keys


def _keep(row: dict[str, Any], holder: str | None, record_type: str | None, ref: str | None, role: str | None,
          bounds: list[str | None]) -> bool:
    if holder and holder.casefold() not in row["holder"].casefold():
        return False
    if record_type and not (row["type"] == record_type or (record_type.endswith(".")
                                                           and row["type"].startswith(record_type))):
        return False
    if ref and row["ref"].upper() != ref.upper():
        return False
    if role and role not in row["roles"].split(","):
        return False
    since, until = bounds
    return not ((since and row["at"] < since) or (until and row["at"] >= until))
