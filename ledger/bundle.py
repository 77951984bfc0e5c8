"""Export bundles and offline audit.

A bundle is JSON Lines (normative, see docs/format.md):

1. ``{"bundle": "governance-ledger/v1", "origin": ORIGIN, "size": N}``
2. N lines: the records in log order, each exactly its canonical bytes;
3. ``{"checkpoint":"<signed note, with any cosignatures>"}`` for size N.

Every line is RFC 8785 canonical JSON.

Verifying a bundle needs no database: every check of ``ledger verify``, plus
the root of the N leaves against the checkpoint, the checkpoint's signature
by a trusted log key, and (``--since``) agreement with an older checkpoint
the auditor kept.  Damage is reported as findings, never as a crash.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

from ledger import note
from ledger.canonical import canonicalize
from ledger.errors import InvalidInputError, LedgerError
from ledger.sigcheck import SignatureWorkers, start_bundle_workers
from ledger.verify import (
    Entry,
    Report,
    Verifier,
    _check_remembered,
    _witness_policy,
    revocations_from,
    witness_status,
)

MAGIC = "governance-ledger/v1"


def write_bundle(ledger: Any, out: IO[bytes], size: int | None = None,
                 progress: Callable[[int], None] | None = None) -> int:
    """Write a bundle of the first ``size`` records (default: every record).

    It needs a checkpoint of exactly that size (see
    :func:`ledger.tlog.covering_checkpoint`): a bundle proves all it holds.
    """
    from ledger.tlog import covering_checkpoint

    checkpoint = covering_checkpoint(ledger, size)
    header = {"bundle": MAGIC, "origin": ledger.origin, "size": checkpoint.size}
    out.write(canonicalize(header) + b"\n")
    written = 0
    while written < checkpoint.size:
        batch = ledger.read(written, min(1000, checkpoint.size - written))
        if not batch:
            raise LedgerError(f"the log has fewer records than its checkpoint of size {checkpoint.size}")
        for _position, record in batch:
            out.write(record.raw + b"\n")
        written += len(batch)
        if progress:
            progress(len(batch))
    # RFC 8785 like every other line (bundles from before wrote ', ' and ': '; readers accept both).
    out.write(canonicalize({"checkpoint": checkpoint.note}) + b"\n")
    return checkpoint.size


def _lines(path: Path) -> Iterator[tuple[int, bytes]]:
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            yield number, line.rstrip(b"\n")


def bundle_origin(path: Path) -> str:
    """The origin a bundle's header names (to find what a verifier remembers of it)."""
    with path.open("rb") as handle:
        header = _json(handle.readline())
    origin = header.get("origin")
    if header.get("bundle") != MAGIC or not isinstance(origin, str):
        raise InvalidInputError(f"{path} is not a bundle: its first line is not a {MAGIC} header")
    return origin


def verify_bundle(path: Path, trust: tuple[str, bytes], since: str | None = None,
                  progress: Callable[[int], None] | None = None, workers: int | None = None,
                  signatures: SignatureWorkers | None = None, remembered: Any = None) -> Report:
    """Verify a bundle file offline against a trusted log key.

    ``workers``: cores to use (default: all, for bundles big enough to gain);
    ``signatures``: workers already started on this file (see
    :func:`ledger.sigcheck.start_bundle_workers`).
    """
    if signatures is None:
        signatures = start_bundle_workers(str(path), workers)
    try:
        from ledger.replay import RuleReplayer

        name, public = trust
        header, footer, count = _frame(path)
        size = header.get("size")
        origin = header.get("origin")
        revocations = revocations_from(raw for _, raw in _records(path, count))
        verifier = Verifier(revocations, rules=RuleReplayer(), progress=progress)
        old = _since(since, name, public, verifier) if since else None
        if old is not None:
            verifier.checkpoints[old.size] = old.root
        if remembered is not None and remembered.root is not None:
            verifier.remembered = (remembered.size, remembered.root)
    except BaseException:
        if signatures is not None:
            signatures.close()
        raise
    # Entries carry their line's byte offset: workers read the same lines by offset.
    report = verifier.run((Entry(raw, id=offset) for offset, raw in _records_at(path, count)), signatures=signatures)

    def finding(reason: str, position: int | None = None) -> None:
        verifier._find(count if position is None else position, "-", None, "-", reason)

    if header.get("bundle") != MAGIC:
        finding("the first line is not a governance-ledger/v1 bundle header", 0)
    if report.origin and origin != report.origin:
        finding(f"the header names origin {origin!r}, the records {report.origin!r}", 0)
    if not isinstance(size, int) or size != count:
        finding(f"the header says {size} records but the bundle holds {count}: it is truncated or padded")
    _check_checkpoint(footer, name, public, origin, verifier, count, finding)
    if old is not None and old.size > count:
        finding(f"the checkpoint kept from before (size {old.size}) is larger than this bundle ({count}): "
                f"records were removed")
    _check_remembered(verifier, report, remembered)
    report.extra["checkpoint"] = {"size": count, "records_after": 0, "trusted": name,
                                  "note": footer.get("checkpoint") if report.ok else None}
    policy = _witness_policy(verifier.rules)
    if policy is not None and isinstance(footer.get("checkpoint"), str):
        report.extra["witnesses"] = witness_status(str(footer["checkpoint"]), *policy)
    report.extra["witness_keys"] = policy[1] if policy is not None else []
    return report


def _frame(path: Path) -> tuple[dict[str, Any], dict[str, Any], int]:
    """Header, footer and the number of record lines between them."""
    first: bytes | None = None
    last: bytes | None = None
    total = 0
    for _number, line in _lines(path):
        if first is None:
            first = line
        last = line
        total += 1
    if first is None or total < 2:
        raise InvalidInputError(f"{path} is not a bundle: it needs a header and a checkpoint line")
    return _json(first), _json(last or b""), total - 2


def _records(path: Path, count: int) -> Iterator[tuple[int, bytes]]:
    for number, line in _lines(path):
        if 2 <= number <= count + 1:
            yield number, line


def _records_at(path: Path, count: int) -> Iterator[tuple[int, bytes]]:
    """(byte offset of the line, record) for the ``count`` record lines."""
    offset = 0
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            if 2 <= number <= count + 1:
                yield offset, line.rstrip(b"\n")
            offset += len(line)


def _json(line: bytes) -> dict[str, Any]:
    try:
        value = json.loads(line)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return {}
    return value if isinstance(value, dict) else {}


def _check_checkpoint(footer: dict[str, Any], name: str, public: bytes, origin: Any, verifier: Verifier,
                      count: int, finding: Callable[..., None]) -> None:
    text = footer.get("checkpoint")
    if not isinstance(text, str):
        finding("the last line is not a checkpoint")
        return
    try:
        signed = note.parse(text)
        note.verify(signed, name, public)
        checkpoint = note.parse_checkpoint(signed.text)
    except note.NoteError as exc:
        finding(f"the checkpoint does not verify with the trusted key: {exc}")
        return
    if checkpoint.origin != origin:
        finding(f"the checkpoint is for origin {checkpoint.origin!r}, not {origin!r}")
    if checkpoint.size != count:
        finding(f"the checkpoint covers {checkpoint.size} records but the bundle holds {count}")
    elif checkpoint.root != verifier.tree.root():
        finding("the records do not hash to the checkpoint's root: they are not the history it signed")


def _since(text: str, name: str, public: bytes, verifier: Verifier) -> note.Checkpoint | None:
    try:
        signed = note.parse(text)
        note.verify(signed, name, public)
        return note.parse_checkpoint(signed.text)
    except note.NoteError as exc:
        verifier._find(0, "-", None, "-", f"the checkpoint given with --since does not verify: {exc}")
        return None


__all__ = ["MAGIC", "import_bundle", "sync_bundle", "verify_bundle", "write_bundle"]


def bundle_records(path: Path) -> tuple[list[bytes], str]:
    """The record lines and the checkpoint note of a (verified) bundle."""
    _header, footer, count = _frame(path)
    return [raw for _, raw in _records(path, count)], str(footer["checkpoint"])


def import_bundle(ledger: Any, path: Path, trust: tuple[str, bytes],
                  progress: Callable[[int], None] | None = None) -> Report:
    """Build a verified replica in an empty ledger; returns the bundle's report.

    The bundle is verified before anything is written: a refused import
    leaves no tables (and, for a new SQLite file, no file).
    """
    if ledger.size():
        raise InvalidInputError("import needs an empty database; use 'ledger sync' to extend a replica")
    report = verify_bundle(path, trust, progress=progress)
    if report.ok:
        raws, checkpoint = bundle_records(path)
        ledger.append_verified(raws, known_cosignatures(checkpoint, report.extra.get("witness_keys", [])))
    return report


def known_cosignatures(checkpoint: str, witness_keys: list[str]) -> str:
    """The checkpoint with only the cosignatures that verify against the witness keys
    the covenant names: stored cosignatures are append-only, so nothing else gets in."""
    signed = note.parse(checkpoint)
    origin = note.parse_checkpoint(signed.text).origin
    kept = [s for s in signed.signatures if s.name == origin]
    for vkey in witness_keys:
        name, _type, public = note.parse_vkey(vkey)
        for signature in signed.signatures:
            if signature.name != name:
                continue
            try:  # each line on its own: one valid line must not carry a forged one in
                note.verify_cosignature(note.Note(signed.text, (signature,)), name, public)
            except note.NoteError:
                continue
            kept.append(signature)
            break  # one cosignature per witness and checkpoint
    return note.Note(signed.text, tuple(kept)).render()


def sync_bundle(ledger: Any, path: Path, progress: Callable[[int], None] | None = None) -> tuple[Report, int]:
    """Extend a replica from a newer bundle, only if consistent with its latest checkpoint."""
    from ledger.keys import parse_verifier_key
    from ledger.tlog import TransparencyLog

    name, _, public = parse_verifier_key(ledger.registry().log_key)
    latest = TransparencyLog(ledger).checkpoint()
    # Equal roots over the first `latest.size` records prove the bundle begins
    # with exactly the records this replica already holds.
    report = verify_bundle(path, (name, public), since=latest.note, progress=progress)
    if not report.ok:
        return report, 0
    raws, checkpoint = bundle_records(path)
    if len(raws) <= ledger.size():
        return report, 0
    checkpoint = known_cosignatures(checkpoint, report.extra.get("witness_keys", []))
    return report, ledger.append_verified(raws[ledger.size():], checkpoint)
