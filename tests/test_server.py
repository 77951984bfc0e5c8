"""The ledger server, as members and attackers use it: real `ledger serve` and `ledger`
processes on the loopback, a member's key only on the member's side."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.main import cli
from ledger import Ledger
from ledger.keys import load_signer
from ledger.remote import sign_messages
from tests.serving import get_json, http, ledger_cli, post_json, serve_ledger


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("server") / "demo"
    assert CliRunner().invoke(cli, ["demo", "--dir", str(directory)], catch_exceptions=False).exit_code == 0
    return directory


@pytest.fixture
def served(demo_dir: Path, tmp_path: Path):  # type: ignore[no-untyped-def]
    """A copy of the demo served by a real `ledger serve` process, and a member's own folder
    holding nothing but the member's keys (no database, no other keys)."""
    keeper = tmp_path / "keeper"
    shutil.copytree(demo_dir, keeper)
    member = tmp_path / "member"
    member.mkdir()
    for stem in ("cso-air", "cso-cycle", "secretariat"):
        shutil.copy(keeper / "keys" / f"{stem}.key", member / f"{stem}.key")
    server = serve_ledger("ledger.db", keeper, keeper / "keys" / "log.key")
    yield server, keeper, member
    server.stop()


def remote(server_url: str, member: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return ledger_cli("--server", server_url, *args, cwd=member)


def test_a_member_votes_from_their_own_machine_with_their_own_key(served) -> None:  # type: ignore[no-untyped-def]
    server, keeper, member = served
    steps = [
        ("meeting", "attend", "MT-4", "--member", "Amara Okafor (Clean Air Now)", "--member",
         "Mei Lin (Cycle Forward)", "--member", "Sam Whitfield (Civic Renewal Party)", "--key", "secretariat.key"),
        ("motion", "propose", "--meeting", "MT-4", "--item", "1", "--text", "Enforce bus lanes.", "--key",
         "cso-air.key"),
        ("motion", "second", "M-7", "--key", "cso-cycle.key"),
        ("motion", "open", "M-7", "--key", "secretariat.key"),
        ("motion", "vote", "M-7", "yes", "--key", "cso-air.key"),
        ("motion", "vote", "M-7", "no", "--key", "cso-air.key"),  # she changes her vote
        ("motion", "vote", "M-7", "yes", "--key", "cso-cycle.key"),
        ("motion", "vote", "M-7", "no", "--member", "Sam Whitfield (Civic Renewal Party)", "--key",
         "secretariat.key"),
        ("motion", "close", "M-7", "--key", "secretariat.key"),
    ]
    for step in steps:
        done = remote(server.url, member, *step)
        assert done.returncode == 0, (step, done.stderr)
    assert remote(server.url, member, "motion", "propose", "--meeting", "MT-4", "--item", "1", "--text",
                  "x", "--key", "cso-air.key").stdout == "proposed M-8\n"
    # The record is the member's: signed by her key, checked by a local verify of the keeper's database.
    shown = json.loads(remote(server.url, member, "motion", "show", "M-7", "--json").stdout)
    amara = load_signer(member / "cso-air.key").key_id
    ledger = Ledger(str(keeper / "ledger.db"))
    votes = [r for _p, r in ledger.read(0, 1000) if r.type == "motion.vote_cast" and r.actor == amara
             and r.data.get("choice") == "no"]
    ledger.close()
    assert votes, "Amara's own changed vote is in the log, signed by her key"
    assert shown["status"] == "closed"
    verified = ledger_cli("--db", "ledger.db", "verify", cwd=keeper)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert verified.stdout.rstrip().endswith(": OK")
    # Refused exactly as locally: one line, exit 1; usage errors exit 2.
    closed = remote(server.url, member, "motion", "vote", "M-7", "yes", "--key", "cso-air.key")
    assert (closed.returncode, closed.stderr) == (1, "error: M-7 is closed, not open for votes\n")
    usage = remote(server.url, member, "motion", "vote", "M-7", "maybe", "--key", "cso-air.key")
    assert usage.returncode == 2


@pytest.mark.parametrize("argv", [["motion", "list"], ["motion", "show", "M-3"], ["committee", "show", "K-1"],
                                  ["fund", "show", "F-1"], ["keys", "list"], ["audit", "--ref", "M-3"],
                                  ["motion", "show", "M-3", "--as-of", "67"], ["dispute", "show", "D-1"]])
def test_queries_answer_the_same_json_as_the_cli(served, argv: list[str]) -> None:  # type: ignore[no-untyped-def]
    server, keeper, _member = served
    local = ledger_cli("--db", "ledger.db", *argv, "--json", cwd=keeper)
    assert local.returncode == 0, local.stderr
    status, answer = post_json(server.url + "/v1/query", {"argv": argv})
    assert status == 200 and answer == json.loads(local.stdout)
    words = [w for w in argv if not w.startswith("--")]
    options = {argv[i][2:].replace("-", "_"): argv[i + 1] for i in range(len(argv)) if argv[i].startswith("--")}
    query = "&".join(f"{k}={v}" for k, v in options.items())
    words = [w for w in words if w not in options.values()]
    status, got = get_json(server.url + "/v1/" + "/".join(words) + (f"?{query}" if query else ""))
    assert status == 200 and got == answer


def _act(server_url: str, signer_path: Path, argv: list[str]) -> tuple[dict[str, object], dict[str, object]]:
    """Prepare and sign an act the way any client would (body ready to submit, prepared answer)."""
    signer = load_signer(signer_path)
    body: dict[str, object] = {"argv": argv, "key": signer.key_id, "signatures": {}}
    status, prepared = post_json(server_url + "/v1/prepare", body)
    assert status == 200, prepared
    body["at"] = prepared["at"]
    signatures = dict(sign_messages(signer, prepared["sign"]))
    body["signatures"] = signatures
    while not prepared["complete"]:
        status, prepared = post_json(server_url + "/v1/prepare", body)
        signatures.update(sign_messages(signer, prepared["sign"]))
    return body, prepared


def test_prepare_writes_nothing_and_submit_appends_exactly_what_was_prepared(served) -> None:  # type: ignore[no-untyped-def]
    server, keeper, member = served
    size = int(http("GET", server.url + "/checkpoint")[2].decode().split("\n")[1])
    body, prepared = _act(server.url, member / "secretariat.key",
                          ["meeting", "schedule", "--committee", "K-1", "--at", "2035-03-01T18:00:00Z"])
    assert int(http("GET", server.url + "/checkpoint")[2].decode().split("\n")[1]) == size  # nothing yet
    records = prepared["records"]
    assert [r["record"]["type"] for r in records] == [  # type: ignore[index]
        "committee.meeting_scheduled", "meeting.scheduled"]
    status, answer = post_json(server.url + "/v1/submit", body)
    assert status == 201, answer
    ledger = Ledger(str(keeper / "ledger.db"))
    stored = [ledger.record_at(size), ledger.record_at(size + 1)]
    ledger.close()
    assert [r.unsigned() for r in stored] == [r["record"] for r in records]  # type: ignore[index]
    assert answer["event_hashes"] == [r.event_hash for r in stored]
    # A retry after a lost answer is acknowledged, not applied twice.
    body["event_hashes"] = answer["event_hashes"]
    status, again = post_json(server.url + "/v1/submit", body)
    assert (status, again["status"]) == (200, "already recorded")
    body.pop("event_hashes")
    status, twice = post_json(server.url + "/v1/submit", body)
    assert (status, twice["error"]["code"]) == (409, "moved_on")


def test_when_the_log_moves_on_a_submission_is_refused_and_nothing_is_written(served) -> None:  # type: ignore[no-untyped-def]
    server, _keeper, member = served
    body, _prepared = _act(server.url, member / "secretariat.key",
                           ["meeting", "schedule", "--committee", "K-1", "--at", "2035-03-01T18:00:00Z"])
    other = remote(server.url, member, "meeting", "schedule", "--committee", "K-1", "--at",
                   "2035-04-01T18:00:00Z", "--key", "secretariat.key")
    assert other.returncode == 0, other.stderr
    before = http("GET", server.url + "/checkpoint")[2]
    status, answer = post_json(server.url + "/v1/submit", body)
    assert status == 409 and answer["error"]["code"] == "moved_on"
    assert "prepare and sign it again" in answer["error"]["message"]
    assert http("GET", server.url + "/checkpoint")[2] == before


def test_a_signature_for_other_bytes_or_by_another_key_is_refused(served) -> None:  # type: ignore[no-untyped-def]
    server, _keeper, member = served
    body, prepared = _act(server.url, member / "secretariat.key",
                          ["meeting", "schedule", "--committee", "K-1", "--at", "2035-03-01T18:00:00Z"])
    # A member's key signing the secretariat's record: the signature does not verify.
    impostor = load_signer(member / "cso-air.key")
    message = base64.b64decode(prepared["records"][0]["message"])  # type: ignore[index]
    forged = dict(body, signatures={prepared["records"][0]["message_sha256"]:  # type: ignore[index]
                                    base64.b64encode(impostor.sign(message)).decode()})
    status, answer = post_json(server.url + "/v1/submit", forged)
    assert (status, answer["error"]["code"]) == (403, "unauthorised")
    # The member's own key asking to schedule a meeting: refused by the rules, as locally.
    own = dict(body, key=impostor.key_id, signatures={})
    status, answer = post_json(server.url + "/v1/prepare", own)
    assert status == 403 and "may not write committee.meeting_scheduled" in answer["error"]["message"]


@pytest.mark.parametrize(("body", "status", "code"), [
    ({"argv": ["init", "--origin", "x"], "key": "0" * 64}, 400, "usage"),
    ({"argv": ["motion", "list"], "key": "0" * 64}, 405, "not_an_act"),
    ({"argv": ["motion", "second", "M-1", "--key", "/etc/passwd"], "key": "0" * 64}, 400, "usage"),
    ({"argv": ["meeting", "minutes", "MT-1", "--document", "ledger.db", "--keep-document"],
      "key": "0" * 64}, 400, "usage"),
    ({"argv": ["motion", "second", "M-1"], "key": "0" * 64}, 403, "unauthorised"),
    ({"argv": ["motion", "second", "M-1"], "key": "nope"}, 400, "invalid"),
    ({"argv": [], "key": "0" * 64}, 400, "invalid"),
    ({"argv": ["motion", "second", "M-1"], "key": "0" * 64, "extra": 1}, 400, "invalid"),
])
def test_bad_requests_are_refused_in_one_line(served, body: dict[str, object], status: int, code: str) -> None:  # type: ignore[no-untyped-def]
    server, _keeper, _member = served
    got, answer = post_json(server.url + "/v1/prepare", body)
    assert (got, answer["error"]["code"]) == (status, code), answer
    assert "\n" not in answer["error"]["message"] and "Traceback" not in answer["error"]["message"]


@pytest.mark.parametrize(("raw", "status", "code"), [
    (b'{"argv": ["motion", "list"], "argv": ["x"]}', 400, "bad_json"),
    (b'{"argv": ["motion", "second", "M-1"], "key": 1.5}', 400, "bad_json"),
    (b'{"argv": NaN}', 400, "bad_json"),
    (b"[" * 100 + b"]" * 100, 400, "bad_json"),
    (b"\xff\xfe", 400, "bad_json"),
    (b'{"argv": ["' + b"x" * (1024 * 1024 + 10) + b'"]}', 413, "too_large"),
])
def test_request_bodies_are_parsed_strictly(served, raw: bytes, status: int, code: str) -> None:  # type: ignore[no-untyped-def]
    server, _keeper, _member = served
    got, headers, body = http("POST", server.url + "/v1/prepare", raw, {"Content-Type": "application/json"})
    assert (got, json.loads(body)["error"]["code"]) == (status, code)
    assert "access-control-allow-origin" not in {k.lower() for k in headers}  # no CORS by default


def test_a_body_too_large_without_a_length_is_refused_too(served) -> None:  # type: ignore[no-untyped-def]
    import http.client
    from urllib.parse import urlsplit

    server, _keeper, _member = served
    where = urlsplit(server.url)
    connection = http.client.HTTPConnection(where.hostname, where.port, timeout=30)
    chunks = (b'{"argv": ["' if i == 0 else b"x" * 65536 for i in range(30))  # ~1.9 MiB, chunked
    connection.request("POST", "/v1/prepare", body=chunks, headers={"Content-Type": "application/json"},
                       encode_chunked=True)
    answer = connection.getresponse()
    assert (answer.status, json.loads(answer.read())["error"]["code"]) == (413, "too_large")
    connection.close()


def test_openapi_describes_every_route(served) -> None:  # type: ignore[no-untyped-def]
    server, _keeper, _member = served
    status, spec = get_json(server.url + "/openapi.json")
    assert status == 200 and spec["openapi"].startswith("3.")
    assert {"/checkpoint", "/tile/{path}", "/v1/prepare", "/v1/submit", "/v1/query"} <= set(spec["paths"])


def test_writes_are_rate_limited_per_client(demo_dir: Path, tmp_path: Path) -> None:
    shutil.copytree(demo_dir, tmp_path / "demo")
    server = serve_ledger("ledger.db", tmp_path / "demo", None, "--write-rate", "3")
    try:
        statuses = [post_json(server.url + "/v1/prepare", {"argv": ["motion", "second", "M-1"],
                                                           "key": "0" * 64})[0] for _ in range(5)]
    finally:
        server.stop()
    assert statuses == [403, 403, 403, 429, 429]


def test_a_server_killed_mid_request_loses_no_acknowledged_command(served) -> None:  # type: ignore[no-untyped-def]
    server, keeper, member = served
    for step in (("meeting", "attend", "MT-4", "--member", "Amara Okafor (Clean Air Now)", "--key",
                  "secretariat.key"),
                 ("motion", "propose", "--meeting", "MT-4", "--item", "1", "--text", "Kill test.", "--key",
                  "cso-air.key"),
                 ("motion", "second", "M-7", "--key", "cso-cycle.key"),
                 ("motion", "open", "M-7", "--key", "secretariat.key")):
        assert remote(server.url, member, *step).returncode == 0
    ledger = Ledger(str(keeper / "ledger.db"))
    before = ledger.size()
    ledger.close()
    acknowledged = 0
    for number in range(8):
        choice = "yes" if number % 2 == 0 else "no"
        client = subprocess.Popen(
            [*_ledger(), "--server", server.url, "motion", "vote", "M-7", choice, "--key", "cso-air.key"],
            cwd=member, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if number in (2, 5):
            server.kill()  # SIGKILL, whatever the server was doing
            server.start()
        _out, _err = client.communicate(timeout=60)
        acknowledged += client.returncode == 0
    verified = ledger_cli("--db", "ledger.db", "verify", cwd=keeper)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    ledger = Ledger(str(keeper / "ledger.db"))
    amara = load_signer(member / "cso-air.key").key_id
    votes = [r for _p, r in ledger.read(before, 100) if r.type == "motion.vote_cast" and r.actor == amara]
    ledger.close()
    # Every acknowledged vote is there, none twice; the clients retried through the restarts.
    assert acknowledged >= 6
    assert acknowledged <= len(votes) <= 8


def _ledger() -> list[str]:
    from tests.serving import LEDGER

    return [LEDGER]


def test_the_readme_network_section_works_as_written(demo_dir: Path, tmp_path: Path) -> None:
    import os
    import re

    from tests.serving import LEDGER

    text = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    section = text.split("## Take part over the network", 1)[1].split("\n## ", 1)[0]
    block = re.findall(r"```sh\n(.+?)\n```", section, re.S)[0]
    work = tmp_path / "demo"
    shutil.copytree(demo_dir, work)
    script = "set -e\ntrap 'kill $(jobs -p) 2>/dev/null' EXIT\n" + block + "\n"
    env = {**os.environ, "LEDGER_DB": "ledger.db", "PATH": f"{Path(LEDGER).parent}:{os.environ['PATH']}"}
    env.pop("LEDGER_SERVER", None)
    done = subprocess.run(["bash", "-c", script], cwd=work, capture_output=True, text=True, env=env, timeout=180)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "\u2014 witness.example " in done.stdout  # the served checkpoint carries the cosignature
    assert ledger_cli("--db", "ledger.db", "verify", cwd=work).returncode == 0


def test_a_meeting_file_is_applied_through_the_server_all_or_nothing(served) -> None:  # type: ignore[no-untyped-def]
    server, _keeper, member = served
    (member / "meeting.ledger").write_text(
        'meeting attend MT-4 --member "Amara Okafor" --member "Mei Lin" --member "Sam Whitfield"\n'
        "meeting close MT-4\n")
    done = remote(server.url, member, "apply", "meeting.ledger", "--key", "secretariat.key")
    assert (done.returncode, done.stdout) == (0, "applied 2 entries from f1-meeting.ledger in one transaction\n")
    before = http("GET", server.url + "/checkpoint")[2]
    (member / "two-keys.ledger").write_text("meeting schedule --committee K-1 --at 2035-03-01T18:00:00Z\n"
                                           "motion second M-1 --key cso-cycle.key\n")
    refused = remote(server.url, member, "apply", "two-keys.ledger", "--key", "secretariat.key")
    assert refused.returncode == 1  # as locally: a refused line refuses the file
    assert refused.stderr == ("error: f1-two-keys.ledger, line 2: the server never reads key files: sign on your "
                              "own machine (ledger --server URL ... --key FILE)\n")
    assert http("GET", server.url + "/checkpoint")[2] == before  # the first line was not written either


def test_the_log_is_served_a_page_at_a_time(served) -> None:  # type: ignore[no-untyped-def]
    server, _keeper, _member = served
    status, page = get_json(server.url + "/v1/log?from=100&limit=5")
    assert status == 200 and [r["position"] for r in page["records"]] == [100, 101, 102, 103, 104]
    status, answer = get_json(server.url + "/v1/audit?limit=1000000")
    assert (status, answer["error"]["code"]) == (400, "usage")
    assert answer["error"]["message"].startswith("at most 10,000 rows a page")


def test_files_a_command_takes_are_sent_with_it_and_other_words_stay_words(served) -> None:  # type: ignore[no-untyped-def]
    import hashlib

    server, keeper, member = served
    (member / "sensor-report.pdf").write_bytes(b"%PDF-1.4 readings at six schools")
    (member / "Readings").write_text("a file that happens to share the narrative's name")
    done = remote(server.url, member, "milestone", "report", "MS-1", "--value", "40", "--date", "2026-11-20",
                  "--evidence", "sensor-report.pdf", "--keep-document", "--narrative", "Readings",
                  "--key", "secretariat.key")
    assert done.returncode == 0, done.stderr
    shown = json.loads(remote(server.url, member, "milestone", "show", "MS-1", "--json").stdout)
    report = shown["reports"][-1]
    assert report["narrative"] == "Readings"  # a word, not the file of that name
    digest = hashlib.sha256(b"%PDF-1.4 readings at six schools").hexdigest()
    assert report["evidence"] == digest
    kept = ledger_cli("--db", "ledger.db", "document", "get", digest, "--out", "copy.pdf", cwd=keeper)
    assert kept.returncode == 0, kept.stderr
    assert (keeper / "copy.pdf").read_bytes() == b"%PDF-1.4 readings at six schools"


def test_sealed_content_is_served_only_as_ciphertext(served) -> None:  # type: ignore[no-untyped-def]
    import pyrage

    from ledger.sealed import read_identity

    server, keeper, member = served
    secret = "The new bus lane blocks the ramp to our block."
    done = remote(server.url, member, "feedback", "submit", "--channel", "community-voices", "--text", secret,
                  "--key", "secretariat.key")
    assert done.returncode == 0, done.stderr
    status, listed = post_json(server.url + "/v1/query", {"argv": ["feedback", "list"]})
    assert status == 200 and secret not in json.dumps(listed)
    ledger = Ledger(str(keeper / "ledger.db"))
    digest = ledger.record_at(ledger.size() - 1).data["content"]["sealed"]["sha256"]
    ledger.close()
    status, _headers, body = http("GET", f"{server.url}/v1/sealed/{digest}")
    assert status == 200 and body.startswith(b"age-encryption.org/v1\n") and secret.encode() not in body
    identity = read_identity(keeper / "keys" / "ombudsperson.age")
    assert pyrage.decrypt(body, [identity]).decode() == secret
    assert http("GET", f"{server.url}/v1/sealed/{'0' * 64}")[0] == 404


def test_commands_that_seal_and_draw_codes_run_through_the_server(served) -> None:  # type: ignore[no-untyped-def]
    server, keeper, member = served
    shutil.copy(keeper / "keys" / "cso-tenants.key", member / "cso-tenants.key")
    for step in (["consultation", "open", "--committee", "K-1", "--title", "Bus lane hours", "--section",
                  "1=Bus lanes are enforced from 7 to 10.", "--opens-at", "2026-11-01", "--closes-at", "2035-12-01",
                  "--key", "secretariat.key"],
                 ["consultation", "comment", "CX-2", "--section", "1", "--text", "My neighbour cannot get out.",
                  "--confidential", "community-voices", "--key", "cso-tenants.key"]):
        done = remote(server.url, member, *step)
        assert done.returncode == 0, (step, done.stderr)
    submitted = remote(server.url, member, "feedback", "submit", "--channel", "community-voices", "--text",
                       "Sealed words.", "--key", "secretariat.key")
    assert submitted.returncode == 0, submitted.stderr
    code = submitted.stdout.split("receipt code: ", 1)[1].strip()
    found = remote(server.url, member, "feedback", "status", "--receipt", code, "--channel", "community-voices",
                   "--json")
    assert found.returncode == 0 and '"ref": "FB-' in found.stdout, found.stdout + found.stderr
    assert b"My neighbour" not in (keeper / "ledger.db").read_bytes()


def test_an_auditor_verifies_the_served_log_without_trusting_the_server(served) -> None:  # type: ignore[no-untyped-def]
    import sqlite3

    from tests.helpers import drop_guards

    server, keeper, member = served
    vkey = ledger_cli("--db", "ledger.db", "checkpoint", "--vkey", cwd=keeper).stdout
    (member / "log.vkey").write_text(vkey)
    ok = remote(server.url, member, "verify", "--trust", "log.vkey", "--state", "audit-state")
    assert ok.returncode == 0 and ok.stdout.rstrip().endswith(": OK"), ok.stdout + ok.stderr
    # The keeper edits a vote in the database the server reads: the auditor's verify fails.
    drop_guards(keeper / "ledger.db")
    with sqlite3.connect(keeper / "ledger.db") as conn:
        conn.execute("UPDATE ledger_events SET state = replace(state, '\"choice\":\"no\"', '\"choice\":\"yes\"') "
                     "WHERE topic = 'motion.vote_cast' AND instr(state, '\"choice\":\"no\"') > 0")
    caught = remote(server.url, member, "verify", "--state", "audit-state")
    assert caught.returncode == 1, caught.stdout + caught.stderr  # fails closed, whichever way it is caught
    assert "OK" not in caught.stdout
    assert caught.stdout.rstrip().endswith("FAILED") or caught.stderr.startswith(
        "error: the server gives no bundle to verify: "), caught.stdout + caught.stderr
