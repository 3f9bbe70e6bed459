"""The test processes' share of one PostgreSQL server's connections.

``make test`` runs the tests in several processes (pytest-xdist) against one server with
PostgreSQL's default ``max_connections`` of 100. A test that starts the README's
production block holds ~46 connections at its peak, a soak ~38, a served app ~17: two or
three of them at once passed the limit and failed with "too many clients".

Each test process holds a share of the server's connections while it runs a test file:
the file's measured peak (``PEAKS``; ``DEFAULT_PEAK`` for the many files that stay low).
Before a process starts a file it waits until its share fits beside the others'; the
shares live in a small JSON file every process of the run locks (``fcntl.flock``), and
the share of a process that died is dropped. Each process of a run with an embedded
server has a server of its own: no budget then.

The peaks were measured with ``pg_stat_activity`` during a whole ``make test`` (four
processes), rounded up; a file that grows past its figure can still pass the limit, so
the budget keeps ``MARGIN`` connections free.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

# Peak connections of a test file (under tests/), measured plus two; the files that
# stayed at 12 or fewer take DEFAULT_PEAK.
PEAKS = {
    "e2e/test_production_snippet.py": 48,
    "e2e/test_secrets_in_logs.py": 42,
    "e2e/test_fault_broker_pause.py": 40,
    "e2e/test_soak.py": 40,
    "integration/test_postgres_concurrency.py": 37,
    "e2e/test_publisher_watch.py": 35,
    "e2e/test_kafka_pipeline.py": 31,
    "integration/test_service_role.py": 32,
    "integration/test_expiry.py": 27,
    "integration/test_kafka_projections.py": 26,
    "browser/test_dashboard_and_preferences_browser.py": 26,
    "e2e/test_fault_webhook_storm.py": 23,
    "browser/test_console_browser.py": 22,
    "integration/test_publisher.py": 22,
    "e2e/test_cli_processes.py": 22,
    "integration/test_rebuild.py": 21,
    "integration/test_sender_scope_kafka.py": 21,
    "integration/test_lifecycle_kafka.py": 21,
    "integration/test_sealer.py": 20,
    "e2e/test_deliver_process.py": 20,
    "e2e/test_import_workers.py": 20,
    "e2e/test_rebuild_processes.py": 18,
    "e2e/test_input_limits.py": 19,
    "e2e/test_contacts.py": 19,
    "e2e/test_attestation_api.py": 19,
    "e2e/test_key_rotation.py": 19,
    "e2e/test_split_view.py": 19,
    "e2e/test_tlog_proofs.py": 19,
    "e2e/test_tlog_tiles.py": 19,
}
DEFAULT_PEAK = 14
MARGIN = 8
WAIT_STEP_SECONDS = 0.1


def peak_of(test_file: Path, tests_root: Path) -> int:
    try:
        name = test_file.relative_to(tests_root).as_posix()
    except ValueError:
        return DEFAULT_PEAK
    return PEAKS.get(name, DEFAULT_PEAK)


def server_capacity(conninfo: str) -> int:
    """The connections the tests may hold: the server's limit less ``MARGIN``."""
    with psycopg.connect(conninfo, connect_timeout=10) as conn:
        row = conn.execute("SHOW max_connections").fetchone()
    assert row is not None
    return int(row[0]) - MARGIN


class ConnectionBudget:
    def __init__(self, directory: Path, capacity: int, owner: str) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.state = directory / "shares.json"
        self.lock = directory / "shares.lock"
        self.capacity = capacity
        self.owner = owner
        self.held = 0

    def hold(self, share: int) -> None:
        """Hold ``share`` connections (instead of what this process held), waiting until
        it fits beside the other processes' shares (alone, any share fits)."""
        share = min(share, self.capacity)
        while True:
            with self._shares() as shares:
                others = sum(s for owner, (_, s) in shares.items() if owner != self.owner)
                if others + share <= self.capacity:
                    shares[self.owner] = (os.getpid(), share)
                    self.held = share
                    break
                # Until it fits, hold nothing: a process waiting never blocks the others.
                shares.pop(self.owner, None)
                self.held = 0
            time.sleep(WAIT_STEP_SECONDS)

    def release(self) -> None:
        with self._shares() as shares:
            shares.pop(self.owner, None)
        self.held = 0

    def shares(self) -> dict[str, int]:
        with self._shares() as shares:
            return {owner: share for owner, (_, share) in shares.items()}

    @contextmanager
    def _shares(self) -> Iterator[dict[str, tuple[int, int]]]:
        with self.lock.open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                text = self.state.read_text() if self.state.exists() else "{}"
                shares = {o: (int(p), int(s)) for o, (p, s) in json.loads(text or "{}").items()}
                shares = {o: v for o, v in shares.items() if _alive(v[0])}
                yield shares
                self.state.write_text(json.dumps(shares))
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
