"""What the pages hold while ``serve`` runs: settings, sessions, the preference-page key
and rate limit. Built once by ``install_console``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fastapi import Request

from api.console.rate_limit import RateLimit
from api.console.sessions import SessionStore
from api.console.settings import ConsoleSettings


@dataclass
class ConsoleState:
    settings: ConsoleSettings
    sessions: SessionStore
    preference_secret: bytes | None
    preference_rate: RateLimit
    # Read models the pages opened themselves (consent_daily with Kafka), by name.
    opened: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def build(cls, settings: ConsoleSettings) -> ConsoleState:
        return cls(
            settings=settings,
            sessions=SessionStore(settings.session_seconds, settings.max_sessions),
            preference_secret=settings.preference_secret(),
            preference_rate=RateLimit(settings.preference_rate_per_minute),
        )


def console_state(request: Request) -> ConsoleState:
    state: ConsoleState = request.app.state.console
    return state
