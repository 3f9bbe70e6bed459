"""Reviewing held gateway opt-outs: an admin releases each (the opt-out is recorded, as
of when the gateway reported it) or dismisses it (nothing changes but the hold ends).

Each decision is an event in the subject's chain, naming the hold and the admin's key;
its source id is the hold's event id, so a hold is decided once, even by two admins at
the same moment; a decision on a subject with no hold is refused (``not_held``).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from ledger.application.consent_ledger import ConsentLedger
from ledger.application.writer.work import Decision, WorkItem, recorded
from ledger.domain.commands import CaptureMethod, Evidence, Source
from ledger.domain.consent_status import SubjectState
from ledger.domain.drafts import Draft
from ledger.domain.errors import RuleViolation
from ledger.domain.records import Recorded
from ledger.domain.subjects import resolve_subject
from ledger.events import HeldOptOutDismissed, HeldOptOutReleased
from ledger.runtime.metrics import HELD_OPT_OUT_DECISIONS

REVIEW_SOURCE_KIND = "hold_review"


class HoldDecision(StrEnum):
    RELEASE = "release"
    DISMISS = "dismiss"


def decide_hold(
    ledger: ConsentLedger,
    tenant: str,
    channel: str,
    address: str,
    decision: HoldDecision,
    *,
    decided_by: str | None,
) -> Recorded:
    """Record the decision on the subject's held opt-out (``RuleViolation`` if none)."""
    subject = resolve_subject(tenant, channel, address)
    # The hold's id is the source id: read it first, and decide again in the writer.
    hold = ledger.state_of(tenant, channel, address).hold
    if hold is None:
        raise _not_held()
    hold_id = hold.event_id

    def decide(state: SubjectState, now: datetime) -> Decision:
        current = state.hold
        if current is None or current.event_id != hold_id:
            raise _not_held()
        release = decision is HoldDecision.RELEASE
        draft = Draft(
            cls=HeldOptOutReleased if release else HeldOptOutDismissed,
            occurred_at=current.since if release else now,
            source=Source(REVIEW_SOURCE_KIND, str(hold_id)),
            evidence=Evidence(method=CaptureMethod.PROVIDER_SIGNAL, recorded_by=decided_by),
            purposes=current.purposes,
            all_purposes=current.all_purposes,
            own_fields={"hold_id": hold_id},
        )
        return Decision([draft])

    key = (REVIEW_SOURCE_KIND, str(hold_id))
    [result] = ledger.run(tenant, [WorkItem(subject, decide, source_key=key)])
    if result.error is not None:
        raise result.error
    answer = recorded(result)
    if answer is None:  # pragma: no cover - a decision always records one event
        raise RuntimeError("a hold decision recorded nothing")
    if not answer.duplicate:
        HELD_OPT_OUT_DECISIONS.labels(decision.value).inc()
    return answer


def _not_held() -> RuleViolation:
    return RuleViolation(
        "no gateway opt-out of this subject is held for review",
        field="address",
        code="not_held",
    )
