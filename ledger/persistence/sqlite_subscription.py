"""A subscription to the SQLite notification log.

The library's SQLite recorder has no subscriptions (SQLite has no LISTEN/NOTIFY). This
one polls, and is woken at once when a writer in the same process commits, so the
in-process projections of the embedded default see a write within milliseconds.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any
from weakref import WeakSet

from eventsourcing.persistence import ApplicationRecorder, ListenNotifySubscription

POLL_INTERVAL_SECONDS = 0.5

_wakeups: dict[str, WeakSet[threading.Event]] = {}
_wakeups_lock = threading.Lock()


def signal_commit(db_name: str) -> None:
    """Wake every subscription of this process that follows ``db_name``."""
    with _wakeups_lock:
        events = list(_wakeups.get(db_name, ()))
    for event in events:
        event.set()


def _register(db_name: str, event: threading.Event) -> None:
    with _wakeups_lock:
        _wakeups.setdefault(db_name, WeakSet()).add(event)


class SQLitePollingSubscription(ListenNotifySubscription[ApplicationRecorder]):
    def __init__(
        self,
        recorder: ApplicationRecorder,
        db_name: str,
        gt: int | None = None,
        topics: Sequence[str] = (),
    ) -> None:
        self._wakeup = threading.Event()
        _register(db_name, self._wakeup)
        super().__init__(recorder=recorder, gt=gt, topics=topics)
        self._poll_thread = threading.Thread(target=self._poll, daemon=True)
        self._poll_thread.start()

    def _poll(self) -> None:
        while not self._has_been_stopped:
            self._wakeup.wait(POLL_INTERVAL_SECONDS)
            self._wakeup.clear()
            self._has_been_notified.set()

    def stop(self) -> None:
        super().stop()
        self._wakeup.set()

    def __exit__(self, *args: object, **kwargs: Any) -> None:
        try:
            super().__exit__(*args, **kwargs)
        finally:
            self._poll_thread.join()
