"""The printable dispute report: self-contained, escaped, with verifiable proofs."""

from __future__ import annotations

import html
import itertools
import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.main import cli
from ledger import Ledger, load_signer
from ledger import commands as c
from ledger.tlog import verify_proof


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("report") / "demo"
    assert CliRunner().invoke(cli, ["demo", "--dir", str(directory)], catch_exceptions=False).exit_code == 0
    return directory


def report(db: Path, ref: str, out: Path) -> str:
    result = CliRunner().invoke(cli, ["--db", str(db), "dispute", "report", ref, "--out", str(out)],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == f"wrote the report of {ref} to {out}\n"
    return out.read_text()


def test_the_report_carries_the_contested_record_and_a_proof_that_verifies(demo: Path, tmp_path: Path) -> None:
    text = report(demo / "ledger.db", "D-1", tmp_path / "r.html")
    replay = json.loads(CliRunner().invoke(cli, ["--db", str(demo / "ledger.db"), "dispute", "replay", "D-1",
                                                 "--json"]).stdout)
    [contested] = [s for s in replay["steps"] if s["part"] == "contested"]
    assert contested["event_hash"] in text
    assert "Upheld</strong>" in text and "Remedy (record correction)" in text
    proof = json.loads(CliRunner().invoke(cli, ["--db", str(demo / "ledger.db"), "prove", "inclusion",
                                                str(contested["position"])]).stdout)
    listed = re.findall(r"<li>([A-Za-z0-9+/=]{44})</li>", text)
    assert listed == proof["hashes"]
    assert html.escape(proof["checkpoint"], quote=False).strip() in text
    ledger = Ledger(str(demo / "ledger.db"))
    try:
        from ledger.keys import parse_verifier_key

        name, _, public = parse_verifier_key(ledger.registry().log_key)
    finally:
        ledger.close()
    assert "is included" in verify_proof(proof, name, public)


def test_the_report_is_self_contained_with_headings_in_order(demo: Path, tmp_path: Path) -> None:
    text = report(demo / "ledger.db", "D-1", tmp_path / "r.html")
    assert not re.search(r"""(src|href)=["']?https?:""", text)
    assert "<script" not in text
    levels = [int(h) for h in re.findall(r"<h([1-6])", text)]
    assert levels[0] == 1 and all(b - a <= 1 for a, b in itertools.pairwise(levels))
    assert "<th scope=" in text


def test_hostile_text_is_escaped(demo: Path, tmp_path: Path) -> None:
    import shutil

    copy = tmp_path / "d"
    shutil.copytree(demo, copy)
    ledger = Ledger(str(copy / "ledger.db"))
    contested = ledger.record_at(3).event_hash
    d2 = c.file_dispute(ledger, load_signer(copy / "keys" / "cso-air.key"), "C-1",
                        {"kind": "public", "name": "<script>alert(1)</script>"}, [], [contested],
                        "Grounds with <b>markup</b> & ampersands.")
    ledger.close()
    text = report(copy / "ledger.db", d2, tmp_path / "r2.html")
    assert "<script>alert(1)</script>" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "&lt;b&gt;markup&lt;/b&gt; &amp; ampersands." in text
