"""``OutboxMessage``: a message for a gateway, stored with the event that caused it."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID


@dataclass(frozen=True)
class OutboxMessage:
    """A message a gateway must send, stored in the same transaction as its event.

    ``id`` is assigned by the database (0 before it is stored). ``payload`` is opaque to
    the store; whoever writes it decides its format (and encrypts any personal data in it).
    """

    tenant: str
    channel: str
    subject_id: UUID
    event_id: UUID
    kind: str
    payload: str
    id: int = 0
    # The version of the event the message follows (``event_id``), so a sender reads that
    # one event for its recipient; None with no event, and for rows stored before it was.
    version: int | None = None
