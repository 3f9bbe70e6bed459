"""``SignalRecorder``: records what gateways report, through the ledger's unit of work.

Signals become consent events (idempotent by their source id, like messages); delivery
reports of requests become delivery evidence; a confirmation reported sent becomes one
``ConfirmationSent``, whichever of sent, delivered or read arrives first.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from eventsourcing.persistence import PersistenceError

from ledger.application.consent_ledger import ConsentLedger
from ledger.application.signals.burst_window import BurstWindow
from ledger.application.writer.work import Decision, ItemResult, WorkItem, recorded
from ledger.domain.commands import CaptureMethod, Evidence, Source
from ledger.domain.consent_status import SubjectState
from ledger.domain.errors import DatabaseAway
from ledger.domain.outbound.ids import OutboundKind
from ledger.domain.outbound.messages import fallback_notice, suggested_fallback
from ledger.domain.outbound.outbox import OutboxMessage
from ledger.domain.records import Recorded
from ledger.domain.sender_scope import scope_opt_outs
from ledger.domain.signals.decisions import NOT_PENDING, decide_signal
from ledger.domain.signals.reports import DeliveryReport, ProviderSignal, SignalAction
from ledger.domain.subjects import resolve_subject
from ledger.domain.times import utc_now
from ledger.domain.validation import check_occurred_at, check_source
from ledger.events import ConsentEvent, OptInRequested, OptInRequestUndeliverable, OptOutHeld
from ledger.persistence.deliveries import Delivery, delivery_table
from ledger.persistence.opt_out_counts import opt_out_counts
from ledger.runtime.metrics import PROVIDER_OPT_OUTS_HELD

log = logging.getLogger(__name__)

CONFIRMATION_SOURCE = "outbound"  # source kind of ConfirmationSent: the outbound id
FAILED = "failed"  # the delivery status of a request that cannot reach the person


def _fallback_notices(result: ItemResult) -> list[OutboxMessage]:
    """The sender's notice of an undeliverable request, in the outbox with its event."""
    notices = [
        fallback_notice(event)
        for event in result.events
        if isinstance(event, OptInRequestUndeliverable)
    ]
    return [notice for notice in notices if notice is not None]


@dataclass(frozen=True)
class SignalOutcome:
    """What became of a report: ``recorded``, ``duplicate``, or why nothing was."""

    outcome: str
    recorded: Recorded | None = None


class SignalRecorder:
    def __init__(self, ledger: ConsentLedger, window: BurstWindow | None = None) -> None:
        self.ledger = ledger
        self.deliveries = delivery_table(ledger.recorder)
        self.window = window or BurstWindow(opt_out_counts(ledger.recorder))

    def record_signal(self, signal: ProviderSignal) -> SignalOutcome:
        subject = resolve_subject(signal.tenant, signal.channel, signal.address)
        check_occurred_at(signal.occurred_at)
        check_source(signal.source.kind, signal.source.id)
        policy = self.ledger.policy_for(signal.tenant)
        # Only a confirmation takes its purposes from the event it confirms.
        confirms = signal.action is SignalAction.CONFIRMATION_SENT
        referenced = (
            self._event(subject.id, signal.refers_to)
            if confirms and signal.refers_to is not None
            else None
        )

        # Only what the gateway itself decided counts toward a burst, never the person's
        # own keyword relayed by it.
        guarded = (
            signal.action is SignalAction.OPTED_OUT
            and signal.evidence.method == CaptureMethod.PROVIDER_SIGNAL
        )
        guard = policy.burst_guard
        seen = self.window.seen(signal.tenant, guard) if guarded else None
        burst = None
        if seen is not None:
            burst = {
                "max_opt_outs": guard.max_opt_outs,
                "window_seconds": guard.window_seconds,
                "seen": seen,
            }

        def decide(state: SubjectState, now: datetime) -> Decision:
            drafts, reason = decide_signal(state, signal, policy, referenced, burst=burst)
            return Decision(scope_opt_outs(drafts, policy.opt_out_scope), reason=reason)

        key = (signal.source.kind, signal.source.id) if signal.source.id else None
        undeliverable = signal.action is SignalAction.UNDELIVERABLE
        item = WorkItem(
            subject, decide, source_key=key, messages=_fallback_notices if undeliverable else None
        )
        [result] = self.ledger.run(signal.tenant, [item])
        answer = recorded(result)
        if answer is not None:
            if undeliverable:
                # After the event, so a redelivered status (a duplicate) adds it if a crash
                # came between the two.
                # The event just recorded, or (a redelivery) the one recorded before.
                event = result.primary or self._event(subject.id, answer.event_id)
                self._record_failure(signal, subject.id, event)
            if guarded and not answer.duplicate:
                self.window.note(signal.tenant, guard)
            if answer.type == OptOutHeld.type_name and not answer.duplicate:
                PROVIDER_OPT_OUTS_HELD.labels(signal.tenant).inc()
                log.warning(
                    "gateway opt-out held for review (burst guard)",
                    extra={"tenant": signal.tenant, "subject_id": str(answer.subject_id), **burst}
                    if burst
                    else {"tenant": signal.tenant},
                )
            return SignalOutcome("duplicate" if answer.duplicate else "recorded", answer)
        if result.reason is None:  # pragma: no cover - decide_signal always gives one
            raise RuntimeError("a provider signal was decided without a reason")
        return SignalOutcome(result.reason)

    def record_delivery(self, report: DeliveryReport) -> SignalOutcome:
        subject = resolve_subject(report.tenant, report.channel, report.address)
        ref = report.outbound
        if subject.id != ref.subject_id:
            return SignalOutcome("other_subject")
        if ref.kind is OutboundKind.CONFIRMATION:
            return self.record_signal(
                ProviderSignal(
                    tenant=report.tenant,
                    channel=report.channel,
                    address=report.address,
                    action=SignalAction.CONFIRMATION_SENT,
                    occurred_at=report.occurred_at,
                    source=Source(kind=CONFIRMATION_SOURCE, id=ref.id),
                    evidence=Evidence(
                        method=CaptureMethod.PROVIDER_SIGNAL,
                        gateway=report.gateway,
                        gateway_message_id=report.gateway_message_id,
                        gateway_status=report.status.value,
                    ),
                    refers_to=ref.ref,
                )
            )
        if ref.kind is not OutboundKind.OPT_IN_REQUEST:
            return SignalOutcome("ignored")
        event = self._event(subject.id, ref.ref)
        if not isinstance(event, OptInRequested) or event.request_id is None:
            return SignalOutcome(NOT_PENDING)
        delivery = Delivery(
            tenant=report.tenant,
            request_id=event.request_id,
            subject_id=subject.id,
            event_id=event.event_id,
            status=report.status.value,
            gateway=report.gateway,
            gateway_message_id=report.gateway_message_id,
            occurred_at=report.occurred_at,
            recorded_at=utc_now(),
        )
        try:
            added = self.deliveries.add(delivery)
        except PersistenceError as exc:
            raise DatabaseAway("the ledger database is unavailable; nothing was stored") from exc
        return SignalOutcome("recorded" if added else "duplicate")

    def _record_failure(
        self, signal: ProviderSignal, subject_id: UUID, event: ConsentEvent | None
    ) -> None:
        """The request's ``failed`` delivery, with the gateway's error code."""
        if not isinstance(event, OptInRequestUndeliverable) or event.request_id is None:
            return
        evidence = signal.evidence
        failure = Delivery(
            tenant=signal.tenant,
            request_id=event.request_id,
            subject_id=subject_id,
            event_id=signal.refers_to or event.event_id,
            status=FAILED,
            gateway=evidence.gateway or "",
            gateway_message_id=evidence.gateway_message_id or "",
            occurred_at=signal.occurred_at,
            recorded_at=utc_now(),
            error_code=evidence.gateway_error,
            fallback=suggested_fallback(event.channel),
        )
        try:
            self.deliveries.add(failure)
        except PersistenceError as exc:
            raise DatabaseAway("the ledger database is unavailable; retry") from exc

    def deliveries_of(self, tenant: str, request_id: UUID) -> list[Delivery]:
        return self.deliveries.of_request(tenant, request_id)

    def _event(self, subject_id: UUID, event_id: UUID) -> ConsentEvent | None:
        for stored in self.ledger.store.select_subjects([subject_id])[subject_id]:
            event = self.ledger.ledger_event(stored)
            if event.event_id == event_id and isinstance(event, ConsentEvent):
                return event
        return None
