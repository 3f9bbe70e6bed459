"""Receipts: which event a source's report became, so a redelivery records nothing new."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID


@dataclass(frozen=True)
class Receipt:
    """The first event recorded for a (tenant, source kind, source id)."""

    tenant: str
    source_kind: str
    source_id: str
    subject_id: UUID
    event_id: UUID
    version: int
    type: str
    # The ledger position of the event, when the read that found the receipt knew it
    # (not a stored column: read with the event).
    position: int | None = None

    @property
    def key(self) -> tuple[str, str]:
        return (self.source_kind, self.source_id)
