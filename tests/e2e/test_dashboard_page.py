"""The dashboard page in a real headless browser (Debian's chromium through chromedriver)."""

from __future__ import annotations

import os
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait

from tests.e2e.conftest import Target

# Debian's packages by default; E2E_CHROME / E2E_CHROMEDRIVER name another Chrome (CI runners).
CHROMIUM = Path(os.environ.get("E2E_CHROME") or "/usr/bin/chromium")
CHROMEDRIVER = Path(os.environ.get("E2E_CHROMEDRIVER") or "/usr/bin/chromedriver")
CHROMIUM_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1280,900",
)
WAIT_S = 30.0
INTRADAY_TICKER = "AAPL"  # the page's default ticker; the target must have its hourly candles
API_KEY_STORAGE = "dashboard-api-key"  # the sessionStorage entry app.js reads at start
API_KEY_FRAGMENT = "api-key"  # `<base_url>/#api-key=<key>`: the URL the local deploy prints
KEY_PLACEHOLDERS = {"local": "API key (printed by the local deploy)"}
KEY_PLACEHOLDER = "API key (required)"
ENTER_KEY = "enter your api key"


@pytest.fixture(scope="module")
def driver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[webdriver.Chrome]:
    for binary, package in ((CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")):
        assert binary.is_file(), f"{binary} is missing: install the Debian package {package}"
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    browser = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
    try:
        yield browser
    finally:
        browser.quit()


def severe_console_entries(browser: webdriver.Chrome) -> list[dict]:
    return [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]


def chart_status(browser: webdriver.Chrome) -> WebElement:
    return browser.find_element(By.ID, "chart-status")


def wait_for_chart(browser: webdriver.Chrome) -> WebElement:
    """Wait until the chart's latest load has finished; fail if it ended in an error."""
    status = chart_status(browser)
    WebDriverWait(browser, WAIT_S).until(
        lambda _: status.get_attribute("data-state") in ("ready", "error")
    )
    assert status.get_attribute("data-state") == "ready", status.text
    return status


def reload_chart_by(browser: webdriver.Chrome, action) -> WebElement:
    """Run `action` (which starts a chart load) and wait for that load, not an earlier one."""
    browser.execute_script("arguments[0].dataset.state = 'stale'", chart_status(browser))
    action()
    return wait_for_chart(browser)


def click_resolution(browser: webdriver.Chrome, resolution: str) -> WebElement:
    button = browser.find_element(
        By.CSS_SELECTOR, f"#resolution button[data-resolution='{resolution}']"
    )
    return reload_chart_by(browser, button.click)


def set_ticker(browser: webdriver.Chrome, ticker: str) -> WebElement:
    field = browser.find_element(By.ID, "ticker")
    return reload_chart_by(
        browser,
        lambda: browser.execute_script(
            "arguments[0].value = arguments[1];"
            "arguments[0].dispatchEvent(new Event('change', {bubbles: true}))",
            field,
            ticker,
        ),
    )


def canvas_image(browser: webdriver.Chrome) -> str:
    return browser.execute_script("return document.getElementById('chart').toDataURL()")


def fresh_tab(browser: webdriver.Chrome, target: Target) -> None:
    """No key kept from an earlier test, and an empty console log."""
    browser.get(f"{target.base_url}/health")
    browser.execute_script("sessionStorage.clear()")
    severe_console_entries(browser)


def key_url(target: Target, key: str) -> str:
    """The URL a local deploy printed, when the run was given it; else the same, built."""
    if target.dashboard_url and key == target.api_key:
        return target.dashboard_url
    return f"{target.base_url}/#{API_KEY_FRAGMENT}={urllib.parse.quote(key, safe='')}"


def wait_for_sentiment(browser: webdriver.Chrome) -> None:
    """Wait until the sentiment panel shows counts or an error."""
    WebDriverWait(browser, WAIT_S).until(
        lambda _: browser.find_elements(By.CSS_SELECTOR, "#counts .count")
        or browser.find_element(By.ID, "sentiment-error").is_displayed()
    )


def canvas_has_ink(browser: webdriver.Chrome) -> bool:
    return browser.execute_script(
        "const c = document.getElementById('chart');"
        "const pixels = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;"
        "for (let i = 3; i < pixels.length; i += 4) if (pixels[i] > 0) return true;"
        "return false;"
    )


@pytest.fixture
def page(driver: webdriver.Chrome, target: Target) -> webdriver.Chrome:
    """The dashboard, freshly loaded with the API key in place before its first request."""
    driver.get(f"{target.base_url}/health")
    driver.execute_script(
        "sessionStorage.setItem(arguments[0], arguments[1])",
        API_KEY_STORAGE,
        target.require_api_key(),
    )
    severe_console_entries(driver)  # drains the log, so each test sees only its own page
    driver.get(f"{target.base_url}/")
    wait_for_chart(driver)
    return driver


def test_page_loads_healthy_with_a_drawn_chart(page: webdriver.Chrome, target: Target) -> None:
    badge = page.find_element(By.ID, "health")
    WebDriverWait(page, WAIT_S).until(lambda _: badge.text != "checking…")

    assert page.title == "Sentiment dashboard"
    assert badge.text.startswith("healthy"), badge.text
    if target.expected_environment is not None:
        assert badge.text == f"healthy · {target.expected_environment}"
    status = chart_status(page)
    assert status.get_attribute("data-resolution") == "D"
    assert int(status.get_attribute("data-count")) > 0
    assert page.find_element(By.ID, "counts").find_elements(By.CSS_SELECTOR, ".count")
    assert not page.find_element(By.ID, "sentiment-error").is_displayed()
    assert severe_console_entries(page) == []


def test_switching_to_hourly_redraws_the_chart(page: webdriver.Chrome) -> None:
    daily = canvas_image(page)

    status = click_resolution(page, "60")

    assert status.get_attribute("data-resolution") == "60", status.text
    assert int(status.get_attribute("data-count")) > 0
    assert status.text.startswith(f"{INTRADAY_TICKER}:")
    assert not page.find_element(By.ID, "fallback").is_displayed()
    assert canvas_image(page) != daily
    assert severe_console_entries(page) == []


def test_a_resolution_without_intraday_data_shows_the_fallback(
    page: webdriver.Chrome, target: Target
) -> None:
    set_ticker(page, target.fallback_ticker)

    status = click_resolution(page, "5")

    notice = page.find_element(By.ID, "fallback")
    assert status.get_attribute("data-resolution") == "D", status.text
    assert int(status.get_attribute("data-count")) > 0
    assert notice.is_displayed(), notice.text
    assert notice.text
    assert target.fallback_ticker.upper() in notice.text
    assert (
        page.find_element(By.CSS_SELECTOR, "#resolution button.active").get_attribute(
            "data-resolution"
        )
        == "5"
    )
    assert severe_console_entries(page) == []


def test_the_printed_url_with_the_key_shows_numbers_and_a_chart_and_drops_the_key(
    driver: webdriver.Chrome, target: Target
) -> None:
    key = target.require_api_key()
    fresh_tab(driver, target)

    driver.get(key_url(target, key))
    status = wait_for_chart(driver)
    wait_for_sentiment(driver)

    counts = driver.find_elements(By.CSS_SELECTOR, "#counts .count b")
    assert counts, driver.find_element(By.ID, "sentiment-error").text
    assert counts[0].text.isdigit(), counts[0].text
    assert int(status.get_attribute("data-count")) > 0
    assert canvas_has_ink(driver)
    assert driver.current_url == f"{target.base_url}/"
    assert key not in driver.current_url
    assert driver.find_element(By.ID, "api-key").get_attribute("value") == key
    assert driver.execute_script(
        "return sessionStorage.getItem(arguments[0])", API_KEY_STORAGE
    ) == (key)
    assert severe_console_entries(driver) == []


def test_without_a_key_the_page_asks_for_it_with_a_placeholder_true_to_the_environment(
    driver: webdriver.Chrome, target: Target, anonymous: httpx.Client
) -> None:
    environment = anonymous.get("/health").json().get("environment")
    fresh_tab(driver, target)

    driver.get(f"{target.base_url}/")
    status = chart_status(driver)
    WebDriverWait(driver, WAIT_S).until(lambda _: status.get_attribute("data-state") == "error")
    wait_for_sentiment(driver)

    badge = driver.find_element(By.ID, "health")
    WebDriverWait(driver, WAIT_S).until(lambda _: badge.text != "checking…")
    key_box = driver.find_element(By.ID, "api-key")
    assert key_box.get_attribute("placeholder") == KEY_PLACEHOLDERS.get(
        environment, KEY_PLACEHOLDER
    )
    assert ENTER_KEY in driver.find_element(By.ID, "sentiment-error").text.lower()
    assert ENTER_KEY in status.text.lower()
    assert not driver.find_elements(By.CSS_SELECTOR, "#counts .count")
    assert severe_console_entries(driver) == []


def test_a_refused_key_asks_for_the_api_key_not_the_header_message(
    driver: webdriver.Chrome, target: Target
) -> None:
    fresh_tab(driver, target)

    driver.get(key_url(target, f"not-{target.require_api_key()}"))
    status = chart_status(driver)
    WebDriverWait(driver, WAIT_S).until(lambda _: status.get_attribute("data-state") == "error")
    wait_for_sentiment(driver)

    shown = [driver.find_element(By.ID, "sentiment-error").text, status.text]
    for message in shown:
        assert ENTER_KEY in message.lower(), message
        assert "authorization" not in message.lower(), message
        assert "401" not in message, message


def test_the_url_pasted_into_a_tab_already_on_the_page_uses_the_key(
    driver: webdriver.Chrome, target: Target
) -> None:
    key = target.require_api_key()
    fresh_tab(driver, target)
    driver.get(f"{target.base_url}/")
    status = chart_status(driver)
    WebDriverWait(driver, WAIT_S).until(lambda _: status.get_attribute("data-state") == "error")

    driver.get(key_url(target, key))  # only the fragment changes: no reload, a hashchange
    wait_for_chart(driver)

    assert driver.current_url == f"{target.base_url}/"
    assert driver.find_element(By.ID, "api-key").get_attribute("value") == key
    assert severe_console_entries(driver) == []
