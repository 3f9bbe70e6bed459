"""What the attestation log needs from the database, on SQLite and on PostgreSQL.

Three append-only tables beside the events table:

- leaves: one row per event of the notification log, with a dense ``leaf_index`` (0, 1,
  2, … whatever holes the notification ids have), the event's notification id, subject
  id and version, and its leaf hash;
- nodes: every perfect subtree hash above the leaves (level >= 1), written once complete,
  so a proof reads about log2(n) rows and never the whole log;
- checkpoints: every signed tree head, with the public key that signed it.

One sealer writes them (``append`` refuses a stale writer); everyone else reads.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from ledger.crypto.merkle import NewNode, NodeKey


class CheckpointConflict(Exception):
    """Another sealer extended the log first (or holds the lock); nothing was written."""


@dataclass(frozen=True)
class Leaf:
    leaf_index: int
    notification_id: int
    subject_id: UUID
    version: int
    leaf_hash: bytes


@dataclass(frozen=True)
class StoredCheckpoint:
    tree_size: int
    root_hash: bytes
    time: datetime
    origin: str
    public_key: bytes  # raw 32-byte Ed25519 key that signed it
    note: str


@dataclass(frozen=True)
class LogHead:
    """How far the log reaches: its size and the last notification id it covers."""

    size: int
    last_notification_id: int | None


class MerkleStore(ABC):
    @abstractmethod
    def create_tables(self) -> None:
        """Create the tables (idempotent; safe when several processes start at once)."""

    @abstractmethod
    def head(self) -> LogHead: ...

    @abstractmethod
    def nodes(self, keys: Iterable[NodeKey]) -> dict[NodeKey, bytes]:
        """The stored perfect nodes among ``keys`` (level 0 are the leaf hashes)."""

    @abstractmethod
    def append(self, expected_size: int, leaves: Sequence[Leaf], nodes: Sequence[NewNode]) -> None:
        """Add leaves and completed nodes in one transaction, if the log still has
        ``expected_size`` leaves; otherwise raise ``CheckpointConflict`` and write nothing."""

    @abstractmethod
    def leaves_of(self, subject_id: UUID) -> list[Leaf]:
        """The leaves of one subject's events, in version order."""

    @abstractmethod
    def latest_checkpoint(self) -> StoredCheckpoint | None: ...

    @abstractmethod
    def add_checkpoint(self, checkpoint: StoredCheckpoint) -> None:
        """Store a signed checkpoint; refuses one smaller than the latest."""
