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
from typing import Any
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


AXE = Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js"
WIDTHS = (1280, 390)  # a laptop, and a phone held upright


def make_driver(chromium: str, profile: Path, loopback: bool = False) -> Any:
    """Debian's Chromium driven by Debian's chromedriver (no driver or browser download).
    Nothing resolves but, with ``loopback``, 127.0.0.1 (a ledger server under test)."""
    driver_path = shutil.which("chromedriver")
    if not driver_path:
        if os.environ.get("CI"):
            pytest.fail("chromedriver is required in CI (.ci/run installs Debian's chromium-driver package)")
        pytest.skip("no chromedriver on this machine (apt-get install chromium-driver)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in FLAGS:
        if loopback and flag.startswith("--host-resolver-rules"):
            flag += ", EXCLUDE 127.0.0.1"
        if not flag.startswith(("--enable-logging", "--v=")):
            options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    browser = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    browser.set_script_timeout(120)
    return browser


@pytest.fixture(scope="module")
def driver(chromium: str, tmp_path_factory: pytest.TempPathFactory) -> Any:
    browser = make_driver(chromium, tmp_path_factory.mktemp("selenium-profile"))
    yield browser
    browser.quit()


def _pages(site: Path) -> list[Path]:
    return sorted(site.rglob("*.html"))


def _at_width(driver: Any, width: int) -> None:
    # The window's outer size includes no toolbar in headless mode; check the
    # viewport and correct for any difference.
    driver.set_window_size(width, 900)
    inner = driver.execute_script("return window.innerWidth")
    if inner != width:
        driver.set_window_size(2 * width - inner, 900)


@pytest.mark.parametrize("width", WIDTHS)
def test_no_page_scrolls_sideways(driver: Any, site: Path, width: int) -> None:
    _at_width(driver, width)
    wide = {}
    for path in _pages(site):
        driver.get(path.as_uri())
        assert driver.execute_script("return window.innerWidth") == width
        overflow = driver.execute_script("return document.documentElement.scrollWidth - window.innerWidth")
        if overflow > 0:
            wide[str(path.relative_to(site))] = overflow
    assert wide == {}, f"pages wider than {width} px (extra px): {wide}"


@pytest.mark.parametrize("width", WIDTHS)
def test_axe_finds_no_accessibility_violation(driver: Any, site: Path, width: int) -> None:
    _at_width(driver, width)
    axe = AXE.read_text(encoding="utf-8")
    found = {}
    for path in _pages(site):
        driver.get(path.as_uri())
        driver.execute_script(axe)
        result = driver.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "axe.run(document, {resultTypes: ['violations']})"
            ".then(r => done(r.violations.map(v => [v.id, v.impact, v.nodes.length, v.nodes[0].target])))"
            ".catch(e => done([['axe-error', String(e), 0, []]]));")
        if result:
            found[str(path.relative_to(site))] = result
    assert found == {}, json.dumps(found, indent=1)


def test_axe_catches_a_broken_page(driver: Any, tmp_path: Path) -> None:
    # The check itself works: a dangling aria-labelledby and an image with no text are violations.
    page = tmp_path / "bad.html"
    page.write_text('<!doctype html><html lang="en"><head><title>x</title></head><body><main>'
                    '<svg role="img" aria-labelledby="t"><rect width="5" height="5"/></svg>'
                    '<img src="x.png"></main></body></html>')
    driver.get(page.as_uri())
    driver.execute_script(AXE.read_text(encoding="utf-8"))
    ids = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run().then(r => done(r.violations.map(v => v.id)));")
    assert "image-alt" in ids
    assert "aria-valid-attr-value" in ids or "svg-img-alt" in ids


def test_the_scroll_check_catches_a_wide_page(driver: Any, tmp_path: Path) -> None:
    page = tmp_path / "wide.html"
    page.write_text('<!doctype html><html lang="en"><head><meta name="viewport" content="width=device-width">'
                    '<title>x</title></head><body><pre>' + "x" * 400 + "</pre></body></html>")
    _at_width(driver, 390)
    driver.get(page.as_uri())
    assert driver.execute_script("return document.documentElement.scrollWidth - window.innerWidth") > 0
