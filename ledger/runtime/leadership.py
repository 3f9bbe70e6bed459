"""Exactly one active instance of a role (the publisher, the in-process projections of
``serve`` workers) per ledger: a PostgreSQL session advisory lock.

The lock lives as long as the session that took it: when the leader's process dies (or
its connection breaks) PostgreSQL releases it and a waiting instance takes over. The
leader checks its session regularly and stops publishing as soon as it is gone.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import zlib

import psycopg

from ledger.runtime.liveness import beat

log = logging.getLogger(__name__)


class LeadershipLost(Exception):
    """The session holding the advisory lock is gone; another instance may lead now."""


def lock_key(name: str, role: str = "publisher") -> int:
    return zlib.crc32(f"consent-ledger-{role}:{name}".encode())


class Leadership:
    def __init__(
        self, conninfo: str, name: str, *, connect_timeout: int = 5, role: str = "publisher"
    ) -> None:
        self.conninfo = conninfo
        self.name = name
        self.role = role
        self.key = lock_key(name, role)
        self.connect_timeout = connect_timeout
        self._conn: psycopg.Connection[tuple[object, ...]] | None = None

    def acquire(self, stop: threading.Event, retry_seconds: float) -> bool:
        """Block until this instance holds the lock (True) or ``stop`` is set (False)."""
        waiting_logged = False
        while not stop.is_set():
            try:
                if self._try_lock():
                    log.info(f"{self.role} is the leader", extra={"lock": self.name})
                    return True
                beat()
                if not waiting_logged:
                    log.info(f"another {self.role} leads; waiting", extra={"lock": self.name})
                    waiting_logged = True
            except psycopg.Error as exc:
                log.warning("cannot reach the database for the lock", extra={"error": str(exc)})
                self.release()
            stop.wait(retry_seconds)
        return False

    def _try_lock(self) -> bool:
        if self._conn is None or self._conn.closed:
            self._conn = psycopg.connect(
                self.conninfo, autocommit=True, connect_timeout=self.connect_timeout
            )
        row = self._conn.execute("SELECT pg_try_advisory_lock(%s)", (self.key,)).fetchone()
        return bool(row and row[0])

    def check(self) -> None:
        """Raise ``LeadershipLost`` unless the lock's session is still alive."""
        conn = self._conn
        if conn is None or conn.closed:
            raise LeadershipLost(self.name)
        try:
            conn.execute("SELECT 1")
        except psycopg.Error:
            self.release()
            raise LeadershipLost(self.name) from None

    def release(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None and not conn.closed:
            with contextlib.suppress(psycopg.Error):
                conn.close()  # ending the session releases the lock
