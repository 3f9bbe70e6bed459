"""Gateway reports as commands: plain values, parsed from each gateway's own format."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from ledger.domain.commands import Evidence, Source
from ledger.domain.outbound.ids import OutboundRef


class SignalAction(StrEnum):
    OPTED_OUT = "opted_out"  # e.g. WhatsApp 131050, user_preferences stop, Twilio STOP
    OPTED_IN = "opted_in"  # e.g. user_preferences resume, Twilio START
    UNDELIVERABLE = "undeliverable"  # the opt-in request cannot reach the person
    CONFIRMATION_SENT = "confirmation_sent"  # the gateway sent a confirmation
    # The number no longer reaches the person who consented (e.g. Twilio 30005, 30006).
    INVALIDATED = "invalidated"


@dataclass(frozen=True)
class ProviderSignal:
    """A change of consent (or of a request) the gateway reports, recorded once per source."""

    tenant: str
    channel: str
    address: str
    action: SignalAction
    occurred_at: datetime
    source: Source
    evidence: Evidence
    purposes: tuple[str, ...] = ()  # opted_out: none means every purpose
    # Record nothing when the ledger already shows it (evidence of a state in force).
    unless_in_force: bool = False
    # The event it concerns: the OptInRequested (undeliverable), the change (confirmation).
    refers_to: UUID | None = None
    # ``invalidated`` only: ``number_reassigned`` or ``number_disconnected``.
    reason: str | None = None


class DeliveryStatus(StrEnum):
    SENT = "sent"
    DELIVERED = "delivered"
    READ = "read"


DELIVERY_STATES = frozenset(DeliveryStatus)  # the gateway status names a report may carry


@dataclass(frozen=True)
class DeliveryReport:
    """A gateway reports one of the ledger's outbound messages sent, delivered or read."""

    tenant: str
    channel: str
    address: str
    outbound: OutboundRef
    status: DeliveryStatus
    gateway: str
    gateway_message_id: str
    occurred_at: datetime
