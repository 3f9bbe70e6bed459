"""Retention: which subjects' records are past their ``retention_until``, and their erasure.

A subject's ``retention_until`` is its last consent event's ledger time plus the tenant's
retention for the subject's jurisdiction (``domain/compliance_policy.py``; e.g. 4 years
under the TCPA, 7 in India). A subject is **due** when that moment has passed and its
personal data can still be read (it has a data key). Erasing a due subject is the same
crypto-shredding as any erasure (``erasure.py``, reason ``retention_expired``): nothing is
deleted from the events table, hashes and proofs stay intact, the personal data becomes
unreadable.

Finding candidates reads the log's consent events once (filtered by topic in the
database): a batch job, not a request path.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from eventsourcing.utils import get_topic

from ledger.application.core import LedgerCore
from ledger.application.erasure import erase_personal_data
from ledger.crypto.encryption import readable_disclosures
from ledger.domain.compliance_policy import CompliancePolicy, jurisdiction_of
from ledger.domain.records import Recorded
from ledger.domain.times import format_time
from ledger.events import CONSENT_EVENT_TYPES, LIFECYCLE_EVENT_TYPES, ConsentEvent

log = logging.getLogger(__name__)

REASON = "retention_expired"
SCAN_BATCH = 1_000
CONSENT_TOPICS = [
    get_topic(cls) for cls in (*CONSENT_EVENT_TYPES.values(), *LIFECYCLE_EVENT_TYPES.values())
]


@dataclass(frozen=True)
class RetentionRow:
    subject_id: UUID
    tenant: str
    channel: str
    jurisdiction: str
    last_event_at: datetime
    retention_until: datetime
    address: str | None  # for the erasure; never printed

    def to_json(self) -> dict[str, str]:
        return {
            "subject_id": str(self.subject_id),
            "tenant": self.tenant,
            "channel": self.channel,
            "jurisdiction": self.jurisdiction,
            "last_event_at": format_time(self.last_event_at),
            "retention_until": format_time(self.retention_until),
        }


@dataclass
class _Seen:
    tenant: str
    channel: str
    last: ConsentEvent


def due_subjects(
    ledger: LedgerCore,
    policy_for: Callable[[str], CompliancePolicy],
    now: datetime,
    *,
    tenant: str | None = None,
) -> Iterator[RetentionRow]:
    """Every subject (of ``tenant``, or all) past its retention whose data is readable."""
    seen = _last_events(ledger, tenant)
    keys = ledger.store.data_keys(list(seen))
    for sid, entry in seen.items():
        key = keys.get(sid)
        if key is None:
            continue  # erased already: nothing left to shred
        address = _address(ledger, sid, key)
        jurisdiction = jurisdiction_of(address)
        until = policy_for(entry.tenant).retention_until(jurisdiction, entry.last.timestamp)
        if until <= now:
            yield RetentionRow(
                sid, entry.tenant, entry.channel, jurisdiction, entry.last.timestamp, until, address
            )


def erase_due(ledger: LedgerCore, rows: list[RetentionRow]) -> list[tuple[RetentionRow, Recorded]]:
    """Crypto-shred each due subject's personal data (the erasure event, the key destroyed)."""
    erased: list[tuple[RetentionRow, Recorded]] = []
    for row in rows:
        if row.address is None:  # pragma: no cover - a readable subject has its address
            log.warning("retention: no address to erase", extra={"subject_id": str(row.subject_id)})
            continue
        recorded = erase_personal_data(
            ledger, row.tenant, row.channel, row.address, reason=REASON, requested_by="retention"
        )
        erased.append((row, recorded))
        log.info(
            "retention erasure",
            extra={"tenant": row.tenant, "subject_id": str(row.subject_id)},
        )
    return erased


def _last_events(ledger: LedgerCore, tenant: str | None) -> dict[UUID, _Seen]:
    seen: dict[UUID, _Seen] = {}
    after = 0
    while True:
        batch = ledger.recorder.select_notifications(
            start=after, limit=SCAN_BATCH, topics=CONSENT_TOPICS, inclusive_of_start=False
        )
        for notification in batch:
            event = ledger.ledger_event(notification)
            if not isinstance(event, ConsentEvent):
                continue
            if tenant is not None and event.tenant != tenant:
                continue
            seen[event.originator_id] = _Seen(event.tenant, event.channel, event)
        if len(batch) < SCAN_BATCH:
            return seen
        after = batch[-1].id


def _address(ledger: LedgerCore, subject_id: UUID, key: bytes) -> str | None:
    for item in ledger.store.select_positioned(subject_id):
        event = ledger.ledger_event(item.stored)
        for disclosure in readable_disclosures(event, key) or []:
            if disclosure.field == "address":
                return disclosure.value
    return None
