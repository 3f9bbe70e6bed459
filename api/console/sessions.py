"""Console sessions, kept on the server: the browser's cookie holds only a random id.

A session holds the principal its API key stands for (never the key), a CSRF token for
its forms, and when it ends. The store is bounded: past ``max_sessions`` the oldest is
signed out. Sessions live in this process's memory."""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

from ledger.domain.roles import Principal

COOKIE = "consent_console"


@dataclass(frozen=True)
class Session:
    id: str
    principal: Principal
    csrf: str
    expires: float  # time.monotonic()

    def csrf_ok(self, presented: str | None) -> bool:
        return presented is not None and hmac.compare_digest(self.csrf, presented)


class SessionStore:
    def __init__(self, lifetime_seconds: float, max_sessions: int) -> None:
        self.lifetime = lifetime_seconds
        self.max_sessions = max_sessions
        self._sessions: OrderedDict[str, Session] = OrderedDict()
        self._lock = threading.Lock()

    def open(self, principal: Principal) -> Session:
        session = Session(
            id=secrets.token_urlsafe(32),
            principal=principal,
            csrf=secrets.token_urlsafe(32),
            expires=time.monotonic() + self.lifetime,
        )
        with self._lock:
            self._sessions[session.id] = session
            while len(self._sessions) > self.max_sessions:
                self._sessions.popitem(last=False)
        return session

    def get(self, session_id: str | None) -> Session | None:
        if not session_id:
            return None
        with self._lock:
            session = self._sessions.get(session_id)
            if session is None:
                return None
            if session.expires <= time.monotonic():
                del self._sessions[session_id]
                return None
            return session

    def close(self, session_id: str | None) -> None:
        if session_id:
            with self._lock:
                self._sessions.pop(session_id, None)

    def __len__(self) -> int:
        return len(self._sessions)
