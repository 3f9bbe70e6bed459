"""Building chained events for tests through the ledger's own hash-chain code."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

from ledger.crypto.chain import link_consent
from ledger.crypto.encryption import new_data_key
from ledger.domain.commands import CaptureMethod, Evidence, Source
from ledger.domain.consent_status import SubjectState, apply
from ledger.domain.drafts import Draft
from ledger.domain.subjects import subject_id
from ledger.events import ConsentEvent, OptInRequested

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
    expires_at: datetime | None = None,
) -> Draft:
    if cls is OptInRequested:
        request_id = request_id or uuid4()
        expires_at = expires_at or at(minute) + timedelta(hours=24)
    return Draft(
        cls=cls,
        occurred_at=at(minute),
        source=Source(kind="test", id=str(uuid4())),
        evidence=Evidence(method=CaptureMethod.KEYWORD, text=text),
        purposes=purposes,
        all_purposes=all_purposes,
        request_id=request_id,
        expires_at=expires_at,
    )


def new_state(sid: UUID = SUBJECT) -> SubjectState:
    return SubjectState(id=sid, tenant="acme", channel="whatsapp")


def chain_all(
    drafts: list[Draft], *, state: SubjectState | None = None, key: bytes | None = None
) -> tuple[SubjectState, list[ConsentEvent]]:
    """Link drafts one after another into a chain; returns the final state and events."""
    state = state or new_state()
    key = key or new_data_key()
    events: list[ConsentEvent] = []
    for item in drafts:
        event = link_consent(
            state, item, address=ADDRESS, data_key=key, recorded_at=item.occurred_at
        )
        state = apply(state, event)
        events.append(event)
    return state, events
