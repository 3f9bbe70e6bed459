"""Reviewing held gateway opt-outs: an admin releases each (the opt-out is recorded, as
of when the gateway reported it) or dismisses it (nothing changes but the hold ends).

Each decision is an event in the subject's chain, naming the hold and the admin's key;
its source id is the hold's event id, so a hold is decided once, even by two admins at
the same moment; a decision on a subject with no hold is refused (``not_held``). Many
subjects (a whole spike) are decided in one call: one read of their states, one group
of writes, each subject failing alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from ledger.application.consent_ledger import ConsentLedger
from ledger.application.writer.work import Decider, Decision, WorkItem, recorded
from ledger.domain.commands import CaptureMethod, Evidence, Source
from ledger.domain.consent_status import SubjectState
from ledger.domain.drafts import Draft
from ledger.domain.errors import LedgerError, RuleViolation
from ledger.domain.records import Recorded
from ledger.domain.subjects import SubjectRef, resolve_subject
from ledger.events import HeldOptOutDismissed, HeldOptOutReleased
from ledger.runtime.metrics import HELD_OPT_OUT_DECISIONS

REVIEW_SOURCE_KIND = "hold_review"


class HoldDecision(StrEnum):
    RELEASE = "release"
    DISMISS = "dismiss"


@dataclass(frozen=True)
class HoldOutcome:
    """What became of one address: the decision recorded, or why not."""

    address: str  # as the caller wrote it
    recorded: Recorded | None = None
    error: LedgerError | None = None


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
    [outcome] = decide_holds(ledger, tenant, channel, [address], decision, decided_by=decided_by)
    if outcome.error is not None:
        raise outcome.error
    if outcome.recorded is None:  # pragma: no cover - a decision records one event
        raise RuntimeError("a hold decision recorded nothing")
    return outcome.recorded


def decide_holds(
    ledger: ConsentLedger,
    tenant: str,
    channel: str,
    addresses: Sequence[str],
    decision: HoldDecision,
    *,
    decided_by: str | None,
) -> list[HoldOutcome]:
    """Decide the held opt-out of each address; one outcome per address, in order."""
    outcomes: dict[int, HoldOutcome] = {}
    subjects: dict[int, SubjectRef] = {}
    for index, address in enumerate(addresses):
        try:
            subjects[index] = resolve_subject(tenant, channel, address, field_prefix="")
        except LedgerError as error:
            outcomes[index] = HoldOutcome(address, error=error)
    # The hold's id is the source id: read the states first, and decide again in the writer.
    states = ledger.load_states({s.id: (tenant, s.channel.value) for s in subjects.values()})
    items: list[tuple[int, WorkItem]] = []
    for index, subject in subjects.items():
        hold = states[subject.id].hold
        if hold is None:
            outcomes[index] = HoldOutcome(addresses[index], error=_not_held())
            continue
        key = (REVIEW_SOURCE_KIND, str(hold.event_id))
        decide = _decider(hold.event_id, decision, decided_by)
        items.append((index, WorkItem(subject, decide, source_key=key)))
    if items:
        results = ledger.run(tenant, [item for _, item in items], atomic=False)
        for (index, _), result in zip(items, results, strict=True):
            answer = recorded(result) if result.error is None else None
            outcomes[index] = HoldOutcome(addresses[index], answer, result.error)
            if answer is not None and not answer.duplicate:
                HELD_OPT_OUT_DECISIONS.labels(decision.value).inc()
    return [outcomes[index] for index in range(len(addresses))]


def _decider(hold_id: UUID, decision: HoldDecision, decided_by: str | None) -> Decider:
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

    return decide


def _not_held() -> RuleViolation:
    return RuleViolation(
        "no gateway opt-out of this subject is held for review",
        field="address",
        code="not_held",
    )
