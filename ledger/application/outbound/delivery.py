"""Turning outbox rows into the messages senders receive (Kafka or ``GET /v1/outbound``).

A row that follows an event gets its recipient (and a request's template text) from
that event's encrypted disclosures, opened with the subject's data key. When the key was
destroyed (the subject was erased) the message is dropped: an erased person is never
messaged.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent

from ledger.application.ports import LedgerReader
from ledger.crypto.encryption import readable_disclosures
from ledger.domain.outbound.messages import NO_EVENT
from ledger.domain.outbound.outbox import OutboxMessage


@dataclass(frozen=True)
class Outbound:
    """One outbox row, and what to publish for it (None: dropped, its subject was erased)."""

    row: OutboxMessage
    document: dict[str, Any] | None


def deliverable(core: LedgerReader, rows: Sequence[OutboxMessage]) -> list[Outbound]:
    personal = _personal_values(core, [row for row in rows if row.event_id != NO_EVENT])
    result: list[Outbound] = []
    for row in rows:
        document: dict[str, Any] = json.loads(row.payload)
        document["outbox_id"] = row.id
        if row.event_id != NO_EVENT:
            values = personal.get(row.event_id)
            if values is None or "address" not in values:
                result.append(Outbound(row, None))
                continue
            document["to"] = values["address"]
            template = document.get("template")
            if isinstance(template, dict) and "notice_text" in values:
                template["text"] = values["notice_text"]
        result.append(Outbound(row, document))
    return result


def _personal_values(
    core: LedgerReader, rows: Sequence[OutboxMessage]
) -> dict[UUID, dict[str, str]]:
    """Clear personal values of the rows' events, by event id (none once erased)."""
    if not rows:
        return {}
    wanted = {row.event_id for row in rows}
    keys = core.store.data_keys(list({row.subject_id: None for row in rows}))
    found: dict[UUID, dict[str, str]] = {}
    for stored in _events_of(core, rows):
        event = core.ledger_event(stored)
        key = keys.get(event.originator_id)
        if key is None or event.event_id not in wanted:
            continue
        disclosed = readable_disclosures(event, key)
        if disclosed is not None:
            found[event.event_id] = {d.field: d.value for d in disclosed}
    return found


def _events_of(core: LedgerReader, rows: Sequence[OutboxMessage]) -> list[StoredEvent]:
    """The stored events the rows follow: each read by (subject, version) where the row
    says which; for rows stored before they did, the subject's history, keeping only the
    events whose JSON holds an id wanted (the transcoder writes ids as 32 hex digits)."""
    at = [(row.subject_id, row.version) for row in rows if row.version is not None]
    events = list(core.store.select_events_at(at).values()) if at else []
    marks: dict[UUID, list[bytes]] = {}
    for row in rows:
        if row.version is None:
            marks.setdefault(row.subject_id, []).append(row.event_id.hex.encode())
    if marks:
        for sid, history in core.store.select_subjects(list(marks)).items():
            events += [e for e in history if any(mark in e.state for mark in marks[sid])]
    return events
