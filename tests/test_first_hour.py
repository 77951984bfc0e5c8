"""A newcomer's first hour: nothing a user has is lost, refusals write nothing,
bundles say what they prove, text cannot fool a reader, and messages are words.

Each test runs the real `ledger` program and asserts its exact output and exit code.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest
import rfc8785

from ledger import record as rec
from tests.helpers import canonical, contents
from tests.test_readme_tour import ledger_program

ROOT = Path(__file__).resolve().parents[1]


def run(*args: str, cwd: Path, db: str | None = "ledger.db", stdin: str | None = None
        ) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for name in ("LEDGER_DB", "LEDGER_KEY", "LEDGER_LOG_KEY", "LEDGER_KEY_PASSPHRASE"):
        env.pop(name, None)
    if db is not None:
        env["LEDGER_DB"] = db
    return subprocess.run([*ledger_program(), *args], capture_output=True, text=True, cwd=cwd, env=env,
                          input=stdin, timeout=120)


@pytest.fixture(scope="module")
def built_demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("first-hour") / "demo"
    made = run("demo", "--dir", str(directory), cwd=ROOT, db=None)
    assert made.returncode == 0, made.stderr
    return directory


@pytest.fixture
def demo(built_demo: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "demo"
    shutil.copytree(built_demo, copy)
    return copy


def files_of(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


# --- never destroy what a user has -------------------------------------------------------

def test_demo_refuses_a_folder_that_is_not_empty_and_changes_nothing(demo: Path) -> None:
    before = files_of(demo / "keys")
    before_db = contents(demo / "ledger.db")
    result = run("demo", "--dir", str(demo), cwd=demo.parent, db=None)
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == f"error: {demo} is not empty; nothing was written (choose a new folder with --dir)\n"
    assert files_of(demo / "keys") == before
    assert contents(demo / "ledger.db") == before_db


def test_rerunning_the_readme_demo_command_keeps_the_saved_log_key(tmp_path: Path) -> None:
    assert run("demo", "--dir", "demo", cwd=tmp_path, db=None).returncode == 0
    saved = (tmp_path / "demo" / "keys" / "log.pub").read_bytes()
    assert run("demo", "--dir", "demo", cwd=tmp_path, db=None).returncode == 1
    assert (tmp_path / "demo" / "keys" / "log.pub").read_bytes() == saved


def test_init_on_an_existing_ledger_writes_no_log_key(demo: Path) -> None:
    before = contents(demo / "ledger.db")
    result = run("init", "--origin", "x.example/y", "--name", "Y", "--key", "keys/secretariat.key",
                 "--log-key", "fresh-log.key", cwd=demo)
    assert (result.returncode, result.stderr) == (1, "error: ledger.db already holds a ledger; nothing was written\n")
    assert not (demo / "fresh-log.key").exists() and not (demo / "fresh-log.pub").exists()
    assert contents(demo / "ledger.db") == before


def test_a_refused_init_writes_no_file(tmp_path: Path) -> None:
    assert run("keys", "new", "sec", cwd=tmp_path).returncode == 0
    result = run("init", "--origin", "not an origin", "--name", "Y", "--key", "sec.key", cwd=tmp_path)
    assert (result.returncode, result.stderr) == (1, "error: origin must be printable ASCII without spaces or '+'\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sec.key", "sec.pub"]


def test_a_failed_import_leaves_no_file(demo: Path, tmp_path: Path) -> None:
    assert run("export", "--bundle", "b.jsonl", cwd=demo).returncode == 0
    vkey = run("checkpoint", "--vkey", cwd=demo).stdout.strip()
    lines = (demo / "b.jsonl").read_bytes().splitlines()
    lines[5] = lines[5].replace(b'"seq":', b'"seq": ', 1)  # a record's bytes changed
    (demo / "bad.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    result = run("--db", str(tmp_path / "replica.db"), "import", "bad.jsonl", "--trust", vkey, cwd=demo, db=None)
    assert result.returncode == 1
    assert result.stderr.endswith(": nothing imported\n")
    assert not list(tmp_path.glob("replica.db*"))


def test_reading_commands_create_nothing(tmp_path: Path) -> None:
    for args in (["log"], ["verify"], ["keys", "list"], ["motion", "list"], ["show", "0"]):
        result = run(*args, cwd=tmp_path, db="missing.db")
        assert result.returncode == 1, args
        assert result.stderr == f"error: no ledger at {tmp_path / 'missing.db'} (create one with 'ledger init' " \
                                "or 'ledger demo')\n"
    assert list(tmp_path.iterdir()) == []


@pytest.mark.postgres
def test_reading_an_empty_postgres_database_creates_no_table(pg_server: str, tmp_path: Path) -> None:
    from tests.conftest import reset_pg

    reset_pg(pg_server)
    url = pg_server.replace("postgresql+psycopg", "postgresql")
    for args in (["log"], ["verify"], ["keys", "list"]):
        result = run(*args, cwd=tmp_path, db=url)
        assert result.returncode == 1
        assert result.stderr.startswith("error: no ledger in postgresql://"), result.stderr
    import psycopg

    with psycopg.connect(url) as conn:
        tables = conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'").fetchall()
    assert tables == []


@pytest.mark.parametrize(("db", "message"), [
    ("", "error: the database is empty: give a SQLite file path or a postgresql:// URL\n"),
    ("postgresql://", "error: the PostgreSQL URL names no database: add one, as in "
                      "postgresql://user@host:5432/ledger\n"),
    ("postgresql://postgres@127.0.0.1:5432", "error: the PostgreSQL URL names no database: add one, as in "
                                             "postgresql://user@host:5432/ledger\n"),
])
def test_a_database_that_names_nothing_is_refused(tmp_path: Path, db: str, message: str) -> None:
    result = run("--db", db, "log", cwd=tmp_path, db=None)
    assert (result.returncode, result.stderr) == (1, message)
    assert list(tmp_path.iterdir()) == []


def test_a_folder_as_the_database_is_refused(tmp_path: Path) -> None:
    result = run("--db", str(tmp_path), "log", cwd=tmp_path, db=None)
    assert (result.returncode, result.stderr) == (1, f"error: {tmp_path} is a directory, not a ledger file\n")


def test_export_never_replaces_a_file(demo: Path) -> None:
    (demo / "mine.jsonl").write_text("my file", encoding="utf-8")
    result = run("export", "--bundle", "mine.jsonl", cwd=demo)
    assert (result.returncode, result.stderr) == (
        1, "error: mine.jsonl already exists; choose another name (nothing was written)\n")
    assert (demo / "mine.jsonl").read_text(encoding="utf-8") == "my file"
    result = run("export", "--format", "popolo", "--out", "mine.jsonl", cwd=demo)
    assert result.returncode == 1 and (demo / "mine.jsonl").read_text(encoding="utf-8") == "my file"


# --- a bundle says what it proves ----------------------------------------------------------

def _add_uncovered_records(demo: Path, count: int) -> None:
    for day in range(count):
        made = run("meeting", "schedule", "--committee", "K-1", "--at", f"2035-03-0{day + 1}T18:00:00Z",
                   "--key", "keys/secretariat.key", cwd=demo)
        assert made.returncode == 0, made.stderr


def test_export_without_the_log_key_refuses_and_says_what_to_run(demo: Path) -> None:
    _add_uncovered_records(demo, 1)  # a meeting and its committee's record
    result = run("export", "--bundle", "b.jsonl", cwd=demo)
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == ("error: 2 records are newer than the latest checkpoint (size 128); sign one first: "
                             "ledger checkpoint --log-key FILE (or give --log-key FILE here)\n")
    assert not (demo / "b.jsonl").exists()
    verify = run("verify", cwd=demo)
    assert verify.returncode == 0
    coverage, first_use = verify.stderr.splitlines()
    assert coverage == ("the latest checkpoint covers 128 records; 2 newer records are not yet in a checkpoint: "
                        "sign one with 'ledger checkpoint --log-key FILE'")
    assert first_use.startswith("first use: trusting log key ledger.example.org/riverside-partnership+")


def test_export_with_the_log_key_covers_every_record(demo: Path) -> None:
    _add_uncovered_records(demo, 1)
    result = run("export", "--bundle", "b.jsonl", "--log-key", "keys/log.key", cwd=demo)
    assert (result.returncode, result.stdout) == (0, "exported 130 records with their checkpoint to b.jsonl\n")
    lines = (demo / "b.jsonl").read_bytes().splitlines()
    assert len(lines) == 132
    assert run("verify", cwd=demo).stderr.startswith("first use: ")  # and nothing uncovered
    assert run("verify", cwd=demo).stderr == ""  # the second run has nothing to add
    older = run("export", "--bundle", "old.jsonl", "--size", "128", cwd=demo)
    assert older.stdout == "exported 128 records with their checkpoint to old.jsonl\n"


def test_every_bundle_line_is_canonical_json(demo: Path) -> None:
    assert run("export", "--bundle", "b.jsonl", cwd=demo).returncode == 0
    for line in (demo / "b.jsonl").read_bytes().splitlines():
        assert rfc8785.dumps(json.loads(line)) == line
    assert (demo / "b.jsonl").read_bytes().splitlines()[-1].startswith(b'{"checkpoint":"')


def test_a_bundle_with_the_old_checkpoint_trailer_still_verifies(demo: Path) -> None:
    assert run("export", "--bundle", "b.jsonl", cwd=demo).returncode == 0
    lines = (demo / "b.jsonl").read_bytes().splitlines()
    note = json.loads(lines[-1])["checkpoint"]
    lines[-1] = json.dumps({"checkpoint": note}, ensure_ascii=False).encode("utf-8")  # '{"checkpoint": "...'
    assert b'": "' in lines[-1]
    (demo / "old.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    vkey = run("checkpoint", "--vkey", cwd=demo).stdout.strip()
    result = run("verify", "--bundle", "old.jsonl", "--trust", vkey, cwd=demo)
    assert result.returncode == 0 and result.stdout.endswith(": OK\n")


# --- text that cannot fool a reader --------------------------------------------------------

@pytest.mark.parametrize(("text", "shown"), [
    ("Enforce\x1b[2J lanes.", "U+001B (ESC)"), ("Ring\x07", "U+0007 (BEL)"), ("Over\rwrite", "U+000D (CR)"),
    ("abc\u202edef", "U+202E (RIGHT-TO-LEFT OVERRIDE)"), ("tab\there", "U+0009 (TAB)"),
    ("csi\x9b2J", "U+009B (a control or bidirectional formatting character)"),
])
def test_control_and_bidi_characters_are_refused_naming_the_field(demo: Path, text: str, shown: str) -> None:
    _schedule_with_agenda(demo)
    before = contents(demo / "ledger.db")
    result = run("motion", "propose", "--meeting", "MT-4", "--item", "1", "--text", text,
                 "--key", "keys/cso-air.key", cwd=demo)
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == f"error: field 'text' contains {shown}, which is not allowed in text\n"
    assert contents(demo / "ledger.db") == before


def test_a_nul_is_refused_from_a_file(demo: Path) -> None:
    # NUL cannot travel in a command's arguments, but it can in a file of commands.
    _schedule_with_agenda(demo)
    (demo / "m.ledger").write_text('motion propose --meeting MT-4 --item 1 --text "Hidden\x00 text"\n',
                                   encoding="utf-8")
    result = run("apply", "m.ledger", "--key", "keys/cso-air.key", cwd=demo)
    assert (result.returncode, result.stderr) == (
        1, "error: m.ledger, line 1: field 'text' contains U+0000 (NUL), which is not allowed in text\n")


def test_a_line_break_is_refused_in_a_name_but_kept_in_a_motion_text(demo: Path) -> None:
    assert run("keys", "new", "bob", cwd=demo).returncode == 0
    result = run("keys", "register", "bob.pub", "--holder", "Bob\nOkafor", "--role", "member",
                 "--key", "keys/secretariat.key", cwd=demo)
    assert (result.returncode, result.stderr) == (
        1, "error: field 'holder' is one line of text and cannot contain a line break\n")
    _schedule_with_agenda(demo)
    ok = run("motion", "propose", "--meeting", "MT-4", "--item", "1", "--text", "First line.\nSecond line.",
             "--key", "keys/cso-air.key", cwd=demo)
    assert ok.returncode == 0, ok.stderr


def test_verify_finds_a_validly_signed_record_with_a_control_character(demo: Path) -> None:
    from ledger import load_signer

    db = demo / "ledger.db"
    with sqlite3.connect(db) as conn:
        for table in ("ledger_events", "ledger_log"):
            for op in ("update", "delete"):
                conn.execute(f"DROP TRIGGER IF EXISTS {table}_no_{op}")
        _id, stream, seq, state = conn.execute(
            "SELECT id, originator_id, originator_version, state FROM ledger_events WHERE originator_id = "
            "(SELECT originator_id FROM ledger_events WHERE topic = 'key.registered' LIMIT 1) "
            "ORDER BY originator_version DESC LIMIT 1").fetchone()
    secretariat = load_signer(demo / "keys" / "secretariat.key")
    newcomer = load_signer(demo / "keys" / "auditor.key")  # any key: a fresh public key is what matters
    from ledger.keys import Signer

    fresh = Signer.generate()
    previous = json.loads(state)
    unsigned = {"v": 1, "ledger": previous["ledger"], "stream": previous["stream"], "seq": previous["seq"] + 1,
                "type": "key.registered", "at": "2027-01-01T00:00:00.000000Z", "actor": secretariat.key_id,
                "prev": rec.event_hash(state),
                "data": {"key_id": fresh.key_id, "public_key": fresh.public_b64, "holder": "Eve\x1b[2K Okafor",
                         "roles": ["member"]}}
    message = rec.SIGNING_DOMAIN + canonical(unsigned)
    raw = canonical({**unsigned, "sig": base64.b64encode(secretariat.sign(message)).decode()})
    assert newcomer.key_id != fresh.key_id
    with sqlite3.connect(db) as conn:
        cur = conn.execute("INSERT INTO ledger_events (originator_id, originator_version, topic, state) "
                           "VALUES (?, ?, ?, ?)", (stream, seq + 1, "key.registered", raw))
        position = conn.execute("SELECT MAX(position) + 1 FROM ledger_log").fetchone()[0]
        conn.execute("INSERT INTO ledger_log VALUES (?, ?, ?)", (position, cur.lastrowid, rec.event_hash(raw)))
    result = run("verify", cwd=demo)
    assert result.returncode == 1
    assert f"{position} {previous['stream']} {previous['seq'] + 1} key.registered: malformed record: field " \
           "'holder' contains U+001B (ESC), which is not allowed in text" in result.stdout


def _schedule_with_agenda(demo: Path) -> None:
    """Hold the demo's pending meeting MT-4 (scheduled, agenda published, started)."""
    for args in (["meeting", "attend", "MT-4", "--member", "amara", "--member", "mei", "--member", "luis",
                  "--member", "sam"],):
        made = run(*args, "--key", "keys/secretariat.key", cwd=demo)
        assert made.returncode == 0, (args, made.stderr)


# --- messages a person understands ------------------------------------------------------------

def test_a_read_only_database_is_one_line(demo: Path) -> None:
    url = f"sqlite:///file:{demo / 'ledger.db'}?mode=ro&uri=true"
    before = contents(demo / "ledger.db")
    for args in (["meeting", "schedule", "--committee", "K-1", "--at", "2027-03-01T18:00:00Z",
                  "--key", "keys/secretariat.key"], ["projections", "rebuild"]):
        result = run("--db", url, *args, cwd=demo, db=None)
        assert (result.returncode, result.stderr) == (1, "error: cannot write: the database is read-only (check the "
                                                         "permissions of the file and its folder); nothing was "
                                                         "written\n"), args
    assert contents(demo / "ledger.db") == before


@pytest.mark.parametrize(("args", "message"), [
    (["export", "--format", "popolo", "--out", "/nonexistent/x.json"],
     "error: cannot write /nonexistent/x.json: the folder /nonexistent does not exist\n"),
    (["prove", "consistency", "5", "3"],
     "error: a log only grows: prove consistency from the older size to the newer one "
     "('ledger prove consistency 3 5')\n"),
    (["fund", "pledge", "F-1", "--party", "civic-renewal", "--amount", "12345678901234567.00",
      "--key", "keys/party.key"],
     "error: amount 12345678901234567.00 is too large: at most 15 digits before the point\n"),
])
def test_messages_in_words(demo: Path, args: list[str], message: str) -> None:
    result = run(*args, cwd=demo)
    assert (result.returncode, result.stderr) == (1, message)


def test_a_binary_apply_file_and_an_empty_proof_are_one_line(demo: Path) -> None:
    (demo / "photo.ledger").write_bytes(bytes(range(256)))
    result = run("apply", "photo.ledger", "--key", "keys/secretariat.key", cwd=demo)
    assert (result.returncode, result.stderr) == (
        1, "error: photo.ledger is not a text file (UTF-8): give a .ledger file of commands\n")
    (demo / "empty.json").write_text("{}", encoding="utf-8")
    vkey = run("checkpoint", "--vkey", cwd=demo).stdout.strip()
    result = run("verify-proof", "empty.json", "--trust", vkey, cwd=demo)
    assert (result.returncode, result.stderr) == (
        1, "error: that is not a proof from 'ledger prove': its \"type\" must be \"inclusion\" or \"consistency\"\n")


@pytest.mark.parametrize("value", ["1e999999", "1_000", " 5 ", "+5", "-0", "5.", "٣", "NaN", "Infinity"])
def test_milestone_values_are_plain_decimals(demo: Path, value: str) -> None:
    result = run("milestone", "report", "MS-1", "--value", value, "--date", "2027-01-31", "--evidence", "a" * 64,
                 "--narrative", "x", "--key", "keys/secretariat.key", cwd=demo)
    assert (result.returncode, result.stderr) == (
        1, f"error: value {value!r} is not a plain decimal number such as 12.5 or -3\n")


@pytest.mark.parametrize("citation", ["22", "M-3", "m-3", "M-3#2"])
def test_a_grievance_cites_a_position_or_a_ref(demo: Path, citation: str) -> None:
    result = run("dispute", "file", "--covenant", "C-1", "--complainant", "Clean Air Now", "--complainant-kind",
                 "party", "--party", "clean-air-now", "--respondent", "cycle-forward", "--contests", citation,
                 "--grounds", "x", "--key", "keys/cso-air.key", cwd=demo)
    assert result.returncode == 0, result.stderr
    show = json.loads(run("dispute", "show", "D-2", "--json", cwd=demo).stdout)
    expected = run("show", "22", "--json", cwd=demo) if citation == "22" else None
    if expected is not None:
        assert show["contested"] == [json.loads(expected.stdout)["event_hash"]]
    else:
        assert len(show["contested"]) == 1 and len(show["contested"][0]) == 64


def test_an_unknown_citation_lists_the_forms(demo: Path) -> None:
    result = run("dispute", "file", "--covenant", "C-1", "--complainant", "X", "--complainant-kind", "party",
                 "--party", "clean-air-now", "--respondent", "cycle-forward", "--contests", "the tie",
                 "--grounds", "x", "--key", "keys/cso-air.key", cwd=demo)
    assert (result.returncode, result.stderr) == (
        1, "error: 'the tie' names no record: cite a log position (42), STREAM:SEQ, a ref such as M-12 (its latest "
           "record) or M-12#3 (its third), a 64-digit event hash\n")


def test_one_item_is_singular(demo: Path) -> None:
    run("meeting", "schedule", "--committee", "K-1", "--at", "2035-03-01T18:00:00Z", "--key", "keys/secretariat.key",
        cwd=demo)
    result = run("meeting", "agenda", "MT-6", "--item", "Bus lanes", "--key", "keys/secretariat.key", cwd=demo)
    assert result.stdout == "published the agenda of MT-6: 1 item\n"


# --- holders by name --------------------------------------------------------------------------

@pytest.mark.parametrize("who", ["Amara Okafor", "amara", "clean-air-now", "Amara Okafor (Clean Air Now)"])
def test_holders_by_prefix_or_organisation(demo: Path, who: str) -> None:
    _schedule_with_agenda(demo)  # attendance named members by prefix
    keys = json.loads(run("keys", "list", "--json", cwd=demo).stdout)["keys"]
    amara = next(k["key_id"] for k in keys if k["holder"].startswith("Amara"))
    run("motion", "propose", "--meeting", "MT-4", "--item", "1", "--text", "T.", "--key", "keys/cso-air.key", cwd=demo)
    run("motion", "second", "M-7", "--key", "keys/cso-cycle.key", cwd=demo)
    run("motion", "open", "M-7", "--key", "keys/secretariat.key", cwd=demo)
    result = run("motion", "vote", "M-7", "yes", "--member", who, "--key", "keys/secretariat.key", cwd=demo)
    assert result.returncode == 0, result.stderr
    votes = json.loads(run("motion", "show", "M-7", "--json", cwd=demo).stdout)["votes"]
    assert votes == {amara: "yes"}


def test_an_ambiguous_holder_lists_the_matches(demo: Path) -> None:
    _schedule_with_agenda(demo)
    result = run("meeting", "attend", "MT-4", "--member", "D", "--key", "keys/secretariat.key", cwd=demo)
    assert (result.returncode, result.stderr) == (
        1, "error: 'D' matches several people: Dana Reyes (Partnership Secretariat); Dr Ines Haddad (Urban Health "
           "Institute); give more of the name\n")


# --- help that works ----------------------------------------------------------------------------

def test_shell_completion_works_through_click(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "_LEDGER_COMPLETE": "bash_complete", "COMP_WORDS": "ledger mot",
           "COMP_CWORD": "1"}
    result = subprocess.run(ledger_program(), capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60)
    assert "plain,motion" in result.stdout.splitlines()
    script = subprocess.run(ledger_program(), capture_output=True, text=True, cwd=tmp_path, timeout=60,
                            env={**env, "_LEDGER_COMPLETE": "bash_source"})
    assert "_ledger_completion" in script.stdout


def test_log_and_keys_list_answer_as_of_a_point(demo: Path) -> None:
    log = json.loads(run("log", "--as-of", "5", "--limit", "100", "--json", cwd=demo).stdout)["records"]
    assert [r["position"] for r in log] == list(range(6))
    keys = json.loads(run("keys", "list", "--as-of", "2", "--json", cwd=demo).stdout)["keys"]
    assert len(keys) == 3  # the founder and the first two registrations
