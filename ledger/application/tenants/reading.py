"""Reading a tenant's settings from the ledger's log (no secrets involved).

Every command reads them first, so a dropped connection (the database restarted) is
retried by the one retry policy, and a database that stays away is the same
``Unavailable`` every command reports: nothing was stored.
"""

from __future__ import annotations

from ledger.application.ports import LedgerReader
from ledger.application.retry import DEFAULT_RETRY, RetryPolicy
from ledger.domain.tenants.policy import TenantPolicy
from ledger.domain.tenants.tenant_settings import TenantSettings, fold_settings
from ledger.tenants.events import TenantSettingsEvent, settings_id


def read_settings(
    ledger: LedgerReader, tenant: str, retry: RetryPolicy = DEFAULT_RETRY
) -> TenantSettings:
    """The tenant's settings folded from its events (defaults when it has none)."""
    sid = settings_id(tenant)
    stored_events = retry.run(lambda: ledger.store.select_subjects([sid])[sid])
    events: list[TenantSettingsEvent] = []
    for stored in stored_events:
        event = ledger.ledger_event(stored)
        if not isinstance(event, TenantSettingsEvent):
            raise TypeError(f"not a tenant settings event: {stored.topic}")
        events.append(event)
    return fold_settings(tenant, events)


def read_policy(
    ledger: LedgerReader, tenant: str, retry: RetryPolicy = DEFAULT_RETRY
) -> TenantPolicy:
    return read_settings(ledger, tenant, retry).policy()
