"""The members' page in Debian's Chromium (Selenium with Debian's chromedriver), against a
real `ledger serve` on the loopback: a member enrols this browser's key, votes and changes
the vote, sees the result; the records are signed by the browser's key and verify passes;
a page shown one thing while asked to sign another refuses to sign; the secretariat runs a
meeting from the page; axe-core finds no violation at 390 and 1280 px."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from cli.main import cli
from ledger import Ledger
from tests.serving import Process, http, ledger_cli, serve_ledger
from tests.test_site_browser import AXE, _at_width, chromium, make_driver  # noqa: F401  (the fixture)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("app") / "demo"
    assert CliRunner().invoke(cli, ["demo", "--dir", str(directory)], catch_exceptions=False).exit_code == 0
    return directory


@pytest.fixture
def served(demo_dir: Path, tmp_path: Path) -> Iterator[tuple[Process, Path]]:
    keeper = tmp_path / "keeper"
    shutil.copytree(demo_dir, keeper)
    server = serve_ledger("ledger.db", keeper, keeper / "keys" / "log.key", "--write-rate", "0")
    yield server, keeper
    server.stop()


@pytest.fixture
def browser(chromium: str, tmp_path: Path) -> Iterator[Any]:  # noqa: F811
    driver = make_driver(chromium, tmp_path / "profile", loopback=True)
    yield driver
    driver.quit()


def wait_for(driver: Any, script: str, timeout: float = 30) -> Any:
    """Poll a JavaScript expression until it is truthy; return its value."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = driver.execute_script(f"return ({script});")
        if value:
            return value
        time.sleep(0.1)
    status = driver.execute_script("return document.getElementById('status').textContent")
    raise AssertionError(f"timed out waiting for {script}; status: {status}")


def status(driver: Any) -> str:
    return str(driver.execute_script("return document.getElementById('status').textContent"))


def enrol(driver: Any, url: str, keeper: Path, person: str, role: str, enrolled_by: str) -> str:
    """Create the browser's key on the page, enrol it with the person's own CLI key; the key id."""
    driver.get(url + "/app/")
    wait_for(driver, "document.getElementById('create-key')")
    driver.find_element("id", "create-key").click()
    key_id = wait_for(driver, "document.getElementById('key-id') && document.getElementById('key-id').textContent")
    pem = driver.execute_script("return document.getElementById('public-key').textContent")
    (keeper / "browser.pub").write_text(pem)
    done = ledger_cli("--server", url, "keys", "register", "browser.pub", "--person", person, "--role", role,
                      "--key", enrolled_by, cwd=keeper)
    assert done.returncode == 0, done.stderr
    driver.refresh()
    wait_for(driver, "document.getElementById('whoami')")
    assert wait_for(driver, "document.getElementById('status').textContent.startsWith('Signed in as')")
    return str(key_id)


def click_and_sign(driver: Any, css: str) -> str:
    """Click an act's button, check the approval shows, sign; the approval's text."""
    driver.execute_script("document.getElementById('status').textContent = ''")
    driver.find_element("css selector", css).click()
    wait_for(driver, "!document.getElementById('confirm').hidden")
    shown = driver.find_element("id", "confirm-list").text
    driver.find_element("id", "confirm-sign").click()
    wait_for(driver, "/^(Done|Error)/.test(document.getElementById('status').textContent)")
    return str(shown)


def open_motion(url: str, keeper: Path) -> None:
    for step in (["meeting", "attend", "MT-4", "--member", "Amara Okafor", "--member", "Mei Lin", "--member",
                  "Sam Whitfield", "--key", "keys/secretariat.key"],
                 ["motion", "propose", "--meeting", "MT-4", "--item", "1", "--text", "Enforce bus lanes.", "--key",
                  "keys/cso-air.key"],
                 ["motion", "second", "M-7", "--key", "keys/cso-cycle.key"],
                 ["motion", "open", "M-7", "--key", "keys/secretariat.key"]):
        done = ledger_cli("--server", url, *step, cwd=keeper)
        assert done.returncode == 0, (step, done.stderr)


def test_a_member_enrols_this_browser_and_votes_from_it(served: tuple[Process, Path], browser: Any) -> None:
    server, keeper = served
    open_motion(server.url, keeper)
    key_id = enrol(browser, server.url, keeper, "Amara Okafor", "member", "keys/cso-air.key")
    wait_for(browser, "document.querySelector('[data-vote=\"M-7:yes\"]')")
    shown = click_and_sign(browser, '[data-vote="M-7:yes"]')
    assert shown == "Vote YES on M-7, your own vote"
    assert status(browser).startswith("Done: voted yes on M-7"), status(browser)
    wait_for(browser, "document.querySelector('[data-vote=\"M-7:no\"]')")
    assert click_and_sign(browser, '[data-vote="M-7:no"]') == "Vote NO on M-7, your own vote"
    closed = ledger_cli("--server", server.url, "motion", "close", "M-7", "--key", "keys/secretariat.key", cwd=keeper)
    assert closed.returncode == 0, closed.stderr
    browser.refresh()
    result = wait_for(browser, "document.getElementById('result-M-7') && "
                               "document.getElementById('result-M-7').textContent")
    assert result == "Result: fail (0 yes, 1 no, 0 abstain)."
    # The votes are Amara's, signed by this browser's key; verify attributes them to her.
    ledger = Ledger(str(keeper / "ledger.db"))
    votes = [r for _p, r in ledger.read(0, 1000) if r.type == "motion.vote_cast" and r.actor == key_id]
    person = ledger.registry().keys[key_id].person
    amara = ledger.registry().resolve_person("Amara Okafor")
    ledger.close()
    assert [v.data["choice"] for v in votes] == ["yes", "no"]
    assert person == amara and all(v.data["member"] == amara for v in votes)
    verified = ledger_cli("--db", "ledger.db", "verify", cwd=keeper)
    assert verified.returncode == 0 and verified.stdout.rstrip().endswith(": OK"), verified.stdout


def test_a_page_shown_one_thing_and_asked_to_sign_another_signs_nothing(served: tuple[Process, Path],
                                                                          browser: Any) -> None:
    server, keeper = served
    open_motion(server.url, keeper)
    enrol(browser, server.url, keeper, "Amara Okafor", "member", "keys/cso-air.key")
    wait_for(browser, "document.querySelector('[data-vote=\"M-7:no\"]')")
    before = http("GET", server.url + "/checkpoint")[2]
    # Something between the page and the server (or the server itself) rewrites what the page is
    # shown: the record says "yes" while the bytes to sign say "no".
    browser.execute_script("""
        const real = window.fetch;
        window.fetch = async (url, options) => {
          const answer = await real(url, options);
          if (!String(url).endsWith('/v1/prepare')) return answer;
          const value = await answer.json();
          for (const item of [...value.records, ...value.sign]) item.record.data.choice = 'yes';
          return new Response(JSON.stringify(value), {status: answer.status, headers: answer.headers});
        };""")
    shown = click_and_sign(browser, '[data-vote="M-7:no"]')
    assert shown == "Vote YES on M-7, your own vote"  # what the tampered answer shows...
    assert status(browser) == "Error: the bytes to sign are not the record shown; nothing was signed"
    assert http("GET", server.url + "/checkpoint")[2] == before  # ...is not what gets signed: nothing was


def test_the_secretariat_runs_a_meeting_from_the_page(served: tuple[Process, Path], browser: Any) -> None:
    server, keeper = served
    enrol(browser, server.url, keeper, "Dana Reyes", "secretariat", "keys/secretariat.key")
    assert axe_violations(browser) == []  # the secretariat's forms too
    import time

    # An urgent meeting starting in 20 seconds: its agenda goes out first, then it is held.
    at = browser.find_element("id", "at-K-1")
    starts = time.time() + 20
    browser.execute_script("arguments[0].value = new Date(arguments[1] * 1000).toISOString().slice(0, 19)", at,
                           starts)
    browser.find_element("id", "urgent-K-1").click()
    assert click_and_sign(browser, "#at-K-1 ~ * button, form:has(#at-K-1) button").startswith(
        "Note the meeting in committee K-1")
    assert status(browser).startswith("Done: scheduled MT-6"), status(browser)
    wait_for(browser, "document.getElementById('agenda-MT-6')")
    browser.find_element("id", "agenda-MT-6").send_keys("Bus lane enforcement")
    assert click_and_sign(browser, "form:has(#agenda-MT-6) button") == (
        "Publish the agenda of MT-6: Bus lane enforcement")
    time.sleep(max(0.0, starts - time.time() + 1))  # acts of a meeting are recorded from its start
    wait_for(browser, "document.querySelector('form:has([id^=\"att-MT-6\"])')")
    for box in browser.find_elements("css selector", "[id^='att-MT-6']"):
        box.click()
    click_and_sign(browser, "form:has([id^='att-MT-6']) button")
    assert status(browser).startswith("Done: recorded"), status(browser)
    proposed = ledger_cli("--server", server.url, "motion", "propose", "--meeting", "MT-6", "--item", "1", "--text",
                          "Enforce bus lanes from 7.", "--key", "keys/cso-air.key", cwd=keeper)
    assert proposed.returncode == 0, proposed.stderr
    seconded = ledger_cli("--server", server.url, "motion", "second", "M-7", "--key", "keys/cso-cycle.key",
                          cwd=keeper)
    assert seconded.returncode == 0, seconded.stderr
    browser.refresh()
    wait_for(browser, "[...document.querySelectorAll('button')].some(b => b.textContent === 'Open the vote on M-7')")
    browser.execute_script("[...document.querySelectorAll('button')].find(b => b.textContent === "
                           "'Open the vote on M-7').id = 'open-m7'")
    assert click_and_sign(browser, "#open-m7") == "Open the vote on M-7"
    for member, choice in (("Amara Okafor (Clean Air Now)", "yes"), ("Mei Lin (Cycle Forward)", "yes"),
                           ("Sam Whitfield (Civic Renewal Party)", "no")):
        wait_for(browser, "document.getElementById('roll-M-7')")
        browser.execute_script("arguments[0].value = arguments[1]", browser.find_element("id", "roll-M-7"), member)
        browser.execute_script("arguments[0].value = arguments[1]", browser.find_element("id", "rollc-M-7"), choice)
        assert click_and_sign(browser, "form:has(#roll-M-7) button") == (
            f"Vote {choice.upper()} on M-7 for {member} (roll call)")
    browser.execute_script("[...document.querySelectorAll('button')].find(b => b.textContent === "
                           "'Close the vote on M-7').id = 'close-m7'")
    assert click_and_sign(browser, "#close-m7").startswith("Close the vote on M-7: pass")
    browser.execute_script("[...document.querySelectorAll('button')].find(b => b.textContent === "
                           "'Close MT-6').id = 'close-mt6'")
    assert click_and_sign(browser, "#close-mt6") == "Close meeting MT-6"
    verified = ledger_cli("--db", "ledger.db", "verify", cwd=keeper)
    assert verified.returncode == 0 and verified.stdout.rstrip().endswith(": OK"), verified.stdout


@pytest.mark.parametrize("width", (1280, 390))
def test_the_page_is_accessible_and_fits_a_phone(served: tuple[Process, Path], browser: Any, width: int) -> None:
    server, keeper = served
    open_motion(server.url, keeper)
    _at_width(browser, width)
    enrol(browser, server.url, keeper, "Amara Okafor", "member", "keys/cso-air.key")
    wait_for(browser, "document.querySelector('[data-vote=\"M-7:yes\"]')")
    assert browser.execute_script("return document.documentElement.scrollWidth - window.innerWidth") <= 0
    found = axe_violations(browser)
    assert found == [], json.dumps(found, indent=1)
    # Without a mouse: the vote buttons are reached with the keyboard.
    from selenium.webdriver.common.keys import Keys

    body = browser.find_element("tag name", "body")
    for _ in range(60):
        body.send_keys(Keys.TAB)
        if browser.execute_script("return document.activeElement.dataset.vote === 'M-7:yes'"):
            break
    assert browser.execute_script("return document.activeElement.dataset.vote") == "M-7:yes"


def axe_violations(browser: Any) -> list[Any]:
    browser.execute_script(AXE.read_text(encoding="utf-8"))
    return list(browser.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {resultTypes: ['violations']})"
        ".then(r => done(r.violations.map(v => [v.id, v.impact, v.nodes.length, v.nodes[0].target])))"
        ".catch(e => done([['axe-error', String(e), 0, []]]));"))


def test_the_page_is_served_with_a_strict_content_security_policy(served: tuple[Process, Path]) -> None:
    server, _keeper = served
    status_code, headers, body = http("GET", server.url + "/app/")
    assert status_code == 200 and b"app.js" in body
    policy = headers["content-security-policy"]
    assert "script-src 'self'" in policy and "default-src 'none'" in policy and "connect-src 'self'" in policy
    assert b"http" not in body.replace(b"http-equiv", b"")  # no third-party resources


def test_a_member_seals_a_confidential_submission_in_the_browser(served: tuple[Process, Path], browser: Any) -> None:
    server, keeper = served
    key_id = enrol(browser, server.url, keeper, "Amara Okafor", "member", "keys/cso-air.key")
    secret = "The new bus lane blocks the ramp to our block."
    wait_for(browser, "document.getElementById('fb-community-voices')")
    browser.find_element("id", "fb-community-voices").send_keys(secret)
    shown = click_and_sign(browser, "form:has(#fb-community-voices) button")
    assert shown == ("Send to the confidential channel community-voices: sealed on this device to 1 recipient key; "
                     "the text is not in the record")
    assert status(browser).startswith("Done: recorded FB-"), status(browser)
    receipt = browser.find_element("id", "receipt").text
    code = receipt.split("Your receipt code: ", 1)[1].split(".", 1)[0]
    ledger = Ledger(str(keeper / "ledger.db"))
    record = ledger.record_at(ledger.size() - 1)
    ledger.close()
    assert record.type == "feedback.submitted" and record.actor == key_id
    assert secret.encode() not in record.raw and b"bus lane" not in (keeper / "ledger.db").read_bytes()
    ref = record.data["ref"]
    # The ombudsperson opens it with the standard age identity; the code finds it (scrypt and
    # bech32 in the browser agree with the ledger's own derivation).
    opened = ledger_cli("--db", "ledger.db", "feedback", "read", ref, "--identity", "keys/ombudsperson.age",
                        cwd=keeper)
    assert opened.returncode == 0 and secret in opened.stdout, opened.stdout + opened.stderr
    found = ledger_cli("--db", "ledger.db", "feedback", "status", "--receipt", code, "--channel", "community-voices",
                       "--json", cwd=keeper)
    assert found.returncode == 0, found.stderr
    assert ref in found.stdout


def test_a_member_seconds_declares_gives_a_proxy_and_comments_from_the_page(served: tuple[Process, Path],
                                                                            browser: Any) -> None:
    server, keeper = served
    for step in (["meeting", "attend", "MT-4", "--member", "Amara Okafor", "--member", "Mei Lin", "--member",
                  "Sam Whitfield", "--key", "keys/secretariat.key"],
                 ["motion", "propose", "--meeting", "MT-4", "--item", "1", "--text", "Enforce bus lanes.", "--key",
                  "keys/cso-cycle.key"],
                 ["consultation", "open", "--committee", "K-1", "--title", "Bus lane hours", "--section",
                  "1=Bus lanes are enforced from 7 to 10.", "--opens-at", "2026-11-01", "--closes-at", "2035-12-01",
                  "--key", "keys/secretariat.key"]):
        done = ledger_cli("--server", server.url, *step, cwd=keeper)
        assert done.returncode == 0, (step, done.stderr)
    enrol(browser, server.url, keeper, "Amara Okafor", "member", "keys/cso-air.key")
    wait_for(browser, "[...document.querySelectorAll('button')].some(b => b.textContent === 'Second M-7')")
    browser.execute_script("[...document.querySelectorAll('button')].find(b => b.textContent === "
                           "'Second M-7').id = 'second-m7'")
    assert click_and_sign(browser, "#second-m7") == "Second M-7"
    wait_for(browser, "document.getElementById('reason-MT-4')")
    browser.execute_script("document.getElementById('citem-MT-4').value = '2'")
    browser.find_element("id", "reason-MT-4").send_keys("I chair the bus users' forum")
    assert click_and_sign(browser, "form:has(#reason-MT-4) button") == (
        "Declare a conflict on item(s) 2 at MT-4: \"I chair the bus users' forum\"")
    wait_for(browser, "document.getElementById('proxy-MT-4')")
    browser.execute_script("arguments[0].value = 'Mei Lin (Cycle Forward)'", browser.find_element("id", "proxy-MT-4"))
    assert click_and_sign(browser, "form:has(#proxy-MT-4) button") == (
        "Give your vote at MT-4 to Mei Lin (Cycle Forward)")
    wait_for(browser, "document.getElementById('cx-CX-2')")
    browser.find_element("id", "cx-CX-2").send_keys("Start at 6, when the early shifts go in.")
    assert click_and_sign(browser, "form:has(#cx-CX-2) button") == (
        "Comment on section 1 of CX-2: \"Start at 6, when the early shifts go in.\"")
    assert status(browser).startswith("Done: comment 1 on CX-2 recorded"), status(browser)
    verified = ledger_cli("--db", "ledger.db", "verify", cwd=keeper)
    assert verified.returncode == 0 and verified.stdout.rstrip().endswith(": OK"), verified.stdout
