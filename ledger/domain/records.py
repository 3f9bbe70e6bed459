"""What the ledger answers: frozen values, never aggregates."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from ledger.domain.subjects import SubjectRef


@dataclass(frozen=True)
class Recorded:
    """An event the ledger holds, and where: ``position`` is its notification id."""

    subject_id: UUID
    event_id: UUID
    type: str
    version: int
    position: int
    duplicate: bool = False


@dataclass(frozen=True)
class InboundOutcome:
    """What an inbound message meant and the event it recorded (none for help/none)."""

    action: str
    subject_id: UUID
    recorded: Recorded | None = None
    keyword: str | None = None
    match: str | None = None


@dataclass(frozen=True)
class HistoryEntry:
    """One event of a subject's history: the hashed document plus where it is stored."""

    document: dict[str, Any]
    hash: str
    position: int
    disclosures: dict[str, str] | None  # clear personal values; None once erased


@dataclass(frozen=True)
class History:
    """A subject's whole history: who it is, and every event in order."""

    subject: SubjectRef
    entries: list[HistoryEntry]


@dataclass(frozen=True)
class RequestRecorded:
    """An opt-in request the ledger holds, and the id the person's answer refers to."""

    recorded: Recorded
    request_id: UUID
