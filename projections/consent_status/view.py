"""What every ``consent_status`` view offers, whatever database holds it."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from uuid import UUID

from ledger.domain.consent_status import SubjectState
from projections.consent_status.rows import StatusRow


@dataclass(frozen=True)
class ProjectedSubject:
    subject_id: UUID
    address: str | None
    position: int
    state: SubjectState
    rows: list[StatusRow]


class ConsentStatusView(ABC):
    """What the API and the attestation read: a subject's projected status, and waiting
    until the projection has applied a ledger position (read-your-writes)."""

    @abstractmethod
    def subject(self, subject_id: UUID) -> ProjectedSubject | None:
        """The subject as projected, or None when no event of it was applied yet."""

    @abstractmethod
    def applied_position(self) -> int:
        """The ledger position up to which every event has been applied."""

    @abstractmethod
    def wait_for(self, position: int, timeout: float) -> bool:
        """Block until ``applied_position() >= position``; False on timeout."""
