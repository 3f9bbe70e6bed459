"""Browser tests: a real ``serve`` process, headless chromium (tests/support/browser.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ledger.runtime.storage_settings import StorageSettings
from tests.support.browser import LiveServer, browser, serve


@pytest.fixture
def live(storage: StorageSettings, tmp_path: Path) -> Iterator[LiveServer]:
    """``serve`` on each backend (the embedded SQLite default and PostgreSQL)."""
    yield from serve(storage, tmp_path)


__all__ = ["browser"]
