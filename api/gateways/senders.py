"""The business sender of what a gateway reports, put on the commands it becomes.

Which sender is the gateway's own word: WhatsApp Cloud API the ``metadata.phone_number_id``
of the change, Twilio the ``MessagingServiceSid`` when the number is in a Messaging
Service (Twilio applies opt-outs per service) and otherwise the ``To`` number, Gupshup
the ``app`` the message came through. Status callbacks (sent, delivered, read) do not
change consent and carry none.
"""

from __future__ import annotations

from dataclasses import replace

from ledger.application.signals.intake import GatewayItem
from ledger.domain.commands import ReceiveMessage
from ledger.domain.signals.reports import ProviderSignal


def with_sender(item: GatewayItem, sender: str | None) -> GatewayItem:
    if not sender:
        return item
    if isinstance(item, ReceiveMessage):
        return replace(item, sender=sender)
    if isinstance(item, ProviderSignal):
        return replace(item, evidence=replace(item.evidence, sender=sender))
    return item
