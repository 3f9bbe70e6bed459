"""``Draft``: an event the rules decided, before it is linked into the subject's chain."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from ledger.domain.commands import Evidence, Source
from ledger.events import ConsentEvent


@dataclass(frozen=True)
class Draft:
    """An event decided but not yet linked into the subject's hash chain."""

    cls: type[ConsentEvent]
    occurred_at: datetime
    source: Source
    evidence: Evidence
    purposes: tuple[str, ...] = ()
    all_purposes: bool = False
    request_id: UUID | None = None
    # Only an ``OptInRequested`` has one: when the request's window closes.
    expires_at: datetime | None = None
    # Values of the fields the event class adds of its own (a ``ConsentInvalidated``'s
    # ``reason``…), as JSON values or datetimes.
    own_fields: Mapping[str, Any] | None = None
