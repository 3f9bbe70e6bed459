"""Expiring unanswered opt-in requests: ``OptInRequestExpired`` once the window is over.

The caller finds candidates in a read model (``pending_requests``); the decision is made
again here against the subject's state folded from the ledger, so a stale candidate (the
person answered meanwhile, or a newer request replaced it) records nothing. The request
id is the source id (kind ``expiry``), so two expiry processes racing record it once.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from ledger.application.core import LedgerCore
from ledger.application.writer.work import Decider, Decision, WorkItem, recorded
from ledger.domain.addresses import parse_channel
from ledger.domain.commands import CaptureMethod, Evidence, Source
from ledger.domain.consent_status import SubjectState
from ledger.domain.drafts import Draft
from ledger.domain.records import Recorded
from ledger.domain.subjects import SubjectRef
from ledger.events import OptInRequestExpired

log = logging.getLogger(__name__)

EXPIRY_SOURCE_KIND = "expiry"


@dataclass(frozen=True)
class DueRequest:
    tenant: str
    channel: str
    address: str
    request_id: UUID


def expire_due(ledger: LedgerCore, due: Sequence[DueRequest]) -> list[Recorded]:
    """Record the expiry of each request still pending past its ``expires_at``."""
    by_tenant: dict[str, list[WorkItem]] = defaultdict(list)
    for request in due:
        subject = SubjectRef(request.tenant, parse_channel(request.channel), request.address)
        by_tenant[request.tenant].append(
            WorkItem(
                subject,
                _decider(request.request_id),
                source_key=(EXPIRY_SOURCE_KIND, str(request.request_id)),
            )
        )
    expired: list[Recorded] = []
    for tenant, items in by_tenant.items():
        for result in ledger.run(tenant, items, atomic=False):
            answer = recorded(result) if result.error is None else None
            if answer is not None and not answer.duplicate:
                expired.append(answer)
            elif result.error is not None:
                log.warning(
                    "request not expired",
                    extra={"subject_id": str(result.subject_id), "error": result.error.message},
                )
    return expired


def _decider(request_id: UUID) -> Decider:
    def decide(state: SubjectState, now: datetime) -> Decision:
        pending = state.pending
        if pending is None or pending.request_id != request_id or now < pending.expires_at:
            return Decision([])
        draft = Draft(
            cls=OptInRequestExpired,
            occurred_at=pending.expires_at,
            source=Source(kind=EXPIRY_SOURCE_KIND, id=str(request_id)),
            evidence=Evidence(method=CaptureMethod.API, recorded_by="ledger"),
            purposes=pending.purposes,
            request_id=pending.request_id,
        )
        return Decision([draft])

    return decide
