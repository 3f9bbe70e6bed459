"""What a read model is: tables, and how one batch of applied events changes them.

The engine (``subject_projection.py``) folds each subject's events with the ledger's own
fold, ignores what it already applied, fills gaps from the ledger and keeps positions;
a read model only turns the result into rows, inside the engine's transaction.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import ClassVar
from uuid import UUID

from ledger.domain.consent_status import SubjectState
from ledger.events import LedgerEvent
from projections.database import Cursor, ProjectionDatabase


@dataclass(frozen=True)
class AppliedEvent:
    """One event the batch applied, with the subject's state before and after it."""

    event: LedgerEvent
    position: int
    before: SubjectState
    after: SubjectState


@dataclass(frozen=True)
class SubjectNow:
    """A subject the batch changed: its final state, clear address and last position."""

    state: SubjectState
    address: str | None
    position: int


@dataclass
class BatchChanges:
    events: list[AppliedEvent] = field(default_factory=list)
    subjects: dict[UUID, SubjectNow] = field(default_factory=dict)


@dataclass(frozen=True)
class Index:
    name: str
    table: str
    columns: str


class ReadModel(ABC):
    name: ClassVar[str]

    def __init__(self, db: ProjectionDatabase, suffix: str = "") -> None:
        self.db = db
        self.suffix = suffix

    def t(self, base: str) -> str:
        """The (schema-qualified) name of one of this model's tables."""
        return self.db.table(base + self.suffix)

    @property
    @abstractmethod
    def tables(self) -> tuple[str, ...]:
        """Base names of the model's own tables (swapped as a whole by a rebuild)."""

    @abstractmethod
    def create_statements(self) -> list[str]:
        """``CREATE TABLE IF NOT EXISTS`` for the model's tables, with this suffix."""

    def indexes(self) -> list[Index]:
        """Secondary indexes (created apart, so a rebuild can load before indexing)."""
        return []

    @abstractmethod
    def write(self, cursor: Cursor, changes: BatchChanges) -> None:
        """Change the rows for one applied batch, in the engine's transaction."""
