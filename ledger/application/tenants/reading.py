"""Reading a tenant's settings from the ledger's log (no secrets involved).

Every command reads them first, so a dropped connection (the database restarted) is
retried by the one retry policy, and a database that stays away is the same
``Unavailable`` every command reports: nothing was stored.
"""

from __future__ import annotations

from eventsourcing.persistence import PersistenceError

from ledger.application.ports import LedgerReader
from ledger.application.retry import DEFAULT_RETRY, RetryPolicy
from ledger.domain.errors import DatabaseAway
from ledger.domain.tenants.policy import TenantPolicy
from ledger.domain.tenants.tenant_settings import TenantSettings, fold_settings
from ledger.events import LedgerEvent
from ledger.tenants.events import TenantSettingsEvent, settings_id


def read_settings(
    ledger: LedgerReader, tenant: str, retry: RetryPolicy = DEFAULT_RETRY
) -> TenantSettings:
    """The tenant's settings folded from its events (defaults when it has none)."""
    sid = settings_id(tenant)
    stored_events = retry.run(lambda: ledger.store.select_subjects([sid])[sid])
    return _fold(tenant, [ledger.ledger_event(stored) for stored in stored_events])


def _fold(tenant: str, decoded: list[LedgerEvent]) -> TenantSettings:
    events: list[TenantSettingsEvent] = []
    for event in decoded:
        if not isinstance(event, TenantSettingsEvent):
            raise TypeError(f"not a tenant settings event: {type(event).__name__}")
        events.append(event)
    return fold_settings(tenant, events)


async def read_settings_async(ledger: LedgerReader, tenant: str) -> TenantSettings:
    """``read_settings`` on the writer's loop, tried once: a database that is away is
    ``Unavailable`` within the bound the writer keeps (README: a write is answered 503
    within about 2 s), where the retried read through the library's pool took 3.6 s or
    more."""
    sid = settings_id(tenant)
    try:
        stored_events = (await ledger.store.select_subjects_async([sid]))[sid]
    except PersistenceError as error:
        raise DatabaseAway(
            "the ledger database is unavailable; the tenant's settings could not be read"
        ) from error
    return _fold(tenant, [ledger.ledger_event(stored) for stored in stored_events])


def read_policy(
    ledger: LedgerReader, tenant: str, retry: RetryPolicy = DEFAULT_RETRY
) -> TenantPolicy:
    return read_settings(ledger, tenant, retry).policy()
