"""A real ``consent-ledger serve`` process and headless Debian chromium driven by Selenium.

Nothing downloads a browser: the tests use ``/usr/bin/chromium`` and its
``chromium-driver`` (``make test`` installs both Debian packages when missing). Screenshots
go to ``artefacts/browser/`` (gitignored). axe-core comes from ``vendor/axe-core/``."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from ledger.application.api_keys import AccessRegistry
from ledger.domain.roles import Role
from ledger.runtime.storage_settings import StorageSettings, access_env
from tests.support.processes import clean_env, free_port, run_cli, start_cli, wait_healthy

ROOT = Path(__file__).resolve().parents[2]
ARTEFACTS = ROOT / "artefacts" / "browser"
AXE = ROOT / "vendor" / "axe-core" / "axe.min.js"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
PREFERENCE_KEY = "test-preference-key-0123456789abcdef0123456789"
WAIT_SECONDS = 30  # generous: the machine is shared
AXE_RUN = """
const done = arguments[arguments.length - 1];
axe.run(document, {resultTypes: ['violations']}).then(
  (r) => done(JSON.stringify(r.violations)),
  (e) => done(JSON.stringify([{id: 'axe-error', impact: 'critical', help: String(e)}])));
"""


@dataclass
class LiveServer:
    url: str
    keys: dict[str, str]
    process: subprocess.Popen[bytes]

    def headers(self, role: str = "all") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[role]}"}

    def post(self, path: str, body: Any, role: str = "all") -> httpx.Response:
        return httpx.post(f"{self.url}{path}", json=body, headers=self.headers(role), timeout=30)

    def get(self, path: str, role: str = "all", **params: Any) -> httpx.Response:
        return httpx.get(f"{self.url}{path}", params=params, headers=self.headers(role), timeout=30)


def issue_keys(storage: StorageSettings) -> dict[str, str]:
    with AccessRegistry(access_env(storage)) as registry:
        keys = {role.value: registry.issue("acme", [role]) for role in Role}
        keys["all"] = registry.issue("acme", [Role.INGEST, Role.CAMPAIGN, Role.AUDITOR])
        keys["other_tenant"] = registry.issue("globex", [Role.AUDITOR, Role.ADMIN])
    return keys


def serve(storage: StorageSettings, tmp_path: Path) -> Iterator[LiveServer]:
    """``consent-ledger serve`` on ``storage``, sealing in-process every second."""
    keys = issue_keys(storage)
    port = free_port()
    signing_key = tmp_path / "ledger.signing-key.pem"
    made = run_cli("keys", "signing-key", "--out", str(signing_key), env=clean_env(), cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    settings = {
        "CONSENT_LEDGER_PORT": str(port),
        "CONSENT_LEDGER_SEAL_EVERY_SECONDS": "1",
        "CONSENT_LEDGER_SIGNING_KEY": str(signing_key),
        "CONSENT_LEDGER_PREFERENCE_KEY": PREFERENCE_KEY,
    }
    if storage.database_url is not None:
        # Two worker processes, as on a PostgreSQL deployment: a session opened by one is
        # seen by the other (ledger/persistence/console_sessions.py).
        settings["DATABASE_URL"] = storage.database_url.get_secret_value()
        settings["CONSENT_LEDGER_WORKERS"] = "2"
    else:
        settings["CONSENT_LEDGER_SQLITE_PATH"] = str(storage.sqlite_path)
    log = tmp_path / "serve.log"
    process = start_cli("serve", env=clean_env(**settings), cwd=tmp_path, log=log)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, process, timeout=60)
        yield LiveServer(url, keys, process)
    finally:
        process.terminate()
        process.wait(timeout=30)


def new_browser(downloads: Path) -> WebDriver:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--window-size=1280,1000",
    ):
        options.add_argument(argument)
    options.add_experimental_option(
        "prefs",
        {"download.default_directory": str(downloads), "download.prompt_for_download": False},
    )
    driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    driver.set_page_load_timeout(WAIT_SECONDS)
    return driver


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[WebDriver]:
    if not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)):
        pytest.fail("Debian's chromium and chromium-driver are missing: run `make test`")
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    driver = new_browser(downloads)
    yield driver
    driver.quit()


def wait_for(driver: WebDriver, css: str, text: str | None = None) -> str:
    """The text of the first element that matches ``css`` (and holds ``text``), once one does."""

    def found(d: WebDriver) -> str | bool:
        for element in d.find_elements(By.CSS_SELECTOR, css):
            content: str = element.text
            if text is None or text in content:
                return content
        return False

    # The page may be replaced while we look (a form was just sent): look again. Chrome's
    # driver may also answer "unhandled inspector error" for an element of a page being
    # replaced: the same case, under a generic exception.
    waiting = WebDriverWait(
        driver,
        WAIT_SECONDS,
        ignored_exceptions=(StaleElementReferenceException, WebDriverException),
    )
    result: str = waiting.until(found)
    return result


def screenshot(driver: WebDriver, name: str) -> Path:
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTEFACTS / f"{name}.png"
    driver.save_screenshot(str(path))
    return path


def axe_violations(driver: WebDriver) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations of the page now in the browser."""
    driver.execute_script(AXE.read_text(encoding="utf-8"))
    result = driver.execute_async_script(AXE_RUN)
    violations: list[dict[str, Any]] = json.loads(result)
    return [v for v in violations if v.get("impact") in ("serious", "critical")]
