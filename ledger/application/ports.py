"""What collaborators need of the ledger, as narrow ``Protocol``s.

Use cases beside the commands (tenant settings, outbound messages, the relay, the writer)
depend on these, not on the concrete ``LedgerCore``: they read the store, decode stored
events, append and read the clock, nothing more.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from eventsourcing.persistence import StoredEvent

from ledger.events import LedgerEvent
from ledger.persistence.store import LedgerStore, RowsBeside


class LedgerReader(Protocol):
    """Reads the ledger's store and decodes what it holds."""

    store: LedgerStore

    def ledger_event(self, stored: StoredEvent) -> LedgerEvent: ...


class LedgerAppender(LedgerReader, Protocol):
    """Reads, and appends events (with the rows beside them) in one transaction."""

    clock: Callable[[], datetime]

    def append(self, *events: LedgerEvent, beside: RowsBeside | None = None) -> list[int]:
        """Store the events and the rows beside them; their ledger positions, in order."""
        ...


class WriterLedger(LedgerReader, Protocol):
    """What the writer needs: the store and decoding (above), the clock, and encoding."""

    clock: Callable[[], datetime]

    def stored_event(self, event: LedgerEvent) -> StoredEvent:
        """The row the library stores for ``event``."""
        ...


class TenantSettingsLedger(LedgerAppender, Protocol):
    """What the settings book needs: appending, and forgetting a cached policy."""

    def forget_policy(self, tenant: str) -> None: ...
