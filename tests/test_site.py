"""The transparency site: self-contained, linked, accessible, and true to the records."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.main import cli
from ledger import Ledger
from ledger.domain.funding import Fund
from projections.describe import load


class Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.sources: list[str] = []
        self.headings: list[int] = []
        self.tables = 0
        self.th = 0
        self.svgs = 0
        self.svg_titles = 0
        self.scripts = 0
        self._in_svg = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "a" and values.get("href"):
            self.links.append(str(values["href"]))
        for key in ("src", "href"):
            if tag != "a" and values.get(key):
                self.sources.append(str(values[key]))
        if re.fullmatch(r"h[1-6]", tag):
            self.headings.append(int(tag[1]))
        self.tables += tag == "table"
        self.th += tag == "th"
        self.scripts += tag == "script"
        if tag == "svg":
            self.svgs += 1
            self._in_svg = True
        if tag == "title" and self._in_svg:
            self.svg_titles += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "svg":
            self._in_svg = False


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    base = tmp_path_factory.mktemp("site")
    assert CliRunner().invoke(cli, ["demo", "--dir", str(base / "demo")], catch_exceptions=False).exit_code == 0
    result = CliRunner().invoke(cli, ["--db", str(base / "demo" / "ledger.db"), "publish", str(base / "site")],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    return base / "site", base / "demo" / "ledger.db"


def pages(site: Path) -> dict[Path, Page]:
    out = {}
    for path in sorted(site.rglob("*.html")):
        page = Page()
        page.feed(path.read_text(encoding="utf-8"))
        out[path] = page
    return out


def test_every_internal_link_resolves_and_nothing_is_external(site: tuple[Path, Path]) -> None:
    root, _ = site
    found = pages(root)
    assert len(found) >= 14
    for path, page in found.items():
        assert page.scripts == 0, path
        for target in page.links + page.sources:
            assert not re.match(r"(?i)(https?:)?//", target), f"{path}: external {target}"
            if target.startswith("#"):
                continue
            assert (path.parent / target.split("#")[0]).resolve().exists(), f"{path}: broken link {target}"


def test_pages_are_accessible(site: tuple[Path, Path]) -> None:
    for path, page in pages(site[0]).items():
        assert page.headings[0] == 1, path
        assert all(b - a <= 1 for a, b in zip(page.headings, page.headings[1:], strict=False)), path
        if page.tables:
            assert page.th > 0, path
        assert page.svg_titles == page.svgs, f"{path}: a chart without a title"
        text = path.read_text()
        assert '<html lang="en">' in text and 'name="viewport"' in text


def test_key_figures_match_the_ledger(site: tuple[Path, Path]) -> None:
    root, db = site
    ledger = Ledger(str(db))
    try:
        fund = load(ledger, Fund, "F-1")
        balance = f"{fund.fmt(fund.balance())} {fund.currency}"
        size = ledger.size()
    finally:
        ledger.close()
    money = (root / "money.html").read_text()
    assert re.search(rf'id="balance-F-1">{re.escape(balance)}<', money)
    # civic-renewal owes 15000.00 in matching and has paid in 40000.00: met in full.
    assert re.search(r"<td>civic-renewal</td>.*?<td class=\"num\">15000\.00</td><td class=\"num\">15000\.00</td>",
                     money)
    tie = (root / "motions" / "M-3.html").read_text()
    assert 'class="fail">fail</span>: 2 yes of 4 cast: more than 1/2 was not reached' in tie
    assert "the secretariat (roll call)" in tie
    assert f"Published from {size} signed records" in (root / "index.html").read_text()
    assert (root / "bundle.jsonl").exists()


def test_publishing_as_of_a_past_point(site: tuple[Path, Path], tmp_path: Path) -> None:
    _, db = site
    result = CliRunner().invoke(cli, ["--db", str(db), "publish", str(tmp_path / "old"), "--as-of", "40"],
                                catch_exceptions=False)
    assert result.exit_code == 0
    decisions = (tmp_path / "old" / "decisions.html").read_text()
    assert "M-1" in decisions and "M-3" not in decisions
    assert "as of position 40" in decisions


def test_the_decisions_page_says_why_a_motion_failed(site: tuple[Path, Path]) -> None:
    root, _ = site
    decisions = (root / "decisions.html").read_text(encoding="utf-8")
    rows = re.findall(r"<tr><td><a href=\"motions/(M-\d+)\.html\">.*?</tr>", decisions, re.S)
    no_quorum = [row for row in re.findall(r"<tr><td><a href=.*?</tr>", decisions, re.S) if "quorum not met" in row]
    assert rows and len(no_quorum) == 1  # the demo's motion that failed without quorum says so
    assert '<span class="fail">fail</span>' in no_quorum[0]
    assert re.search(r"<td>quorum not met: \d+ present of \d+ seated, 1/2 needed</td>", no_quorum[0])


def test_the_verify_page_explains_and_installs_this_project(site: tuple[Path, Path]) -> None:
    import tomllib

    root, _ = site
    page = (root / "verify.html").read_text(encoding="utf-8")
    name = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text())["project"]["name"]
    assert f"pip install {name}\n" in page
    assert "governance-ledger" not in page  # another project's name on the package index
    assert "What a checkpoint is" in page and "witnesses" in page and "What you gain by checking" in page


def test_the_bundle_proves_every_record_the_site_shows(site: tuple[Path, Path]) -> None:
    root, _ = site
    lines = (root / "bundle.jsonl").read_bytes().splitlines()
    footer = (root / "index.html").read_text(encoding="utf-8")
    shown = int(re.search(r"Published from (\d+) signed records", footer).group(1))  # type: ignore[union-attr]
    assert len(lines) - 2 == shown
    import json

    assert json.loads(lines[0])["size"] == shown


def test_publish_replaces_only_its_own_site(site: tuple[Path, Path], tmp_path: Path) -> None:
    _, db = site
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("my notes", encoding="utf-8")
    result = CliRunner().invoke(cli, ["--db", str(db), "publish", str(mine)])
    assert result.exit_code == 1
    assert result.stderr == (f"error: {mine} is not empty and holds no site published from this ledger; "
                             "choose a new or empty folder (nothing was written)\n")
    assert sorted(p.name for p in mine.iterdir()) == ["notes.txt"]
    again = tmp_path / "site"
    for _ in range(2):  # a site it published before is replaced whole
        assert CliRunner().invoke(cli, ["--db", str(db), "publish", str(again)]).exit_code == 0
    assert (again / "verify.html").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no staging folders left behind
