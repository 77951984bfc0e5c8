"""Tamper-evident against the keeper: with the database and a stolen key, history
still cannot be cut, rewritten or re-keyed without `ledger verify` saying so.

Each attack is the one from the attack trial, run on SQLite and PostgreSQL
with plain SQL (guards dropped or disabled first, as the keeper could) and the
stolen founding secretariat and log keys; then the real `ledger verify` runs
with the state folder it kept from its run before the attack, and must exit 1
naming what changed.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ledger import Ledger, Signer
from ledger.demo import PEOPLE, found_partnership
from tests.helpers import forge
from tests.test_readme_tour import ledger_program

ROOT = Path(__file__).resolve().parents[1]
GUARDED = ("ledger_events", "ledger_log", "ledger_merkle", "ledger_checkpoints", "ledger_cosignatures")


class Partnership:
    """The demo partnership in a database, its keys, and a verifier's kept state."""

    def __init__(self, url: str, state: Path) -> None:
        self.url, self.state = url, state
        self.signers = {stem: Signer.generate() for stem, _, _ in PEOPLE}
        self.log_key = Signer.generate()
        ledger = Ledger(url, create=True)
        found_partnership(ledger, self.signers, self.log_key, lambda _t: None)
        self.size = ledger.size()
        ledger.close()

    def verify(self, *extra: str) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        env.pop("LEDGER_DB", None)
        return subprocess.run([*ledger_program(), "--db", self.url, "verify", "--state", str(self.state), *extra],
                              capture_output=True, text=True, env=env, timeout=300)

    def sql(self, *statements: str, params: tuple[Any, ...] = ()) -> list[Any]:
        """Plain SQL as the keeper would run it, in one transaction; the last statement's rows."""
        rows: list[Any] = []
        if "://" not in self.url:
            conn = sqlite3.connect(self.url)
            try:
                for statement in statements:
                    cur = conn.execute(statement, params if statement is statements[-1] else ())
                    rows = cur.fetchall()
                conn.commit()
            finally:
                conn.close()
            return rows
        import psycopg

        with psycopg.connect(self.url.replace("postgresql+psycopg", "postgresql")) as conn:
            for statement in statements:
                bound = (params or None) if statement is statements[-1] else None
                cur = conn.execute(statement.replace("?", "%s"), bound)
                rows = cur.fetchall() if cur.description else []
        return rows

    def drop_guards(self) -> None:
        if "://" not in self.url:
            self.sql(*[f"DROP TRIGGER IF EXISTS {t}_no_{op}" for t in GUARDED for op in ("update", "delete")])
        else:  # a superuser first removes the event trigger that refuses such drops
            self.sql("DROP EVENT TRIGGER IF EXISTS ledger_refuse_ddl",
                     *[f"DROP TRIGGER IF EXISTS {t}_append_only ON {t}" for t in GUARDED])

    def restore_guards_exactly(self) -> None:
        """What a careful attacker does last: put identical guards back."""
        from sqlalchemy import create_engine

        from ledger.database import database_url
        from ledger.store import install_guards

        engine = create_engine(database_url(self.url))
        with engine.begin() as conn:
            install_guards(conn, engine.dialect.name)
        engine.dispose()

    def rebuild_derived_and_checkpoint(self) -> None:
        """Recompute ledger_log and ledger_merkle from the (changed) records and sign
        a fresh checkpoint with the stolen log key, as in the attack trial."""
        from sqlalchemy import create_engine

        from ledger.database import database_url
        from ledger.store import rebuild_derived

        engine = create_engine(database_url(self.url))
        from sqlalchemy.orm import Session

        with Session(engine) as session, session.begin():
            rebuild_derived(session)
        engine.dispose()
        ledger = Ledger(self.url)
        ledger.log_key = self.log_key
        ledger.checkpoint()
        ledger.close()


@pytest.fixture
def kept(db_url: str, tmp_path: Path) -> Iterator[Partnership]:
    """A partnership verified once: the verifier's state folder now pins it."""
    partnership = Partnership(db_url, tmp_path / "state")
    first = partnership.verify()
    assert first.returncode == 0, first.stdout + first.stderr
    assert first.stderr.splitlines()[-1].startswith("first use: trusting log key ")
    yield partnership


def lines(result: subprocess.CompletedProcess[str]) -> list[str]:
    assert result.returncode == 1, result.stdout + result.stderr
    return result.stdout.splitlines()


def test_a_second_run_is_quiet_and_kept_state_is_used(kept: Partnership) -> None:
    again = kept.verify()
    assert (again.returncode, again.stderr) == (0, "")
    saved = json.loads(next(kept.state.glob("*.json")).read_text())
    assert saved["size"] == kept.size and saved["log_key"].startswith("ledger.example.org/riverside-partnership+")


def test_rekeying_with_a_stolen_founding_key_is_found(kept: Partnership) -> None:
    # The keeper rebuilds the whole ledger under the same origin with the stolen
    # secretariat key and a log key of their own (every signature valid).
    if "://" not in kept.url:
        for suffix in ("", "-wal", "-shm"):
            Path(kept.url + suffix).unlink(missing_ok=True)
    else:
        from tests.conftest import reset_pg

        reset_pg(kept.url)
    attacker_log = Signer.generate()
    ledger = Ledger(kept.url, create=True)
    found_partnership(ledger, kept.signers, attacker_log, lambda _t: None)
    ledger.close()
    found = lines(kept.verify())
    assert any("0 - - -: the log key changed: this verifier trusts ledger.example.org/riverside-partnership+"
               in line and "but the genesis record now names" in line for line in found), found
    # Naming the attacker's key explicitly does not help.
    from ledger.keys import verifier_key_string

    vkey = verifier_key_string("ledger.example.org/riverside-partnership", attacker_log.public_bytes)
    explicit = lines(kept.verify("--trust", vkey))
    assert any(f"--trust names log key {vkey}, but this verifier trusts" in line for line in explicit), explicit


def test_cutting_the_tail_is_found(kept: Partnership) -> None:
    kept.drop_guards()
    size = kept.size
    kept.sql(f"DELETE FROM ledger_events WHERE id IN (SELECT notification_id FROM ledger_log WHERE position >= "
             f"{size - 3})", f"DELETE FROM ledger_log WHERE position >= {size - 3}",
             f"DELETE FROM ledger_checkpoints WHERE size > {size - 3}")
    kept.rebuild_derived_and_checkpoint()
    kept.restore_guards_exactly()
    found = lines(kept.verify())
    assert f"{size - 4} - - -: this verifier saw {size} records before, but the log now has {size - 3}: " \
           f"records {size - 3} to {size - 1} were removed" in found, found


def test_swapping_two_records_is_found(kept: Partnership) -> None:
    kept.drop_guards()
    ids = [row[0] for row in kept.sql("SELECT id FROM ledger_events ORDER BY id")]
    a, b = ids[50], ids[60]
    big = max(ids) + 1000
    kept.sql(f"UPDATE ledger_events SET id = {big} WHERE id = {a}", f"UPDATE ledger_events SET id = {a} WHERE id = {b}",
             f"UPDATE ledger_events SET id = {b} WHERE id = {big}")
    assert_history_change_found(kept)


def test_rewriting_the_last_records_with_the_secretariats_key_is_found(kept: Partnership) -> None:
    kept.drop_guards()
    secretariat = kept.signers["secretariat"]
    # The last three votes (members' own), re-signed by the secretariat.
    rows = kept.sql("SELECT id, state FROM ledger_events WHERE topic = 'motion.vote_cast' ORDER BY id DESC LIMIT 3")
    for row_id, state in rows:
        old = json.loads(bytes(state))
        raw = forge(secretariat, ledger=old["ledger"], stream=old["stream"], seq=old["seq"], type=old["type"],
                    prev=old["prev"], data=old["data"], at=old["at"])
        kept.sql("UPDATE ledger_events SET state = ? WHERE id = ?", params=(raw, row_id))
    assert_history_change_found(kept)


def assert_history_change_found(kept: Partnership) -> None:
    """After the keeper covers their tracks (derived tables, a new checkpoint, the
    guards back), the remembered checkpoint still exposes the change."""
    kept.rebuild_derived_and_checkpoint()
    kept.restore_guards_exactly()
    found = lines(kept.verify())
    assert any(f"the first {kept.size} records no longer hash to the checkpoint this verifier kept" in line
               for line in found), found


def test_deleting_the_checkpoints_is_found(kept: Partnership) -> None:
    kept.drop_guards()
    kept.sql("DROP TABLE ledger_checkpoints")
    kept.sql("CREATE TABLE ledger_checkpoints (size BIGINT PRIMARY KEY, root BYTEA NOT NULL, note TEXT NOT NULL)"
             if "://" in kept.url else
             "CREATE TABLE ledger_checkpoints (size INTEGER PRIMARY KEY, root BLOB NOT NULL, note TEXT NOT NULL)")
    kept.restore_guards_exactly()
    found = lines(kept.verify())
    assert f"{kept.size - 1} - - (database): the checkpoint of size {kept.size} this verifier verified before is no " \
           "longer stored: checkpoints were deleted" in found, found


def test_dropping_the_records_table_is_found(kept: Partnership) -> None:
    kept.drop_guards()
    kept.sql("DROP TABLE ledger_events")
    result = kept.verify()
    assert result.returncode == 1
    assert result.stderr.startswith("error: no ledger in ") or "no ledger at" in result.stderr


@pytest.mark.postgres
def test_postgres_refuses_to_drop_the_ledger_tables_and_guards(pg_server: str, tmp_path: Path) -> None:
    import psycopg

    from tests.conftest import reset_pg

    reset_pg(pg_server)
    kept = Partnership(pg_server, tmp_path / "state")
    for statement in ("DROP TABLE ledger_events", "DROP TABLE ledger_log CASCADE",
                      "DROP TRIGGER ledger_events_append_only ON ledger_events",
                      "DROP FUNCTION governance_ledger_append_only() CASCADE"):
        with pytest.raises(psycopg.errors.RaiseException, match=r"governance ledger: .* cannot be dropped"):
            kept.sql(statement)
    assert kept.verify().returncode == 0
    kept.sql("DROP EVENT TRIGGER ledger_refuse_ddl")  # a superuser can; verify then says so
    assert "0 - - (database): the DDL guard ledger_refuse_ddl (refusing DROP of ledger tables) is missing" in \
        lines(kept.verify())


def test_a_dropped_guard_is_found_and_verify_does_not_hide_it(kept: Partnership) -> None:
    kept.drop_guards()
    for _ in range(2):  # verify is read-only: the second run finds the same
        found = lines(kept.verify())
        assert any("(database): the append-only guard ledger_events_" in line and "is missing" in line
                   for line in found), found


def test_a_guard_replaced_by_one_that_does_nothing_is_found(kept: Partnership) -> None:
    if "://" in kept.url:
        kept.sql("CREATE OR REPLACE FUNCTION governance_ledger_append_only() RETURNS trigger LANGUAGE plpgsql "
                 "AS $$ BEGIN RETURN NULL; END $$")
        needle = "the append-only guard function governance_ledger_append_only no longer refuses changes"
    else:
        kept.sql("DROP TRIGGER ledger_events_no_update",
                 "CREATE TRIGGER ledger_events_no_update BEFORE UPDATE ON ledger_events BEGIN SELECT 1; END")
        needle = "the append-only guard ledger_events_no_update has been replaced by one that does something else"
    assert f"0 - - (database): {needle}" in lines(kept.verify())


@pytest.mark.postgres
def test_disabled_triggers_and_replica_mode_edits_are_found(pg_server: str, tmp_path: Path) -> None:
    from tests.conftest import reset_pg

    reset_pg(pg_server)
    kept = Partnership(pg_server, tmp_path / "state")
    assert kept.verify().returncode == 0
    kept.sql("ALTER TABLE ledger_events DISABLE TRIGGER ALL")
    found = lines(kept.verify())
    assert "0 - - (database): the append-only guard ledger_events_append_only is disabled (ALTER TABLE ... DISABLE " \
           "TRIGGER)" in found
    kept.sql("ALTER TABLE ledger_events ENABLE TRIGGER ALL")
    # session_replication_role=replica skips triggers for a superuser's session
    # (documented as a superuser bypass): the edit itself is then the evidence.
    kept.sql("SET session_replication_role = replica",
             "UPDATE ledger_events SET state = convert_to(replace(convert_from(state, 'UTF8'), 'Clean Air', "
             "'Clear Air'), 'UTF8') WHERE id = (SELECT min(id) FROM ledger_events WHERE "
             "position(convert_to('Clean Air', 'UTF8') in state) > 0)")
    found = lines(kept.verify())
    assert any("signature does not verify" in line for line in found), found
    assert any("no longer hash to the checkpoint this verifier kept" in line for line in found), found


def test_the_repair_command_restores_guards_on_the_record(kept: Partnership) -> None:
    kept.drop_guards()
    kept.sql("DELETE FROM ledger_merkle WHERE node = 7")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    key = kept.state.parent / "sec.key"
    from ledger import write_key_pair

    write_key_pair(kept.signers["secretariat"], key.with_suffix(""))
    refused = subprocess.run([*ledger_program(), "--db", kept.url, "meeting", "schedule", "--committee", "K-1",
                              "--at", "2027-03-01T18:00:00Z", "--key", str(key)],
                             capture_output=True, text=True, env=env, timeout=120)
    assert refused.returncode == 1 and "is missing (dropped outside the ledger); nothing was written" in refused.stderr
    repaired = subprocess.run([*ledger_program(), "--db", kept.url, "repair", "--reason", "guards dropped",
                               "--key", str(key)], capture_output=True, text=True, env=env, timeout=120)
    assert repaired.returncode == 0, repaired.stderr
    assert repaired.stdout.startswith(f"rebuilt ledger_log and ledger_merkle from {kept.size} records; restored")
    result = kept.verify()
    assert result.returncode == 0, result.stdout
    ledger = Ledger(kept.url)
    last = ledger.record_at(ledger.size() - 1)
    ledger.close()
    assert last.type == "ledger.store_repaired"
    assert any("ledger_events_" in problem for problem in last.data["guards"])


# --- the same attacks against a bundle -------------------------------------------------------

@pytest.fixture
def bundle(tmp_path: Path) -> Iterator[tuple[Partnership, Path, str]]:
    partnership = Partnership(str(tmp_path / "l.db"), tmp_path / "state")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = tmp_path / "b.jsonl"
    subprocess.run([*ledger_program(), "--db", partnership.url, "export", "--bundle", str(out)], check=True, env=env,
                   capture_output=True)
    from ledger.keys import verifier_key_string

    vkey = verifier_key_string("ledger.example.org/riverside-partnership", partnership.log_key.public_bytes)
    first = _verify_bundle(out, partnership.state, "--trust", vkey)
    assert first.returncode == 0, first.stdout
    yield partnership, out, vkey


def _verify_bundle(path: Path, state: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([*ledger_program(), "verify", "--bundle", str(path), "--state", str(state), *extra],
                          capture_output=True, text=True, env=env, timeout=300)


def _resigned_bundle(records: list[bytes], origin: str, log_key: Signer) -> bytes:
    from ledger import merkle, note
    from ledger.canonical import canonicalize

    root = merkle.root_of_data(records)
    signed = note.sign_checkpoint(note.Checkpoint(origin, len(records), root), log_key)
    header = canonicalize({"bundle": "governance-ledger/v1", "origin": origin, "size": len(records)})
    return b"\n".join([header, *records, canonicalize({"checkpoint": signed.render()})]) + b"\n"


def test_a_cut_bundle_signed_anew_with_the_stolen_log_key_is_found(bundle: tuple[Partnership, Path, str]) -> None:
    partnership, path, _vkey = bundle
    records = path.read_bytes().splitlines()[1:-1]
    cut = path.with_name("cut.jsonl")
    cut.write_bytes(_resigned_bundle(records[:-3], "ledger.example.org/riverside-partnership", partnership.log_key))
    found = lines(_verify_bundle(cut, partnership.state))  # no --trust, no --since: the state is enough
    assert any(f"this verifier saw {len(records)} records before, but the log now has {len(records) - 3}" in line
               for line in found), found


def test_a_rekeyed_bundle_is_found(bundle: tuple[Partnership, Path, str], tmp_path: Path) -> None:
    partnership, _path, _vkey = bundle
    attacker_log = Signer.generate()
    other = Ledger(str(tmp_path / "other.db"), create=True)
    found_partnership(other, partnership.signers, attacker_log, lambda _t: None)
    raws = [record.raw for _, record in other.read(0, other.size())]
    other.close()
    forged = tmp_path / "forged.jsonl"
    forged.write_bytes(_resigned_bundle(raws, "ledger.example.org/riverside-partnership", attacker_log))
    from ledger.keys import verifier_key_string

    vkey = verifier_key_string("ledger.example.org/riverside-partnership", attacker_log.public_bytes)
    found = lines(_verify_bundle(forged, partnership.state, "--trust", vkey))
    assert any("--trust names log key" in line for line in found), found
    quiet = lines(_verify_bundle(forged, partnership.state))
    assert quiet  # with the remembered key, the attacker's checkpoint does not verify
