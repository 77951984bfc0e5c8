"""The site in a real headless Chromium (Debian's package; .ci/run installs it).

Starting from the home page, every internal link is followed in the browser.
Each page must load with no console output and no request beyond file: URLs
(Chromium's NetLog records every request; the browser's own background calls
to its vendor's services are ignored), and key figures must be in the DOM.
Skipped on a machine without Chromium; required under CI.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urljoin, urlparse

import pytest
from click.testing import CliRunner

from cli.main import cli

BROWSER_OWN_HOSTS = ("google.com", "googleapis.com", "gstatic.com", "~notfound")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--host-resolver-rules=MAP * ~NOTFOUND", "--enable-logging=stderr", "--v=0"]


@pytest.fixture(scope="module")
def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        if os.environ.get("CI"):
            pytest.fail("Chromium is required in CI (.ci/run installs Debian's chromium package)")
        pytest.skip("no Chromium on this machine (apt-get install chromium)")
    return found


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("browser")
    assert CliRunner().invoke(cli, ["demo", "--dir", str(base / "demo")], catch_exceptions=False).exit_code == 0
    result = CliRunner().invoke(cli, ["--db", str(base / "demo" / "ledger.db"), "publish", str(base / "site")],
                                catch_exceptions=False)
    assert result.exit_code == 0
    return base / "site"


def load(chromium: str, url: str, scratch: Path) -> tuple[str, str, list[str]]:
    """(DOM, console lines, external URLs requested) for one page."""
    netlog = scratch / "netlog.json"
    netlog.unlink(missing_ok=True)
    result = subprocess.run([chromium, *FLAGS, f"--user-data-dir={scratch / 'profile'}", f"--log-net-log={netlog}",
                             "--dump-dom", url], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    console = [line for line in result.stderr.splitlines() if ":CONSOLE" in line]
    urls = set(re.findall(r'"((?:https?|wss?|ftp)://[^"\s\\]+)', netlog.read_text()))
    external = [u for u in urls if not any(urlparse(u).hostname and urlparse(u).hostname.endswith(h)
                                           for h in BROWSER_OWN_HOSTS) and "~notfound" not in u]
    return result.stdout, console, sorted(external)


def test_every_page_loads_cleanly_in_chromium(chromium: str, site: Path, tmp_path: Path) -> None:
    start = (site / "index.html").as_uri()
    todo, seen, doms = [start], set(), {}
    while todo:
        url = todo.pop()
        if url in seen:
            continue
        seen.add(url)
        dom, console, external = load(chromium, url, tmp_path)
        assert console == [], f"{url}: console output {console}"
        assert external == [], f"{url}: requested {external}"
        doms[url] = dom
        for href in re.findall(r'<a [^>]*href="([^"#]+)', dom):
            target = urljoin(url, href)
            if target.startswith("file:") and target.endswith(".html"):
                assert Path(urlparse(target).path).exists(), f"{url}: broken link {href}"
                todo.append(target)
    assert len(seen) >= 14  # every page of the demo site was reached by following links
    money = doms[(site / "money.html").as_uri()]
    assert re.search(r'id="balance-F-1">15000\.00 EUR<', money)
    assert "<svg" in money and "<title>" in money


def test_the_browser_check_catches_an_external_request(chromium: str, tmp_path: Path) -> None:
    page = tmp_path / "bad.html"
    page.write_text('<!doctype html><html lang="en"><head><title>x</title></head><body>'
                    '<img src="https://example.org/tracker.png" alt="">'
                    '<script>console.log("hi")</script></body></html>')
    _, console, external = load(chromium, page.as_uri(), tmp_path)
    assert any("tracker.png" in u for u in external)
    assert any('"hi"' in line for line in console)
    assert json.dumps(external)
