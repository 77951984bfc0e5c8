"""Replicas: import a verified bundle, sync from newer ones, refuse a fork."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ledger import Ledger, load_signer
from ledger import commands as c
from ledger.bundle import import_bundle, sync_bundle, write_bundle
from ledger.keys import parse_verifier_key
from tests.helpers import snapshot


@pytest.fixture
def keeper(tmp_path: Path) -> tuple[Ledger, Path]:
    from ledger.demo import build_demo

    ledger, paths = build_demo(tmp_path / "keeper", echo=lambda _t: None)
    ledger.log_key = load_signer(Path(paths["keys"]) / "log.key")
    yield ledger, Path(paths["keys"])
    ledger.close()


def export(ledger: Ledger, path: Path) -> Path:
    with path.open("wb") as out:
        write_bundle(ledger, out)
    return path


def trust(ledger: Ledger) -> tuple[str, bytes]:
    name, _, public = parse_verifier_key(ledger.registry().log_key)
    return name, public


def test_round_trip_export_import_export_is_byte_identical(keeper: tuple[Ledger, Path], tmp_path: Path,
                                                           db_url: str) -> None:
    ledger, _ = keeper
    first = export(ledger, tmp_path / "first.jsonl")
    replica = Ledger(db_url, create=True)
    try:
        report = import_bundle(replica, first, trust(ledger))
        assert report.ok, [f.line() for f in report.findings]
        second = export(replica, tmp_path / "second.jsonl")
        assert second.read_bytes() == first.read_bytes()
    finally:
        replica.close()


def test_sync_extends_a_replica_and_refuses_a_fork(keeper: tuple[Ledger, Path], tmp_path: Path) -> None:
    ledger, keys = keeper
    replica = Ledger(str(tmp_path / "replica.db"), create=True)
    assert import_bundle(replica, export(ledger, tmp_path / "b1.jsonl"), trust(ledger)).ok
    fork_dir = tmp_path / "fork"
    shutil.copytree(keys.parent, fork_dir)  # the keeper's state before the histories diverge

    c.attach_dissent(ledger, load_signer(keys / "party.key"), "M-3", "An honest later record.")
    report, added = sync_bundle(replica, export(ledger, tmp_path / "b2.jsonl"))
    assert (report.ok, added, replica.size()) == (True, 1, ledger.size())

    # The keeper forks: the copy from before, with different new records, genuinely signed.
    fork = Ledger(str(fork_dir / "ledger.db"), log_key=load_signer(keys / "log.key"))
    c.attach_dissent(fork, load_signer(keys / "cso-air.key"), "M-1", "A different history.")
    c.attach_dissent(fork, load_signer(keys / "cso-air.key"), "M-2", "And more of it.")
    forked_bundle = export(fork, tmp_path / "fork.jsonl")
    fork.close()
    before = snapshot(replica)
    report, added = sync_bundle(replica, forked_bundle)
    assert added == 0
    assert any("has a different root" in f.reason for f in report.findings), [f.line() for f in report.findings]
    assert snapshot(replica) == before
    replica.close()


def test_import_refuses_a_damaged_bundle_and_writes_nothing(keeper: tuple[Ledger, Path], tmp_path: Path) -> None:
    ledger, _ = keeper
    good = export(ledger, tmp_path / "b.jsonl").read_bytes().splitlines(keepends=True)
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(b"".join(good[:10] + good[11:]))
    replica = Ledger(str(tmp_path / "replica.db"), create=True)
    report = import_bundle(replica, bad, trust(ledger))
    assert not report.ok
    assert replica.size() == 0
    replica.close()


@pytest.mark.postgres
def test_round_trip_to_sqlite_and_postgres_replicas_gives_identical_views(
    keeper: tuple[Ledger, Path], tmp_path: Path, pg_server: str
) -> None:
    from projections import views
    from tests.conftest import reset_pg

    ledger, keys = keeper
    views.rebuild(ledger)
    bundle = export(ledger, tmp_path / "b1.jsonl")
    reset_pg(pg_server)
    replicas = [Ledger(str(tmp_path / "replica.db"), create=True), Ledger(pg_server, create=True)]
    try:
        for replica in replicas:
            assert import_bundle(replica, bundle, trust(ledger)).ok
        c.attach_dissent(ledger, load_signer(keys / "party.key"), "M-3", "A newer record to sync.")
        views.rebuild(ledger)
        newer = export(ledger, tmp_path / "b2.jsonl")
        for replica in replicas:
            report, added = sync_bundle(replica, newer)
            assert (report.ok, added) == (True, 1)
            views.rebuild(replica)
        digests = [views.digest(replica) for replica in replicas]
        assert digests[0] == digests[1] == views.digest(ledger)
    finally:
        for replica in replicas:
            replica.close()
