"""Console sessions, kept on the server: the browser's cookie holds only a random id.

A session holds the principal its API key stands for (never the key), a CSRF token for
its forms, and when it ends. Sessions live in a table beside the ledger
(``ledger/persistence/console_sessions.py``), so every ``serve`` worker sees them; the
table keeps at most ``max_sessions`` (expired ones and, past that, the oldest go)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from dataclasses import dataclass

from ledger.domain.roles import Principal, Role
from ledger.persistence.console_sessions import (
    ConsoleSessionTable,
    StoredSession,
    console_session_table,
)

COOKIE = "consent_console"


@dataclass(frozen=True)
class Session:
    id: str
    principal: Principal
    csrf: str
    expires: float  # seconds since the epoch

    def csrf_ok(self, presented: str | None) -> bool:
        return presented is not None and hmac.compare_digest(self.csrf, presented)


def _hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode("ascii", "replace")).hexdigest()


class SessionStore:
    def __init__(self, lifetime_seconds: float, max_sessions: int) -> None:
        self.lifetime = lifetime_seconds
        self.max_sessions = max_sessions
        self._table: ConsoleSessionTable | None = None
        self._lock = threading.Lock()

    def bind(self, recorder: object) -> ConsoleSessionTable:
        """The sessions table of the ledger's database (created on first use)."""
        with self._lock:
            if self._table is None:
                self._table = console_session_table(recorder)
            return self._table

    def open(self, table: ConsoleSessionTable, principal: Principal) -> Session:
        now = time.time()
        session = Session(
            id=secrets.token_urlsafe(32),
            principal=principal,
            csrf=secrets.token_urlsafe(32),
            expires=now + self.lifetime,
        )
        roles = ",".join(sorted(r.value for r in principal.roles))
        row = StoredSession(
            _hash(session.id),
            principal.tenant,
            principal.key_id,
            roles,
            session.csrf,
            session.expires,
        )
        table.insert(row, now=now, keep=self.max_sessions)
        return session

    def get(self, table: ConsoleSessionTable, session_id: str | None) -> Session | None:
        if not session_id or len(session_id) > 128:
            return None
        row = table.select(_hash(session_id), now=time.time())
        if row is None:
            return None
        roles = frozenset(Role(name) for name in row.roles.split(",") if name)
        return Session(
            session_id, Principal(row.key_id, row.tenant, roles), row.csrf, row.expires_at
        )

    def close(self, table: ConsoleSessionTable, session_id: str | None) -> None:
        if session_id:
            table.delete(_hash(session_id))
