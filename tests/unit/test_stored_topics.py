"""Stored event class paths are a schema: every row names its class by topic.

Moving or renaming an event class would leave every stored row unreadable unless the old
topic is registered with the library. These are the topics written since the first
release; each must still resolve to the class that reads it.
"""

from __future__ import annotations

import pytest
from eventsourcing.utils import get_topic, resolve_topic

from ledger.access import ApiKey
from ledger.events import (
    CONSENT_EVENT_TYPES,
    LIFECYCLE_EVENT_TYPES,
    CampaignReceiptRecorded,
    PersonalDataErased,
)
from ledger.tenants.events import (
    BurstGuardChanged,
    CaptureMethodsChanged,
    FirstMessageRequestChanged,
    GatewayConfigured,
    KeywordRulesChanged,
    LapsePolicyChanged,
    OptOutScopeChanged,
    ReplyTextsChanged,
    RequestWindowChanged,
)

STORED_TOPICS = {
    "ledger.events:OptInRequested": CONSENT_EVENT_TYPES["opt_in_requested"],
    "ledger.events:OptInAccepted": CONSENT_EVENT_TYPES["opt_in_accepted"],
    "ledger.events:OptInRejected": CONSENT_EVENT_TYPES["opt_in_rejected"],
    "ledger.events:OptInRequestExpired": CONSENT_EVENT_TYPES["opt_in_request_expired"],
    "ledger.events:OptInRequestUndeliverable": CONSENT_EVENT_TYPES["opt_in_request_undeliverable"],
    "ledger.events:OptedOut": CONSENT_EVENT_TYPES["opted_out"],
    "ledger.events:OptedIn": CONSENT_EVENT_TYPES["opted_in"],
    "ledger.events:ConfirmationSent": CONSENT_EVENT_TYPES["confirmation_sent"],
    "ledger.events:PersonalDataErased": PersonalDataErased,
    "ledger.events:CampaignReceiptRecorded": CampaignReceiptRecorded,
    "ledger.events:ConsentInvalidated": CONSENT_EVENT_TYPES["consent_invalidated"],
    "ledger.events:ConsentLapsed": LIFECYCLE_EVENT_TYPES["consent_lapsed"],
    "ledger.tenants.events:LapsePolicyChanged": LapsePolicyChanged,
    "ledger.events:OptOutHeld": LIFECYCLE_EVENT_TYPES["opt_out_held"],
    "ledger.events:HeldOptOutReleased": LIFECYCLE_EVENT_TYPES["held_opt_out_released"],
    "ledger.events:HeldOptOutDismissed": LIFECYCLE_EVENT_TYPES["held_opt_out_dismissed"],
    "ledger.tenants.events:BurstGuardChanged": BurstGuardChanged,
    "ledger.tenants.events:KeywordRulesChanged": KeywordRulesChanged,
    "ledger.tenants.events:ReplyTextsChanged": ReplyTextsChanged,
    "ledger.tenants.events:RequestWindowChanged": RequestWindowChanged,
    "ledger.tenants.events:OptOutScopeChanged": OptOutScopeChanged,
    "ledger.tenants.events:GatewayConfigured": GatewayConfigured,
    "ledger.tenants.events:FirstMessageRequestChanged": FirstMessageRequestChanged,
    "ledger.tenants.events:CaptureMethodsChanged": CaptureMethodsChanged,
    "ledger.access:ApiKey": ApiKey,
    "ledger.access:ApiKey.Issued": ApiKey.Issued,  # type: ignore[attr-defined]
    "ledger.access:ApiKey.Revoked": ApiKey.Revoked,  # type: ignore[attr-defined]
}


@pytest.mark.parametrize("topic", sorted(STORED_TOPICS))
def test_every_stored_topic_still_names_its_class(topic: str) -> None:
    cls = STORED_TOPICS[topic]
    assert resolve_topic(topic) is cls
    assert get_topic(cls) == topic  # new rows are written under the same topic
