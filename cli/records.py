"""Top-level commands: init, verify, log, show, demo."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from cli.common import (
    as_of_option,
    ask_passphrase,
    emit_json,
    json_option,
    key_option,
    load_key,
    open_ledger,
    plural,
    progress_to_terminal,
    read_signer,
    settings,
)


@click.command("init")
@click.option("--origin", required=True,
              help="The ledger's origin name, e.g. ledger.example.org/riverside (printable ASCII, no spaces or '+').")
@click.option("--name", required=True, help="The partnership's name.")
@key_option
@click.option("--holder", default=None, help="Holder of the founder's key (default: the key file's name).")
@click.option("--role", "roles", multiple=True, default=("secretariat",), show_default=True,
              help="Role of the founder's key (repeat).")
@click.option("--founder", "founders", multiple=True, metavar="PUB:HOLDER:ROLE[,ROLE]",
              help="Another founding key: its .pub file, holder and roles (repeat).")
@click.option("--log-key", "log_key_path", envvar="LEDGER_LOG_KEY", default="log.key", show_default=True,
              metavar="FILE", help="The log key that signs checkpoints; created if missing.")
def init(origin: str, name: str, key_path: str | None, holder: str | None, roles: tuple[str, ...],
         founders: tuple[str, ...], log_key_path: str) -> None:
    """Create a ledger: write its genesis record, signed by the founder.

    Example: ledger --db riverside.db init --origin ledger.example.org/riverside --name "Riverside Partnership"
    --key keys/secretariat.key
    """
    import base64

    from ledger.database import database_url
    from ledger.domain.identity import key_entry
    from ledger.errors import LedgerError
    from ledger.keys import load_public, verifier_key_string

    database_url(settings().db)  # a path it would refuse is refused before any file is written
    signer = load_key(key_path)
    others = []
    for spec in founders:
        parts = spec.rsplit(":", 2)
        if len(parts) != 3:
            raise click.BadParameter("expected PUB:HOLDER:ROLE[,ROLE]", param_hint="--founder")
        pub = base64.b64encode(load_public(parts[0], ask_passphrase)).decode("ascii")
        others.append(key_entry(pub, parts[1], [r for r in parts[2].split(",") if r]))
    ledger = open_ledger(create=True)
    if ledger.holds_ledger():
        raise LedgerError(f"{settings().db or 'ledger.db'} already holds a ledger; nothing was written")
    log_signer, new_files = _log_key(Path(log_key_path))
    ledger.log_key = log_signer  # the genesis record gets the first checkpoint
    try:
        genesis = ledger.init(
            origin=origin, name=name, founder=signer, holder=holder or Path(str(key_path)).stem,
            roles=list(roles), other_founders=others, log_public=log_signer.public_bytes,
        )
    except BaseException:
        # A refused init writes nothing: the log key made for it a moment ago
        # signed nothing and belongs to no ledger.
        for path in new_files:
            path.unlink(missing_ok=True)
        raise
    if new_files:
        click.echo(f"wrote log key {new_files[0]}", err=True)
    click.echo(f"created ledger {origin} (genesis {genesis.event_hash})")
    click.echo(f"log key verifier: {verifier_key_string(origin, log_signer.public_bytes)}")


def _log_key(path: Path) -> tuple[Any, list[Path]]:
    """The log key at ``path``, made if missing; and the files made for it."""
    from ledger.keys import Signer, write_key_pair

    if path.exists():
        return read_signer(path), []
    if path.suffix != ".key":
        raise click.BadParameter("the log key file name must end in .key", param_hint="--log-key")
    signer = Signer.generate()
    return signer, list(write_key_pair(signer, path.with_suffix("")))


@click.command("verify")
@click.option("--bundle", "bundle_file", type=click.Path(exists=True, dir_okay=False), default=None,
              help="Verify an exported bundle offline instead of the database.")
@click.option("--trust", default=None, metavar="VKEY",
              help="The log key's verifier key string, or a file holding it: pinned on first use, and it must "
                   "match the key this verifier remembers.")
@click.option("--since", "since_file", type=click.Path(exists=True, dir_okay=False), default=None,
              help="With --bundle: a checkpoint you kept from before; the bundle must extend it.")
@click.option("--state", "state_dir", type=click.Path(file_okay=False), default=None, metavar="DIR",
              help="Where this verifier remembers log keys and checkpoints per ledger "
                   "(default: LEDGER_STATE_DIR, else ~/.local/state/ledger).")
@json_option
def verify(bundle_file: str | None, trust: str | None, since_file: str | None, state_dir: str | None,
           as_json: bool) -> None:
    """Verify every record: form, chain, signer, role, signature, rules, checkpoints,
    guards and derived tables, and that history still extends what this verifier saw before.

    Exits 0 when the whole history verifies; otherwise lists every finding as
    'position stream seq type: reason' and exits 1.  The first run trusts the
    ledger's log key and latest checkpoint and remembers them (see --state);
    every later run requires the same key and a history whose first records
    still hash to the remembered checkpoint.  With --bundle FILE it needs no
    database (and --trust VKEY the first time).

    Example: ledger verify --bundle riverside.jsonl --trust log.vkey --since last-checkpoint.txt
    """
    from ledger.trust import TrustStore

    store = TrustStore(Path(state_dir).expanduser() if state_dir else None)
    trust_text = _trust_text(trust) if trust else None
    if bundle_file:
        report, memory = _verify_bundle(bundle_file, trust_text, since_file, store)
    else:
        if since_file:
            raise click.UsageError("--since goes with --bundle (a database's verifier remembers its last checkpoint)")
        report, memory = _verify_database(trust_text, store)
    if as_json:
        emit_json({**report.to_json(), "state": memory})
    elif report.ok:
        click.echo(
            f"verified {plural(report.records, 'record')} in {plural(report.streams, 'stream')}, "
            f"{plural(report.keys, 'registered key')}, in {report.seconds:.2f} s: OK"
        )
        for warning in report.warnings:
            click.echo(f"warning: {warning}")
        _notes(report, memory)
    else:
        for finding in sorted(report.findings, key=lambda f: (f.position, f.reason)):
            click.echo(finding.line())
        click.echo(f"{plural(len(report.findings), 'finding')} in {plural(report.records, 'record')}: FAILED",
                   err=True)
    if not report.ok:
        raise click.exceptions.Exit(1)


def _notes(report: Any, memory: dict[str, Any]) -> None:
    """What a successful run adds on stderr: coverage, witnesses, first use."""
    checkpoint = report.extra.get("checkpoint")
    if checkpoint is None:
        click.echo("no checkpoint yet: sign one with 'ledger checkpoint --log-key FILE'", err=True)
    elif checkpoint["records_after"]:
        after = checkpoint["records_after"]
        newer = "1 newer record is" if after == 1 else f"{after} newer records are"
        click.echo(f"the latest checkpoint covers {plural(checkpoint['size'], 'record')}; {newer} not yet in "
                   f"a checkpoint: sign one with 'ledger checkpoint --log-key FILE'", err=True)
    witnesses = report.extra.get("witnesses")
    if witnesses and witnesses.get("not_yet_witnessed"):
        click.echo(f"witnesses: the newest checkpoint with {witnesses['required']} of {witnesses['named']} named "
                   f"witnesses' cosignatures covers {plural(witnesses['witnessed_size'], 'record')}; "
                   f"{plural(witnesses['not_yet_witnessed'], 'record')} not yet witnessed", err=True)
    if memory.get("first_use"):
        size = memory["size"]
        what = f"and its checkpoint of size {size}" if size else "(no checkpoint yet)"
        click.echo(f"first use: trusting log key {memory['log_key']} for {memory['origin']} {what}; "
                   f"remembered in {memory['path']}", err=True)


def _trust_text(value: str) -> str:
    """The verifier key string from --trust (the string itself, or a file holding it), checked."""
    from ledger.keys import parse_verifier_key

    text = Path(value).read_text(encoding="utf-8").strip() if Path(value).is_file() else value.strip()
    parse_verifier_key(text)
    return text


def _remember(store: Any, report: Any, remembered: Any, origin: str, log_key: str, note: str | None,
              location: str | None) -> dict[str, Any]:
    """After a run: save what this verifier saw (only when it verified), and say what it holds."""
    from ledger.trust import advance

    first_use = store.load(origin) is None
    memory: dict[str, Any] = {"path": str(store.path(origin)), "origin": origin, "log_key": log_key,
                              "first_use": first_use and report.ok, "saved": False}
    if report.ok:
        kept = advance(remembered if not first_use else None, origin, log_key, note, location)
        store.save(kept)
        memory.update(size=kept.size, saved=True)
    else:
        memory.update(size=remembered.size if remembered is not None else 0)
    return memory


def _verify_database(trust: str | None, store: Any) -> tuple[Any, dict[str, Any]]:
    # Signature workers start first, on the database as it is now: they can
    # check records while this process is still importing what reading the
    # rest of the ledger needs (see ledger/sigcheck.py).
    from ledger.database import EVENTS_TABLE, database_url
    from ledger.sigcheck import start_signature_workers

    current = settings()
    signatures = None if current.ledger is not None else start_signature_workers(
        database_url(current.db), EVENTS_TABLE)
    try:
        ledger = open_ledger()
        from ledger.trust import check_database_origin, pinned_for

        origin = ledger.origin
        remembered, problems = pinned_for(store, origin, trust)
        problems += check_database_origin(store, ledger.url, origin)
    except BaseException:
        if signatures is not None:
            signatures.close()
        raise
    from ledger.verify import DATABASE, Finding, verify_ledger

    with progress_to_terminal("verifying", ledger.size()) as bar:
        report = verify_ledger(ledger, progress=bar.update, signatures=signatures, remembered=remembered)
    report.findings += [Finding(0, "-", None, DATABASE, problem) for problem in problems]
    checkpoint = report.extra.get("checkpoint")
    memory = _remember(store, report, remembered, origin, str(report.extra.get("log_key")),
                       checkpoint["note"] if checkpoint else None, ledger.url)
    return report, memory


def _verify_bundle(bundle_file: str, trust: str | None, since_file: str | None,
                   store: Any) -> tuple[Any, dict[str, Any]]:
    from ledger.sigcheck import start_bundle_workers

    signatures = start_bundle_workers(bundle_file)  # first, as for a database (see _verify_database)
    try:
        from ledger.bundle import bundle_origin, verify_bundle
        from ledger.keys import parse_verifier_key
        from ledger.trust import pinned_for

        origin = bundle_origin(Path(bundle_file))
        remembered, problems = pinned_for(store, origin, trust)
        if remembered is None:
            raise click.UsageError(f"this verifier has not seen {origin} before: give its log key with --trust VKEY "
                                   "(printed by 'ledger init' and 'ledger checkpoint --vkey')")
        since = Path(since_file).read_text(encoding="utf-8") if since_file else None
        if since and since.lstrip().startswith("{"):
            since = json.loads(since).get("checkpoint", since)
        key = trust or remembered.log_key
        name, _, public = parse_verifier_key(key)
    except BaseException:
        if signatures is not None:
            signatures.close()
        raise
    from ledger.verify import DATABASE, Finding

    with progress_to_terminal("verifying bundle", _bundle_units(bundle_file)) as bar:
        report = verify_bundle(Path(bundle_file), (name, public), since, progress=bar.update, signatures=signatures,
                               remembered=remembered)
    report.findings += [Finding(0, "-", None, DATABASE, problem) for problem in problems]
    checkpoint = report.extra.get("checkpoint") or {}
    memory = _remember(store, report, remembered, origin, key, checkpoint.get("note"), None)
    return report, memory


def _bundle_units(bundle_file: str) -> int:
    """About how many records a bundle holds (the bar's length), from its size alone."""
    return max(Path(bundle_file).stat().st_size // 700, 1)


@click.command("export")
@click.option("--bundle", "bundle_file", type=click.Path(dir_okay=False), default=None,
              help="Write a bundle (JSON Lines: header, records, checkpoint) to this file.")
@click.option("--size", type=click.IntRange(min=1), default=None,
              help="Export the first N records (needs a checkpoint of that size; default: the latest).")
@click.option("--format", "fmt", type=click.Choice(["popolo", "360giving", "csv-motions", "csv-votes",
                                                     "csv-allocations", "csv-funds", "csv-meetings",
                                                     "csv-milestones", "csv-disputes", "audit-jsonl"]), default=None,
              help="Open data instead of a bundle: Popolo, 360Giving, CSV registers or the audit trail.")
@click.option("--out", "out_file", type=click.Path(dir_okay=False), default=None,
              help="With --format: write to this file instead of standard output.")
@click.option("--log-key", "log_key_path", envvar="LEDGER_LOG_KEY", metavar="FILE", default=None,
              help="The log key (or LEDGER_LOG_KEY): sign a checkpoint of the newest records first if needed.")
def export(bundle_file: str | None, size: int | None, fmt: str | None, out_file: str | None,
           log_key_path: str | None) -> None:
    """Export the log as a verifiable bundle, or as open data (--format).

    A bundle holds every record and a checkpoint of exactly that many: when
    the newest records have none yet, give the log key to sign one, or
    --size N for an older checkpointed size.  Every open-data item carries
    the event hash of the record it came from.  Never overwrites a file.

    Example: ledger export --bundle riverside.jsonl
    """
    from cli.common import new_file

    if fmt:
        from projections.opendata import audit_lines
        from projections.opendata import export as open_data

        ledger = open_ledger()
        # The audit trail goes out a line at a time (one per record: flat memory); the
        # standards' documents are built whole.
        chunks = audit_lines(ledger) if fmt == "audit-jsonl" else iter([open_data(ledger, fmt)])
        if out_file:
            with new_file(out_file) as handle:
                for chunk in chunks:
                    handle.write(chunk.encode("utf-8"))
        else:
            for chunk in chunks:
                click.echo(chunk, nl=False)
        return
    if not bundle_file:
        raise click.UsageError("give --bundle FILE, or --format FORMAT for open data")
    from ledger.bundle import write_bundle

    ledger = open_ledger()
    if log_key_path:

        ledger.log_key = read_signer(log_key_path)
    with new_file(bundle_file) as out, progress_to_terminal("exporting", size or ledger.size()) as bar:
        written = write_bundle(ledger, out, size, progress=bar.update)
    click.echo(f"exported {plural(written, 'record')} with their checkpoint to {bundle_file}")


def _print_findings(report: Any, what: str) -> None:
    for finding in sorted(report.findings, key=lambda f: (f.position, f.reason)):
        click.echo(finding.line())
    click.echo(f"{plural(len(report.findings), 'finding')}: {what}", err=True)
    raise click.exceptions.Exit(1)


@click.command("import")
@click.argument("bundle_file", type=click.Path(exists=True, dir_okay=False))
@click.option("--trust", required=True, metavar="VKEY", help="The log key's verifier key string, or a file.")
def import_(bundle_file: str, trust: str) -> None:
    """Build a verified replica from a bundle, in the (empty) database --db.

    Example: ledger --db replica.db import riverside.jsonl --trust log.vkey
    """
    from cli.tlog import _trust
    from ledger.bundle import import_bundle

    trusted = _trust(trust)
    ledger = open_ledger(create=True)
    with progress_to_terminal("verifying bundle", _bundle_units(bundle_file)) as bar:
        report = import_bundle(ledger, Path(bundle_file), trusted, progress=bar.update)
    if not report.ok:
        _print_findings(report, "nothing imported")
    click.echo(f"imported {plural(report.records, 'record')}, verified against {_trust(trust)[0]}")


@click.command("sync")
@click.argument("bundle_file", type=click.Path(exists=True, dir_okay=False))
def sync(bundle_file: str) -> None:
    """Extend a replica from a newer bundle, after checking it against the replica's checkpoint.

    Example: ledger --db replica.db sync riverside-december.jsonl
    """
    from ledger.bundle import sync_bundle

    with progress_to_terminal("verifying bundle", _bundle_units(bundle_file)) as bar:
        report, added = sync_bundle(open_ledger(), Path(bundle_file), progress=bar.update)
    if not report.ok:
        _print_findings(report, "the bundle does not extend this replica's history; nothing added")
    click.echo(f"added {plural(added, 'record')}; the replica now holds {report.records}")


@click.command("log")
@click.option("--from", "start", type=click.IntRange(min=0), default=0, show_default=True, help="First position.")
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True, help="How many records.")
@json_option
@as_of_option
def log(start: int, limit: int, as_json: bool, as_of: str | None) -> None:
    """List records in log order: position, time, type, stream, seq, signer.

    With --as-of, only the records up to that point, with holders as registered then.
    """
    from projections.log import read_log

    ledger = open_ledger()
    end = None
    if as_of is not None:
        from projections.history import resolve_as_of

        end = resolve_as_of(ledger, as_of)
        limit = max(0, min(limit, end + 1 - start))
    entries = read_log(ledger, start, limit, end) if limit else []
    if as_json:
        emit_json({"records": entries})
        return
    for e in entries:
        click.echo(f"{e['position']:>6}  {e['at']}  {e['type']:<24} {e['stream'][:8]}#{e['seq']:<4} "
                   f"{e['holder']} ({e['actor'][:12]})")


@click.command("show")
@click.argument("ref")
@json_option
def show(ref: str, as_json: bool) -> None:
    """Show one record by log POSITION or EVENT_HASH, exactly as stored.

    Example: ledger show 42 --json
    """
    ledger = open_ledger()
    ref = ref.strip().lower()
    if ref.isdigit():
        position = int(ref)
    elif len(ref) == 64 and all(c in "0123456789abcdef" for c in ref):
        position = ledger.position_of(ref)
    else:
        raise click.BadParameter("give a log position (0, 1, ...) or a 64-digit event hash", param_hint="REF")
    record = ledger.record_at(position)
    if as_json:
        emit_json({"position": position, "event_hash": record.event_hash, "record": json.loads(record.raw)})
    else:
        click.echo(f"position {position}, event hash {record.event_hash}")
        click.echo(json.dumps(json.loads(record.raw), indent=2, ensure_ascii=False))


@click.command("demo")
@click.option("--dir", "directory", type=click.Path(file_okay=False), default="demo", show_default=True,
              help="Directory for the demo ledger (ledger.db) and its keys (keys/).")
def demo(directory: str) -> None:
    """Build a realistic demo partnership in a fresh SQLite ledger, then verify it."""
    from ledger.demo import build_demo
    from ledger.verify import verify_ledger

    if settings().db:
        raise click.UsageError("the demo always makes its own SQLite ledger; use --dir, not --db")
    from projections import views

    ledger, _paths = build_demo(Path(directory), echo=click.echo)
    views.rebuild(ledger)
    report = verify_ledger(ledger)
    for finding in report.findings:
        click.echo(finding.line())
    if not report.ok:
        raise click.exceptions.Exit(1)
    click.echo(f"verify: {plural(report.records, 'record')} in {plural(report.streams, 'stream')}, "
               f"{plural(report.keys, 'registered key')}: OK")
    click.echo(f"try: ledger --db {Path(directory) / 'ledger.db'} log")


@click.command("publish")
@click.argument("directory", type=click.Path(file_okay=False))
@click.option("--as-of", "as_of", default=None, metavar="POSITION|EVENT_HASH|TIME",
              help="Publish the ledger as it stood then (a checkpoint of that size must exist).")
@click.option("--log-key", "log_key_path", envvar="LEDGER_LOG_KEY", metavar="FILE", default=None,
              help="The log key (or LEDGER_LOG_KEY): sign a checkpoint of the newest records first if needed.")
def publish(directory: str, as_of: str | None, log_key_path: str | None) -> None:
    """Write the public transparency site (static HTML, no JavaScript) into DIRECTORY.

    The site's bundle proves every record its pages show.  DIRECTORY must be
    new, empty, or a site published before from this ledger (then replaced whole).

    Example: ledger publish site/
    """
    from projections.history import resolve_as_of
    from projections.site import page_count
    from projections.site import publish as write_site

    ledger = open_ledger()
    if log_key_path:

        ledger.log_key = read_signer(log_key_path)
    point = resolve_as_of(ledger, as_of) if as_of else None
    with progress_to_terminal("publishing", page_count(ledger, point)) as bar:
        written = write_site(ledger, Path(directory), point, progress=bar.update)
    click.echo(f"published {plural(written, 'file')} to {directory}")


@click.command("repair")
@click.option("--reason", required=True, help="Why (recorded): e.g. what 'ledger verify' found.")
@key_option
def repair(reason: str, key_path: str | None) -> None:
    """Rebuild the log table and the Merkle tree from the records and restore the
    append-only guards, recording what was wrong in a signed record.

    Run it after 'ledger verify' has reported a missing guard or a damaged
    derived table, and the records themselves verify.  It reads only the
    records, so the damage cannot block it.

    Example: ledger repair --reason "verify: guard ledger_log_no_delete missing" --key keys/secretariat.key
    """
    signer = load_key(key_path)
    outcome = open_ledger().repair_store(signer, reason)
    problems = outcome["guards"]
    click.echo(f"rebuilt ledger_log and ledger_merkle from {plural(outcome['records'], 'record')}; "
               f"restored the guards ({plural(len(problems), 'problem')} recorded)")


COMMANDS = [init, verify, export, import_, sync, log, show, demo, publish, repair]
