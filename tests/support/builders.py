"""Building sealed events for tests through the ledger's own sealing code."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from ledger.commands import CaptureMethod, Evidence, Source
from ledger.consent_status import SubjectState, apply
from ledger.events import ConsentEvent, OptInRequested
from ledger.personal_data import new_data_key
from ledger.sealing import Draft, seal_event
from ledger.subjects import subject_id

T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
ADDRESS = "+14155550100"
SUBJECT = subject_id("acme", "whatsapp", ADDRESS)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def draft(
    cls: type[ConsentEvent],
    *,
    minute: float = 0,
    purposes: tuple[str, ...] = (),
    all_purposes: bool = False,
    request_id: UUID | None = None,
    text: str | None = None,
    **extra: Any,
) -> Draft:
    if cls is OptInRequested:
        request_id = request_id or uuid4()
        extra.setdefault("expires_at", at(minute) + timedelta(hours=24))
    return Draft(
        cls=cls,
        occurred_at=at(minute),
        source=Source(kind="test", id=str(uuid4())),
        evidence=Evidence(method=CaptureMethod.KEYWORD, text=text),
        purposes=purposes,
        all_purposes=all_purposes,
        request_id=request_id,
        extra=extra,
    )


def new_state(sid: UUID = SUBJECT) -> SubjectState:
    return SubjectState(id=sid, tenant="acme", channel="whatsapp")


def seal_all(
    drafts: list[Draft], *, state: SubjectState | None = None, key: bytes | None = None
) -> tuple[SubjectState, list[ConsentEvent]]:
    """Seal drafts one after another into a chain; returns the final state and events."""
    state = state or new_state()
    key = key or new_data_key()
    events: list[ConsentEvent] = []
    for item in drafts:
        event = seal_event(state, item, address=ADDRESS, data_key=key, recorded_at=item.occurred_at)
        state = apply(state, event)
        events.append(event)
    return state, events
