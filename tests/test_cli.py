"""The CLI: exact output, exit codes (0 ok, 1 refused/failed, 2 usage), --json shapes.

Most tests use click's CliRunner on the real command objects; a few run the
installed ``ledger`` program as a separate process.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from cli.main import cli
from tests.helpers import contents, drop_guards

ROOT = Path(__file__).resolve().parents[1]
ORIGIN = "ledger.example.org/cli-test"


def run(args: list[str], env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli, args, env=env, catch_exceptions=False)


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LEDGER_KEY_PASSPHRASE", raising=False)
    monkeypatch.delenv("LEDGER_DB", raising=False)
    monkeypatch.delenv("LEDGER_KEY", raising=False)
    return tmp_path


@pytest.fixture
def initialised(workdir: Path) -> Path:
    for name in ("sec", "bob"):
        assert run(["keys", "new", name]).exit_code == 0
    result = run(["init", "--origin", ORIGIN, "--name", "CLI Test", "--key", "sec.key", "--holder", "Dana"])
    assert result.exit_code == 0, result.output
    result = run(["keys", "register", "bob.pub", "--holder", "Bob", "--role", "member", "--key", "sec.key"])
    assert result.exit_code == 0, result.output
    return workdir


def test_keys_new_writes_a_private_key_only_its_owner_can_read(workdir: Path) -> None:
    result = run(["keys", "new", "alice"])
    assert result.exit_code == 0
    assert re.fullmatch(r"[0-9a-f]{64}\n", result.stdout)
    assert stat.S_IMODE((workdir / "alice.key").stat().st_mode) == 0o600
    assert b"BEGIN PRIVATE KEY" in (workdir / "alice.key").read_bytes()
    assert run(["keys", "id", "alice.pub"]).stdout == result.stdout
    assert run(["keys", "id", "alice.key"]).stdout == result.stdout


def test_keys_new_refuses_to_overwrite(workdir: Path) -> None:
    run(["keys", "new", "alice"])
    before = (workdir / "alice.key").read_bytes()
    result = run(["keys", "new", "alice"])
    assert result.exit_code == 1
    assert result.stderr == f"error: {Path('alice.key')} already exists; refusing to overwrite a key\n"
    assert (workdir / "alice.key").read_bytes() == before


def test_an_encrypted_key_needs_its_passphrase(workdir: Path) -> None:
    assert run(["keys", "new", "alice"], env={"LEDGER_KEY_PASSPHRASE": "correct horse"}).exit_code == 0
    assert b"ENCRYPTED PRIVATE KEY" in (workdir / "alice.key").read_bytes()
    (workdir / "alice.pub").rename(workdir / "alice-public.pem")  # without the .pub beside it
    result = run(["keys", "id", "alice.key"])
    assert result.exit_code == 1
    assert result.stderr == ("error: key file alice.key is encrypted: type its passphrase at a terminal, or set "
                             "LEDGER_KEY_PASSPHRASE\n")
    wrong = run(["keys", "id", "alice.key"], env={"LEDGER_KEY_PASSPHRASE": "wrong"})
    assert wrong.exit_code == 1
    assert "wrong passphrase" in wrong.stderr
    assert run(["keys", "id", "alice.key"], env={"LEDGER_KEY_PASSPHRASE": "correct horse"}).exit_code == 0


def test_init_prints_the_genesis_hash_and_log_verifier_key(workdir: Path) -> None:
    run(["keys", "new", "sec"])
    result = run(["init", "--origin", ORIGIN, "--name", "CLI Test", "--key", "sec.key"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert re.fullmatch(rf"created ledger {re.escape(ORIGIN)} \(genesis [0-9a-f]{{64}}\)", lines[0])
    assert re.fullmatch(rf"log key verifier: {re.escape(ORIGIN)}\+[0-9a-f]{{8}}\+[A-Za-z0-9+/]{{44}}", lines[1])
    assert stat.S_IMODE((workdir / "log.key").stat().st_mode) == 0o600


def test_verify_succeeds_with_a_summary(initialised: Path) -> None:
    result = run(["verify"])
    assert result.exit_code == 0
    assert re.fullmatch(r"verified 2 records in 1 stream, 2 registered keys, in \d+\.\d\d s: OK\n", result.stdout)


def test_verify_json_shape(initialised: Path) -> None:
    result = run(["verify", "--json"])
    assert result.exit_code == 0
    body = json.loads(result.stdout)
    assert set(body) == {"ok", "origin", "records", "streams", "keys", "seconds", "findings", "warnings", "checkpoint",
                         "state", "log_key"}
    assert (body["ok"], body["origin"], body["records"], body["findings"]) == (True, ORIGIN, 2, [])


def test_a_refused_command_is_one_line_exit_1_and_writes_nothing(initialised: Path) -> None:
    run(["keys", "new", "carol"])
    before = contents(initialised / "ledger.db")
    result = run(["keys", "register", "carol.pub", "--holder", "Carol", "--role", "member", "--key", "bob.key"])
    assert result.exit_code == 1
    assert result.stderr == (
        "error: only the secretariat registers keys for others; a person adds their own devices\n"
    )
    assert result.stdout == ""
    assert run(["verify", "--json"]).stdout.count('"records": 2') == 1
    assert contents(initialised / "ledger.db") == before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["keys", "register", "bob.pub", "--holder", "B", "--role", "member"], "give the signer's key with --key"),
        (["keys", "register", "bob.pub", "--holder", "B", "--key", "sec.key"], "Missing option '--role'"),
        (["verify", "--nope"], "No such option '--nope'"),
        (["show", "banana"], "give a log position"),
        (["log", "--limit", "0"], "0 is not in the range x>=1"),
    ],
)
def test_usage_errors_exit_2(initialised: Path, args: list[str], message: str) -> None:
    result = run(args)
    assert result.exit_code == 2
    assert message in result.stderr


def test_keys_list_json(initialised: Path) -> None:
    body = json.loads(run(["keys", "list", "--json"]).stdout)
    assert [(k["holder"], k["roles"], k["status"]) for k in body["keys"]] == [
        ("Dana", ["secretariat"], "active"), ("Bob", ["member"], "active")]


def test_retire_and_revoke(initialised: Path) -> None:
    bob = run(["keys", "id", "bob.pub"]).stdout.strip()
    result = run(["keys", "revoke", bob[:10], "--compromised-since", "2026-01-01T00:00:00Z", "--key", "sec.key"])
    assert result.exit_code == 0, result.output
    assert result.stdout == f"revoked key {bob} (Bob) as compromised since 2026-01-01T00:00:00.000000Z\n"
    bad = run(["keys", "revoke", bob[:10], "--compromised-since", "yesterday", "--key", "sec.key"])
    assert bad.exit_code == 1
    assert bad.stderr == "error: 'yesterday' is not an RFC 3339 time such as 2026-11-01T09:00:00Z\n"


def test_show_and_log(initialised: Path) -> None:
    shown = json.loads(run(["show", "1", "--json"]).stdout)
    assert shown["position"] == 1
    assert shown["record"]["type"] == "key.registered"
    by_hash = json.loads(run(["show", shown["event_hash"], "--json"]).stdout)
    assert by_hash == shown
    listed = json.loads(run(["log", "--json"]).stdout)["records"]
    assert [(r["position"], r["type"], r["holder"]) for r in listed] == [
        (0, "ledger.genesis", "Dana"), (1, "key.registered", "Dana")]
    missing = run(["show", "9"])
    assert missing.exit_code == 1
    assert missing.stderr == "error: there is no record at position 9 (the log has 2)\n"


def test_verify_of_a_tampered_file_lists_findings_and_exits_1(initialised: Path) -> None:
    db = initialised / "ledger.db"
    drop_guards(db)
    with sqlite3.connect(db) as conn:
        conn.execute(
            "UPDATE ledger_events SET state = CAST(replace(state, '\"Bob\"', '\"Rob\"') AS BLOB) WHERE id = 2"
        )
    result = run(["verify"])
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    # The dropped guards are evidence too, and the edited bytes no longer match
    # the derived log table and the stored Merkle tree.
    guards = [line for line in lines if "append-only guard" in line]
    assert len(guards) == 8 and all(line.startswith("0 - - (database): the append-only guard ") for line in guards)
    assert [line for line in lines if "append-only guard" not in line] == [
        "1 - - (database): ledger_log position 1 holds an event hash that is not its record's: the log table and "
        "the records disagree (one of them was changed outside the ledger)",
        "1 - - (database): ledger_merkle node 1 is not the hash computed from the records (a record or the stored "
        "tree was changed outside the ledger)",
        lines[-1],
    ]
    assert re.fullmatch(r"1 [0-9a-f-]{36} 2 key\.registered: signature does not verify with key [0-9a-f]{12}",
                        lines[-1])
    assert result.stderr == "11 findings in 2 records: FAILED\n"


def _ledger_program() -> list[str]:
    found = shutil.which("ledger", path=str(Path(sys.executable).parent))
    return [found] if found else [sys.executable, "-m", "cli.main"]


def test_the_demo_runs_as_a_real_process_and_verifies(tmp_path: Path) -> None:
    result = subprocess.run([*_ledger_program(), "demo", "--dir", str(tmp_path / "demo")],
                            capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-2].startswith("verify: ")
    assert result.stdout.splitlines()[-2].endswith(": OK")
    assert (tmp_path / "demo" / "keys" / "secretariat.key").exists()
    again = subprocess.run([*_ledger_program(), "--db", str(tmp_path / "demo" / "ledger.db"), "verify"],
                           capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    assert again.stdout.endswith(": OK\n")


def test_a_missing_ledger_is_one_line_from_a_real_process(tmp_path: Path) -> None:
    result = subprocess.run([*_ledger_program(), "--db", str(tmp_path / "none.db"), "verify"],
                            capture_output=True, text=True, timeout=60, env={**os.environ})
    assert result.returncode == 1
    missing = tmp_path / "none.db"
    assert result.stderr == f"error: no ledger at {missing} (create one with 'ledger init' or 'ledger demo')\n"
    assert "Traceback" not in result.stderr


def test_init_signs_the_first_checkpoint(workdir: Path) -> None:
    run(["keys", "new", "sec"])
    assert run(["init", "--origin", ORIGIN, "--name", "CLI Test", "--key", "sec.key"]).exit_code == 0
    note = run(["checkpoint", "--show"]).stdout
    assert note.startswith(f"{ORIGIN}\n1\n")
    assert f"\u2014 {ORIGIN} " in note


def test_a_database_path_with_a_question_mark_is_refused(workdir: Path) -> None:
    # In a SQLite URL "?" starts the options: the ledger would silently be another file.
    (workdir / "odd?dir").mkdir()
    assert run(["keys", "new", "sec"]).exit_code == 0
    result = run(["--db", "odd?dir/ledger.db", "init", "--origin", ORIGIN, "--name", "X", "--key", "sec.key"])
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == f"error: the database path {workdir / 'odd?dir' / 'ledger.db'} contains '?'; " \
                            "rename the file or its folder\n"
    assert sorted(p.name for p in workdir.iterdir()) == ["odd?dir", "sec.key", "sec.pub"]
    assert not any((workdir / "odd?dir").iterdir())
