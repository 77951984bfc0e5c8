"""The ombudsperson's replay of the demo's dispute, against a golden file."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.main import cli

GOLDEN = Path(__file__).parent / "golden" / "dispute-replay.txt"


def normalise(text: str) -> str:
    """Mask what differs between runs (fresh keys, hashes, times, stream ids)."""
    text = re.sub(r"[0-9a-f]{64}", "<hash>", text)
    text = re.sub(r"\[sealed [0-9a-f]{12}…", "[sealed <digest>…", text)
    text = re.sub(r"\(key [0-9a-f]{12}\)", "(key <id>)", text)
    text = re.sub(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z", "<time>", text)
    return re.sub(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "<stream>", text)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("replay") / "demo"
    assert CliRunner().invoke(cli, ["demo", "--dir", str(directory)], catch_exceptions=False).exit_code == 0
    return directory / "ledger.db"


def test_replay_of_the_demo_dispute_matches_the_golden_file(demo: Path) -> None:
    result = CliRunner().invoke(cli, ["--db", str(demo), "dispute", "replay", "D-1"], catch_exceptions=False)
    assert result.exit_code == 0
    assert normalise(result.stdout) == GOLDEN.read_text()
    # Words for people: names, not key ids; no Python reprs.
    assert not any(marker in result.stdout for marker in ("{'", "True", "None", "'yes'"))


def test_replay_json_names_the_contested_record_and_its_context(demo: Path) -> None:
    result = CliRunner().invoke(cli, ["--db", str(demo), "dispute", "replay", "D-1", "--json"],
                                catch_exceptions=False)
    body = json.loads(result.stdout)
    [contested] = [s for s in body["steps"] if s["part"] == "contested"]
    assert contested["event_hash"] == body["contested"][0]
    assert contested["type"] == "motion.vote_cast"
    assert contested["roles"] == ["secretariat"]
    assert contested["context"]["rule_in_force"]["threshold"] == "1/2"
    assert contested["context"]["state_before"]["status"] == "voting"
    assert "votes" in contested["changed"]
    assert [s["type"] for s in body["steps"] if s["part"] == "dispute"][-1] == "dispute.closed"
