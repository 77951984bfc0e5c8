"""Every worked example in docs/rules.md is a test; and tally properties (hypothesis)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.domain.decisions import Rule, Tally, decide, parse_rule

DOC = (Path(__file__).resolve().parents[1] / "docs" / "rules.md").read_text()
ROW = re.compile(r"^\| (majority|two-thirds|consensus|unanimity)(.*?) \| (\d+) \| (\d+) \| (\d+) \| (\d+) \| (\d+) \| "
                 r"(pass|fail) \|$", re.M)


def rule_from_words(kind: str, words: str) -> Rule:
    quorum = re.search(r"quorum `(\d+/\d+)`", words)
    data: dict[str, object] = {"quorum": quorum.group(1) if quorum else "0/1"}
    if kind in ("consensus", "unanimity"):
        data["threshold"] = kind
    else:
        data["threshold"] = re.search(r"`(\d+/\d+)` of", words).group(1)  # type: ignore[union-attr]
        data["base"] = re.search(r"of (cast|present|seated)", words).group(1)  # type: ignore[union-attr]
        data["strict"] = "not strict" not in words
    return parse_rule(data)


EXAMPLES = ROW.findall(DOC)


def test_the_doc_has_worked_examples() -> None:
    assert len(EXAMPLES) >= 12


@pytest.mark.parametrize("row", EXAMPLES, ids=[f"{r[0]}-{r[2]}-{r[3]}-{r[4]}-{r[5]}-{r[6]}" for r in EXAMPLES])
def test_worked_example(row: tuple[str, ...]) -> None:
    kind, words, seated, present, yes, no, abstain, expected = row
    tally = Tally(int(seated), int(present), int(yes), int(no), int(abstain))
    assert decide(rule_from_words(kind, words), tally)[0] == expected


rules = st.builds(
    lambda q, t, base, strict: parse_rule({"quorum": q, "threshold": t, "base": base, "strict": strict}),
    st.sampled_from(["0/1", "1/3", "1/2", "2/3", "1/1"]),
    st.sampled_from(["1/2", "2/3", "3/4", "1/1", "consensus", "unanimity"]),
    st.sampled_from(["cast", "present", "seated"]),
    st.booleans(),
)


@st.composite
def meetings(draw: st.DrawFn) -> Tally:
    seated = draw(st.integers(1, 15))
    present = draw(st.integers(0, seated))
    yes = draw(st.integers(0, present))
    no = draw(st.integers(0, present - yes))
    abstain = draw(st.integers(0, present - yes - no))
    return Tally(seated, present, yes, no, abstain)


@given(rules, meetings())
def test_one_more_yes_never_turns_a_pass_into_a_fail(rule: Rule, tally: Tally) -> None:
    voted = tally.yes + tally.no + tally.abstain
    if voted == tally.present:
        return  # nobody present is left to vote yes
    more = Tally(tally.seated, tally.present, tally.yes + 1, tally.no, tally.abstain)
    if decide(rule, tally)[0] == "pass":
        assert decide(rule, more)[0] == "pass"


@given(rules, meetings())
def test_one_more_no_never_turns_a_fail_into_a_pass(rule: Rule, tally: Tally) -> None:
    if tally.yes + tally.no + tally.abstain == tally.present:
        return
    more = Tally(tally.seated, tally.present, tally.yes, tally.no + 1, tally.abstain)
    if decide(rule, tally)[0] == "fail":
        assert decide(rule, more)[0] == "fail"


@given(rules, meetings())
def test_without_quorum_nothing_passes(rule: Rule, tally: Tally) -> None:
    if tally.present < rule.quorum * tally.seated:
        assert decide(rule, tally)[0] == "fail"


@given(meetings())
def test_a_tie_fails_a_strict_majority(tally: Tally) -> None:
    tie = Tally(tally.seated, tally.present, tally.yes, tally.yes, tally.abstain)
    majority = parse_rule({"quorum": "0/1", "threshold": "1/2", "base": "cast", "strict": True})
    assert decide(majority, tie)[0] == "fail"


MONEY_ROW = re.compile(r"^\| (pledged|received|owed|allocated|disbursed|by_decision)\(([^)]+)\) \| ([0-9.]+) \|$"
                       r"|^\| (balance) \| ([0-9.]+) \|$", re.M)


def test_the_money_worked_example_is_the_demos_fund(tmp_path: Path) -> None:
    import json

    from click.testing import CliRunner

    from cli.main import cli

    assert CliRunner().invoke(cli, ["demo", "--dir", str(tmp_path / "demo")]).exit_code == 0
    shown = CliRunner().invoke(cli, ["--db", str(tmp_path / "demo" / "ledger.db"), "fund", "show", "F-1", "--json"])
    fund = json.loads(shown.stdout)
    rows = MONEY_ROW.findall(DOC)
    assert len(rows) == 11
    field = {"pledged": "pledged", "received": "received", "owed": "matching_owed", "by_decision": "by_decision"}
    for quantity, name, value, balance, balance_value in rows:
        if balance:
            assert fund["balance"] == balance_value
        elif quantity in field:
            assert fund[field[quantity]][name] == value, (quantity, name)
        else:
            assert fund["allocations"][name][{"allocated": "amount", "disbursed": "disbursed"}[quantity]] == value
