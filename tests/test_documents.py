"""Documents: cited by file as well as by digest, optionally kept beside the ledger,
returned by `ledger document get`, and checked by verify (altered is a finding,
erased is not)."""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from cli.main import cli
from ledger import Ledger
from tests.helpers import contents


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("documents") / "demo"
    assert CliRunner().invoke(cli, ["demo", "--dir", str(directory)], catch_exceptions=False).exit_code == 0
    return directory


@pytest.fixture
def demo(demo_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    shutil.copytree(demo_dir, tmp_path / "demo")
    monkeypatch.chdir(tmp_path / "demo")
    (tmp_path / "demo" / "evidence.pdf").write_bytes(b"%PDF-1.7 bank statement for the pilot fund\n")
    return tmp_path / "demo"


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, ["--db", "ledger.db", *args], catch_exceptions=False)


def test_evidence_given_as_a_file_is_cited_by_its_digest_and_kept(demo: Path) -> None:
    content = (demo / "evidence.pdf").read_bytes()
    digest = hashlib.sha256(content).hexdigest()
    assert run("document", "digest", "evidence.pdf").stdout == digest + "\n"
    result = run("fund", "receive", "F-1", "--party", "cycle-forward", "--amount", "500.00",
                 "--document", "evidence.pdf", "--keep-document", "--key", "keys/secretariat.key")
    assert result.exit_code == 0, result.output
    ledger = Ledger("ledger.db")
    try:
        assert ledger.record_at(ledger.size() - 1).data["evidence"] == digest
    finally:
        ledger.close()
    assert run("document", "get", digest).stdout_bytes == content
    listed = json.loads(run("document", "list", "--json").stdout)["documents"]
    assert [(d["digest"], d["name"], d["size"]) for d in listed] == [(digest, "evidence.pdf", len(content))]
    assert run("document", "get", digest, "--out", "copy.pdf").exit_code == 0
    assert (demo / "copy.pdf").read_bytes() == content
    assert run("verify").exit_code == 0


def test_a_file_is_cited_without_being_kept_unless_asked(demo: Path) -> None:
    digest = hashlib.sha256((demo / "evidence.pdf").read_bytes()).hexdigest()
    assert run("fund", "receive", "F-1", "--party", "cycle-forward", "--amount", "500.00",
               "--evidence", "evidence.pdf", "--key", "keys/secretariat.key").exit_code == 0
    assert json.loads(run("document", "list", "--json").stdout)["documents"] == []
    result = run("document", "get", digest)
    assert (result.exit_code, result.stderr) == (1, f"error: no document with digest {digest[:12]}… is kept in "
                                                    "this ledger\n")


def test_neither_a_digest_nor_a_file_is_one_line_and_writes_nothing(demo: Path) -> None:
    before = contents(demo / "ledger.db")
    result = run("fund", "receive", "F-1", "--party", "cycle-forward", "--amount", "500.00",
                 "--evidence", "r.pdf", "--key", "keys/secretariat.key")
    assert (result.exit_code, result.stderr) == (
        1, "error: 'r.pdf' is neither a SHA-256 digest (64 hex digits) nor a file that exists\n")
    assert contents(demo / "ledger.db") == before


def test_a_refused_command_keeps_no_document(demo: Path) -> None:
    result = run("fund", "receive", "F-1", "--party", "nobody", "--amount", "500.00",
                 "--document", "evidence.pdf", "--keep-document", "--key", "keys/secretariat.key")
    assert result.exit_code == 1
    assert json.loads(run("document", "list", "--json").stdout)["documents"] == []


def test_an_agenda_cites_files_and_keeps_them(demo: Path) -> None:
    (demo / "plan.txt").write_text("The pilot plan, version 4.\n")
    result = run("meeting", "schedule", "--committee", "K-1", "--at", "2035-03-01T18:00:00Z",
                 "--key", "keys/secretariat.key")
    assert result.exit_code == 0, result.output
    result = run("meeting", "agenda", "MT-6", "--item", "Review of the pilot@plan.txt", "--keep-document",
                 "--key", "keys/secretariat.key")
    assert result.exit_code == 0, result.output
    digest = hashlib.sha256(b"The pilot plan, version 4.\n").hexdigest()
    agenda = json.loads(run("meeting", "show", "MT-6", "--json").stdout)["agenda"]
    assert agenda == [{"number": 1, "title": "Review of the pilot", "documents": [digest]}]
    assert run("document", "get", digest).stdout == "The pilot plan, version 4.\n"


def test_verify_finds_an_altered_kept_document_but_not_an_erased_one(demo: Path) -> None:
    assert run("fund", "receive", "F-1", "--party", "cycle-forward", "--amount", "500.00",
               "--document", "evidence.pdf", "--keep-document", "--key", "keys/secretariat.key").exit_code == 0
    digest = hashlib.sha256((demo / "evidence.pdf").read_bytes()).hexdigest()
    with sqlite3.connect(demo / "ledger.db") as conn:
        conn.execute("UPDATE ledger_documents SET content = ? WHERE digest = ?", (b"forged statement", digest))
    result = run("verify")
    assert result.exit_code == 1
    assert f"the kept document {digest[:12]}… no longer matches its digest: it was altered" in result.stdout
    with sqlite3.connect(demo / "ledger.db") as conn:
        conn.execute("DELETE FROM ledger_documents WHERE digest = ?", (digest,))
    assert run("verify").exit_code == 0  # erased under a retention rule: the record still verifies


def test_documents_are_kept_with_their_command_on_each_backend(db_url: str, make_ledger, people) -> None:  # type: ignore[no-untyped-def]
    from ledger import Signer
    from ledger import documents as store
    from ledger.documents import Document
    from ledger.verify import verify_ledger

    ledger = make_ledger(db_url)
    content = b"minutes of the founding meeting"
    document = Document(hashlib.sha256(content).hexdigest(), "minutes.txt", content)
    with ledger.keeping([document]):
        ledger.register_key(people.founder, Signer.generate().public_b64, "Ada (Clean Air Now)", ["member"])
    assert store.get(ledger, document.digest) == document
    assert verify_ledger(ledger).ok
    with ledger.recorder.transaction(commit=True) as session:
        from sqlalchemy import update

        from ledger.store import documents_table

        session.execute(update(documents_table).values(content=b"altered"))
    report = verify_ledger(ledger)
    assert [f.reason for f in report.findings] == [
        f"the kept document {document.digest[:12]}… no longer matches its digest: it was altered"]


def test_the_site_links_kept_documents_and_carries_their_copies(demo: Path) -> None:
    (demo / "plan.txt").write_text("The pilot plan, version 4.\n")
    assert run("meeting", "schedule", "--committee", "K-1", "--at", "2035-03-01T18:00:00Z",
               "--key", "keys/secretariat.key").exit_code == 0
    assert run("meeting", "agenda", "MT-6", "--item", "Review of the pilot@../demo/plan.txt", "--item", "Other",
               "--keep-document", "--key", "keys/secretariat.key").exit_code == 0
    result = run("publish", "site", "--log-key", "keys/log.key")
    assert result.exit_code == 0, result.output
    digest = hashlib.sha256(b"The pilot plan, version 4.\n").hexdigest()
    assert f'<a href="documents/{digest}/plan.txt">plan.txt</a>' in (demo / "site" / "meetings.html").read_text()
    assert (demo / "site" / "documents" / digest / "plan.txt").read_text() == "The pilot plan, version 4.\n"
    # Minutes kept only as a digest are named by it, not linked.
    assert "adopted (SHA-256 " in (demo / "site" / "meetings.html").read_text()
