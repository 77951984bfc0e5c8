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
    from projections.audit import Filters, latest
    from projections.history import resolve_as_of

    ledger = open_ledger()
    since_at, until_at = [format_time(parse_user_time(t)) if t else None for t in (since, until)]
    end = resolve_as_of(ledger, as_of) if as_of else ledger.size() - 1
    filters = Filters(stream=stream.lower() if stream else _stream_of(ledger, ref), ref=ref,
                      actors=_representatives(ledger, organisation) if organisation else None, holder=holder,
                      record_type=record_type, role=role, since=since_at, until=until_at)
    notes: list[str] = []
    rows = latest(ledger, filters, end, limit, notes)
    for note in notes:
        click.echo(f"note: {note}", err=True)
    if as_json:
        emit_json({"records": rows})
        return
    click.echo(table([[r["position"], r["at"][:19], r["holder"][:30], r["type"], r["summary"][:60]] for r in rows],
                     ["POS", "AT", "SIGNED BY", "TYPE", "WHAT"]))


def _stream_of(ledger: Any, ref: str | None) -> str | None:
    """The stream a readable ref names (an index lookup instead of a scan), when its kind is known."""
    from ledger.domain.base import stream_id
    from ledger.types import REF_PREFIX

    if not ref or "-" not in ref:
        return None
    prefix = ref.upper().rsplit("-", 1)[0].split("/")[0]
    kinds = [kind for kind, p in REF_PREFIX.items() if p == prefix]
    if len(kinds) != 1 or "/" in ref:
        return None
    return str(stream_id(ledger.origin, kinds[0], ref.upper()))


def _representatives(ledger: Any, party: str) -> set[str]:
    """Every key ever held by the people named as representatives of a party in any covenant."""
    from ledger.domain.covenant import Covenant
    from projections.describe import load, refs

    people: set[str] = set()
    for ref in refs(ledger, Covenant):
        found = load(ledger, Covenant, ref).parties.get(party)
        if found:
            people |= set(found["representatives"])
    if not people:
        from ledger.errors import NotFoundError

        raise NotFoundError(f"no covenant names a party {party!r}")
    registry = ledger.registry()
    return {k.key_id for person in people for k in registry.keys_of(person)}
