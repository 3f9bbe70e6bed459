"""What the ledger answers an inbound message: a confirmation, or the help text.

``InboundReplies`` rides along with the message's work item: it sees the subject's
state the message was decided against and, once the events are decided, returns the
confirmation to store in the same transaction (none when nothing changed, so a second
STOP gets no second confirmation). HELP records no event, so ``queue_help_reply``
stores its reply on its own, with a receipt under a reserved source kind that clients
can never use: a redelivered HELP is answered once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from eventsourcing.persistence import IntegrityError, PersistenceError

from ledger.application.ports import LedgerAppender
from ledger.application.writer.work import ItemResult
from ledger.domain.commands import ReceiveMessage
from ledger.domain.consent_status import SubjectState
from ledger.domain.errors import DatabaseAway
from ledger.domain.outbound.ids import help_ref
from ledger.domain.outbound.messages import (
    NO_EVENT,
    confirmation_after,
    help_message,
    opt_in_request_message,
)
from ledger.domain.outbound.outbox import OutboxMessage
from ledger.domain.receipts import Receipt
from ledger.domain.subjects import SubjectRef
from ledger.domain.tenants.policy import TenantPolicy
from ledger.events import OptInRequested
from ledger.persistence.store import RowsBeside

log = logging.getLogger(__name__)

# Not a valid client source kind (validation.SOURCE_KIND_PATTERN), so never a collision.
HELP_RECEIPT_KIND = "~help_reply"


@dataclass
class InboundReplies:
    message: ReceiveMessage
    policy: TenantPolicy
    before: SubjectState | None = None

    def observe(self, state: SubjectState) -> None:
        self.before = state

    def __call__(self, result: ItemResult) -> list[OutboxMessage]:
        # A first message that asked for consent: the request to send (its own event).
        ask = self.policy.first_message
        requests = [
            opt_in_request_message(event, ask.business_name if ask else None)
            for event in result.events
            if isinstance(event, OptInRequested)
        ]
        if requests or not self.message.send_replies or self.before is None:
            return requests
        reply = confirmation_after(
            self.before, result.events, self.policy.texts, after=result.state_after
        )
        return [reply] if reply is not None else []


def queue_help_reply(
    core: LedgerAppender, subject: SubjectRef, message: ReceiveMessage, policy: TenantPolicy
) -> bool:
    """Queue the help text for this HELP message once; False if off or already queued."""
    if not message.send_replies or not policy.texts.help:
        return False
    ref = help_ref(message.tenant, message.message_id)
    receipt = Receipt(
        tenant=message.tenant,
        source_kind=HELP_RECEIPT_KIND,
        source_id=message.message_id,
        subject_id=subject.id,
        event_id=NO_EVENT,
        version=0,
        type="help_reply",
    )
    try:
        core.append(
            beside=RowsBeside(
                outbox=[help_message(subject, ref, policy.texts.help)], receipts=[receipt]
            )
        )
    except IntegrityError:
        return False  # this HELP was answered already
    except PersistenceError as exc:  # the gateway retries; a redelivered HELP is answered
        raise DatabaseAway("the ledger database is unavailable; no help reply queued") from exc
    log.info("help reply queued", extra={"tenant": message.tenant, "channel": subject.channel})
    return True


@dataclass(frozen=True)
class OptInRequestOutbound:
    """The request message, stored with the ``OptInRequested`` event that records it."""

    business_name: str | None

    def __call__(self, result: ItemResult) -> list[OutboxMessage]:
        return [
            opt_in_request_message(event, self.business_name)
            for event in result.events
            if isinstance(event, OptInRequested)
        ]
