"""The operations dashboard and the person's preference page in a real browser: charts
drawn with data; withdraw and opt back in change the status the API reports; the page
works on a phone-sized screen without JavaScript; no serious accessibility violation;
the link's token never reaches the server's log."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver

from tests.browser.test_console_browser import ALICE, record_alice, sign_in
from tests.support.browser import LiveServer, axe_violations, screenshot, wait_for


def status_once(live: LiveServer, purpose: str, expected: str) -> dict[str, Any]:
    """The subject's status once the read model shows ``expected`` for ``purpose`` (the
    page's event is committed when the page answers; the read model follows it)."""
    deadline = time.monotonic() + 15
    while True:
        purposes: dict[str, Any] = live.get(f"/v1/subjects/whatsapp/{ALICE}").json()["purposes"]
        if purposes.get(purpose, {}).get("status") == expected or time.monotonic() > deadline:
            return purposes
        time.sleep(0.1)


def test_the_dashboard_draws_the_days_opt_ins_and_outs(
    live: LiveServer, browser: WebDriver
) -> None:
    record_alice(live)
    sign_in(browser, live, role="admin")
    browser.get(f"{live.url}/console/operations")
    wait_for(browser, "h1", "Operations")

    bars = browser.find_elements(By.CSS_SELECTOR, "#daily-chart rect.bar")
    titles = {bar.find_element(By.TAG_NAME, "title").get_attribute("textContent") for bar in bars}
    assert any("1 opt-ins by web_form" in t for t in titles), titles
    assert any("1 opt-outs by keyword" in t for t in titles), titles
    assert all(float(bar.get_attribute("height") or 0) > 0 for bar in bars)
    keywords = browser.find_element(By.ID, "keyword-chart").text
    assert "STOP PROMOTIONS (opt-out)" in keywords
    assert browser.find_element(By.ID, "lag").text == "0"
    assert browser.find_element(By.ID, "publisher").text == "embedded"
    assert browser.find_element(By.ID, "checkpoint-age").text.endswith(" s")
    assert axe_violations(browser) == []
    screenshot(browser, "operations")


def test_the_person_withdraws_and_opts_back_in_on_a_phone(
    live: LiveServer, browser: WebDriver, tmp_path: Path
) -> None:
    record_alice(live)
    minted = live.post(
        "/v1/preference-links",
        {"channel": "whatsapp", "address": ALICE, "reopt_in": ["marketing"]},
        role="admin",
    )
    assert minted.status_code == 201, minted.text
    path = minted.json()["path"]
    browser.set_window_size(390, 844)  # a phone
    browser.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": True})

    browser.get(f"{live.url}{path}")
    wait_for(browser, "h1", "Your messages from Acme")
    assert "Acme may message you on WhatsApp" in browser.find_element(By.ID, "purposes").text
    browser.find_element(By.ID, "withdraw-utility").click()
    wait_for(browser, "#done", "no longer get these messages")
    status = status_once(live, "utility", "opted_out")
    assert status["utility"]["status"] == "opted_out"
    assert status["utility"]["method"] == "preference_page"

    browser.find_element(By.ID, "opt-in-marketing").click()
    wait_for(browser, "#done", "opted back in")  # not the previous page's #done
    status = status_once(live, "marketing", "opted_in")
    assert status["marketing"]["status"] == "opted_in"
    assert status["marketing"]["method"] == "preference_page"
    browser.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": False})
    assert axe_violations(browser) == []
    screenshot(browser, "preference-page-phone")

    token = path.removeprefix("/p/")
    assert token not in (tmp_path / "serve.log").read_text()
