"""Export bundles and offline audit: every kind of damage is a finding, not a crash."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ledger import Ledger, load_signer
from ledger import commands as c
from ledger.bundle import verify_bundle, write_bundle
from ledger.keys import parse_verifier_key
from ledger.verify import Report

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    from ledger.demo import build_demo

    directory = tmp_path_factory.mktemp("bundle")
    ledger, _ = build_demo(directory / "demo", echo=lambda _t: None)
    with (directory / "full.jsonl").open("wb") as out:
        write_bundle(ledger, out)
    vkey = ledger.registry().log_key
    ledger.close()
    return directory, vkey


def check(path: Path, vkey: str, since: str | None = None) -> Report:
    name, _, public = parse_verifier_key(vkey)
    return verify_bundle(path, (name, public), since)


def lines(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines(keepends=True)


def write(path: Path, parts: list[bytes]) -> Path:
    path.write_bytes(b"".join(parts))
    return path


def reasons(report: Report) -> str:
    assert not report.ok
    return "\n".join(f.line() for f in report.findings)


def test_the_exported_bundle_verifies_offline(exported: tuple[Path, str]) -> None:
    directory, vkey = exported
    report = check(directory / "full.jsonl", vkey)
    assert report.ok, reasons(report)
    assert report.records == len(lines(directory / "full.jsonl")) - 2
    header = json.loads(lines(directory / "full.jsonl")[0])
    assert header == {"bundle": "governance-ledger/v1", "origin": "ledger.example.org/riverside-partnership",
                      "size": report.records}


def test_a_truncated_bundle(exported: tuple[Path, str], tmp_path: Path) -> None:
    directory, vkey = exported
    parts = lines(directory / "full.jsonl")
    text = reasons(check(write(tmp_path / "b.jsonl", [*parts[:40], parts[-1]]), vkey))
    assert "the header says 128 records but the bundle holds 39: it is truncated or padded" in text


def test_a_reordered_bundle(exported: tuple[Path, str], tmp_path: Path) -> None:
    directory, vkey = exported
    parts = lines(directory / "full.jsonl")
    parts[30], parts[31] = parts[31], parts[30]
    text = reasons(check(write(tmp_path / "b.jsonl", parts), vkey))
    assert "do not hash to the checkpoint's root" in text


def test_a_removed_record(exported: tuple[Path, str], tmp_path: Path) -> None:
    directory, vkey = exported
    parts = lines(directory / "full.jsonl")
    text = reasons(check(write(tmp_path / "b.jsonl", parts[:50] + parts[51:]), vkey))
    assert "the bundle holds 127" in text


def test_an_added_record(exported: tuple[Path, str], tmp_path: Path) -> None:
    directory, vkey = exported
    parts = lines(directory / "full.jsonl")
    text = reasons(check(write(tmp_path / "b.jsonl", [*parts[:-1], parts[-2], parts[-1]]), vkey))
    assert "the bundle holds 129" in text
    assert "repeats or goes back" in text


def test_a_checkpoint_from_another_history_signed_with_the_real_log_key(
    exported: tuple[Path, str], tmp_path: Path
) -> None:
    # The keeper forks: a different last record, and a genuine checkpoint of that fork.
    directory, vkey = exported
    fork = tmp_path / "fork"
    shutil.copytree(directory / "demo", fork)
    ledger = Ledger(str(fork / "ledger.db"), log_key=load_signer(fork / "keys" / "log.key"))
    size = ledger.size()
    c.attach_dissent(ledger, load_signer(fork / "keys" / "party.key"), "M-3", "A different history.")
    with (tmp_path / "forked.jsonl").open("wb") as out:
        write_bundle(ledger, out)
    ledger.close()
    honest, forked = lines(directory / "full.jsonl"), lines(tmp_path / "forked.jsonl")
    assert check(tmp_path / "forked.jsonl", vkey).ok  # on its own, a fork is a valid history...
    # ...but the honest records with the fork's checkpoint are not what it signed:
    text = reasons(check(write(tmp_path / "mixed.jsonl", [honest[0], *honest[1:size + 1], forked[-1]]), vkey))
    assert "the checkpoint covers 129 records but the bundle holds 128" in text


def test_since_catches_a_history_rewritten_behind_an_old_checkpoint(
    exported: tuple[Path, str], tmp_path: Path
) -> None:
    directory, vkey = exported
    parts = lines(directory / "full.jsonl")
    old = json.loads(parts[-1])["checkpoint"]
    assert check(directory / "full.jsonl", vkey, since=old).ok
    # An auditor's old checkpoint of a history with different records:
    from ledger import merkle, note

    log_key = load_signer(directory / "demo" / "keys" / "log.key")
    other = note.sign_checkpoint(note.Checkpoint("ledger.example.org/riverside-partnership", 20,
                                                 merkle.leaf_hash(b"other")), log_key).render()
    text = reasons(check(directory / "full.jsonl", vkey, since=other))
    assert "the checkpoint of size 20 has a different root" in text


def test_the_wrong_trusted_key_is_a_finding(exported: tuple[Path, str]) -> None:
    from ledger.keys import Signer, verifier_key_string

    directory, _ = exported
    stranger = verifier_key_string("ledger.example.org/riverside-partnership", Signer.generate().public_bytes)
    assert "does not verify with the trusted key" in reasons(check(directory / "full.jsonl", stranger))


def test_export_and_verify_as_real_processes(exported: tuple[Path, str], tmp_path: Path) -> None:
    directory, vkey = exported
    program = [sys.executable, "-m", "cli.main"]
    out = subprocess.run([*program, "--db", str(directory / "demo" / "ledger.db"), "export", "--bundle",
                          str(tmp_path / "b.jsonl")], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    (tmp_path / "log.vkey").write_text(vkey + "\n")
    ok = subprocess.run([*program, "verify", "--bundle", str(tmp_path / "b.jsonl"), "--trust",
                         str(tmp_path / "log.vkey")], capture_output=True, text=True, cwd=ROOT)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert ok.stdout.endswith(": OK\n")
    garbage = tmp_path / "garbage.jsonl"
    garbage.write_bytes(b"not a bundle\n{]\n")
    bad = subprocess.run([*program, "verify", "--bundle", str(garbage), "--trust", vkey],
                         capture_output=True, text=True, cwd=ROOT)
    assert bad.returncode == 1
    assert "Traceback" not in bad.stderr


def _flip_signature(line: bytes) -> bytes:
    import base64

    cut = line.rindex(b',"sig":"') + len(b',"sig":"')
    signature = bytearray(base64.b64decode(line[cut:cut + 88]))
    signature[0] ^= 1
    return line[:cut] + base64.b64encode(bytes(signature)) + line[cut + 88:]


DAMAGE = {
    "intact": lambda parts: parts,
    "forged signature": lambda parts: [*parts[:20], _flip_signature(parts[20]), *parts[21:]],
    "reordered": lambda parts: [*parts[:30], parts[31], parts[30], *parts[32:]],
    "removed": lambda parts: parts[:50] + parts[51:],
    "added": lambda parts: [*parts[:-1], parts[-2], parts[-1]],
    "truncated": lambda parts: [*parts[:40], parts[-1]],
    "garbled line": lambda parts: [*parts[:10], b"not a record\n", *parts[11:]],
}


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_workers_reading_the_file_find_what_inline_checking_finds(
    exported: tuple[Path, str], tmp_path: Path, damage: str
) -> None:
    # Worker processes read the bundle's lines themselves, by byte offset.
    directory, vkey = exported
    path = write(tmp_path / "b.jsonl", DAMAGE[damage](lines(directory / "full.jsonl")))
    name, _, public = parse_verifier_key(vkey)
    inline = verify_bundle(path, (name, public), workers=1)
    with_workers = verify_bundle(path, (name, public), workers=2)
    assert [f.line() for f in with_workers.findings] == [f.line() for f in inline.findings]
    assert with_workers.ok == (damage == "intact")
    if damage == "forged signature":
        assert any(f.position == 19 and "signature does not verify" in f.reason for f in with_workers.findings)
