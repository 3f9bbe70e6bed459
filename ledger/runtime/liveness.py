"""Liveness of a worker process: its main loop beats; a stale beat means it is stuck.

Loops in the publisher, the consumers, the sealer and the expirer call ``beat()`` on every
iteration (including idle ones); the worker's ``/healthz`` answers 503 once the last beat
is older than the allowed age.
"""

from __future__ import annotations

import threading
import time

_lock = threading.Lock()
_last_beat: float | None = None


def beat() -> None:
    global _last_beat  # one process, one heartbeat
    with _lock:
        _last_beat = time.monotonic()


def seconds_since_beat() -> float | None:
    """Seconds since the last beat, or None before the first one."""
    with _lock:
        return None if _last_beat is None else time.monotonic() - _last_beat
