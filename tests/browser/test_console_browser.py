"""The auditor console in a real browser: sign in, search, timeline, as-of, the badge the
browser computes (green, then red for a tampered bundle), downloads, tenant scope, and
no serious accessibility violation."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import Select

from tests.support.browser import LiveServer, axe_violations, screenshot, wait_for

ALICE = "+14155550100"


def record_alice(live: LiveServer) -> int:
    event = {
        "type": "opted_in",
        "channel": "whatsapp",
        "address": ALICE,
        "purposes": ["marketing", "utility"],
        "occurred_at": "2026-11-21T09:00:00Z",
        "source": {"kind": "web_form", "id": "form-991"},
        "evidence": {
            "method": "web_form",
            "text": "Yes, send me offers and order updates from Acme — ¡sí! 👍",
            "notice": {"id": "signup", "version": "3", "text": "Acme may message you on WhatsApp"},
            "business_name": "Acme",
        },
    }
    assert live.post("/v1/events", {"events": [event]}).is_success
    stop = {"channel": "whatsapp", "from": ALICE, "text": "stop promotions", "message_id": "w.77"}
    answer = live.post("/v1/messages/inbound", stop)
    assert answer.status_code == 200, answer.text
    position: int = answer.json()["position"]
    assert live.get(f"/v1/subjects/whatsapp/{ALICE}", after=position).is_success
    return position


def sign_in(driver: WebDriver, live: LiveServer, role: str = "auditor") -> None:
    driver.get(f"{live.url}/console")
    wait_for(driver, "h1", "Sign in")
    driver.find_element(By.ID, "api_key").send_keys(live.keys[role])
    driver.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    wait_for(driver, "h1", "Find a subject")


def search(driver: WebDriver, address: str, as_of: str = "") -> None:
    Select(driver.find_element(By.ID, "channel")).select_by_value("whatsapp")
    field = driver.find_element(By.ID, "address")
    field.clear()
    field.send_keys(address)
    if as_of:
        # A date input takes the date as typed in the browser's locale: set it directly.
        driver.execute_script("document.getElementById('as_of').value = arguments[0]", as_of)
    driver.find_element(By.CSS_SELECTOR, "form.search button").click()


def wait_for_file(folder: Path, suffix: str) -> Path:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        done = [p for p in folder.glob(f"*{suffix}") if p.stat().st_size > 0]
        if done:
            return done[0]
        time.sleep(0.1)
    raise TimeoutError(f"no {suffix} download in {folder}")


def test_an_auditor_finds_a_subject_and_the_browser_verifies_its_bundle(
    live: LiveServer, browser: WebDriver, tmp_path: Path
) -> None:
    record_alice(live)
    sign_in(browser, live)
    assert axe_violations(browser) == []
    search(browser, ALICE)

    timeline = wait_for(browser, "#timeline", "Opted out")
    assert "Yes, send me offers and order updates from Acme" in timeline  # what the person sent
    assert "Acme may message you on WhatsApp" in timeline  # the notice the person saw
    assert "stop promotions" in timeline
    assert "w.77" in timeline
    status = browser.find_element(By.ID, "status-now").text
    assert "marketing opted_out" in status
    assert "utility opted_in" in status
    badge = wait_for(browser, "#badge[data-result]")
    assert browser.find_element(By.ID, "badge").get_attribute("data-result") == "verified", badge
    assert "Verified in this browser: 2 events" in badge
    assert "Ed25519 signature checked" in badge
    assert axe_violations(browser) == []
    screenshot(browser, "console-subject")

    # A tampered copy of the bundle turns the badge red.
    bundle: dict[str, Any] = live.get(
        f"/v1/subjects/whatsapp/{ALICE}/attestation", role="auditor"
    ).json()
    bundle["events"][0]["purposes"] = ["utility"]
    tampered = tmp_path / "tampered.json"
    tampered.write_text(json.dumps(bundle))
    browser.find_element(By.CSS_SELECTOR, ".explain summary").click()
    browser.find_element(By.ID, "bundle-file").send_keys(str(tampered))
    badge = wait_for(browser, "#badge", "FAILED (tampered.json)")
    assert "event v1: its hash does not match its contents" in badge
    assert browser.find_element(By.ID, "badge").get_attribute("data-result") == "failed"
    screenshot(browser, "console-tampered")

    # Each other part the badge checks turns it red too.
    original: dict[str, Any] = live.get(
        f"/v1/subjects/whatsapp/{ALICE}/attestation", role="auditor"
    ).json()
    note = original["checkpoint"]["note"]
    lines = note.split("\n")
    lines[1] = str(int(lines[1]) + 1)  # the signed tree size
    cases = {
        "signature.json": ("checkpoint", {**original["checkpoint"], "note": "\n".join(lines)}),
        "disclosure.json": (
            "disclosures",
            [{**d, "value": "+14155550199"} for d in original["disclosures"]],
        ),
        "proof.json": (
            "events",
            [original["events"][0], {**original["events"][1], "inclusion_proof": ["00" * 32]}],
        ),
    }
    expected = {
        "signature.json": "checkpoint: the signature does not verify",
        "disclosure.json": "does not open its commitment",
        "proof.json": "event v2: its inclusion proof does not lead to the checkpoint's root",
    }
    for name, (key, value) in cases.items():
        altered = tmp_path / name
        altered.write_text(json.dumps({**original, key: value}))
        browser.find_element(By.ID, "bundle-file").send_keys(str(altered))
        assert expected[name] in wait_for(browser, "#badge", f"FAILED ({name})")

    # The newest event recorded after the checkpoint: amber, not green and not red.
    unsealed = {"leaf_index": None, "leaf_hash": None, "inclusion_proof": None}
    newest = tmp_path / "newest-unsealed.json"
    newest.write_text(
        json.dumps(
            {**original, "events": [original["events"][0], {**original["events"][1], **unsealed}]}
        )
    )
    browser.find_element(By.ID, "bundle-file").send_keys(str(newest))
    badge = wait_for(browser, "#badge", "Not sealed yet (newest-unsealed.json)")
    assert "v2-v2 were recorded after that checkpoint" in badge
    assert browser.find_element(By.ID, "badge").get_attribute("data-result") == "unsealed"
    # An unsealed event before a sealed one is not "newest": red.
    oldest = tmp_path / "oldest-unsealed.json"
    oldest.write_text(
        json.dumps(
            {**original, "events": [{**original["events"][0], **unsealed}, original["events"][1]]}
        )
    )
    browser.find_element(By.ID, "bundle-file").send_keys(str(oldest))
    assert "event v2: sealed after an event that is not" in wait_for(
        browser, "#badge", "FAILED (oldest-unsealed.json)"
    )


def test_downloads_and_status_as_of_a_date(
    live: LiveServer, browser: WebDriver, tmp_path: Path
) -> None:
    record_alice(live)
    sign_in(browser, live)
    search(browser, ALICE, as_of="2020-01-01")
    wait_for(browser, "h3", "Status as of")
    assert "No consent on record" in browser.find_element(By.ID, "status-as-of").text
    search(browser, ALICE, as_of="2100-12-31")
    as_of = wait_for(browser, "#status-as-of", "marketing")
    assert "marketing opted_out" in as_of

    browser.find_element(By.ID, "dl-json").click()
    downloaded = json.loads(wait_for_file(tmp_path / "downloads", ".json").read_text())
    assert downloaded["format"] == "consent-ledger-attestation/1"
    assert len(downloaded["events"]) == 2
    browser.find_element(By.ID, "dl-csv").click()
    csv_text = wait_for_file(tmp_path / "downloads", ".csv").read_text()
    assert "opted_out" in csv_text
    browser.find_element(By.ID, "dl-report").click()
    assert "Consent attestation" in wait_for(browser, "h1")
    assert "Timeline" in browser.page_source
    assert "@media print" in browser.page_source  # the printable report's stylesheet

    # Signing out ends the session: the console asks for a key again.
    browser.back()
    wait_for(browser, "h1", "Find a subject")
    browser.find_element(By.CSS_SELECTOR, ".bar form button").click()
    wait_for(browser, "h1", "Sign in")
    browser.get(f"{live.url}/console")
    assert "Sign in" in wait_for(browser, "h1")


def test_a_second_tenants_key_sees_nothing_of_the_first(
    live: LiveServer, browser: WebDriver
) -> None:
    record_alice(live)
    sign_in(browser, live, role="other_tenant")
    search(browser, ALICE)
    assert "holds no events" in wait_for(browser, "#not-found")
    assert "Acme" not in browser.page_source
    browser.get(f"{live.url}/console/subjects/whatsapp/{ALICE}/attestation")
    assert "subject_not_found" in browser.page_source


def test_the_console_works_from_the_keyboard(live: LiveServer, browser: WebDriver) -> None:
    record_alice(live)
    browser.get(f"{live.url}/console/signin")
    wait_for(browser, "h1", "Sign in")
    page = browser.find_element(By.TAG_NAME, "body")
    page.send_keys(Keys.TAB)  # the skip link comes first
    assert browser.switch_to.active_element.text == "Skip to content"
    browser.switch_to.active_element.send_keys(Keys.TAB)
    assert browser.switch_to.active_element.get_attribute("id") == "api_key"
    browser.switch_to.active_element.send_keys(live.keys["auditor"], Keys.ENTER)
    wait_for(browser, "h1", "Find a subject")

    browser.find_element(By.ID, "address").click()
    browser.switch_to.active_element.send_keys(ALICE, Keys.ENTER)
    assert "Opted out" in wait_for(browser, "#timeline", "Opted out")
