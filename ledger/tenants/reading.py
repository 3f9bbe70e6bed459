"""Reading a tenant's settings from the ledger's log (no secrets involved).

Every command reads them first, so a dropped connection (the database restarted) is
retried like the unit of work retries it, and a database that stays away is the same
``Unavailable`` every command reports: nothing was stored.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from eventsourcing.persistence import InterfaceError, OperationalError, PersistenceError

from ledger.errors import Unavailable
from ledger.tenant_policy import TenantPolicy
from ledger.tenants.events import TenantSettingsEvent, settings_id
from ledger.tenants.settings import TenantSettings, fold_settings

if TYPE_CHECKING:
    from ledger.application import LedgerCore

ATTEMPTS = 3
WAIT_SECONDS = 0.3


def read_settings(core: LedgerCore, tenant: str) -> TenantSettings:
    """The tenant's settings folded from its events (defaults when it has none)."""
    sid = settings_id(tenant)
    for attempt in range(1, ATTEMPTS + 1):
        try:
            stored_events = core.store.select_subjects([sid])[sid]
            break
        except (OperationalError, InterfaceError) as exc:
            if attempt == ATTEMPTS:
                raise Unavailable("the ledger database is unavailable; nothing was stored") from exc
            time.sleep(WAIT_SECONDS)  # the pool replaces the dropped connection
        except PersistenceError as exc:
            raise Unavailable("the ledger database refused the read; nothing was stored") from exc
    events: list[TenantSettingsEvent] = []
    for stored in stored_events:
        event = core.ledger_event(stored)
        if not isinstance(event, TenantSettingsEvent):
            raise TypeError(f"not a tenant settings event: {stored.topic}")
        events.append(event)
    return fold_settings(tenant, events)


def read_policy(core: LedgerCore, tenant: str) -> TenantPolicy:
    return read_settings(core, tenant).policy()
